//! The staff console, served by `intake serve` under `/console`: sign in, the inbox, a
//! conversation with its assessments, consent and cases, and taking a conversation over,
//! replying and handing it back.
//!
//! Nothing is visible without signing in. Sessions are random tokens in HTTP-only, same-site
//! cookies (only their hash is stored); every form carries the session's own token against
//! cross-site request forgery; templates escape everything residents wrote; a wrong password
//! is slowed down; every staff action is audited.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Router, extract::DefaultBodyLimit};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::Utc;
use futures::stream::{Stream, StreamExt as _};
use minijinja::{Environment, context};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::channels::{Bucket, Throttle, Wakers, asset};
use crate::core::case::StageResponse;
use crate::core::policy::Risk;
use crate::core::policy::train::Correction;
use crate::service::{ActionError, CaseError, Intake};
use crate::staff::{self, InboxFilter, Session};

const COOKIE: &str = "intake_staff";
/// A wrong password costs this long, so guessing is slow.
const WRONG_PASSWORD_DELAY: Duration = Duration::from_secs(1);
/// Password checks running at once (each Argon2id check holds about 19 MB).
const HASHING_AT_ONCE: usize = 2;
/// The longest reply staff may send in one message.
const LONGEST_REPLY: usize = 4000;

/// A standard message staff can start a reply from.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct StandardMessage {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StandardMessages {
    message: Vec<StandardMessage>,
}

/// The placeholders a standard message may use; the console fills them in for the case.
pub const STANDARD_PLACEHOLDERS: &[&str] = &[
    "landlord",
    "staff",
    "reference",
    "due",
    "ombudsman_phone",
    "ombudsman_website",
    "ombudsman_address",
];

/// The shipped standard messages (`src/console/standard_messages.toml`).
pub fn standard_messages() -> Vec<StandardMessage> {
    parse_standard_messages(
        "standard_messages.toml (shipped)",
        SHIPPED_STANDARD_MESSAGES,
    )
    .unwrap_or_default()
}

const SHIPPED_STANDARD_MESSAGES: &str = include_str!("console/standard_messages.toml");

/// The landlord's own standard messages (`console.standard_messages`), replacing the shipped
/// ones, or the shipped ones. A file that cannot be read, has no messages, or uses a
/// placeholder the console cannot fill is refused, naming the file and the message.
pub fn load_standard_messages(
    path: Option<&std::path::Path>,
) -> Result<Vec<StandardMessage>, String> {
    match path {
        None => parse_standard_messages(
            "standard_messages.toml (shipped)",
            SHIPPED_STANDARD_MESSAGES,
        ),
        Some(path) => {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("console.standard_messages: cannot read {shown}: {e}"))?;
            parse_standard_messages(&shown, &text)
        }
    }
}

fn parse_standard_messages(file: &str, text: &str) -> Result<Vec<StandardMessage>, String> {
    let messages = toml::from_str::<StandardMessages>(text)
        .map_err(|e| format!("{file}: {e}"))?
        .message;
    if messages.is_empty() {
        return Err(format!("{file}: there are no [[message]] entries"));
    }
    for m in &messages {
        if m.name.trim().is_empty() || m.text.trim().is_empty() {
            return Err(format!("{file}: every message needs a name and a text"));
        }
        let mut rest = m.text.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                break;
            };
            let name = &after[..close];
            if !STANDARD_PLACEHOLDERS.contains(&name) {
                return Err(format!(
                    "{file}: message {:?} uses {{{name}}}, which the console cannot fill in (it can fill {})",
                    m.name,
                    STANDARD_PLACEHOLDERS
                        .iter()
                        .map(|p| format!("{{{p}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            rest = &after[close + 1..];
        }
    }
    Ok(messages)
}

/// What the console needs.
#[derive(Clone)]
pub struct Console {
    intake: Intake,
    wakers: Wakers,
    templates: Arc<Environment<'static>>,
    secure_cookies: bool,
    /// Sign-in attempts per email from one address: five, then one a minute. Keyed on both,
    /// so nobody can lock a member of staff out from another address (issue 14, item 9).
    attempts: Arc<Throttle>,
    /// Sign-in attempts per client address, checked before any password is hashed.
    attempts_by_address: Arc<Throttle>,
    /// Password checks: each takes about 19 MB and a core's worth of work, so only a few
    /// run at once, on threads of their own; more are refused, not queued.
    checks: staff::PasswordChecks,
    standard: Arc<Vec<StandardMessage>>,
    /// Cancelled when the bot stops: live streams end, so shutdown does not wait on them.
    shutdown: CancellationToken,
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
        for (name, source) in TEMPLATES {
            // The templates are part of the binary: a broken one is a bug caught by the tests.
            if let Err(e) = templates.add_template(name, source) {
                tracing::error!(template = name, error = %e, "a console template does not compile");
            }
        }
        Console {
            intake,
            wakers,
            templates: Arc::new(templates),
            secure_cookies,
            standard: Arc::new(standard),
            shutdown,
            attempts_by_address: Arc::new(Throttle::new(
                // An office behind one address signs in together at nine; a script does not
                // get far.
                Bucket {
                    burst: 20.0,
                    per_second: 1.0 / 3.0,
                },
                Bucket {
                    burst: 1e9,
                    per_second: 1e9,
                },
            )),
            checks: staff::PasswordChecks::start(HASHING_AT_ONCE),
            attempts: Arc::new(Throttle::new(
                Bucket {
                    burst: 5.0,
                    per_second: 1.0 / 60.0,
                },
                Bucket {
                    burst: 1e9,
                    per_second: 1e9,
                },
            )),
        }
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/console", get(inbox))
            .route("/console/login", get(login_page).post(log_in))
            .route("/console/logout", post(log_out))
            .route("/console/events", get(inbox_events))
            .route("/console/conversations/{id}", get(conversation))
            .route(
                "/console/conversations/{id}/events",
                get(conversation_events),
            )
            .route("/console/conversations/{id}/claim", post(claim))
            .route("/console/conversations/{id}/reply", post(reply))
            .route("/console/conversations/{id}/release", post(release))
            .route("/console/conversations/{id}/notes", post(add_note))
            .route(
                "/console/conversations/{id}/messages/{message}/correction",
                post(correct_assessment),
            )
            .route("/console/alerts/{id}/acknowledge", post(acknowledge))
            .route("/console/cases/{reference}/respond", post(respond))
            .route("/console/cases/{reference}/extend", post(extend))
            .route("/console/cases/{reference}/exclusion", post(exclusion))
            .route("/console/cases/{reference}/close", post(close))
            .route(
                "/console/cases/{reference}/definition",
                post(edit_definition),
            )
            .route("/console/cases/{reference}/handler", post(assign_handler))
            .route("/console/cases/{reference}/actions", post(add_case_action))
            .route("/console/actions/{id}/done", post(mark_action_done))
            .route("/console/static/{file}", get(static_file))
            .layer(DefaultBodyLimit::max(64 * 1024))
            .with_state(self)
    }

    fn render(&self, name: &str, values: minijinja::Value) -> Response {
        match self
            .templates
            .get_template(name)
            .and_then(|t| t.render(values))
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

    fn cookie(&self, token: String) -> Cookie<'static> {
        Cookie::build((COOKIE, token))
            .path("/console")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure_cookies)
            .build()
    }

    /// The signed-in session, or the way to the sign-in page.
    async fn session(&self, jar: &CookieJar) -> Result<Session, Response> {
        let Some(token) = jar.get(COOKIE).map(|c| c.value().to_owned()) else {
            return Err(Redirect::to("/console/login").into_response());
        };
        match staff::session(&self.intake.store, &token, Utc::now()).await {
            Ok(Some(session)) => Ok(session),
            Ok(None) => Err(Redirect::to("/console/login").into_response()),
            Err(e) => Err(unavailable(&e)),
        }
    }
}

fn unavailable(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console: the record is unavailable");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "The database is not answering. Nothing was changed; please try again in a minute.",
    )
        .into_response()
}

fn forbidden(why: &str) -> Response {
    (StatusCode::FORBIDDEN, why.to_owned()).into_response()
}

/// Shown instead of support needs to roles that do not need them.
const RESTRICTED: &str = "(support needs recorded; shown to complaints officers and managers)";

/// Hides the support needs and disclosed disabilities in cases from roles that do not need
/// them (5.10); returns the resident's words that were hidden, to hide them elsewhere too.
fn restrict_cases(cases: &mut [serde_json::Value]) -> Vec<String> {
    let mut disclosed = Vec::new();
    for case in cases {
        if let Some(answers) = case["answers"].as_object_mut()
            && let Some(support) = answers.get("support")
        {
            if let Some(text) = support.as_str().filter(|t| t.trim().len() > 3) {
                disclosed.push(text.trim().to_lowercase());
            }
            answers.insert("support".to_owned(), serde_json::json!(RESTRICTED));
        }
    }
    disclosed
}

/// Hides, from roles that do not need them (5.10), transcript lines that disclose a support
/// need or disability: any resident line the engine read as one (in whatever words: "as I
/// said I am deaf"), and any line repeating a disclosed support answer or such a line (the
/// bot's read-back, its reflection).
fn restrict_lines(disclosed: &[String], lines: &mut [staff::StaffLine]) {
    let mut disclosed = disclosed.to_vec();
    for line in lines.iter() {
        if line_discloses(line) {
            let text = line.text.trim().to_lowercase();
            if text.len() > 3 {
                disclosed.push(text);
            }
        }
    }
    for line in lines {
        let text = line.text.to_lowercase();
        if line_discloses(line) || disclosed.iter().any(|d| text.contains(d.as_str())) {
            line.text = RESTRICTED.to_owned();
            line.attachments.clear();
            line.assessment = None;
            line.corrections.clear();
        }
        // Whether someone thought a line did or did not disclose a support need is itself
        // about support needs.
        line.corrections.retain(|c| !c.contains("vulnerability"));
    }
}

/// Whether a line discloses a vulnerability as the engine or staff read it. Fails safe: the
/// learned layer doubting the rules' finding, or a correction saying it does, restricts it.
fn line_discloses(line: &staff::StaffLine) -> bool {
    let vulnerable = Correction::Risk(Risk::Vulnerability, true).describe();
    discloses_vulnerability(line.assessment.as_ref())
        || line.assessment.as_ref().is_some_and(|a| {
            a["reasons"].as_array().is_some_and(|rs| {
                rs.iter()
                    .any(|r| r["rule"] == "learned.doubts.vulnerability")
            })
        })
        || line.corrections.iter().any(|c| c.ends_with(&vulnerable))
}

/// Whether the engine read a message as disclosing a vulnerability.
fn discloses_vulnerability(assessment: Option<&serde_json::Value>) -> bool {
    assessment.is_some_and(|a| {
        a["risks"]
            .as_array()
            .is_some_and(|risks| risks.iter().any(|r| r == "vulnerability"))
    })
}

/// Open alerts as a role that does not see support needs is shown them: a vulnerability
/// alert says what it is, not what was disclosed (5.10).
fn restrict_alerts(alerts: &mut [staff::OpenAlert]) {
    for alert in alerts.iter_mut().filter(|a| a.kind == "vulnerability") {
        alert.detail = RESTRICTED.to_owned();
    }
}

/// The session behind a form, with the form's token checked against it.
async fn form_session(console: &Console, jar: &CookieJar, csrf: &str) -> Result<Session, Response> {
    let session = console.session(jar).await?;
    if csrf_ok(&session, csrf) {
        Ok(session)
    } else {
        Err(forbidden(
            "This form has expired. Go back, reload the page and try again.",
        ))
    }
}

/// After an action on a conversation: its channel's sender is woken and staff go back to it.
fn action_done(
    console: &Console,
    result: Result<crate::store::Conversation, Response>,
) -> Response {
    match result {
        Ok(c) => {
            console.wakers.wake(&c.channel);
            Redirect::to(&format!("/console/conversations/{}", c.id)).into_response()
        }
        Err(response) => response,
    }
}

/// Checks a form's token against the session's, in constant time.
fn csrf_ok(session: &Session, given: &str) -> bool {
    crate::secrets::constant_time_eq(session.csrf.as_bytes(), given.as_bytes())
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    /// The sign-in form's own token, matched against its cookie, so another site cannot
    /// sign a member of staff in to an account of its choosing (login CSRF).
    #[serde(default)]
    csrf: String,
}

/// The sign-in form's token cookie, sent back only with the form itself.
const LOGIN_COOKIE: &str = "intake_login";

/// The sign-in page, with `error` (if any) and the form token (kept from the cookie when
/// there is one, so a re-shown form still matches).
fn login_form(console: &Console, jar: CookieJar, status: StatusCode, error: &str) -> Response {
    let token = jar
        .get(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|t| t.len() == 64)
        .unwrap_or_else(staff::random_token);
    let cookie = Cookie::build((LOGIN_COOKIE, token.clone()))
        .path("/console/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(console.secure_cookies)
        .build();
    let mut response = (
        status,
        jar.add(cookie),
        console.render(
            "login.html",
            context! { landlord => console.intake.profile.name.clone(), error => error, csrf => token },
        ),
    )
        .into_response();
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    }
    response
}

async fn login_page(State(console): State<Console>, jar: CookieJar) -> Response {
    login_form(&console, jar, StatusCode::OK, "")
}

async fn log_in(
    State(console): State<Console>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let email = form.email.trim().to_lowercase();
    let expected = jar
        .get(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if expected.is_empty()
        || !crate::secrets::constant_time_eq(expected.as_bytes(), form.csrf.as_bytes())
    {
        return login_form(
            &console,
            jar,
            StatusCode::FORBIDDEN,
            "This sign-in form has expired. Please try again.",
        );
    }
    // Limits first, before any hashing: per address, then per email from this address.
    let address = peer.ip().to_string();
    if console.attempts_by_address.check(&address).is_some()
        || console
            .attempts
            .check(&format!("{email} from {address}"))
            .is_some()
    {
        return login_form(
            &console,
            jar,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts. Wait a minute and try again.",
        );
    }
    let checked = staff::log_in(
        &console.intake.store,
        &console.checks,
        &email,
        &form.password,
        Utc::now(),
    )
    .await;
    match checked {
        Ok(Some((token, session))) => {
            tracing::info!(staff = session.staff.id, "console: signed in");
            let jar = jar.remove(Cookie::build(LOGIN_COOKIE).path("/console/login"));
            (jar.add(console.cookie(token)), Redirect::to("/console")).into_response()
        }
        Ok(None) => {
            tokio::time::sleep(WRONG_PASSWORD_DELAY).await;
            login_form(
                &console,
                jar,
                StatusCode::UNAUTHORIZED,
                "That email and password do not match an account.",
            )
        }
        Err(staff::LogInError::Busy) => login_form(
            &console,
            jar,
            StatusCode::SERVICE_UNAVAILABLE,
            "Signing in is busy just now. Please try again in a moment.",
        ),
        Err(staff::LogInError::Store(e)) => unavailable(&e),
    }
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn log_out(
    State(console): State<Console>,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(r) = form_session(&console, &jar, &form.csrf).await {
        return r;
    }
    if let Some(token) = jar.get(COOKIE).map(|c| c.value().to_owned())
        && let Err(e) = staff::log_out(&console.intake.store, &token).await
    {
        return unavailable(&e);
    }
    (
        jar.remove(Cookie::build(COOKIE).path("/console")),
        Redirect::to("/console/login"),
    )
        .into_response()
}

async fn inbox(
    State(console): State<Console>,
    jar: CookieJar,
    Query(mut filter): Query<InboxFilter>,
) -> Response {
    let session = match console.session(&jar).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    filter.viewer = Some(session.staff.id);
    let mut alerts = match staff::open_alerts(&console.intake.store).await {
        Ok(alerts) => alerts,
        Err(e) => return unavailable(&e),
    };
    if !session.staff.role.sees_adjustments() {
        restrict_alerts(&mut alerts);
    }
    let rows = if session.staff.role.sees_adjustments() {
        staff::inbox(&console.intake.store, &filter).await
    } else {
        staff::inbox_restricted(&console.intake.store, &filter, RESTRICTED).await
    };
    match rows {
        Ok(rows) => console.render(
            "inbox.html",
            context! {
                landlord => console.intake.profile.name.clone(),
                staff => minijinja::Value::from(minijinja::value::Serde(&session.staff)),
                csrf => session.csrf,
                rows => minijinja::Value::from(minijinja::value::Serde(&rows)),
                alerts => minijinja::Value::from(minijinja::value::Serde(&alerts)),
                manager => session.staff.role.is_manager(),
                filter => context! {
                    channel => filter.channel.unwrap_or_default(),
                    status => filter.status.unwrap_or_default(),
                    risk => filter.risk.unwrap_or_default(),
                    due_by => filter.due_by.unwrap_or_default(),
                },
            },
        ),
        Err(e) => unavailable(&e),
    }
}

async fn conversation(
    State(console): State<Console>,
    jar: CookieJar,
    Path(id): Path<i64>,
) -> Response {
    let session = match console.session(&jar).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let store = &console.intake.store;
    let found = match store.conversation_by_id(id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return (StatusCode::NOT_FOUND, "There is no such conversation.").into_response();
        }
        Err(e) => return unavailable(&e),
    };
    let loaded = async {
        let lines = staff::lines(store, id, 0).await?;
        let events = staff::events(store, id).await?;
        let cases = staff::cases(store, id).await?;
        let audit = staff::audit(store, id).await?;
        let notes = staff::notes(store, id).await?;
        let corrections = staff::corrections(store, id).await?;
        let holder = match found.claimed_by {
            Some(h) => staff::holder(store, h).await?,
            None => None,
        };
        let mut cases = cases;
        let actions = store.case_actions(id).await?;
        let emails = store.resident_emails(id).await?;
        let workers = staff::caseworkers(store).await?;
        for case in &mut cases {
            let reference = case["reference"].as_str().unwrap_or_default().to_owned();
            let excluded = if case["stage"].as_i64() == Some(2) {
                store.stage_one_handlers(&reference).await?
            } else {
                Vec::new()
            };
            case_work_view(case, &reference, &actions, &emails, &workers, &excluded);
        }
        let mut lines = lines;
        for line in &mut lines {
            line.corrections = corrections
                .iter()
                .filter(|(m, _)| *m == line.id)
                .map(|(_, c)| c.clone())
                .collect();
        }
        Ok::<_, crate::store::StoreError>((lines, events, cases, audit, holder, notes))
    }
    .await;
    let (mut lines, events, mut cases, audit, holder, notes) = match loaded {
        Ok(v) => v,
        Err(e) => return unavailable(&e),
    };
    if !session.staff.role.sees_adjustments() {
        let disclosed = restrict_cases(&mut cases);
        restrict_lines(&disclosed, &mut lines);
    }
    // Standard messages filled in for this conversation's latest complaint.
    let latest = cases.last();
    let o = &console.intake.profile.ombudsman;
    let standard: Vec<StandardMessage> = console
        .standard
        .iter()
        .map(|m| StandardMessage {
            name: m.name.clone(),
            text: m
                .text
                .replace("{landlord}", &console.intake.profile.name)
                .replace("{staff}", &session.staff.name)
                .replace(
                    "{reference}",
                    latest
                        .and_then(|c| c["reference"].as_str())
                        .unwrap_or("(no reference yet)"),
                )
                .replace(
                    "{due}",
                    latest
                        .and_then(|c| c["due_on"].as_str())
                        .unwrap_or("(no date yet)"),
                )
                .replace("{ombudsman_phone}", &o.phone)
                .replace("{ombudsman_website}", &o.website)
                .replace("{ombudsman_address}", &o.address),
        })
        .collect();
    let consent: Vec<_> = events
        .iter()
        .filter(|(kind, ..)| kind == "consent" || kind == "privacy_request")
        .cloned()
        .collect();
    let last_id = lines.last().map_or(0, |l| l.id);
    console.render(
        "conversation.html",
        context! {
            landlord => console.intake.profile.name.clone(),
            staff => minijinja::Value::from(minijinja::value::Serde(&session.staff)),
            csrf => session.csrf,
            conversation => context! { id => found.id, channel => found.channel, chat => found.chat },
            holder => holder,
            mine => found.claimed_by == Some(session.staff.id),
            manager => session.staff.role.is_manager(),
            caseworker => session.staff.role.sees_adjustments(),
            lines => minijinja::Value::from(minijinja::value::Serde(&lines)),
            last_id => last_id,
            events => minijinja::Value::from(minijinja::value::Serde(&events)),
            consent => minijinja::Value::from(minijinja::value::Serde(&consent)),
            cases => minijinja::Value::from(minijinja::value::Serde(&cases)),
            audit => minijinja::Value::from(minijinja::value::Serde(&audit)),
            notes => minijinja::Value::from(minijinja::value::Serde(&notes)),
            standard => minijinja::Value::from(minijinja::value::Serde(&standard)),
            corrections => correction_choices(),
        },
    )
}

/// The corrections the console offers on an assessment, as (key, label).
fn correction_choices() -> Vec<(String, String)> {
    Correction::all()
        .iter()
        .map(|c| (c.key(), c.describe()))
        .collect()
}

#[derive(Debug, Deserialize)]
struct CorrectionForm {
    csrf: String,
    correction: String,
}

/// Staff mark an assessment wrong; the correction is kept as a labelled example for the
/// landlord's own model (`intake policy train --with-corrections`).
async fn correct_assessment(
    State(console): State<Console>,
    jar: CookieJar,
    Path((id, message)): Path<(i64, i64)>,
    Form(form): Form<CorrectionForm>,
) -> Response {
    let session = match form_session(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(correction) = Correction::from_key(&form.correction) else {
        return (
            StatusCode::BAD_REQUEST,
            "Choose what was wrong with the assessment from the list.",
        )
            .into_response();
    };
    match staff::add_correction(
        &console.intake.store,
        id,
        message,
        &session.staff,
        &correction,
        Utc::now(),
    )
    .await
    {
        Ok(staff::Corrected::Recorded) => {
            Redirect::to(&format!("/console/conversations/{id}#m{message}")).into_response()
        }
        Ok(staff::Corrected::Restricted) => (
            StatusCode::FORBIDDEN,
            "Only complaints officers and managers see and correct what residents disclose about support needs (Code 5.10).",
        )
            .into_response(),
        Ok(staff::Corrected::NotFound) => (
            StatusCode::NOT_FOUND,
            "There is no such assessed message from the resident in this conversation.",
        )
            .into_response(),
        Err(e) => unavailable(&e),
    }
}

#[derive(Debug, Deserialize)]
struct ReplyForm {
    csrf: String,
    text: String,
}

fn action_failed(e: &ActionError) -> Response {
    match e {
        ActionError::NoSuchConversation => {
            (StatusCode::NOT_FOUND, "There is no such conversation.").into_response()
        }
        ActionError::HeldByAnother => forbidden(
            "Another member of staff holds this conversation; only they can reply or hand it back.",
        ),
        ActionError::NotHeld => (
            StatusCode::CONFLICT,
            "Take the conversation over before replying.",
        )
            .into_response(),
        ActionError::Store(e) => unavailable(e),
    }
}

async fn claim(
    State(console): State<Console>,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let session = match form_session(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = console
        .intake
        .take_over(id, &session.staff, Utc::now())
        .await;
    action_done(&console, result.map_err(|e| action_failed(&e)))
}

async fn reply(
    State(console): State<Console>,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<ReplyForm>,
) -> Response {
    let session = match form_session(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let text = form.text.trim();
    if text.is_empty() {
        return (StatusCode::BAD_REQUEST, "Type a reply before sending.").into_response();
    }
    if text.chars().count() > LONGEST_REPLY {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("A reply can be at most {LONGEST_REPLY} characters; split it in two."),
        )
            .into_response();
    }
    let result = console
        .intake
        .staff_reply(id, &session.staff, text, Utc::now())
        .await;
    action_done(&console, result.map_err(|e| action_failed(&e)))
}

async fn release(
    State(console): State<Console>,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let session = match form_session(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = console
        .intake
        .hand_back(id, &session.staff, Utc::now())
        .await;
    action_done(&console, result.map_err(|e| action_failed(&e)))
}

/// A manager acknowledges an alert (it stops moving up the escalation chain).
async fn acknowledge(
    State(console): State<Console>,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let session = match form_session(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !session.staff.role.is_manager() {
        return forbidden("Only a manager can acknowledge an alert.");
    }
    match staff::acknowledge(&console.intake.store, id, &session.staff, Utc::now()).await {
        Ok(_) => Redirect::to("/console").into_response(),
        Err(e) => unavailable(&e),
    }
}

/// An internal note: any member of staff may add one; residents never see them.
async fn add_note(
    State(console): State<Console>,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<ReplyForm>,
) -> Response {
    let session = match form_session(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let body = form.text.trim();
    if body.is_empty() || body.chars().count() > LONGEST_REPLY {
        return (
            StatusCode::BAD_REQUEST,
            format!("A note is 1 to {LONGEST_REPLY} characters."),
        )
            .into_response();
    }
    match console.intake.store.conversation_by_id(id).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return (StatusCode::NOT_FOUND, "There is no such conversation.").into_response();
        }
        Err(e) => return unavailable(&e),
    }
    match staff::add_note(&console.intake.store, id, &session.staff, body, Utc::now()).await {
        Ok(()) => Redirect::to(&format!("/console/conversations/{id}")).into_response(),
        Err(e) => unavailable(&e),
    }
}

#[derive(Debug, Deserialize)]
struct ResponseForm {
    csrf: String,
    stage: u8,
    definition: String,
    decision: String,
    reasons: String,
    remedy: String,
    outstanding_actions: String,
}

#[derive(Debug, Deserialize)]
struct ExtendForm {
    csrf: String,
    working_days: u32,
    reason: String,
}

#[derive(Debug, Deserialize)]
struct ExclusionForm {
    csrf: String,
    /// `accept` (the complaint is not taken on) or `reject`.
    decision: String,
    reasons: String,
}

/// A signed-in member of staff who may do case work (not agents), with a valid form token.
async fn caseworker(console: &Console, jar: &CookieJar, csrf: &str) -> Result<Session, Response> {
    let session = form_session(console, jar, csrf).await?;
    if !session.staff.role.sees_adjustments() {
        return Err(forbidden(
            "Case work is for complaints officers and managers.",
        ));
    }
    Ok(session)
}

fn case_done(console: &Console, result: Result<crate::store::Conversation, CaseError>) -> Response {
    action_done(console, result.map_err(|e| case_failed(&e)))
}

fn case_failed(e: &CaseError) -> Response {
    match e {
        CaseError::Missing(missing) => {
            let parts: Vec<String> = missing
                .iter()
                .map(|m| format!("{} (Code {})", m.part, m.provision))
                .collect();
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "The response has not been sent: it still needs {}. Go back and add them.",
                    parts.join("; ")
                ),
            )
                .into_response()
        }
        CaseError::Refused(why) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Nothing was changed: {why}."),
        )
            .into_response(),
        CaseError::Store(e) => unavailable(e),
    }
}

async fn respond(
    State(console): State<Console>,
    jar: CookieJar,
    Path(reference): Path<String>,
    Form(form): Form<ResponseForm>,
) -> Response {
    let session = match caseworker(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let response = StageResponse {
        stage: form.stage,
        definition: form.definition,
        decision: form.decision,
        reasons: form.reasons,
        remedy: form.remedy,
        outstanding_actions: form.outstanding_actions,
    };
    let result = console
        .intake
        .send_stage_response(&reference, &response, &session.staff, Utc::now())
        .await;
    case_done(&console, result)
}

async fn extend(
    State(console): State<Console>,
    jar: CookieJar,
    Path(reference): Path<String>,
    Form(form): Form<ExtendForm>,
) -> Response {
    let session = match caseworker(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = console
        .intake
        .extend_deadline(
            &reference,
            form.working_days,
            &form.reason,
            &session.staff,
            Utc::now(),
        )
        .await;
    case_done(&console, result)
}

async fn exclusion(
    State(console): State<Console>,
    jar: CookieJar,
    Path(reference): Path<String>,
    Form(form): Form<ExclusionForm>,
) -> Response {
    let session = match caseworker(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = console
        .intake
        .decide_exclusion(
            &reference,
            form.decision == "accept",
            &form.reasons,
            &session.staff,
            Utc::now(),
        )
        .await;
    case_done(&console, result)
}

#[derive(Debug, Deserialize)]
struct CloseForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

async fn close(
    State(console): State<Console>,
    jar: CookieJar,
    Path(reference): Path<String>,
    Form(form): Form<CloseForm>,
) -> Response {
    let session = match caseworker(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = console
        .intake
        .close_case(&reference, &form.reason, &session.staff, Utc::now())
        .await;
    case_done(&console, result)
}

/// What the case panel shows of a complaint's work: its remedies and actions (and the
/// response form's remedy and outstanding-action text made from them, 6.9), its copies by
/// email, and who may be named to handle it (not a stage 1 handler at stage 2, 6.13).
fn case_work_view(
    case: &mut serde_json::Value,
    reference: &str,
    actions: &[crate::store::CaseAction],
    emails: &[crate::store::ResidentEmail],
    workers: &[(i64, String)],
    excluded: &[i64],
) {
    let mine: Vec<_> = actions
        .iter()
        .filter(|a| a.case_reference == reference)
        .collect();
    let remedy_text: Vec<String> = mine
        .iter()
        .filter(|a| a.kind == "remedy")
        .map(|a| format!("- {}", a.description))
        .collect();
    let actions_text: Vec<String> = mine
        .iter()
        .filter(|a| a.kind == "action" && a.done_at.is_none())
        .map(|a| match &a.due_on {
            Some(due) => format!("- {} (by {due})", a.description),
            None => format!("- {}", a.description),
        })
        .collect();
    case["actions"] = serde_json::to_value(&mine).unwrap_or_default();
    case["remedy_text"] = remedy_text.join("\n").into();
    case["actions_text"] = actions_text.join("\n").into();
    case["emails"] = serde_json::to_value(
        emails
            .iter()
            .filter(|e| e.case_reference.as_deref() == Some(reference))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    case["handlers"] = workers
        .iter()
        .map(|(id, name)| {
            serde_json::json!({ "id": id, "name": name, "handled_stage_one": excluded.contains(id) })
        })
        .collect();
}

#[derive(Debug, Deserialize)]
struct DefinitionForm {
    csrf: String,
    definition: String,
}

async fn edit_definition(
    State(console): State<Console>,
    jar: CookieJar,
    Path(reference): Path<String>,
    Form(form): Form<DefinitionForm>,
) -> Response {
    let session = match caseworker(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = console
        .intake
        .edit_definition(&reference, &form.definition, &session.staff, Utc::now())
        .await;
    case_done(&console, result)
}

#[derive(Debug, Deserialize)]
struct HandlerForm {
    csrf: String,
    handler: i64,
}

async fn assign_handler(
    State(console): State<Console>,
    jar: CookieJar,
    Path(reference): Path<String>,
    Form(form): Form<HandlerForm>,
) -> Response {
    let session = match caseworker(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = console
        .intake
        .assign_handler(&reference, form.handler, &session.staff, Utc::now())
        .await;
    case_done(&console, result)
}

#[derive(Debug, Deserialize)]
struct CaseActionForm {
    csrf: String,
    /// `remedy` or `action`.
    kind: String,
    description: String,
    /// YYYY-MM-DD, or empty.
    #[serde(default)]
    due_on: String,
}

async fn add_case_action(
    State(console): State<Console>,
    jar: CookieJar,
    Path(reference): Path<String>,
    Form(form): Form<CaseActionForm>,
) -> Response {
    let session = match caseworker(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let due_on = match form.due_on.trim() {
        "" => None,
        date => match date.parse::<chrono::NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                return case_failed(&CaseError::Refused(format!(
                    "{date:?} is not a date such as 2026-12-18"
                )));
            }
        },
    };
    let result = console
        .intake
        .record_case_action(
            &reference,
            &form.kind,
            &form.description,
            due_on,
            &session.staff,
            Utc::now(),
        )
        .await;
    case_done(&console, result)
}

async fn mark_action_done(
    State(console): State<Console>,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let session = match caseworker(&console, &jar, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let result = console
        .intake
        .complete_action(id, &session.staff, Utc::now())
        .await;
    case_done(&console, result)
}

#[derive(Debug, Deserialize)]
struct After {
    #[serde(default)]
    after: i64,
}

/// New lines of a conversation, live. The record is read every second, so this works the
/// same with several replicas on one PostgreSQL.
async fn conversation_events(
    State(console): State<Console>,
    jar: CookieJar,
    Path(id): Path<i64>,
    Query(after): Query<After>,
) -> Response {
    let session = match console.session(&jar).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let restricted = !session.staff.role.sees_adjustments();
    let token = jar
        .get(COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let store = console.intake.store.clone();
    let stream = futures::stream::unfold((store, after.after), move |(store, mut last)| {
        let token = token.clone();
        async move {
            loop {
                // The stream ends with the session (signed out, or expired).
                if !signed_in(&store, &token).await {
                    return None;
                }
                match staff::lines(&store, id, last).await {
                    Ok(mut lines) if !lines.is_empty() => {
                        last = lines.last().map_or(last, |l| l.id);
                        if restricted {
                            let mut cases = staff::cases(&store, id).await.unwrap_or_default();
                            let disclosed = restrict_cases(&mut cases);
                            restrict_lines(&disclosed, &mut lines);
                        }
                        let data = serde_json::to_string(&lines).unwrap_or_default();
                        let event = Event::default().id(last.to_string()).data(data);
                        return Some((Ok::<_, std::convert::Infallible>(event), (store, last)));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "console: reading new lines failed"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    sse(stream, &console.shutdown)
}

/// Tells the inbox page when anything changed, so it can refresh.
async fn inbox_events(State(console): State<Console>, jar: CookieJar) -> Response {
    if let Err(r) = console.session(&jar).await {
        return r;
    }
    let token = jar
        .get(COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let store = console.intake.store.clone();
    let stream = futures::stream::unfold((store, None::<i64>), move |(store, mut seen)| {
        let token = token.clone();
        async move {
            loop {
                // The stream ends with the session (signed out, or expired).
                if !signed_in(&store, &token).await {
                    return None;
                }
                let latest = store.latest_activity().await.ok().flatten();
                match (seen, latest) {
                    (Some(before), Some(now)) if now != before => {
                        seen = Some(now);
                        let event = Event::default().event("changed").data(now.to_string());
                        return Some((Ok::<_, std::convert::Infallible>(event), (store, seen)));
                    }
                    (None, _) => seen = Some(latest.unwrap_or(0)),
                    _ => {}
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    sse(stream, &console.shutdown)
}

/// Whether the session behind a live stream is still current.
async fn signed_in(store: &crate::store::Store, token: &str) -> bool {
    matches!(staff::session(store, token, Utc::now()).await, Ok(Some(_)))
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

/// The console's scripts and styles, served as files: the content security policy allows
/// no inline script or style, so injected markup cannot run.
const STATIC: &[(&str, &str, &str)] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("console/console.css"),
    ),
    (
        "inbox.js",
        "text/javascript; charset=utf-8",
        include_str!("console/inbox.js"),
    ),
    (
        "conversation.js",
        "text/javascript; charset=utf-8",
        include_str!("console/conversation.js"),
    ),
];

async fn static_file(Path(file): Path<String>) -> Response {
    match STATIC.iter().find(|(name, ..)| *name == file) {
        Some((_, kind, body)) => asset(kind, body),
        None => (StatusCode::NOT_FOUND, "No such file.").into_response(),
    }
}

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("console/layout.html")),
    ("login.html", include_str!("console/login.html")),
    ("inbox.html", include_str!("console/inbox.html")),
    (
        "conversation.html",
        include_str!("console/conversation.html"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_landlords_standard_messages_replace_the_shipped_ones_and_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("messages.toml");
        std::fs::write(
            &path,
            "[[message]]\nname = \"Welsh greeting\"\ntext = \"Shwmae, {staff} o {landlord} sydd yma.\"\n",
        )
        .expect("write");
        let own = load_standard_messages(Some(&path)).expect("loads");
        assert_eq!(own.len(), 1);
        assert_eq!(own[0].name, "Welsh greeting");
        std::fs::write(
            &path,
            "[[message]]\nname = \"Bad\"\ntext = \"Dear {tenant_name}\"\n",
        )
        .expect("write");
        let refused = load_standard_messages(Some(&path)).expect_err("refused");
        assert!(
            refused.contains("{tenant_name}") && refused.contains("\"Bad\""),
            "{refused}"
        );
        std::fs::write(&path, "").expect("write");
        assert!(load_standard_messages(Some(&path)).is_err(), "no messages");
        assert!(load_standard_messages(Some(&dir.path().join("missing.toml"))).is_err());
    }

    #[test]
    fn the_shipped_standard_messages_load() {
        let messages = standard_messages();
        assert!(messages.len() >= 5);
        assert!(
            messages
                .iter()
                .any(|m| m.text.contains("{ombudsman_phone}"))
        );
    }
}
