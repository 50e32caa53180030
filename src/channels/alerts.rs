//! The alert sinks: where staff hear of an alert outside the console. A Telegram chat and a
//! Discord channel (each alert with an Acknowledge button a linked manager presses), email
//! through the configured SMTP server, and signed webhooks. The same SMTP server sends the
//! copies by email that residents asked for.
//!
//! The scheduler decides what is due and when (urgent alerts at once, others in working
//! hours, each delivery claimed so one replica sends it, failures retried with backoff); it
//! hands each alert to [`Sinks::send`] and each copy by email to [`Sinks::email`], and knows
//! nothing of the platforms. What leaves the record is decided here, once for every sink: a
//! disclosed vulnerability is named, never described (5.10).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::config::{Secret, SinkConfig, SinkKind, SmtpConfig};
use crate::core::ids::{AlertId, ConversationId};
use crate::store::{RecentAlert, Store, StoreError};

/// The data of an alert's acknowledge button: this and the alert's id.
pub const ACKNOWLEDGE: &str = "ack:";

/// The longest alert detail posted in a chat: a resident's words can run to pages, chat
/// platforms refuse long messages, and the whole of it is in the console.
const LONGEST_CHAT_DETAIL: usize = 300;

/// An alert as a sink receives it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Alert {
    pub id: AlertId,
    pub kind: String,
    pub urgent: bool,
    pub level: i64,
    pub detail: String,
    pub conversation: ConversationId,
    pub channel: String,
    pub at: DateTime<Utc>,
    pub link: String,
    pub landlord: String,
}

impl Alert {
    /// The alert `r` as it leaves the record: its detail as said outside, and a link to its
    /// conversation in the console at `console_url`.
    pub fn new(r: &RecentAlert, console_url: &str, landlord: &str) -> Alert {
        let conversation = r.conversation;
        Alert {
            id: r.id,
            kind: r.kind.clone(),
            urgent: r.urgent,
            level: r.level,
            detail: external_detail(&r.kind, r.detail.clone()),
            conversation,
            channel: r.channel.clone(),
            at: r.at,
            link: format!(
                "{}/conversations/{conversation}",
                console_url.trim_end_matches('/')
            ),
            landlord: landlord.to_owned(),
        }
    }
}

/// A file sent with an email: its name, its MIME type, and its text.
#[derive(Debug, Clone, Copy)]
pub struct MailAttachment<'a> {
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub text: &'a str,
}

/// The sinks' clients and secrets: what an alert or an email needs to leave.
#[derive(Clone)]
pub struct Sinks {
    /// For the addresses of a `role:` recipient.
    store: Store,
    smtp: SmtpConfig,
    webhook_secret: Option<Secret>,
    smtp_password: Option<Secret>,
    /// The bot that posts to Telegram alert chats, when a Telegram token is set.
    pub telegram: Option<teloxide::Bot>,
    /// The client that posts to Discord alert channels, when a Discord token is set.
    pub discord: Option<Arc<serenity::http::Http>>,
    http: reqwest::Client,
}

impl Sinks {
    /// Sinks without chat clients: those are set when the bot has a Telegram or a Discord
    /// token.
    pub fn new(
        store: Store,
        smtp: SmtpConfig,
        webhook_secret: Option<Secret>,
        smtp_password: Option<Secret>,
    ) -> Sinks {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        Sinks {
            store,
            smtp,
            webhook_secret,
            smtp_password,
            telegram: None,
            discord: None,
            http,
        }
    }

    /// Sends `alert` to `sink`; the error is the reason, secrets taken out, kept as the
    /// delivery's last error.
    pub async fn send(&self, sink: &SinkConfig, alert: &Alert) -> Result<(), String> {
        match sink.kind {
            SinkKind::Webhook => self.send_webhook(sink, alert).await,
            SinkKind::Email => self.send_email(sink, alert).await,
            SinkKind::Telegram => self.send_telegram(sink, alert).await,
            SinkKind::Discord => self.send_discord(sink, alert).await,
        }
    }

    async fn send_webhook(&self, sink: &SinkConfig, alert: &Alert) -> Result<(), String> {
        let secret = self
            .webhook_secret
            .as_ref()
            .ok_or("INTAKE_ALERT_WEBHOOK_SECRET is not set")?;
        let body = serde_json::to_vec(&json!({ "alert": alert })).map_err(|e| e.to_string())?;
        // The time of sending is signed with the body, so a captured request cannot be
        // replayed later: receivers refuse a timestamp more than five minutes off.
        let sent_at = Utc::now().timestamp();
        let response = self
            .http
            .post(&sink.to)
            .header("Content-Type", "application/json")
            .header("X-Intake-Timestamp", sent_at.to_string())
            .header("X-Intake-Signature", signature(secret, sent_at, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("the webhook answered {}", response.status()))
        }
    }

    /// An alert in a Telegram chat, with a button a linked manager presses to acknowledge it.
    async fn send_telegram(&self, sink: &SinkConfig, alert: &Alert) -> Result<(), String> {
        use teloxide::payloads::SendMessageSetters as _;
        use teloxide::prelude::Requester as _;
        use teloxide::types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup};
        let bot = self
            .telegram
            .as_ref()
            .ok_or("INTAKE_TELEGRAM_TOKEN is not set, so there is no bot to post the alert")?;
        let chat: i64 = sink
            .to
            .trim()
            .parse()
            .map_err(|_| format!("{:?} is not a Telegram chat id", sink.to))?;
        let button =
            InlineKeyboardButton::callback("Acknowledge", format!("{ACKNOWLEDGE}{}", alert.id));
        bot.send_message(ChatId(chat), chat_text(&for_chat(alert)))
            .reply_markup(InlineKeyboardMarkup::new([[button]]))
            .await
            .map(|_| ())
            .map_err(|e| crate::secrets::scrub(&e.to_string(), bot.token()))
    }

    /// An alert in a Discord channel, with a button a linked manager presses to acknowledge it.
    async fn send_discord(&self, sink: &SinkConfig, alert: &Alert) -> Result<(), String> {
        use serenity::builder::{
            CreateActionRow, CreateAllowedMentions, CreateButton, CreateMessage,
        };
        use serenity::model::application::ButtonStyle;
        use serenity::model::id::ChannelId;
        let http = self
            .discord
            .as_ref()
            .ok_or("INTAKE_DISCORD_TOKEN is not set, so there is no bot to post the alert")?;
        let channel: u64 = sink
            .to
            .trim()
            .parse()
            .ok()
            .filter(|id| *id != 0)
            .ok_or_else(|| format!("{:?} is not a Discord channel id", sink.to))?;
        let button = CreateButton::new(format!("{ACKNOWLEDGE}{}", alert.id))
            .label("Acknowledge")
            .style(ButtonStyle::Danger);
        let message = CreateMessage::new()
            .content(chat_text(&for_chat(alert)))
            // Nothing a resident wrote can ping the server (an "@everyone" in the detail).
            .allowed_mentions(CreateAllowedMentions::new())
            .components(vec![CreateActionRow::Buttons(vec![button])]);
        ChannelId::new(channel)
            .send_message(http, message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn send_email(&self, sink: &SinkConfig, alert: &Alert) -> Result<(), String> {
        let mut to = Vec::new();
        for part in sink.to.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.strip_prefix("role:") {
                Some(role) => {
                    let emails =
                        self.store
                            .staff_emails_with_role(role)
                            .await
                            .map_err(|e| match e {
                                // The database's own words, as the delivery's last error.
                                StoreError::Database(e) => e.to_string(),
                                e => e.to_string(),
                            })?;
                    to.extend(emails);
                }
                None => to.push(part.to_owned()),
            }
        }
        if to.is_empty() {
            return Err(format!("nobody to email for sink {:?}", sink.name));
        }
        let subject = format!(
            "{}{} alert: {} ({})",
            if alert.urgent { "URGENT: " } else { "" },
            alert.landlord,
            alert.kind.replace('_', " "),
            alert.channel
        );
        let body = format!("{}\n\nAcknowledge it in the console.", chat_text(alert));
        self.email(&to, &subject, &body).await
    }

    /// Sends one plain-text email through the configured SMTP server.
    pub async fn email(&self, to: &[String], subject: &str, body: &str) -> Result<(), String> {
        self.email_with(to, subject, body, None).await
    }

    /// Sends one plain-text email with a file attached, if one is given.
    pub async fn email_with(
        &self,
        to: &[String],
        subject: &str,
        body: &str,
        attachment: Option<MailAttachment<'_>>,
    ) -> Result<(), String> {
        use lettre::message::header::ContentType;
        use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

        let smtp = &self.smtp;
        let host = smtp.host.as_deref().ok_or("alerts.smtp.host is not set")?;
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|e| format!("alerts.smtp.from: {e}"))?;
        let mut builder = Message::builder().from(from).subject(subject);
        for address in to {
            builder = builder.to(address
                .parse()
                .map_err(|e| format!("{address:?} is not an email address: {e}"))?);
        }
        let email = match attachment {
            None => builder.body(body.to_owned()),
            Some(file) => {
                let kind = ContentType::parse(file.content_type).map_err(|e| e.to_string())?;
                builder.multipart(
                    MultiPart::mixed()
                        .singlepart(SinglePart::plain(body.to_owned()))
                        .singlepart(
                            Attachment::new(file.file_name.to_owned())
                                .body(file.text.to_owned(), kind),
                        ),
                )
            }
        }
        .map_err(|e| e.to_string())?;
        let mut transport = match smtp.tls.as_str() {
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            "tls" => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| e.to_string())?
            }
            _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| e.to_string())?,
        }
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(15)));
        if let (Some(user), Some(password)) = (&smtp.username, &self.smtp_password) {
            transport =
                transport.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        transport
            .build()
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// What an alert says outside the record (webhooks, email, chats). A disclosed disability
/// or support need is special category data, shown in the console only to the roles that
/// need it (5.10): outside, the alert names its kind and points to the console.
fn external_detail(kind: &str, detail: String) -> String {
    if kind == "vulnerability" {
        "A resident has disclosed a support need or vulnerability (Code 5.10). The details are \
         in the console, for complaints officers and managers."
            .to_owned()
    } else {
        detail
    }
}

/// An alert as a chat shows it: the detail cut short, with a pointer to the console.
fn for_chat(alert: &Alert) -> Alert {
    let mut short = alert.clone();
    if alert.detail.chars().count() > LONGEST_CHAT_DETAIL {
        short.detail = alert
            .detail
            .chars()
            .take(LONGEST_CHAT_DETAIL)
            .collect::<String>()
            + "… (the rest is in the console)";
    }
    short
}

/// An alert as text for a chat or an email body.
fn chat_text(alert: &Alert) -> String {
    format!(
        "{}{} alert: {}\n{}\n\nRaised: {}{}\nConversation: {}",
        if alert.urgent { "URGENT: " } else { "" },
        alert.landlord,
        alert.kind.replace('_', " "),
        alert.detail,
        alert.at.to_rfc3339(),
        if alert.level > 0 {
            format!(" (escalated, level {})", alert.level)
        } else {
            String::new()
        },
        alert.link
    )
}

/// `sha256=` and the hex HMAC-SHA256, under the secret, of the timestamp (Unix seconds, as
/// sent in `X-Intake-Timestamp`), a full stop, and the body: what the receiver checks.
pub fn signature(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    match <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes()) {
        Ok(mut mac) => {
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        }
        Err(_) => String::new(),
    }
}
