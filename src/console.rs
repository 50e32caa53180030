//! The staff console, served by `intake serve` under `/console`: sign in, the inbox, a
//! conversation with its assessments, consent and cases, and taking a conversation over,
//! replying and handing it back.
//!
//! Nothing is visible without signing in. Sessions are random tokens in HTTP-only, same-site
//! cookies (only their hash is stored); every form carries the session's own token against
//! cross-site request forgery; templates escape everything residents wrote; a wrong password
//! is slowed down; every staff action is audited.
//!
//! In parts:
//! - [`auth`]: signing in and out, sessions, and the [`Staff`], [`StaffForm`] and
//!   [`Caseworker`] extractors every handler starts from (the form token is checked there);
//! - [`inbox`]: the inbox page, its live "something changed" stream, acknowledging alerts;
//! - [`conversation`]: one conversation, taking it over, replying, handing it back, notes,
//!   corrections of assessments, and its live stream of new lines;
//! - [`cases`]: case work on a complaint (stage responses, extensions, exclusions, closing,
//!   the definition, the handler, remedies and actions);
//! - [`assign`]: assigning a conversation to a colleague or a team (the inbox's queues);
//! - [`search`]: search from every page, and a complaint opened by its reference;
//! - [`requests`]: tracked requests (privacy requests, interpreters): a conversation's, the
//!   page of every open one, recording the answer and extending (UK GDPR art. 12(3));
//! - [`residents`]: one resident across conversations and channels, as staff link them, and
//!   their page (complaints, contact details, support needs as 5.10 allows);
//! - [`restrict`]: what roles that do not see support needs are shown instead (5.10);
//! - [`standard`]: the standard messages a reply may start from, read from the record;
//! - [`standard_editing`]: managers add, edit, retire and restore them (versioned, audited);
//! - [`learning`]: on a complaint's page, what was learned and what changed (section 9), and
//!   its case at the Housing Ombudsman with orders and recommendations (managers);
//! - [`improvements`]: the register of service improvements, for managers;
//! - [`self_assessment`]: the year's self-assessment against the Code (appendix A), for managers;
//! - [`summary`]: managers send the governing body's monthly summary (9.7) and see the sends;
//! - [`reports`]: the Reports page for managers (the annual report or a month's figures,
//!   charts, drill-down to the complaints behind a figure, CSV and HTML downloads);
//! - [`present`]: times in the landlord's zone in plain English, and labels for keys;
//! - [`files`]: templates, scripts and styles built into the binary;
//! - [`accounts`]: staff accounts, for admins (add, role, disable, reset a password), and
//!   each member of staff's own two-step sign-in;
//! - [`error`]: the one [`Error`] every handler returns, and the words staff see.

mod accounts;
mod assign;
mod auth;
mod cases;
mod conversation;
mod error;
mod files;
mod improvements;
mod inbox;
mod learning;
mod present;
mod reports;
mod requests;
mod residents;
mod restrict;
mod router;
mod search;
mod self_assessment;
mod standard;
mod standard_editing;
mod summary;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures::stream::{Stream, StreamExt as _};
use minijinja::Environment;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::channels::{Limiter, Wakers};
use crate::config::LimitsConfig;
use crate::service::Intake;
use crate::staff;
use crate::store::Store;

pub(crate) use auth::{Caseworker, Staff, StaffForm};
pub(crate) use error::Error;
pub use standard::{
    STANDARD_PLACEHOLDERS, StandardMessage, load_standard_messages, standard_messages,
};

/// Password checks running at once (each Argon2id check holds about 19 MB).
const HASHING_AT_ONCE: usize = 2;

/// The longest a live stream waits before reading the record again when no commit has been
/// announced (a lost notification, or a change that announces none, such as an alert raised by
/// the scheduler, or an account disabled: its streams end within this).
const LIVE_BACKSTOP: Duration = Duration::from_secs(3);

/// What the console needs.
#[derive(Clone)]
pub struct Console {
    intake: Intake,
    wakers: Wakers,
    templates: Arc<Environment<'static>>,
    secure_cookies: bool,
    /// Sign-in attempts per email from one address (`limits.sign_in_email_*`). Keyed on
    /// both, so nobody can lock a member of staff out from another address (issue 14, item 9).
    attempts: Arc<Limiter>,
    /// Sign-in attempts per client address, checked before any password is hashed
    /// (`limits.sign_in_*`).
    attempts_by_address: Arc<Limiter>,
    /// Password checks: each takes about 19 MB and a core's worth of work, so only a few
    /// run at once, on threads of their own; more are refused, not queued.
    checks: staff::PasswordChecks,
    /// The standard messages file's (shipped or the landlord's): it seeds the record once.
    standard: Arc<Vec<StandardMessage>>,
    /// The teams conversations may be assigned to (`[[console.teams]]`).
    teams: Arc<Vec<staff::Team>>,
    /// Cancelled when the bot stops: live streams end, so shutdown does not wait on them.
    shutdown: CancellationToken,
    /// The governing body's monthly summary, when recipients are configured.
    summary: Option<crate::scheduler::GoverningBodyMail>,
}

impl Console {
    pub fn new(
        intake: Intake,
        wakers: Wakers,
        secure_cookies: bool,
        standard: Vec<StandardMessage>,
        shutdown: CancellationToken,
    ) -> Console {
        let mut templates = Environment::new();
        present::add_filters(&mut templates, intake.profile().time_zone());
        for (name, source) in files::TEMPLATES {
            // The templates are part of the binary: a broken one is a bug caught by the tests.
            if let Err(e) = templates.add_template(name, source) {
                tracing::error!(template = name, error = %e, "a console template does not compile");
            }
        }
        let (attempts, attempts_by_address) =
            sign_in_limiters(intake.store(), &LimitsConfig::default());
        Console {
            intake,
            wakers,
            templates: Arc::new(templates),
            secure_cookies,
            standard: Arc::new(standard),
            teams: Arc::new(Vec::new()),
            shutdown,
            checks: staff::PasswordChecks::start(HASHING_AT_ONCE),
            attempts,
            attempts_by_address,
            summary: None,
        }
    }

    /// The sign-in limits as configured (`[limits]`), in place of the defaults.
    pub fn with_limits(mut self, limits: &LimitsConfig) -> Console {
        (self.attempts, self.attempts_by_address) = sign_in_limiters(self.store(), limits);
        self
    }

    /// The console with the teams conversations may be assigned to.
    pub fn with_teams(mut self, teams: Vec<staff::Team>) -> Console {
        self.teams = Arc::new(teams);
        self
    }

    /// The console with the governing body's monthly summary (`[reports]`), which managers
    /// can send from it.
    pub fn with_summary(mut self, summary: Option<crate::scheduler::GoverningBodyMail>) -> Console {
        self.summary = summary;
        self
    }

    /// The record.
    fn store(&self) -> &Store {
        self.intake.store()
    }

    /// After an action on a conversation: its channel's sender is woken and staff go back to it.
    fn action_done(&self, done: crate::store::Conversation) -> Response {
        self.wakers.wake(&done.channel);
        axum::response::Redirect::to(&format!("/console/conversations/{}", done.id)).into_response()
    }

    /// The landlord's time zone (Europe/London unless configured otherwise).
    fn zone(&self) -> chrono_tz::Tz {
        self.intake.profile().time_zone()
    }

    /// The landlord's name, as every page shows it.
    fn landlord(&self) -> String {
        self.intake.profile().name.clone()
    }

    /// A page made from a template and its view.
    fn render(&self, name: &str, view: &impl Serialize) -> Response {
        match self
            .templates
            .get_template(name)
            .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(view))))
        {
            Ok(html) => (
                [
                    (
                        header::CONTENT_SECURITY_POLICY,
                        HeaderValue::from_static(
                            "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
                        ),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                Html(html),
            )
                .into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "a console page could not be made");
                (StatusCode::INTERNAL_SERVER_ERROR, "The page could not be made.").into_response()
            }
        }
    }
}

/// Sign-in attempts per email from an address, and per address.
fn sign_in_limiters(store: &Store, limits: &LimitsConfig) -> (Arc<Limiter>, Arc<Limiter>) {
    (
        Arc::new(Limiter::new(
            store,
            "sign_in_email",
            limits.sign_in_email(),
            None,
        )),
        Arc::new(Limiter::new(store, "sign_in", limits.sign_in(), None)),
    )
}

/// A live stream of server-sent events, ending when the bot stops.
fn sse(
    stream: impl Stream<Item = Result<Event, std::convert::Infallible>> + Send + 'static,
    shutdown: &CancellationToken,
) -> Response {
    Sse::new(stream.take_until(shutdown.clone().cancelled_owned()))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
