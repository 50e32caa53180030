//! A fake Telegram Bot API on loopback, enough for teloxide: getMe, getUpdates (long polling,
//! with updates kept until a later offset confirms them, as Telegram does), sendMessage,
//! answerCallbackQuery, setMyCommands, setWebhook (multipart, as teloxide sends it),
//! deleteWebhook. Residents' messages and button presses are injected by the test; in
//! webhook mode they are posted to the bot with the secret header, and posted again until
//! the bot answers 200, as Telegram does.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Notify;

pub const TOKEN: &str = "123456:TEST-token-that-must-never-be-logged";
const BOT_ID: i64 = 999;

#[derive(Debug, Clone)]
pub struct Sent {
    pub chat: i64,
    pub text: String,
    /// (label, callback data) of each inline button.
    pub buttons: Vec<(String, String)>,
    pub message_id: i64,
}

#[derive(Default)]
struct Inner {
    next_update: i64,
    next_message: i64,
    /// Updates not yet confirmed by a later offset.
    pending: Vec<(i64, Value)>,
    /// Every update id handed to the bot by getUpdates, once per time it was handed over.
    handed_over: Vec<i64>,
    sent: Vec<Sent>,
    /// sendMessage calls to answer with 429 before accepting again.
    refuse_sends: usize,
    refused: usize,
    commands: Vec<String>,
    /// (callback query id, the text shown to whoever pressed).
    callback_answers: Vec<(String, String)>,
    webhook: Option<(String, String)>,
    /// The id of the last message a resident sent.
    last_resident_message: i64,
    edits: i64,
    /// While set, getUpdates calls hang and confirm nothing, as if the bot never made them.
    hold_polls: bool,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    news: Arc<Notify>,
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        FakeTelegram::start_on(0).await
    }

    /// Starts on a given loopback port (0 for any): a test can point the bot at Telegram
    /// before Telegram is there.
    pub async fn start_on(port: u16) -> FakeTelegram {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let fake = FakeTelegram {
            url,
            inner: Arc::new(Mutex::new(Inner {
                next_update: 1,
                next_message: 1,
                ..Inner::default()
            })),
            news: Arc::new(Notify::new()),
        };
        let app = Router::new()
            .route("/{bot}/{method}", post(method))
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

    fn message(&self, chat: i64, chat_type: &str, id: i64) -> Value {
        let chat_json = if chat_type == "private" {
            json!({"id": chat, "type": "private", "first_name": "Sam"})
        } else {
            json!({"id": chat, "type": chat_type, "title": "Rowan Close residents"})
        };
        json!({
            "message_id": id,
            "date": chrono::Utc::now().timestamp(),
            "chat": chat_json,
            "from": {"id": chat.abs(), "is_bot": false, "first_name": "Sam"},
        })
    }

    /// Queues an update (or posts it, in webhook mode); returns its id.
    async fn push(&self, kind: &str, body: Value) -> i64 {
        let (id, webhook) = {
            let mut inner = self.lock();
            let id = inner.next_update;
            inner.next_update += 1;
            let update = json!({"update_id": id, kind: body});
            let webhook = inner.webhook.clone();
            if webhook.is_none() {
                inner.pending.push((id, update.clone()));
            }
            (id, webhook.map(|w| (w, update)))
        };
        match webhook {
            None => self.news.notify_waiters(),
            Some(((url, secret), update)) => {
                let client = super::client();
                for _ in 0..50 {
                    let sent = client
                        .post(&url)
                        .header("X-Telegram-Bot-Api-Secret-Token", &secret)
                        .header("Content-Type", "application/json")
                        .body(update.to_string())
                        .send()
                        .await;
                    if sent.is_ok_and(|r| r.status().is_success()) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        id
    }

    fn new_message_id(&self) -> i64 {
        let mut inner = self.lock();
        inner.next_message += 1;
        inner.last_resident_message = inner.next_message;
        inner.next_message
    }

    /// The id of the last message a resident sent (to edit it).
    pub fn last_resident_message(&self) -> i64 {
        self.lock().last_resident_message
    }

    /// The resident in private chat `chat` types `text`.
    pub async fn say(&self, chat: i64, text: &str) -> i64 {
        let id = self.new_message_id();
        let mut m = self.message(chat, "private", id);
        m["text"] = json!(text);
        self.push("message", m).await
    }

    /// Someone writes in a group.
    pub async fn say_in_group(&self, group: i64, text: &str) -> i64 {
        let id = self.new_message_id();
        let mut m = self.message(group, "supergroup", id);
        m["text"] = json!(text);
        self.push("message", m).await
    }

    /// The resident sends a photo, with a caption if given.
    pub async fn photo(&self, chat: i64, caption: Option<&str>) -> i64 {
        let id = self.new_message_id();
        let mut m = self.message(chat, "private", id);
        m["photo"] = json!([
            {"file_id": "small-damp", "file_unique_id": "u-small", "width": 90, "height": 90, "file_size": 1000},
            {"file_id": "damp-photo-large", "file_unique_id": "u-large", "width": 1280, "height": 960, "file_size": 250000}
        ]);
        if let Some(c) = caption {
            m["caption"] = json!(c);
        }
        self.push("message", m).await
    }

    /// The resident sends a sticker.
    pub async fn sticker(&self, chat: i64) -> i64 {
        let id = self.new_message_id();
        let mut m = self.message(chat, "private", id);
        m["sticker"] = json!({"file_id": "s1", "file_unique_id": "us1", "width": 512, "height": 512,
            "type": "regular", "is_animated": false, "is_video": false, "emoji": "😡"});
        self.push("message", m).await
    }

    /// The resident edits message `message_id`.
    pub async fn edit(&self, chat: i64, message_id: i64, text: &str) -> i64 {
        let mut m = self.message(chat, "private", message_id);
        m["text"] = json!(text);
        // Each edit a second later than the last, as two edits cannot share a moment.
        let edits = {
            let mut inner = self.lock();
            inner.edits += 1;
            inner.edits
        };
        m["edit_date"] = json!(chrono::Utc::now().timestamp() + edits);
        self.push("edited_message", m).await
    }

    /// The resident presses the button labelled `label` on the bot's last message to them.
    pub async fn press(&self, chat: i64, label: &str) -> i64 {
        self.press_as(chat, "private", chat, label).await
    }

    /// User `user` presses the button labelled `label` on the bot's last message in `chat`
    /// (a `private` chat, or a `supergroup` such as a managers' alert chat).
    pub async fn press_as(&self, chat: i64, chat_type: &str, user: i64, label: &str) -> i64 {
        let last = self
            .sent_to(chat)
            .into_iter()
            .rev()
            .find(|s| !s.buttons.is_empty())
            .unwrap_or_else(|| panic!("no message with buttons was sent to {chat}"));
        let data = last
            .buttons
            .iter()
            .find(|(l, _)| l == label)
            .unwrap_or_else(|| panic!("no button {label:?} in {:?}", last.buttons))
            .1
            .clone();
        let keyboard: Vec<Vec<Value>> = last
            .buttons
            .iter()
            .map(|(l, d)| vec![json!({"text": l, "callback_data": d})])
            .collect();
        let mut message = json!({
            "message_id": last.message_id,
            "date": chrono::Utc::now().timestamp(),
            "chat": if chat_type == "private" {
                json!({"id": chat, "type": "private", "first_name": "Sam"})
            } else {
                json!({"id": chat, "type": chat_type, "title": "Managers"})
            },
            "from": {"id": BOT_ID, "is_bot": true, "first_name": "Intake", "username": "intake_bot"},
            "text": last.text,
        });
        message["reply_markup"] = json!({"inline_keyboard": keyboard});
        let id = {
            let inner = self.lock();
            inner.next_update
        };
        self.push(
            "callback_query",
            json!({
                "id": format!("cb-{id}"),
                "from": {"id": user, "is_bot": false, "first_name": "Sam"},
                "chat_instance": "ci-1",
                "data": data,
                "message": message,
            }),
        )
        .await
    }

    pub fn sent_to(&self, chat: i64) -> Vec<Sent> {
        self.lock()
            .sent
            .iter()
            .filter(|s| s.chat == chat)
            .cloned()
            .collect()
    }

    pub fn handed_over(&self, update: i64) -> usize {
        self.lock()
            .handed_over
            .iter()
            .filter(|&&u| u == update)
            .count()
    }

    /// Makes getUpdates calls hang, confirming nothing, until released.
    pub fn hold_polls(&self, hold: bool) {
        self.lock().hold_polls = hold;
        self.news.notify_waiters();
    }

    pub fn refuse_next_sends(&self, n: usize) {
        self.lock().refuse_sends = n;
    }

    pub fn refused(&self) -> usize {
        self.lock().refused
    }

    pub fn commands(&self) -> Vec<String> {
        self.lock().commands.clone()
    }

    pub fn callback_answers(&self) -> usize {
        self.lock().callback_answers.len()
    }

    /// The texts shown to whoever pressed a button, oldest first.
    pub fn callback_answer_texts(&self) -> Vec<String> {
        self.lock()
            .callback_answers
            .iter()
            .map(|(_, t)| t.clone())
            .collect()
    }

    pub fn webhook(&self) -> Option<(String, String)> {
        self.lock().webhook.clone()
    }
}

fn ok(result: Value) -> Response {
    axum::Json(json!({"ok": true, "result": result})).into_response()
}

/// A multipart text field, read crudely: enough for teloxide's setWebhook.
fn multipart_field(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let start = body.find(&marker)? + marker.len();
    let rest = &body[start..];
    let value_start = rest.find("\r\n\r\n")? + 4;
    let value = &rest[value_start..];
    Some(value[..value.find("\r\n")?].to_owned())
}

async fn method(
    State(fake): State<FakeTelegram>,
    Path((bot, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if bot != format!("bot{TOKEN}") {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"})),
        )
            .into_response();
    }
    let multipart = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    let text = String::from_utf8_lossy(&body).into_owned();
    let args: Value = if multipart {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    match name.to_ascii_lowercase().as_str() {
        "getme" => ok(json!({"id": BOT_ID, "is_bot": true, "first_name": "Intake",
            "username": "intake_bot", "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "has_main_web_app": false})),
        "deletewebhook" => {
            fake.lock().webhook = None;
            ok(json!(true))
        }
        "setwebhook" => {
            let url =
                multipart_field(&text, "url").or_else(|| args["url"].as_str().map(str::to_owned));
            let secret = multipart_field(&text, "secret_token")
                .or_else(|| args["secret_token"].as_str().map(str::to_owned));
            match (url, secret) {
                (Some(url), Some(secret)) => {
                    fake.lock().webhook = Some((url, secret));
                    ok(json!(true))
                }
                _ => axum::Json(json!({"ok": false, "error_code": 400,
                    "description": "Bad Request: url and secret_token expected"}))
                .into_response(),
            }
        }
        "setmycommands" => {
            let names = args["commands"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c["command"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            fake.lock().commands = names;
            ok(json!(true))
        }
        "answercallbackquery" => {
            let id = args["callback_query_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let text = args["text"].as_str().unwrap_or_default().to_owned();
            fake.lock().callback_answers.push((id, text));
            ok(json!(true))
        }
        "getupdates" => {
            if fake.lock().hold_polls {
                loop {
                    let news = fake.news.notified();
                    if !fake.lock().hold_polls {
                        return ok(json!([]));
                    }
                    news.await;
                }
            }
            let offset = args["offset"].as_i64().unwrap_or(0);
            let timeout = args["timeout"].as_u64().unwrap_or(0).min(25);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
            loop {
                let news = fake.news.notified();
                {
                    let mut inner = fake.lock();
                    inner.pending.retain(|(id, _)| *id >= offset);
                    if !inner.pending.is_empty() {
                        let updates: Vec<Value> =
                            inner.pending.iter().map(|(_, u)| u.clone()).collect();
                        let ids: Vec<i64> = inner.pending.iter().map(|(id, _)| *id).collect();
                        inner.handed_over.extend(ids);
                        return ok(Value::Array(updates));
                    }
                }
                if tokio::time::timeout_at(deadline, news).await.is_err() {
                    return ok(json!([]));
                }
            }
        }
        "sendmessage" => {
            let mut inner = fake.lock();
            if inner.refuse_sends > 0 {
                inner.refuse_sends -= 1;
                inner.refused += 1;
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    axum::Json(json!({"ok": false, "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1}})),
                )
                    .into_response();
            }
            let chat = args["chat_id"].as_i64().unwrap_or_default();
            let text = args["text"].as_str().unwrap_or_default().to_owned();
            let buttons: Vec<(String, String)> = args["reply_markup"]["inline_keyboard"]
                .as_array()
                .map(|rows| {
                    rows.iter()
                        .flat_map(|r| r.as_array().cloned().unwrap_or_default())
                        .map(|b| {
                            (
                                b["text"].as_str().unwrap_or_default().to_owned(),
                                b["callback_data"].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            inner.next_message += 1;
            let message_id = inner.next_message;
            inner.sent.push(Sent {
                chat,
                text: text.clone(),
                buttons,
                message_id,
            });
            let mut result = json!({
                "message_id": message_id,
                "date": chrono::Utc::now().timestamp(),
                "chat": if chat < 0 { json!({"id": chat, "type": "supergroup", "title": "Rowan Close residents"}) }
                        else { json!({"id": chat, "type": "private", "first_name": "Sam"}) },
                "from": {"id": BOT_ID, "is_bot": true, "first_name": "Intake", "username": "intake_bot"},
                "text": text,
            });
            if !args["reply_markup"].is_null() {
                result["reply_markup"] = args["reply_markup"].clone();
            }
            ok(result)
        }
        _ => axum::Json(
            json!({"ok": false, "error_code": 404, "description": "Not Found: method not found"}),
        )
        .into_response(),
    }
}
