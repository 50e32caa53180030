//! The conversation as the page shows it: the history (`GET /chat/api/messages`) and the live
//! stream of replies (`GET /chat/api/events`), both labelled by one function, so a staff
//! member's line says "staff" and their name whether it arrives live or is read back.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::PrivateCookieJar;
use chrono::Utc;
use futures::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use super::{CHANNEL, WebChat, no_session, problem, session_of, unavailable};
use crate::channels::bus::{Bus, Signal};
use crate::channels::{Deliver, DeliveryError};
use crate::core::dialog::{Choice, Reply};
use crate::core::ids::{MessageId, StaffId};
use crate::store::{ChatLine, OutboxItem, Store, StoreError};

/// One line as the page shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChatEvent {
    pub id: MessageId,
    /// `resident`, `bot` or `staff`.
    pub from: String,
    /// The staff member's name, on a staff line (the resident was told who joined).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// The names of the resident's own files on their line (never a link: only staff fetch
    /// files).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    pub at: chrono::DateTime<Utc>,
}

impl ChatEvent {
    fn of_line(line: &ChatLine, name: Option<String>) -> ChatEvent {
        let reply: Option<Reply> = line
            .payload
            .clone()
            .and_then(|p| serde_json::from_value(p).ok());
        let from = if line.message.direction == "in" {
            "resident"
        } else if staff_of(&line.message.author).is_some() {
            "staff"
        } else {
            "bot"
        };
        ChatEvent {
            id: line.message.id,
            from: from.to_owned(),
            name,
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

/// The staff member who wrote a line, from its author (`staff:<id>`).
fn staff_of(author: &str) -> Option<StaffId> {
    author.strip_prefix("staff:")?.parse().ok()
}

/// The lines as the page shows them: the one labelling for the history and the live stream.
async fn chat_events(store: &Store, lines: &[ChatLine]) -> Result<Vec<ChatEvent>, StoreError> {
    let mut names: HashMap<StaffId, Option<String>> = HashMap::new();
    let mut events = Vec::with_capacity(lines.len());
    for line in lines {
        let name = match staff_of(&line.message.author) {
            Some(staff) => match names.get(&staff) {
                Some(name) => name.clone(),
                None => {
                    let name = store.staff_name(staff).await?;
                    names.insert(staff, name.clone());
                    name
                }
            },
            None => None,
        };
        events.push(ChatEvent::of_line(line, name));
    }
    Ok(events)
}

/// Open pages, by session, each with a live stream of replies.
#[derive(Clone, Default)]
pub(super) struct Hub {
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

    /// The sessions with a page open here now.
    fn open_sessions(&self) -> Vec<String> {
        let pages = self
            .pages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pages
            .iter()
            .filter(|(_, tx)| tx.receiver_count() > 0)
            .map(|(session, _)| session.clone())
            .collect()
    }

    fn is_open(&self, session: &str) -> bool {
        let pages = self
            .pages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pages.get(session).is_some_and(|tx| tx.receiver_count() > 0)
    }
}

/// Delivers web chat replies to the resident's open pages: those on this replica at once,
/// and, with several replicas (PostgreSQL), those on the others through the bus.
#[derive(Clone)]
pub struct WebSender {
    pub(super) hub: Hub,
    pub(super) store: Store,
    pub(super) bus: Bus,
}

impl Deliver for WebSender {
    async fn deliver(&self, item: &OutboxItem, _reply: &Reply) -> Result<(), DeliveryError> {
        // The page may be open on another replica (or in another tab there): it is told too,
        // shows the reply and marks it delivered.
        self.bus.publish(Signal::WebReply {
            session: item.chat.clone(),
            outbox: item.id,
            message: item.message_id.0,
        });
        if !self.hub.is_open(&item.chat) {
            // Shown from the record when the resident opens the page again.
            return Err(DeliveryError::NotConnected);
        }
        let event = match reply_event(&self.store, &item.chat, item.message_id).await {
            Ok(Some(event)) => event,
            Ok(None) => {
                return Err(DeliveryError::Failed(
                    "the reply is not in the record".to_owned(),
                ));
            }
            Err(e) => return Err(DeliveryError::Failed(format!("reading the reply: {e}"))),
        };
        if self.hub.push(&item.chat, event) {
            Ok(())
        } else {
            Err(DeliveryError::NotConnected)
        }
    }
}

/// The reply `message` to `session`'s page as the record has it, labelled as the history
/// labels it (a staff reply says "staff", with the name).
async fn reply_event(
    store: &Store,
    session: &str,
    message: MessageId,
) -> Result<Option<ChatEvent>, StoreError> {
    let lines: Vec<ChatLine> = store
        .chat_lines(CHANNEL, session, MessageId(message.0 - 1))
        .await?
        .into_iter()
        .filter(|l| l.message.id == message)
        .collect();
    Ok(chat_events(store, &lines).await?.into_iter().next())
}

/// The reply `message` to `session`, only if outbox row `outbox` is that reply to that
/// session: a signal names the row, and the record must agree before it is marked delivered.
async fn session_reply(
    store: &Store,
    session: &str,
    message: MessageId,
    outbox: i64,
) -> Result<Option<ChatEvent>, StoreError> {
    let lines: Vec<ChatLine> = store
        .chat_lines(CHANNEL, session, MessageId(message.0 - 1))
        .await?
        .into_iter()
        .filter(|l| l.message.id == message && l.outbox == Some(outbox))
        .collect();
    Ok(chat_events(store, &lines).await?.into_iter().next())
}

/// Shows other replicas' replies on the pages open here, until the process ends. After the
/// bus reconnects, this replica's sender looks at the record at once for what it missed.
pub(super) fn follow(hub: Hub, store: Store, bus: &Bus, wake: Arc<tokio::sync::Notify>) {
    let Some(mut signals) = bus.subscribe() else {
        return;
    };
    tokio::spawn(async move {
        loop {
            let signal = match signals.recv().await {
                Ok(signal) => signal,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "web chat: replies from other replicas came too fast; looking again in the record"
                    );
                    Signal::Reconnected
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            match signal {
                Signal::WebReply {
                    session,
                    outbox,
                    message,
                } => {
                    if !hub.is_open(&session) {
                        continue;
                    }
                    match session_reply(&store, &session, MessageId(message), outbox).await {
                        Ok(Some(event)) => {
                            if hub.push(&session, event) {
                                crate::telemetry::reply(CHANNEL, true);
                                if let Err(e) = store.mark_sent(outbox, Utc::now()).await {
                                    tracing::warn!(error = %e, "web chat: could not mark a reply delivered");
                                }
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "web chat: a reply from another replica could not be read");
                        }
                    }
                }
                // Signals may have been missed: replies another replica could not deliver
                // (their page is open here) are made due again now, for this replica's sender.
                Signal::Reconnected => {
                    for session in hub.open_sessions() {
                        if let Err(e) = store.retry_now(CHANNEL, &session, Utc::now()).await {
                            tracing::warn!(error = %e, "web chat: could not look again for missed replies");
                        }
                    }
                    wake.notify_one();
                }
                Signal::Activity => {}
            }
        }
    });
}

/// Open pages one resident's session may have (tabs, a phone and a laptop).
const STREAMS_PER_SESSION: usize = 10;
/// Open pages from one client address (a household, an office or a mobile network).
const STREAMS_PER_ADDRESS: usize = 200;

/// Live event streams open, per session and per client address: each holds one of the
/// server's connections for as long as the page is open, so one client cannot take them all.
pub(super) type OpenStreams = Arc<Mutex<HashMap<String, usize>>>;

/// One open event stream, counted under its session and its address until it ends.
struct OpenStream {
    streams: OpenStreams,
    keys: [String; 2],
}

impl OpenStream {
    /// Counts a new stream, or `None` if the session or the address has as many as allowed.
    fn open(streams: &OpenStreams, session: &str, address: &str) -> Option<OpenStream> {
        let keys = [format!("session {session}"), format!("address {address}")];
        let mut open = streams
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
            streams: streams.clone(),
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

pub(super) async fn history(State(chat): State<WebChat>, jar: PrivateCookieJar) -> Response {
    let Some(session) = session_of(&jar) else {
        return no_session();
    };
    let store = chat.intake.store();
    let read = async {
        let lines = store.chat_lines(CHANNEL, &session, MessageId(0)).await?;
        mark_shown(&chat, &lines).await;
        chat_events(store, &lines).await
    };
    match read.await {
        Ok(messages) => Json(json!({ "messages": messages })).into_response(),
        Err(e) => unavailable(&e),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct After {
    #[serde(default)]
    after: Option<i64>,
}

pub(super) async fn events(
    State(chat): State<WebChat>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: PrivateCookieJar,
    headers: HeaderMap,
    Query(after): Query<After>,
) -> Response {
    let Some(session) = session_of(&jar) else {
        return no_session();
    };
    let Some(open) = OpenStream::open(&chat.streams, &session, &peer.ip().to_string()) else {
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
    let store = chat.intake.store();
    let read = async {
        let lines: Vec<ChatLine> = store
            .chat_lines(CHANNEL, &session, after)
            .await?
            .into_iter()
            .filter(|l| l.message.direction == "out")
            .collect();
        mark_shown(&chat, &lines).await;
        chat_events(store, &lines).await
    };
    let caught_up = match read.await {
        Ok(events) => events,
        Err(e) => return unavailable(&e),
    };
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
        if let (Some(outbox), false) = (line.outbox, line.sent) {
            match chat.intake.store().mark_sent(outbox, now).await {
                Ok(()) => crate::telemetry::reply(CHANNEL, true),
                Err(e) => tracing::warn!(error = %e, "web chat: could not mark a reply delivered"),
            }
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
