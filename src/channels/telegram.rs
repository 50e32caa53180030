//! Telegram, through teloxide. Long polling by default, a webhook by configuration.
//!
//! The update offset only moves past an update once what it caused is committed: a crash loses
//! nothing (Telegram delivers the update again) and a redelivered update creates nothing twice
//! (messages are recorded once per chat and message id). Private chats only: in a group the bot
//! answers once, briefly, inviting the person to write privately, and keeps nothing from the
//! public place.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::json;
use teloxide::prelude::*;
use teloxide::types::{
    AllowedUpdate, BotCommand, CallbackQuery, ChatId, InlineKeyboardButton, InlineKeyboardMarkup,
    MaybeInaccessibleMessage, Message, Update, UpdateKind,
};
use teloxide::{ApiError, RequestError};

use super::alerts::ACKNOWLEDGE;
use super::{Bucket, Deliver, DeliveryError, Throttle, Wakers, split_text};
use crate::config::Secret;
use crate::core::dialog::{Input, Reply};
use crate::core::ids::AlertId;
use crate::secrets::{constant_time_eq, scrub};
use crate::service::{Intake, Writer};
use crate::store::{Attachment, Inbound, OutboxItem, StoreError};

/// The channel name in the record.
pub const CHANNEL: &str = "telegram";
/// The path Telegram posts updates to, in webhook mode.
pub const WEBHOOK_PATH: &str = "/telegram/webhook";
/// Telegram's longest message, in UTF-16 code units.
const LONGEST_MESSAGE: usize = 4096;
/// How long one `getUpdates` call waits for news.
const POLL_SECONDS: u32 = 25;

/// The commands shown in Telegram's menu. Each is also understood when typed as a word.
pub const COMMANDS: &[(&str, &str)] = &[
    ("start", "Start, or see what I can do"),
    ("help", "What I can do"),
    ("complain", "Make a complaint"),
    ("status", "What is happening with my complaint"),
    ("human", "Talk to a member of staff"),
    ("privacy", "What information you hold about me"),
    ("stop", "Withdraw my consent"),
];

/// The Telegram channel.
#[derive(Clone)]
pub struct Telegram {
    bot: Bot,
    token: Secret,
    intake: Intake,
    writer: Writer,
    wakers: Wakers,
    /// Groups already invited to write privately, so the bot answers a group once.
    invited: Arc<Mutex<HashSet<i64>>>,
}

/// A client for the Bot API at `api_url`, never through a proxy (so tests on loopback reach
/// their fake), with a timeout longer than a long poll.
pub fn bot(token: &Secret, api_url: &str) -> anyhow::Result<Bot> {
    let client = teloxide::net::default_reqwest_settings()
        .no_proxy()
        .timeout(Duration::from_secs(u64::from(POLL_SECONDS) + 15))
        .build()?;
    let url = reqwest::Url::parse(api_url)
        .map_err(|e| anyhow::anyhow!("telegram.api_url {api_url:?} is not a URL: {e}"))?;
    Ok(Bot::with_client(token.expose(), client).set_api_url(url))
}

impl Telegram {
    /// The bot client, for posting alerts to managers' chats.
    pub fn bot(&self) -> Bot {
        self.bot.clone()
    }

    /// The managers' alert chats: the bot posts alerts there and takes button presses, and
    /// never invites anyone in them to write privately.
    pub fn alert_chats(&self, chats: impl IntoIterator<Item = i64>) {
        self.invited
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(chats);
    }

    pub fn new(
        token: Secret,
        api_url: &str,
        intake: Intake,
        writer: Writer,
        wakers: Wakers,
    ) -> anyhow::Result<Telegram> {
        Ok(Telegram {
            bot: bot(&token, api_url)?,
            token,
            intake,
            writer,
            wakers,
            invited: Arc::default(),
        })
    }

    /// An error as text, with the bot token (which reqwest puts in URLs) taken out.
    fn describe(&self, e: &RequestError) -> String {
        scrub(&e.to_string(), self.token.expose())
    }

    /// Checks the token and registers the commands. In webhook mode, registers the webhook
    /// with its secret; in polling mode, removes any webhook so updates can be fetched.
    pub async fn start(&self, webhook: Option<(&str, &Secret)>) -> anyhow::Result<()> {
        let me = self.bot.get_me().await.map_err(|e| match e {
            RequestError::Network(_) | RequestError::Io(_) => {
                anyhow::anyhow!("Telegram cannot be reached: {}", self.describe(&e))
            }
            _ => anyhow::anyhow!(
                "Telegram did not accept the bot token (INTAKE_TELEGRAM_TOKEN): {}",
                self.describe(&e)
            ),
        })?;
        tracing::info!(bot = %me.user.first_name, "Telegram bot connected");
        let commands: Vec<BotCommand> = COMMANDS
            .iter()
            .map(|(c, d)| BotCommand::new(*c, *d))
            .collect();
        self.bot
            .set_my_commands(commands)
            .await
            .map_err(|e| anyhow::anyhow!("registering Telegram commands: {}", self.describe(&e)))?;
        match webhook {
            Some((url, secret)) => {
                let url = reqwest::Url::parse(url)
                    .map_err(|e| anyhow::anyhow!("telegram.webhook_url {url:?}: {e}"))?;
                self.bot
                    .set_webhook(url)
                    .secret_token(secret.expose())
                    .allowed_updates(allowed_updates())
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!("registering the Telegram webhook: {}", self.describe(&e))
                    })?;
            }
            None => {
                self.bot.delete_webhook().await.map_err(|e| {
                    anyhow::anyhow!("removing the Telegram webhook: {}", self.describe(&e))
                })?;
            }
        }
        Ok(())
    }

    /// Long polling until the process ends. The offset moves past an update only once it is
    /// committed; after a failure the same updates are fetched again.
    pub async fn poll(self, states: super::ChannelStates) {
        let mut offset: i32 = 0;
        let mut failures = 0u32;
        loop {
            let updates = self
                .bot
                .get_updates()
                .offset(offset)
                .timeout(POLL_SECONDS)
                .allowed_updates(allowed_updates())
                .await;
            let updates = match updates {
                Ok(updates) => updates,
                Err(e) => {
                    failures += 1;
                    let wait = match &e {
                        RequestError::RetryAfter(s) => s.duration(),
                        _ => super::backoff(i64::from(failures.min(8))),
                    };
                    let error = self.describe(&e);
                    tracing::warn!(%error, "Telegram: fetching updates failed; trying again");
                    states.retrying(CHANNEL, error, failures);
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            if failures > 0 {
                states.up(CHANNEL);
            }
            failures = 0;
            for update in updates {
                let id = update.id;
                match self.handle(update).await {
                    Ok(()) => offset = id.as_offset(),
                    Err(e) => {
                        // Not committed: fetch it again after a pause.
                        tracing::error!(error = %e, "Telegram: an update could not be recorded; it will be fetched again");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        break;
                    }
                }
            }
        }
    }

    /// Handles one update; Ok once everything it causes is committed (or it needs nothing).
    pub async fn handle(&self, update: Update) -> Result<(), StoreError> {
        match update.kind {
            UpdateKind::Message(message) => self.message(&message).await,
            UpdateKind::EditedMessage(message) => self.edited(&message).await,
            UpdateKind::CallbackQuery(query) => self.callback(&query).await,
            UpdateKind::ChannelPost(post) => {
                self.invite(&post).await;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn message(&self, message: &Message) -> Result<(), StoreError> {
        if !message.chat.is_private() {
            self.invite(message).await;
            return Ok(());
        }
        let (body, input, attachments) = read(message);
        let inbound = Inbound {
            channel: CHANNEL.to_owned(),
            chat: message.chat.id.0.to_string(),
            platform_message_id: Some(format!("{}:{}", message.chat.id.0, message.id.0)),
            body,
            attachments,
            at: message.date,
        };
        self.writer.handle(inbound, input).await?;
        self.wakers.wake(CHANNEL);
        Ok(())
    }

    /// An edited message is recorded as a new version beside the original.
    async fn edited(&self, message: &Message) -> Result<(), StoreError> {
        if !message.chat.is_private() {
            return Ok(());
        }
        let edited_at = message.edit_date().copied().unwrap_or_else(Utc::now);
        let original = format!("{}:{}", message.chat.id.0, message.id.0);
        let (body, _, attachments) = read(message);
        let inbound = Inbound {
            channel: CHANNEL.to_owned(),
            chat: message.chat.id.0.to_string(),
            platform_message_id: Some(format!("{original}@{}", edited_at.timestamp())),
            body,
            attachments,
            at: edited_at,
        };
        self.intake.record_edit(&inbound, &original).await?;
        self.wakers.wake(CHANNEL);
        Ok(())
    }

    /// A button pressed: the answer is the button's key, recorded with its label.
    async fn callback(&self, query: &CallbackQuery) -> Result<(), StoreError> {
        let Some(data) = query.data.clone() else {
            self.answer(query).await;
            return Ok(());
        };
        let (chat, private) = match &query.message {
            Some(m) => (m.chat().id.0, m.chat().is_private()),
            None => (i64::try_from(query.from.id.0).unwrap_or_default(), true),
        };
        if let Some(alert) = data
            .strip_prefix(ACKNOWLEDGE)
            .and_then(|id| id.parse::<AlertId>().ok())
        {
            return self.acknowledge(query, chat, alert).await;
        }
        if !private {
            self.answer(query).await;
            return Ok(());
        }
        let label = query
            .message
            .as_ref()
            .and_then(MaybeInaccessibleMessage::regular_message)
            .and_then(|m| m.reply_markup())
            .and_then(|markup| {
                markup
                    .inline_keyboard
                    .iter()
                    .flatten()
                    .find(|b| matches!(&b.kind, teloxide::types::InlineKeyboardButtonKind::CallbackData(d) if *d == data))
                    .map(|b| b.text.clone())
            })
            .unwrap_or_else(|| data.clone());
        let inbound = Inbound {
            channel: CHANNEL.to_owned(),
            chat: chat.to_string(),
            platform_message_id: Some(format!("callback:{}", query.id.0)),
            body: label,
            attachments: Vec::new(),
            at: Utc::now(),
        };
        self.writer.handle(inbound, Input::Choice(data)).await?;
        self.wakers.wake(CHANNEL);
        // Stops the button's spinner; the reply itself comes from the outbox.
        self.answer(query).await;
        Ok(())
    }

    /// The Acknowledge button on an alert in a managers' chat: it counts only from a
    /// manager whose account is linked to their Telegram user id.
    async fn acknowledge(
        &self,
        query: &CallbackQuery,
        chat: i64,
        alert: AlertId,
    ) -> Result<(), StoreError> {
        let outcome = match crate::staff::acknowledge_from_chat(
            self.intake.store(),
            crate::staff::Platform::Telegram,
            &query.from.id.0.to_string(),
            alert,
            Utc::now(),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(e) => {
                // Stop the spinner and say so; the update is handed over again and retried.
                let _ = self
                    .bot
                    .answer_callback_query(query.id.clone())
                    .text("The alert could not be acknowledged just now. Try again, or use the console.")
                    .await;
                return Err(e);
            }
        };
        let words = crate::staff::acknowledgement_words(&outcome, alert);
        if let Err(e) = self
            .bot
            .answer_callback_query(query.id.clone())
            .text(words.clone())
            .await
        {
            tracing::warn!(error = %self.describe(&e), "Telegram: answering a button press failed");
        }
        if matches!(outcome, crate::staff::ChatAcknowledgement::Done(_))
            && let Err(e) = self.bot.send_message(ChatId(chat), words).await
        {
            tracing::warn!(error = %self.describe(&e), "Telegram: posting an acknowledgement failed");
        }
        Ok(())
    }

    async fn answer(&self, query: &CallbackQuery) {
        if let Err(e) = self.bot.answer_callback_query(query.id.clone()).await {
            tracing::warn!(error = %self.describe(&e), "Telegram: answering a button press failed");
        }
    }

    /// In a group or channel: one short invitation to write privately, and nothing recorded.
    async fn invite(&self, message: &Message) {
        let chat = message.chat.id.0;
        let first = self
            .invited
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(chat);
        if !first {
            return;
        }
        let locale = self
            .intake
            .dialogs()
            .locale(crate::core::dialog::DEFAULT_LOCALE);
        let text = locale.text("private_only").text;
        if let Err(e) = self.bot.send_message(message.chat.id, text).await {
            tracing::warn!(error = %self.describe(&e), "Telegram: the invitation to a private chat was not sent");
        }
    }

    /// The sender that delivers this channel's outbox.
    pub fn sender(&self) -> TelegramSender {
        TelegramSender {
            bot: self.bot.clone(),
            token: self.token.clone(),
            // Telegram asks for no more than about one message a second in a chat (a short
            // burst is tolerated) and 30 a second overall.
            throttle: Arc::new(Throttle::new(
                Bucket {
                    burst: 3.0,
                    per_second: 1.0,
                },
                Bucket {
                    burst: 30.0,
                    per_second: 30.0,
                },
            )),
        }
    }

    /// The webhook route: updates posted by Telegram, each checked against the secret.
    pub fn webhook(self, secret: Secret) -> Router {
        Router::new()
            .route(WEBHOOK_PATH, post(receive))
            .layer(DefaultBodyLimit::max(1024 * 1024))
            .with_state((self, secret))
    }
}

fn allowed_updates() -> Vec<AllowedUpdate> {
    vec![
        AllowedUpdate::Message,
        AllowedUpdate::EditedMessage,
        AllowedUpdate::CallbackQuery,
        AllowedUpdate::ChannelPost,
    ]
}

/// What a message says, as the dialog reads it, and the files it carries.
/// A webhook body as the bot reads it (for fuzzing the decoding): an error for a body that
/// is not a Telegram update, `None` for an update that carries no message.
pub fn decode_update(body: &[u8]) -> Result<Option<(String, Input, Vec<Attachment>)>, String> {
    let update: Update = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok(match &update.kind {
        UpdateKind::Message(message) | UpdateKind::EditedMessage(message) => Some(read(message)),
        _ => None,
    })
}

/// What a message says: the text kept in the record, the dialog's input, and its files.
pub fn read(message: &Message) -> (String, Input, Vec<Attachment>) {
    let mut attachments = Vec::new();
    if let Some(sizes) = message.photo()
        && let Some(largest) = sizes.last()
    {
        attachments.push(Attachment {
            kind: "photo".to_owned(),
            platform_file_id: largest.file.id.0.clone(),
            name: None,
            size: Some(u64::from(largest.file.size)),
        });
    }
    if let Some(doc) = message.document() {
        attachments.push(Attachment {
            kind: "document".to_owned(),
            platform_file_id: doc.file.id.0.clone(),
            name: doc.file_name.clone(),
            size: Some(u64::from(doc.file.size)),
        });
    }
    if let Some(voice) = message.voice() {
        attachments.push(Attachment {
            kind: "voice".to_owned(),
            platform_file_id: voice.file.id.0.clone(),
            name: None,
            size: Some(u64::from(voice.file.size)),
        });
    }
    if let Some(video) = message.video() {
        attachments.push(Attachment {
            kind: "video".to_owned(),
            platform_file_id: video.file.id.0.clone(),
            name: video.file_name.clone(),
            size: Some(u64::from(video.file.size)),
        });
    }
    if let Some(audio) = message.audio() {
        attachments.push(Attachment {
            kind: "audio".to_owned(),
            platform_file_id: audio.file.id.0.clone(),
            name: audio.file_name.clone(),
            size: Some(u64::from(audio.file.size)),
        });
    }
    let words = message
        .text()
        .or_else(|| message.caption())
        .map(command_word);
    match (words, attachments.is_empty()) {
        (Some(text), _) => (text.clone(), Input::Text(text), attachments),
        (None, false) => (String::new(), Input::Attachment, attachments),
        (None, true) => {
            // A sticker, a location, a contact: kept as a description of what it was.
            let what = if let Some(sticker) = message.sticker() {
                format!("[sticker {}]", sticker.emoji.clone().unwrap_or_default())
            } else if message.location().is_some() {
                "[location]".to_owned()
            } else if message.contact().is_some() {
                "[contact]".to_owned()
            } else {
                "[a message the bot cannot read]".to_owned()
            };
            (what, Input::Unsupported, attachments)
        }
    }
}

/// `/status@landlord_bot` is `/status`: the bot's name after a command is dropped.
fn command_word(text: &str) -> String {
    match text.split_once('@') {
        Some((command, bot))
            if command.starts_with('/')
                && !command.contains(char::is_whitespace)
                && !bot.contains(char::is_whitespace) =>
        {
            command.to_owned()
        }
        _ => text.to_owned(),
    }
}

async fn receive(
    State((telegram, secret)): State<(Telegram, Secret)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let given = headers
        .get("x-telegram-bot-api-secret-token")
        .map(axum::http::HeaderValue::as_bytes)
        .unwrap_or_default();
    if !constant_time_eq(given, secret.expose().as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "missing or wrong X-Telegram-Bot-Api-Secret-Token" })),
        )
            .into_response();
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": format!("not a Telegram update: {e}") })),
            )
                .into_response();
        }
    };
    match telegram.handle(update).await {
        Ok(()) => StatusCode::OK.into_response(),
        // Telegram posts the update again later; it is recorded once.
        Err(e) => {
            tracing::error!(error = %e, "Telegram webhook: an update could not be recorded");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Delivers Telegram replies: long ones split, choices as an inline keyboard on the last part.
#[derive(Clone)]
pub struct TelegramSender {
    bot: Bot,
    token: Secret,
    throttle: Arc<Throttle>,
}

impl Deliver for TelegramSender {
    async fn deliver(&self, item: &OutboxItem, reply: &Reply) -> Result<(), DeliveryError> {
        let chat: i64 = item.chat.parse().map_err(|_| {
            DeliveryError::Failed(format!("{:?} is not a Telegram chat id", item.chat))
        })?;
        let parts = split_text(&reply.text, LONGEST_MESSAGE);
        let last = parts.len() - 1;
        for (i, part) in parts.into_iter().enumerate() {
            self.throttle.wait(&item.chat).await;
            let mut request = self.bot.send_message(ChatId(chat), part);
            if i == last && !reply.choices.is_empty() {
                let rows: Vec<Vec<InlineKeyboardButton>> = reply
                    .choices
                    .iter()
                    .map(|c| {
                        vec![InlineKeyboardButton::callback(
                            c.label.clone(),
                            c.key.clone(),
                        )]
                    })
                    .collect();
                request = request.reply_markup(InlineKeyboardMarkup::new(rows));
            }
            request.await.map_err(|e| match e {
                RequestError::RetryAfter(s) => DeliveryError::RetryAfter(s.duration()),
                RequestError::Api(ApiError::BotBlocked) => {
                    DeliveryError::Failed("the resident has blocked the bot".to_owned())
                }
                other => DeliveryError::Failed(
                    other.to_string().replace(self.token.expose(), "[redacted]"),
                ),
            })?;
        }
        Ok(())
    }
}
