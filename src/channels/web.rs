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
//!
//! The resident's session is an encrypted, HTTP-only, same-site cookie holding a random id: a
//! resident sees only their own conversation. Bad input gets a clear JSON message and writes
//! nothing: 413 for an oversized body, 400 for malformed JSON, 429 for too many messages.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRef, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use chrono::Utc;
use futures::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_util::sync::CancellationToken;

use super::{Bucket, Deliver, DeliveryError, Throttle, Wakers};
use crate::core::dialog::{Choice, Input, Reply};
use crate::core::ids::MessageId;
use crate::service::{Intake, Writer};
use crate::store::{ChatLine, Inbound, OutboxItem};

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
    hub: Hub,
    key: Key,
    /// Messages one session may send: 20 at once, then one every 2 seconds (more than anyone
    /// types, fewer than a script flooding the record).
    per_session: Arc<Throttle>,
    /// New chat sessions, per client address.
    new_sessions: Arc<Throttle>,
    /// Mark the cookie Secure (the chat is served over HTTPS).
    secure_cookies: bool,
    /// Cancelled when the bot stops: open pages' event streams end (the page reconnects to
    /// the next process), so shutdown does not wait on them.
    shutdown: CancellationToken,
    /// Live event streams open, per session and per client address: each holds one of the
    /// server's connections for as long as the page is open, so one client cannot take
    /// them all.
    streams: Arc<Mutex<HashMap<String, usize>>>,
}

/// Open pages one resident's session may have (tabs, a phone and a laptop).
const STREAMS_PER_SESSION: usize = 10;
/// Open pages from one client address (a household, an office or a mobile network).
const STREAMS_PER_ADDRESS: usize = 200;

/// One open event stream, counted under its session and its address until it ends.
struct OpenStream {
    streams: Arc<Mutex<HashMap<String, usize>>>,
    keys: [String; 2],
}

impl OpenStream {
    /// Counts a new stream, or `None` if the session or the address has as many as allowed.
    fn open(chat: &WebChat, session: &str, address: &str) -> Option<OpenStream> {
        let keys = [format!("session {session}"), format!("address {address}")];
        let mut open = chat
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = |k: &str| open.get(k).copied().unwrap_or(0);
        if count(&keys[0]) >= STREAMS_PER_SESSION || count(&keys[1]) >= STREAMS_PER_ADDRESS {
            return None;
        }
        for key in &keys {
            *open.entry(key.clone()).or_default() += 1;
        }
        Some(OpenStream {
            streams: chat.streams.clone(),
            keys,
        })
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        let mut open = self
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for key in &self.keys {
            if let Some(n) = open.get_mut(key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.remove(key);
                }
            }
        }
    }
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
        WebChat {
            intake,
            writer,
            wakers,
            hub: Hub::default(),
            key,
            per_session: Arc::new(Throttle::new(
                Bucket {
                    burst: 20.0,
                    per_second: 0.5,
                },
                // All sessions together: far above what residents type, low enough that a
                // flood cannot swamp the record or page managers all night.
                Bucket {
                    burst: 200.0,
                    per_second: 50.0,
                },
            )),
            // New sessions per client address (a household, or an office behind one
            // address, opens a few; a script opening hundreds is refused), and a ceiling for
            // everyone together far above what a landlord's residents do.
            new_sessions: Arc::new(Throttle::new(
                Bucket {
                    burst: 30.0,
                    per_second: 0.5,
                },
                Bucket {
                    burst: 2000.0,
                    per_second: 200.0,
                },
            )),
            secure_cookies,
            shutdown,
            streams: Arc::default(),
        }
    }

    /// The sender that delivers this channel's outbox to open pages.
    pub fn sender(&self) -> WebSender {
        WebSender {
            hub: self.hub.clone(),
        }
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
            .route("/chat/api/messages", get(history).post(receive))
            .route("/chat/api/events", get(events))
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

fn time_days(days: i64) -> time::Duration {
    time::Duration::days(days)
}

/// One line as the page shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChatEvent {
    pub id: MessageId,
    /// `resident`, `bot` or `staff`.
    pub from: String,
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    pub at: chrono::DateTime<Utc>,
}

impl ChatEvent {
    fn of_line(line: &ChatLine) -> ChatEvent {
        let reply: Option<Reply> = line
            .payload
            .clone()
            .and_then(|p| serde_json::from_value(p).ok());
        let from = if line.message.direction == "in" {
            "resident"
        } else if line.message.author.starts_with("staff") {
            "staff"
        } else {
            "bot"
        };
        ChatEvent {
            id: line.message.id,
            from: from.to_owned(),
            text: reply
                .as_ref()
                .map_or_else(|| line.message.body.clone(), |r| r.text.clone()),
            choices: reply.map(|r| r.choices).unwrap_or_default(),
            attachments: line
                .message
                .attachments
                .iter()
                .map(|a| a.name.clone().unwrap_or_else(|| a.kind.clone()))
                .collect(),
            at: line.message.at,
        }
    }
}

/// Open pages, by session, each with a live stream of replies.
#[derive(Clone, Default)]
struct Hub {
    pages: Arc<Mutex<HashMap<String, broadcast::Sender<ChatEvent>>>>,
}

impl Hub {
    fn subscribe(&self, session: &str) -> broadcast::Receiver<ChatEvent> {
        let mut pages = self
            .pages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pages.retain(|_, tx| tx.receiver_count() > 0);
        pages
            .entry(session.to_owned())
            .or_insert_with(|| broadcast::channel(64).0)
            .subscribe()
    }

    /// Pushes to every open page of the session; false when none is open.
    fn push(&self, session: &str, event: ChatEvent) -> bool {
        let pages = self
            .pages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pages.get(session).is_some_and(|tx| tx.send(event).is_ok())
    }
}

/// Delivers web chat replies to the resident's open pages.
#[derive(Clone)]
pub struct WebSender {
    hub: Hub,
}

impl Deliver for WebSender {
    async fn deliver(&self, item: &OutboxItem, reply: &Reply) -> Result<(), DeliveryError> {
        let event = ChatEvent {
            id: item.message_id,
            from: "bot".to_owned(),
            text: reply.text.clone(),
            choices: reply.choices.clone(),
            attachments: Vec::new(),
            at: Utc::now(),
        };
        if self.hub.push(&item.chat, event) {
            Ok(())
        } else {
            // Shown from the record when the resident opens the page again.
            Err(DeliveryError::NotConnected)
        }
    }
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
            if let Some(wait) = chat.new_sessions.check(&peer.ip().to_string()) {
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

/// A message from the page.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Posted {
    #[serde(default)]
    pub text: Option<String>,
    /// The key of a button the resident pressed.
    #[serde(default)]
    pub choice: Option<String>,
    /// The page's own id for this message, so a retried post is recorded once.
    #[serde(default)]
    pub id: Option<String>,
}

/// What a post asks for, once checked: typed words, or a press of the button with this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    Text(String),
    Press(String),
}

/// Checks a post before anything is written: a clear refusal for an empty message, one
/// over the length limit, a malformed button key or message id.
pub fn check_post(posted: &Posted) -> Result<Said, (StatusCode, String)> {
    if let Some(id) = &posted.id
        && (id.is_empty() || id.len() > 64)
    {
        return Err((
            StatusCode::BAD_REQUEST,
            "The message id must be 1 to 64 characters.".to_owned(),
        ));
    }
    match (&posted.text, &posted.choice) {
        (_, Some(key)) => {
            if key.is_empty()
                || key.len() > 64
                || !key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "That choice is not one the bot offered.".to_owned(),
                ));
            }
            Ok(Said::Press(key.clone()))
        }
        (Some(text), None) if !text.trim().is_empty() => {
            if text.chars().count() > LONGEST_MESSAGE {
                return Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "That message is too long to send here ({LONGEST_MESSAGE} characters at most). Please split it into shorter messages."
                    ),
                ));
            }
            Ok(Said::Text(text.clone()))
        }
        _ => Err((
            StatusCode::BAD_REQUEST,
            "Please type a message before sending.".to_owned(),
        )),
    }
}

async fn receive(
    State(chat): State<WebChat>,
    jar: PrivateCookieJar,
    body: Result<Json<Posted>, JsonRejection>,
) -> Response {
    let posted = match body {
        Ok(Json(posted)) => posted,
        Err(rejection) => {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!(
                    "That message is too long to send here (the limit is {} KB). Please split it into shorter messages.",
                    BODY_LIMIT / 1024
                )
            } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                "Send messages as JSON (Content-Type: application/json).".to_owned()
            } else {
                format!(
                    "That message could not be read: {}. Send {{\"text\": \"your message\"}}.",
                    rejection.body_text()
                )
            };
            let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
                StatusCode::BAD_REQUEST
            } else {
                status
            };
            return problem(status, &message);
        }
    };
    let said = match check_post(&posted) {
        Ok(said) => said,
        Err((status, message)) => return problem(status, &message),
    };
    // Sessions are only made by opening the page, so a script cannot mint a new one for
    // every message to get round the limits.
    let Some(session) = session_of(&jar) else {
        return no_session();
    };
    if let Some(wait) = chat.per_session.check(&session) {
        let seconds = wait.as_secs().max(1);
        let mut response = problem(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "You are sending messages very quickly. Please wait {seconds} seconds and try again; your earlier messages are safe."
            ),
        );
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return (jar, response).into_response();
    }
    let (text, input) = match said {
        Said::Press(key) => {
            // The record keeps the label the bot showed, whatever the client sends with it.
            let offered = match chat.intake.store().offered_choices(CHANNEL, &session).await {
                Ok(offered) => offered,
                Err(e) => return unavailable(&e),
            };
            let Some(choice) = offered.into_iter().find(|c| c.key == key) else {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "That choice is not one the bot offered.",
                );
            };
            (choice.label, Input::Choice(key))
        }
        Said::Text(text) => (text.clone(), Input::Text(text)),
    };
    let inbound = Inbound {
        channel: CHANNEL.to_owned(),
        chat: session.clone(),
        // Ids are the page's own, so they are kept apart per session.
        platform_message_id: posted.id.as_ref().map(|id| format!("{session}:{id}")),
        body: text,
        attachments: Vec::new(),
        at: Utc::now(),
    };
    match chat.writer.handle(inbound, input).await {
        Ok(handled) => {
            chat.wakers.wake(CHANNEL);
            let (status, said) = if handled.duplicate {
                (StatusCode::OK, "already received")
            } else {
                (StatusCode::ACCEPTED, "received")
            };
            (jar, (status, Json(json!({ "status": said })))).into_response()
        }
        Err(e) => (jar, unavailable(&e)).into_response(),
    }
}

async fn history(State(chat): State<WebChat>, jar: PrivateCookieJar) -> Response {
    let Some(session) = session_of(&jar) else {
        return no_session();
    };
    match chat
        .intake
        .store()
        .chat_lines(CHANNEL, &session, MessageId(0))
        .await
    {
        Ok(lines) => {
            mark_shown(&chat, &lines).await;
            let messages: Vec<ChatEvent> = lines.iter().map(ChatEvent::of_line).collect();
            Json(json!({ "messages": messages })).into_response()
        }
        Err(e) => unavailable(&e),
    }
}

#[derive(Debug, Deserialize)]
struct After {
    #[serde(default)]
    after: Option<i64>,
}

async fn events(
    State(chat): State<WebChat>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: PrivateCookieJar,
    headers: HeaderMap,
    Query(after): Query<After>,
) -> Response {
    let Some(session) = session_of(&jar) else {
        return no_session();
    };
    let Some(open) = OpenStream::open(&chat, &session, &peer.ip().to_string()) else {
        return problem(
            StatusCode::TOO_MANY_REQUESTS,
            "This chat is open in too many windows. Close some and reload this one.",
        );
    };
    let last_event = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let after = MessageId(last_event.max(after.after).unwrap_or(0).max(0));
    // Subscribe before reading the record, so nothing falls between the two.
    let live = chat.hub.subscribe(&session);
    let lines = match chat
        .intake
        .store()
        .chat_lines(CHANNEL, &session, after)
        .await
    {
        Ok(lines) => lines,
        Err(e) => return unavailable(&e),
    };
    mark_shown(&chat, &lines).await;
    let caught_up: Vec<ChatEvent> = lines
        .iter()
        .filter(|l| l.message.direction == "out")
        .map(ChatEvent::of_line)
        .collect();
    let seen = caught_up.last().map_or(after, |e| e.id);
    let stream = event_stream(caught_up, live, seen)
        .take_until(chat.shutdown.clone().cancelled_owned())
        // Counted while the page holds the stream.
        .map(move |event| {
            let _open = &open;
            event
        });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// Replies the page is about to show are delivered.
async fn mark_shown(chat: &WebChat, lines: &[ChatLine]) {
    let now = Utc::now();
    for line in lines {
        if let (Some(outbox), false) = (line.outbox, line.sent)
            && let Err(e) = chat.intake.store().mark_sent(outbox, now).await
        {
            tracing::warn!(error = %e, "web chat: could not mark a reply delivered");
        }
    }
}

fn event_stream(
    caught_up: Vec<ChatEvent>,
    live: broadcast::Receiver<ChatEvent>,
    seen: MessageId,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let live = BroadcastStream::new(live)
        .filter_map(move |event| async move { event.ok().filter(|e| e.id > seen) });
    stream::iter(caught_up).chain(live).map(|event| {
        Ok(Event::default()
            .id(event.id.to_string())
            .data(serde_json::to_string(&event).unwrap_or_default()))
    })
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
