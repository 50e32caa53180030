//! A small fake Discord on loopback, enough for serenity: `GET /api/v10/gateway`, a gateway
//! that says Hello, answers Identify with Ready and heartbeats with acks, and sends the
//! dispatches the test injects (`MESSAGE_CREATE`, `MESSAGE_UPDATE`, `INTERACTION_CREATE`); and
//! the REST calls the bot makes (messages, interaction callbacks). No maintained Discord fake
//! exists to reuse.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::ws::{Message as Frame, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::{Notify, broadcast};

pub const TOKEN: &str = "discord-test-token-never-logged";
const BOT_ID: u64 = 1000;

#[derive(Debug, Clone)]
pub struct Sent {
    pub channel: u64,
    pub text: String,
    /// (label, custom id) of each button.
    pub buttons: Vec<(String, String)>,
    pub message_id: u64,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    sequence: u64,
    sent: Vec<Sent>,
    acknowledged: Vec<String>,
    /// Interaction answers with a message: (text, shown only to the presser).
    private_answers: Vec<(String, bool)>,
    refuse_sends: usize,
    refused: usize,
    ready: bool,
}

#[derive(Clone)]
pub struct FakeDiscord {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    dispatches: broadcast::Sender<Value>,
    connected: Arc<Notify>,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        FakeDiscord::start_on(0).await
    }

    /// Starts on a given loopback port (0 for any): a test can point the bot at Discord
    /// before Discord is there.
    pub async fn start_on(port: u16) -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let fake = FakeDiscord {
            url,
            inner: Arc::new(Mutex::new(Inner {
                next_id: 5000,
                ..Inner::default()
            })),
            dispatches: broadcast::channel(256).0,
            connected: Arc::new(Notify::new()),
        };
        let app = Router::new()
            .route("/api/v10/gateway", get(gateway_url))
            .route("/gateway", get(gateway))
            .route("/api/v10/channels/{channel}/messages", post(create_message))
            .route(
                "/api/v10/interactions/{id}/{token}/callback",
                post(interaction_callback),
            )
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn next_id(&self) -> u64 {
        let mut inner = self.lock();
        inner.next_id += 1;
        inner.next_id
    }

    /// Waits until the bot has identified and received Ready.
    pub async fn wait_connected(&self) {
        loop {
            let notified = self.connected.notified();
            if self.lock().ready {
                return;
            }
            if tokio::time::timeout(std::time::Duration::from_secs(20), notified)
                .await
                .is_err()
            {
                panic!("the bot never connected to the fake gateway");
            }
        }
    }

    fn dispatch(&self, kind: &str, data: Value) {
        let sequence = {
            let mut inner = self.lock();
            inner.sequence += 1;
            inner.sequence
        };
        let _ = self
            .dispatches
            .send(json!({"op": 0, "t": kind, "s": sequence, "d": data}));
    }

    fn user(user: u64) -> Value {
        json!({"id": user.to_string(), "username": "sam", "discriminator": "0",
               "global_name": "Sam", "avatar": null, "bot": false})
    }

    fn message(&self, channel: u64, user: u64, text: &str, guild: Option<u64>) -> (u64, Value) {
        let id = self.next_id();
        let mut m = json!({
            "id": id.to_string(), "channel_id": channel.to_string(),
            "author": FakeDiscord::user(user),
            "content": text, "timestamp": chrono::Utc::now().to_rfc3339(),
            "edited_timestamp": null, "tts": false, "mention_everyone": false,
            "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
            "pinned": false, "type": 0
        });
        if let Some(g) = guild {
            m["guild_id"] = json!(g.to_string());
        }
        (id, m)
    }

    /// The resident writes `text` in their direct message channel.
    pub fn say(&self, channel: u64, text: &str) -> u64 {
        let (id, m) = self.message(channel, channel + 1, text, None);
        self.dispatch("MESSAGE_CREATE", m);
        id
    }

    /// Someone writes in a server channel.
    pub fn say_in_server(&self, channel: u64, text: &str) {
        let (_, m) = self.message(channel, 77, text, Some(42));
        self.dispatch("MESSAGE_CREATE", m);
    }

    /// The resident sends a photo with no words.
    pub fn photo(&self, channel: u64) {
        let (_, mut m) = self.message(channel, channel + 1, "", None);
        let file = self.next_id();
        m["attachments"] = json!([{"id": file.to_string(), "filename": "damp.jpg", "size": 250000,
            "url": "http://127.0.0.1/damp.jpg", "proxy_url": "http://127.0.0.1/damp.jpg",
            "content_type": "image/jpeg"}]);
        self.dispatch("MESSAGE_CREATE", m);
    }

    /// The resident edits message `id`.
    pub fn edit(&self, channel: u64, id: u64, text: &str) {
        self.dispatch(
            "MESSAGE_UPDATE",
            json!({"id": id.to_string(), "channel_id": channel.to_string(),
                   "author": FakeDiscord::user(channel + 1), "content": text,
                   "edited_timestamp": chrono::Utc::now().to_rfc3339()}),
        );
    }

    /// The resident presses the button labelled `label` on the bot's last message.
    pub fn press(&self, channel: u64, label: &str) {
        self.press_as(channel, channel + 1, None, label);
    }

    /// User `user` presses the button labelled `label` on the bot's last message in
    /// `channel`, a server channel when `guild` is given (a managers' alert channel).
    pub fn press_as(&self, channel: u64, user: u64, guild: Option<u64>, label: &str) {
        let last = self
            .sent_to(channel)
            .into_iter()
            .rev()
            .find(|s| !s.buttons.is_empty())
            .unwrap_or_else(|| panic!("no message with buttons was sent to {channel}"));
        let custom_id = last
            .buttons
            .iter()
            .find(|(l, _)| l == label)
            .unwrap_or_else(|| panic!("no button {label:?} in {:?}", last.buttons))
            .1
            .clone();
        let buttons: Vec<Value> = last
            .buttons
            .iter()
            .map(|(l, c)| json!({"type": 2, "style": 1, "label": l, "custom_id": c}))
            .collect();
        let id = self.next_id();
        let mut interaction = json!({
                "id": id.to_string(), "application_id": BOT_ID.to_string(), "type": 3,
                "data": {"custom_id": custom_id, "component_type": 2},
                "channel_id": channel.to_string(),
                "channel": {"id": channel.to_string(), "type": 1},
                "user": FakeDiscord::user(user),
                "token": format!("interaction-token-{id}"), "version": 1,
                "message": {
                    "id": last.message_id.to_string(), "channel_id": channel.to_string(),
                    "author": {"id": BOT_ID.to_string(), "username": "intake", "bot": true},
                    "content": last.text, "timestamp": chrono::Utc::now().to_rfc3339(),
                    "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
                    "attachments": [], "embeds": [], "pinned": false, "type": 0,
                    "components": [{"type": 1, "components": buttons}]
                },
                "app_permissions": "0", "locale": "en-GB", "entitlements": [],
                "authorizing_integration_owners": {"1": (channel + 1).to_string()},
                "context": 1, "attachment_size_limit": 26214400
        });
        if let Some(g) = guild {
            interaction["guild_id"] = json!(g.to_string());
            interaction["channel"]["type"] = json!(0);
            interaction["context"] = json!(0);
        }
        self.dispatch("INTERACTION_CREATE", interaction);
    }

    pub fn sent_to(&self, channel: u64) -> Vec<Sent> {
        self.lock()
            .sent
            .iter()
            .filter(|s| s.channel == channel)
            .cloned()
            .collect()
    }

    pub fn acknowledged(&self) -> usize {
        self.lock().acknowledged.len()
    }

    /// The messages the bot answered button presses with: (text, shown only to the presser).
    pub fn answers(&self) -> Vec<(String, bool)> {
        self.lock().private_answers.clone()
    }

    pub fn refuse_next_sends(&self, n: usize) {
        self.lock().refuse_sends = n;
    }

    pub fn refused(&self) -> usize {
        self.lock().refused
    }
}

async fn gateway_url(State(fake): State<FakeDiscord>) -> Response {
    let ws = fake.url.replacen("http://", "ws://", 1);
    axum::Json(json!({"url": format!("{ws}/gateway")})).into_response()
}

async fn gateway(State(fake): State<FakeDiscord>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| session(fake, socket))
}

async fn session(fake: FakeDiscord, mut socket: WebSocket) {
    let hello = json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": 41250}});
    if socket
        .send(Frame::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    let mut dispatches = fake.dispatches.subscribe();
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { return };
                let Frame::Text(text) = frame else { continue };
                let Ok(payload) = serde_json::from_str::<Value>(&text) else { continue };
                match payload["op"].as_u64() {
                    Some(2) => {
                        let ws = fake.url.replacen("http://", "ws://", 1);
                        let ready = json!({"op": 0, "t": "READY", "s": 1, "d": {
                            "v": 10,
                            "user": {"id": BOT_ID.to_string(), "username": "intake", "discriminator": "0", "avatar": null, "bot": true},
                            "guilds": [], "session_id": "session-1",
                            "resume_gateway_url": format!("{ws}/gateway"),
                            "shard": [0, 1], "application": {"id": BOT_ID.to_string(), "flags": 0}
                        }});
                        if socket.send(Frame::Text(ready.to_string().into())).await.is_err() {
                            return;
                        }
                        fake.lock().ready = true;
                        fake.connected.notify_waiters();
                    }
                    Some(1) if socket.send(Frame::Text(json!({"op": 11}).to_string().into())).await.is_err() => {
                        return;
                    }
                    _ => {}
                }
            }
            dispatch = dispatches.recv() => {
                let Ok(dispatch) = dispatch else { continue };
                if socket.send(Frame::Text(dispatch.to_string().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn create_message(
    State(fake): State<FakeDiscord>,
    Path(channel): Path<u64>,
    headers: axum::http::HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let authorised = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bot {TOKEN}"));
    if !authorised {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "401: Unauthorized", "code": 0})),
        )
            .into_response();
    }
    let mut inner = fake.lock();
    if inner.refuse_sends > 0 {
        inner.refuse_sends -= 1;
        inner.refused += 1;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            axum::Json(json!({"message": "You are being rate limited.", "retry_after": 1.0, "global": false, "code": 0})),
        )
            .into_response();
    }
    let text = body["content"].as_str().unwrap_or_default().to_owned();
    let buttons = body["components"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .flat_map(|r| r["components"].as_array().cloned().unwrap_or_default())
                .map(|b| {
                    (
                        b["label"].as_str().unwrap_or_default().to_owned(),
                        b["custom_id"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    inner.next_id += 1;
    let id = inner.next_id;
    inner.sent.push(Sent {
        channel,
        text: text.clone(),
        buttons,
        message_id: id,
    });
    axum::Json(json!({
        "id": id.to_string(), "channel_id": channel.to_string(),
        "author": {"id": BOT_ID.to_string(), "username": "intake", "bot": true},
        "content": text, "timestamp": chrono::Utc::now().to_rfc3339(), "edited_timestamp": null,
        "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
        "attachments": [], "embeds": [], "pinned": false, "type": 0,
        "components": if body["components"].is_array() { body["components"].clone() } else { json!([]) }
    }))
    .into_response()
}

async fn interaction_callback(
    State(fake): State<FakeDiscord>,
    Path((id, _token)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> StatusCode {
    let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut inner = fake.lock();
    inner.acknowledged.push(id);
    // Type 4 answers with a message; flag 64 shows it only to the person who pressed.
    if answer["type"] == 4 {
        inner.private_answers.push((
            answer["data"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            answer["data"]["flags"].as_u64().unwrap_or(0) & 64 != 0,
        ));
    }
    StatusCode::NO_CONTENT
}
