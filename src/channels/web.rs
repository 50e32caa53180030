//! The web chat: the landlord's website chat (seed 004 lists online chat), and the embedded
//! default channel. A small accessible page at `/chat` and a JSON API:
//!
//! - `POST /chat/api/messages` (with the session opening the page gave) `{"text": "..."}` or
//!   `{"choice": "key", "text": "label"}`, with an
//!   optional `"id"` the page makes for each message so a retried post is recorded once.
//!   Answers 202 once the message is durably recorded; replies arrive on the event stream.
//! - `GET /chat/api/messages`: this resident's conversation so far.
//! - `GET /chat/api/events`: the replies as server-sent events, live (`Last-Event-ID` or
//!   `?after=` resumes after a message id).
//! - `POST /chat/api/attachments`: a photo or a PDF, with an optional caption.
//! - `GET /chat/api/opening`: the greeting, the emergency numbers, and whether the office is
//!   open now.
//!
//! The resident's session is an encrypted, HTTP-only, same-site cookie holding a random id: a
//! resident sees only their own conversation. Bad input gets a clear JSON message and writes
//! nothing: 413 for an oversized body, 400 for malformed JSON, 415 for a file that is not a
//! photo or a PDF, 429 for too many messages.
//!
//! Below: `messages` (a message posted), `upload` (a file), `files` (what a file is, read from
//! its bytes), `lines` (the history and the live stream, labelled alike), `opening`.

mod files;
mod lines;
mod messages;
mod opening;
mod upload;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRef, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub use files::{ACCEPTED, clean_name, content_type, shown_inline, size_in_words};
pub use lines::{ChatEvent, WebSender};
pub use messages::{Posted, Said, check_post};
pub use opening::{Emergency, Opening, opening};
pub use upload::{FILES_A_DAY, LARGEST_FILE};

use super::{Limiter, Wakers};
use crate::config::LimitsConfig;
use crate::core::calendar::OfficeHours;
use crate::service::{Handled, Intake, Writer};
use crate::store::StoreError;

/// The channel name in the record.
pub const CHANNEL: &str = "web";
/// The session cookie.
const COOKIE: &str = "intake_chat";
/// The largest request body: a long message and its JSON, with room to spare.
pub const BODY_LIMIT: usize = 16 * 1024;
/// The longest typed message, in characters (a long letter; longer belongs in an email).
pub const LONGEST_MESSAGE: usize = 8_000;
/// How long a resident's chat session lasts without a visit: long enough to come back to a
/// half-finished complaint.
const SESSION_DAYS: i64 = 90;

/// What the web chat needs.
#[derive(Clone)]
pub struct WebChat {
    intake: Intake,
    writer: Writer,
    wakers: Wakers,
    hub: lines::Hub,
    key: Key,
    /// Messages (and files) one session may send, and all sessions together (`[limits]`).
    per_session: Arc<Limiter>,
    /// New chat sessions, per client address and from everyone together.
    new_sessions: Arc<Limiter>,
    /// Mark the cookie Secure (the chat is served over HTTPS).
    secure_cookies: bool,
    /// Cancelled when the bot stops: open pages' event streams end (the page reconnects to
    /// the next process), so shutdown does not wait on them.
    shutdown: CancellationToken,
    /// Live event streams open, per session and per client address.
    streams: lines::OpenStreams,
    /// The office's hours, for the out-of-hours note.
    office: OfficeHours,
    /// Uploads being received or written, per session: counted against the day's files
    /// before they are committed, and few at once, so parallel uploads neither pass the
    /// daily limit together nor hold more than a few files in memory.
    uploads: upload::InFlight,
}

impl FromRef<WebChat> for Key {
    fn from_ref(chat: &WebChat) -> Key {
        chat.key.clone()
    }
}

impl WebChat {
    pub fn new(
        intake: Intake,
        writer: Writer,
        wakers: Wakers,
        key: Key,
        secure_cookies: bool,
        shutdown: CancellationToken,
    ) -> WebChat {
        let (per_session, new_sessions) = limiters(intake.store(), &LimitsConfig::default());
        WebChat {
            intake,
            writer,
            wakers,
            hub: lines::Hub::default(),
            key,
            per_session,
            new_sessions,
            secure_cookies,
            shutdown,
            streams: Arc::new(Mutex::new(HashMap::new())),
            office: OfficeHours::default(),
            uploads: upload::InFlight::default(),
        }
    }

    /// The office's working hours (from `alerts.working_hours_start` and `_end`), for the
    /// note a resident writing out of hours sees; 09:00 to 17:00 unless set.
    pub fn with_office_hours(mut self, office: OfficeHours) -> WebChat {
        self.office = office;
        self
    }

    /// The limits as configured (`[limits]`), in place of the defaults.
    pub fn with_limits(mut self, limits: &LimitsConfig) -> WebChat {
        (self.per_session, self.new_sessions) = limiters(self.intake.store(), limits);
        self
    }

    /// The sender that delivers this channel's outbox to open pages.
    pub fn sender(&self) -> WebSender {
        WebSender {
            hub: self.hub.clone(),
            store: self.intake.store().clone(),
            bus: self.wakers.bus().clone(),
        }
    }

    /// With several replicas (PostgreSQL): shows the replies other replicas write on the
    /// pages open here, as they are written.
    pub fn follow_other_replicas(&self) {
        lines::follow(
            self.hub.clone(),
            self.intake.store().clone(),
            self.wakers.bus(),
            self.wakers.of(CHANNEL),
        );
    }

    /// The routes under `/chat`.
    pub fn router(self) -> Router {
        Router::new()
            .route("/chat", get(page))
            .route(
                "/chat/chat.js",
                get(|| async {
                    super::asset(
                        "text/javascript; charset=utf-8",
                        include_str!("web_chat.js"),
                    )
                }),
            )
            .route(
                "/chat/chat.css",
                get(|| async {
                    super::asset("text/css; charset=utf-8", include_str!("web_chat.css"))
                }),
            )
            .route(
                "/chat/api/messages",
                get(lines::history).post(messages::receive),
            )
            .route("/chat/api/events", get(lines::events))
            .route("/chat/api/opening", get(opening::opening_now))
            .route(
                "/chat/api/attachments",
                // One byte over the limit is enough to know a file is too big.
                post(upload::upload).layer(DefaultBodyLimit::disable()),
            )
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(self)
    }

    fn session_cookie(&self, id: String) -> Cookie<'static> {
        Cookie::build((COOKIE, id))
            .path("/chat")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure_cookies)
            .max_age(time_days(SESSION_DAYS))
            .build()
    }
}

/// Messages per session and new sessions per client address, each with a ceiling for
/// everyone together.
fn limiters(store: &crate::store::Store, limits: &LimitsConfig) -> (Arc<Limiter>, Arc<Limiter>) {
    (
        Arc::new(Limiter::new(
            store,
            "web_messages",
            limits.web_messages(),
            Some(limits.web_all_messages()),
        )),
        Arc::new(Limiter::new(
            store,
            "web_new_sessions",
            limits.web_new_sessions(),
            Some(limits.web_all_new_sessions()),
        )),
    )
}

fn time_days(days: i64) -> time::Duration {
    time::Duration::days(days)
}

/// A clear message for the resident, as JSON, with its status.
fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn no_session() -> Response {
    problem(
        StatusCode::UNAUTHORIZED,
        "Your chat session has ended. Reload the page to start again.",
    )
}

fn unavailable(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "web chat: the record is unavailable");
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "We could not save your message just now. Nothing was half-saved: please send it again in a minute.",
    )
}

fn session_of(jar: &PrivateCookieJar) -> Option<String> {
    jar.get(COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| uuid::Uuid::parse_str(v).is_ok())
}

/// The answer to a message or file handed to the writer: 202 once it is durably recorded,
/// 200 for one recorded before (a retry), 503 if the record could not take it.
fn recorded(chat: &WebChat, handled: Result<Handled, StoreError>) -> Response {
    match handled {
        Ok(handled) => {
            chat.wakers.wake(CHANNEL);
            let (status, said) = if handled.duplicate {
                (StatusCode::OK, "already received")
            } else {
                (StatusCode::ACCEPTED, "received")
            };
            (status, Json(json!({ "status": said }))).into_response()
        }
        Err(e) => unavailable(&e),
    }
}

async fn page(
    State(chat): State<WebChat>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: PrivateCookieJar,
) -> Response {
    let jar = match session_of(&jar) {
        Some(id) => jar.add(chat.session_cookie(id)),
        None => {
            // New sessions are limited per client address, so one client cannot keep
            // residents out; whoever is refused still gets the emergency numbers.
            if let Some(wait) = chat.new_sessions.check(&peer.ip().to_string()).await {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Html(busy_page(chat.intake.profile())),
                )
                    .into_response();
                if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                return response;
            }
            jar.add(chat.session_cookie(uuid::Uuid::new_v4().to_string()))
        }
    };
    let landlord = html_escape(&chat.intake.profile().name);
    let html = PAGE.replace("{{landlord}}", &landlord);
    (
        jar,
        [(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            ),
        )],
        Html(html),
    )
        .into_response()
}

/// The page a client refused a new chat session gets: never an empty refusal, since the
/// person may be in an emergency.
fn busy_page(profile: &crate::core::profile::LandlordProfile) -> String {
    let landlord = html_escape(&profile.name);
    let phone = html_escape(&profile.contact.phone);
    let out_of_hours = html_escape(&profile.out_of_hours_repairs_phone);
    format!(
        "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Chat with {landlord}</title></head><body><main>\
         <h1>Chat with {landlord}</h1>\
         <p>Too many chats have been opened from your connection just now. Please try again in a minute.</p>\
         <h2>If this is an emergency</h2><ul>\
         <li>If anyone is in danger, call 999.</li>\
         <li>If you smell gas, call the National Gas Emergency line on 0800 111 999.</li>\
         <li>For an emergency repair at any hour, call our out-of-hours line on {out_of_hours}.</li>\
         </ul><p>You can also phone us on {phone}.</p></main></body></html>"
    )
}

/// Escapes text for HTML.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const PAGE: &str = include_str!("web_chat.html");
