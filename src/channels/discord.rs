//! Discord, through serenity. Direct messages only: in a server channel the bot invites the
//! person to a direct message, once per channel, and keeps nothing from the public place.
//! Choices are buttons (each press acknowledged), and typed answers work too.
//!
//! Discord does not deliver a gateway event twice, so a message that cannot be recorded (the
//! database is away) is answered at once with an apology asking the resident to send it
//! again, rather than silently lost.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use serenity::all::{
    ActionRowComponent, ButtonKind, ButtonStyle, ChannelId, ComponentInteraction, Context,
    CreateActionRow, CreateButton, CreateInteractionResponse, CreateInteractionResponseMessage,
    CreateMessage, EventHandler, GatewayIntents, Http, HttpBuilder, HttpError, Interaction,
    Message, MessageUpdateEvent, Ready,
};

use tokio_util::sync::CancellationToken;

use super::alerts::ACKNOWLEDGE;
use super::{Bucket, ChannelStates, Deliver, DeliveryError, Throttle, Wakers, split_text};
use crate::config::Secret;
use crate::core::dialog::{DEFAULT_LOCALE, Input, Reply};
use crate::core::ids::AlertId;
use crate::secrets::scrub;
use crate::service::{Intake, Writer};
use crate::store::{Attachment, Inbound, OutboxItem};

/// The channel name in the record.
pub const CHANNEL: &str = "discord";
/// Discord's longest message, in characters.
const LONGEST_MESSAGE: usize = 2000;
/// Buttons in one row, and rows in one message, as Discord allows.
const BUTTONS_PER_ROW: usize = 5;
const ROWS: usize = 5;
/// Discord's longest button label.
const LONGEST_LABEL: usize = 80;

/// The REST client. `api_url` replaces https://discord.com (tests, a proxy); with it
/// serenity's own rate limiter is off, as that only talks to discord.com, and the outbox's
/// retries and throttle do the work.
fn rest(token: &Secret, api_url: Option<&str>) -> Http {
    match api_url {
        Some(url) => HttpBuilder::new(token.expose())
            .proxy(url.trim_end_matches('/'))
            .ratelimiter_disabled(true)
            .build(),
        None => HttpBuilder::new(token.expose()).build(),
    }
}

/// The sender that delivers the Discord outbox, on its own REST client: it works whether or
/// not the gateway is connected.
pub fn sender(token: &Secret, api_url: Option<&str>) -> DiscordSender {
    DiscordSender {
        http: Arc::new(rest(token, api_url)),
        throttle: Arc::new(Throttle::new(
            Bucket {
                burst: 5.0,
                per_second: 1.0,
            },
            Bucket {
                burst: 50.0,
                per_second: 50.0,
            },
        )),
    }
}

/// What the Discord gateway connection needs.
pub struct Gateway {
    pub token: Secret,
    /// Replaces https://discord.com (tests, a proxy).
    pub api_url: Option<String>,
    pub intake: Intake,
    pub writer: Writer,
    pub wakers: Wakers,
    /// The managers' alert channels: alerts and their buttons, never an invitation.
    pub alert_channels: Vec<u64>,
    /// Where the connection says how it is doing.
    pub states: ChannelStates,
    pub shutdown: CancellationToken,
}

/// Keeps the Discord gateway connected until `shutdown`: a connection that cannot start (or
/// ends) is started again with backoff, and `states` says how it is doing, while the web
/// chat and the other channels serve.
pub async fn run(gateway: Gateway) {
    let Gateway {
        token,
        api_url,
        intake,
        writer,
        wakers,
        alert_channels,
        states,
        shutdown,
    } = gateway;
    // Direct messages and their content; guild messages only so that the bot can point a
    // person who writes in a server channel to a direct message.
    let intents = GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
        | GatewayIntents::GUILD_MESSAGES;
    let handler = Handler {
        intake,
        writer,
        wakers,
        // The managers' alert channels: alerts and their buttons, never an invitation.
        invited: Arc::new(Mutex::new(alert_channels.iter().copied().collect())),
        states: states.clone(),
    };
    let mut failures = 0u32;
    states.starting(CHANNEL);
    loop {
        let mut connected_for = std::time::Duration::ZERO;
        let http = rest(&token, api_url.as_deref());
        // Ask for the gateway first: when it cannot be had, serenity would fall back to
        // discord.com's own gateway and never look at the configured address again.
        let gateway = http.get_gateway().await.map_err(|e| e.to_string());
        let client = match gateway {
            Ok(_) => serenity::client::ClientBuilder::new_with_http(http, intents)
                .event_handler(handler.clone())
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(format!("Discord cannot be reached: {e}")),
        };
        let ended = match client {
            Ok(mut client) => {
                let shards = client.shard_manager.clone();
                let started = std::time::Instant::now();
                tokio::select! {
                    ended = client.start() => {
                        connected_for = started.elapsed();
                        ended.map_err(|e| e.to_string())
                    }
                    () = shutdown.cancelled() => {
                        shards.shutdown_all().await;
                        return;
                    }
                }
            }
            Err(e) => Err(e),
        };
        // A connection that held for a while starts the backoff again from the beginning.
        failures = if connected_for > std::time::Duration::from_secs(60) {
            1
        } else {
            failures + 1
        };
        let error = match ended {
            Ok(()) => "the connection ended".to_owned(),
            Err(e) => scrub(&e, token.expose()),
        };
        tracing::error!(%error, failures, "Discord: not connected; starting again");
        states.retrying(CHANNEL, error, failures);
        tokio::select! {
            () = tokio::time::sleep(super::backoff(i64::from(failures.saturating_sub(1)))) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

#[derive(Clone)]
struct Handler {
    intake: Intake,
    writer: Writer,
    wakers: Wakers,
    /// Server channels already invited to a direct message.
    invited: Arc<Mutex<HashSet<u64>>>,
    states: ChannelStates,
}

impl Handler {
    fn say(&self, key: &str) -> String {
        self.intake.dialogs().locale(DEFAULT_LOCALE).text(key).text
    }

    /// The record could not take the message: tell the resident at once, since Discord will
    /// not deliver it again.
    async fn apologise(
        &self,
        ctx: &Context,
        channel: ChannelId,
        error: &(dyn std::fmt::Display + Sync),
    ) {
        tracing::error!(%error, "Discord: a message could not be recorded");
        let text =
            "Sorry, I could not save that message just now. Please send it again in a minute.";
        if let Err(e) = channel.say(&ctx.http, text).await {
            tracing::error!(error = %e, "Discord: the apology could not be sent either");
        }
    }

    async fn invite(&self, ctx: &Context, channel: ChannelId) {
        let first = self
            .invited
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(channel.get());
        if first && let Err(e) = channel.say(&ctx.http, self.say("private_only")).await {
            tracing::warn!(error = %e, "Discord: the invitation to a direct message was not sent");
        }
    }

    /// The Acknowledge button on an alert in a managers' channel: it counts only from a
    /// manager whose account is linked to their Discord user id.
    async fn acknowledge(&self, ctx: &Context, press: &ComponentInteraction, alert: AlertId) {
        let outcome = crate::staff::acknowledge_from_chat(
            self.intake.store(),
            crate::staff::Platform::Discord,
            &press.user.id.get().to_string(),
            alert,
            Utc::now(),
        )
        .await;
        let words = match &outcome {
            Ok(outcome) => crate::staff::acknowledgement_words(outcome, alert),
            Err(e) => {
                tracing::error!(error = %e, alert = alert.0, "Discord: an alert could not be acknowledged");
                "The alert could not be acknowledged just now: the record is not answering. Press the button again, or use the console.".to_owned()
            }
        };
        // Only the person who pressed sees the answer (the lookup is quick, well within
        // Discord's three seconds), so nobody can fill the channel by pressing.
        let answer = CreateInteractionResponse::Message(
            CreateInteractionResponseMessage::new()
                .content(words.clone())
                .ephemeral(true),
        );
        if let Err(e) = press.create_response(&ctx.http, answer).await {
            tracing::warn!(error = %e, "Discord: answering an Acknowledge press failed");
        }
        // Everyone in the channel sees that it was dealt with.
        if matches!(outcome, Ok(crate::staff::ChatAcknowledgement::Done(_)))
            && let Err(e) = press.channel_id.say(&ctx.http, words).await
        {
            tracing::warn!(error = %e, "Discord: posting an acknowledgement failed");
        }
    }

    async fn pressed(&self, ctx: &Context, press: &ComponentInteraction) {
        if let Some(alert) = press
            .data
            .custom_id
            .strip_prefix(ACKNOWLEDGE)
            .and_then(|id| id.parse::<AlertId>().ok())
        {
            self.acknowledge(ctx, press, alert).await;
            return;
        }
        // Acknowledge first: Discord shows the press as failed if it waits over 3 seconds.
        if let Err(e) = press
            .create_response(&ctx.http, CreateInteractionResponse::Acknowledge)
            .await
        {
            tracing::warn!(error = %e, "Discord: acknowledging a button press failed");
        }
        if press.guild_id.is_some() {
            return;
        }
        let key = press.data.custom_id.clone();
        let label = press
            .message
            .components
            .iter()
            .flat_map(|row| row.components.iter())
            .find_map(|c| match c {
                ActionRowComponent::Button(b) => match &b.data {
                    ButtonKind::NonLink { custom_id, .. } if *custom_id == key => b.label.clone(),
                    _ => None,
                },
                _ => None,
            })
            .unwrap_or_else(|| key.clone());
        let inbound = Inbound {
            channel: CHANNEL.to_owned(),
            chat: press.channel_id.get().to_string(),
            platform_message_id: Some(format!("interaction:{}", press.id.get())),
            body: label,
            attachments: Vec::new(),
            at: Utc::now(),
        };
        match self.writer.handle(inbound, Input::Choice(key)).await {
            Ok(_) => self.wakers.wake(CHANNEL),
            Err(e) => self.apologise(ctx, press.channel_id, &e).await,
        }
    }
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(bot = %ready.user.name, "Discord bot connected");
        self.states.up(CHANNEL);
    }

    async fn message(&self, ctx: Context, message: Message) {
        if message.author.bot {
            return;
        }
        if message.guild_id.is_some() {
            self.invite(&ctx, message.channel_id).await;
            return;
        }
        let (body, input, attachments) = read(&message);
        let inbound = Inbound {
            channel: CHANNEL.to_owned(),
            chat: message.channel_id.get().to_string(),
            platform_message_id: Some(message.id.get().to_string()),
            body,
            attachments,
            at: *message.timestamp,
        };
        match self.writer.handle(inbound, input).await {
            Ok(_) => self.wakers.wake(CHANNEL),
            Err(e) => self.apologise(&ctx, message.channel_id, &e).await,
        }
    }

    async fn message_update(
        &self,
        _ctx: Context,
        _old: Option<Message>,
        _new: Option<Message>,
        event: MessageUpdateEvent,
    ) {
        if event.guild_id.is_some() || event.author.as_ref().is_some_and(|a| a.bot) {
            return;
        }
        let Some(content) = event.content.clone() else {
            return; // an embed appearing, not the resident's words
        };
        let edited_at = event.edited_timestamp.map_or_else(Utc::now, |t| *t);
        let original = event.id.get().to_string();
        let inbound = Inbound {
            channel: CHANNEL.to_owned(),
            chat: event.channel_id.get().to_string(),
            platform_message_id: Some(format!("{original}@{}", edited_at.timestamp_millis())),
            body: content,
            attachments: Vec::new(),
            at: edited_at,
        };
        match self.intake.record_edit(&inbound, &original).await {
            Ok(_) => self.wakers.wake(CHANNEL),
            Err(e) => {
                tracing::error!(error = %e, "Discord: an edited message could not be recorded")
            }
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        if let Interaction::Component(press) = interaction {
            self.pressed(&ctx, &press).await;
        }
    }
}

/// What a direct message says: the text kept in the record, the dialog's input, and the
/// files it carries.
pub fn read(message: &Message) -> (String, Input, Vec<Attachment>) {
    let attachments = attachments(message);
    let text = message.content.trim();
    let input = if !text.is_empty() {
        Input::Text(message.content.clone())
    } else if !attachments.is_empty() {
        Input::Attachment
    } else {
        Input::Unsupported
    };
    let body = if text.is_empty() && attachments.is_empty() {
        "[a message the bot cannot read, such as a sticker]".to_owned()
    } else {
        message.content.clone()
    };
    (body, input, attachments)
}

/// A gateway MESSAGE_CREATE payload as the bot reads it (for fuzzing the decoding): `None`
/// when it is not a message.
pub fn decode_message(payload: &[u8]) -> Option<(String, Input, Vec<Attachment>)> {
    let message: Message = serde_json::from_slice(payload).ok()?;
    Some(read(&message))
}

fn attachments(message: &Message) -> Vec<Attachment> {
    message
        .attachments
        .iter()
        .map(|a| {
            let kind = match a.content_type.as_deref() {
                Some(t) if t.starts_with("image/") => "photo",
                Some(t) if t.starts_with("audio/") => "voice",
                Some(t) if t.starts_with("video/") => "video",
                _ => "document",
            };
            Attachment {
                kind: kind.to_owned(),
                platform_file_id: a.id.get().to_string(),
                name: Some(a.filename.clone()),
                size: Some(u64::from(a.size)),
            }
        })
        .collect()
}

/// Delivers Discord replies: long ones split, choices as buttons on the last part.
#[derive(Clone)]
pub struct DiscordSender {
    http: Arc<Http>,
    throttle: Arc<Throttle>,
}

impl DiscordSender {
    /// The REST client, for posting alerts to managers' channels.
    pub fn http(&self) -> Arc<Http> {
        self.http.clone()
    }
}

impl Deliver for DiscordSender {
    async fn deliver(&self, item: &OutboxItem, reply: &Reply) -> Result<(), DeliveryError> {
        let channel: u64 = item
            .chat
            .parse()
            .ok()
            .filter(|id| *id != 0)
            .ok_or_else(|| {
                DeliveryError::Failed(format!("{:?} is not a Discord channel", item.chat))
            })?;
        let channel = ChannelId::new(channel);
        let parts = split_text(&reply.text, LONGEST_MESSAGE);
        let last = parts.len() - 1;
        for (i, part) in parts.into_iter().enumerate() {
            self.throttle.wait(&item.chat).await;
            let mut message = CreateMessage::new().content(part);
            if i == last && !reply.choices.is_empty() {
                message = message.components(buttons(reply));
            }
            channel
                .send_message(&self.http, message)
                .await
                .map_err(|e| match &e {
                    serenity::Error::Http(HttpError::UnsuccessfulRequest(r))
                        if r.status_code.as_u16() == 429 =>
                    {
                        // serenity does not pass Discord's retry_after on; wait a little.
                        DeliveryError::RetryAfter(std::time::Duration::from_secs(2))
                    }
                    _ => DeliveryError::Failed(e.to_string()),
                })?;
        }
        Ok(())
    }
}

fn buttons(reply: &Reply) -> Vec<CreateActionRow> {
    reply
        .choices
        .chunks(BUTTONS_PER_ROW)
        .take(ROWS)
        .map(|row| {
            CreateActionRow::Buttons(
                row.iter()
                    .map(|c| {
                        let label: String = c.label.chars().take(LONGEST_LABEL).collect();
                        CreateButton::new(c.key.clone())
                            .label(label)
                            .style(ButtonStyle::Primary)
                    })
                    .collect(),
            )
        })
        .collect()
}
