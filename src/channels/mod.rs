//! The channels: Telegram, Discord, the web chat and the terminal (`intake chat`). Each only
//! translates: a platform update becomes an [`Inbound`](crate::store::Inbound) handed to the
//! intake service, and an outbox row becomes a platform call. Nothing here changes the core.
//! The alert sinks ([`alerts`]: managers' chats, email, signed webhooks) are here too, since
//! they are platform code; the scheduler decides when each alert goes.
//!
//! Delivery is the same for every channel: after the commit, the channel's sender reads its
//! due outbox rows in order, claims each, sends it, and marks it sent. A failure is kept with
//! its reason and tried again later (after the platform's `retry_after` on a 429, with backoff
//! otherwise); a reply is never dropped.

pub mod alerts;
pub mod bus;
pub mod discord;
mod limits;
pub mod telegram;
pub mod terminal;
pub mod web;

pub use limits::Limiter;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse as _, Response};
use chrono::Utc;
use tokio::sync::Notify;

use crate::core::dialog::Reply;
use crate::store::{OutboxItem, Store};

/// The waker that fires on every commit.
pub const ANYTHING: &str = "*";

/// Wakes a channel's sender as soon as a commit has put replies in its outbox.
#[derive(Debug, Clone, Default)]
pub struct Wakers {
    by_channel: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
    /// The other replicas (PostgreSQL), told of web chat replies and of activity.
    bus: bus::Bus,
    activity: Activity,
}

/// A count that moves on every commit here or on another replica: the console's live
/// streams read the record when it moves, rather than only on their timer.
#[derive(Debug, Clone)]
struct Activity(Arc<tokio::sync::watch::Sender<u64>>);

impl Default for Activity {
    fn default() -> Self {
        Activity(Arc::new(tokio::sync::watch::channel(0).0))
    }
}

impl Activity {
    fn touch(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl Wakers {
    /// Wakers whose channels and console streams also hear from other replicas on `bus`.
    pub fn on(bus: bus::Bus) -> Wakers {
        let wakers = Wakers {
            by_channel: Arc::default(),
            bus,
            activity: Activity::default(),
        };
        if let Some(mut signals) = wakers.bus.subscribe() {
            let activity = wakers.activity.clone();
            tokio::spawn(async move {
                loop {
                    match signals.recv().await {
                        Ok(bus::Signal::Activity | bus::Signal::Reconnected)
                        | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            activity.touch();
                        }
                        Ok(bus::Signal::WebReply { .. }) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    }
                }
            });
        }
        wakers
    }

    /// Something was committed, here or on another replica, since the receiver last looked
    /// (or within `at_most`, whichever comes first: a lost notification costs only time).
    pub async fn activity_or(receiver: &mut tokio::sync::watch::Receiver<u64>, at_most: Duration) {
        match tokio::time::timeout(at_most, receiver.changed()).await {
            Ok(Ok(())) => {
                // Commits come in bursts: one read after the burst, not one per commit.
                tokio::time::sleep(Duration::from_millis(250)).await;
                receiver.borrow_and_update();
            }
            // The wakers are gone (the server is stopping): the timer alone, never a spin.
            Ok(Err(_)) => tokio::time::sleep(at_most).await,
            Err(_) => {}
        }
    }

    /// A receiver for [`Wakers::activity_or`].
    pub fn activity(&self) -> tokio::sync::watch::Receiver<u64> {
        self.activity.0.subscribe()
    }

    /// The bus to the other replicas (a no-op one on SQLite).
    pub fn bus(&self) -> &bus::Bus {
        &self.bus
    }

    /// The waker for `channel`, made on first use.
    pub fn of(&self, channel: &str) -> Arc<Notify> {
        let mut map = self
            .by_channel
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(channel.to_owned()).or_default().clone()
    }

    /// Replies for `channel` were committed: its sender should look now (and the
    /// scheduler, which listens on [`ANYTHING`], since alerts may have been raised).
    pub fn wake(&self, channel: &str) {
        self.of(channel).notify_one();
        self.of(ANYTHING).notify_one();
        self.activity.touch();
        self.bus.publish(bus::Signal::Activity);
    }
}

/// How each channel is doing: reported by `/readyz` and in the log. A channel that cannot
/// start (its platform is down, or refuses the token) is retried with backoff while the rest
/// of the bot serves.
#[derive(Debug, Clone, Default)]
pub struct ChannelStates {
    by_channel: Arc<Mutex<std::collections::BTreeMap<String, ChannelState>>>,
}

/// One channel's state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChannelState {
    /// `starting`, `up` or `retrying`.
    pub state: &'static str,
    /// Why it is retrying (secrets already taken out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Failed attempts in a row.
    pub failures: u32,
    pub since: chrono::DateTime<Utc>,
}

impl ChannelStates {
    fn set(&self, channel: &str, state: &'static str, error: Option<String>, failures: u32) {
        let mut map = self
            .by_channel
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let since = match map.get(channel) {
            Some(old) if old.state == state => old.since,
            _ => Utc::now(),
        };
        map.insert(
            channel.to_owned(),
            ChannelState {
                state,
                error,
                failures,
                since,
            },
        );
    }

    pub fn starting(&self, channel: &str) {
        self.set(channel, "starting", None, 0);
    }

    pub fn up(&self, channel: &str) {
        self.set(channel, "up", None, 0);
    }

    pub fn retrying(&self, channel: &str, error: String, failures: u32) {
        self.set(channel, "retrying", Some(error), failures);
    }

    /// Every channel's state, by name.
    pub fn all(&self) -> std::collections::BTreeMap<String, ChannelState> {
        self.by_channel
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Why a reply could not be delivered this time.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The platform asked us to slow down (HTTP 429) for this long.
    #[error("rate limited by the platform for {0:?}")]
    RetryAfter(Duration),
    /// A network error, a server error or a refusal: tried again with backoff.
    #[error("{0}")]
    Failed(String),
    /// Nobody is there to receive it now (a web chat page that is closed): it stays waiting
    /// and is shown when the resident comes back.
    #[error("the resident is not connected")]
    NotConnected,
}

/// Sends one reply on a platform.
pub trait Deliver: Send + Sync + 'static {
    fn deliver(
        &self,
        item: &OutboxItem,
        reply: &Reply,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// How long a sender holds a claimed reply before another may try it: longer than a
/// platform call can take (the Telegram client gives up after 40 s) plus a throttle wait.
const CLAIM_LEASE: chrono::Duration = chrono::Duration::seconds(90);
/// The longest wait between two attempts at a failing reply.
const LONGEST_BACKOFF: Duration = Duration::from_secs(300);

/// The wait before attempt `attempts + 1` of a reply that failed: 2 s, 4 s, 8 s... to 5 minutes.
pub fn backoff(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    Duration::from_secs(2u64.saturating_pow(exponent + 1)).min(LONGEST_BACKOFF)
}

/// Delivers `channel`'s outbox until the process ends: woken by each commit, and at least
/// every second for replies whose retry time has come.
pub async fn deliver_outbox<D: Deliver>(
    store: Store,
    channel: String,
    sender: D,
    wake: Arc<Notify>,
) {
    let mut db_failures = 0u32;
    loop {
        match deliver_due(&store, &channel, &sender).await {
            Ok(delivered) => {
                db_failures = 0;
                if delivered > 0 {
                    continue;
                }
            }
            Err(e) => {
                crate::telemetry::database_error("outbox");
                db_failures += 1;
                tracing::error!(%channel, error = %e, "cannot read the outbox; trying again");
                let pause = Duration::from_millis(250 * u64::from(db_failures.min(20)));
                tokio::time::sleep(pause).await;
                continue;
            }
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// One pass over the due replies of `channel`; returns how many were delivered. Replies to one
/// chat go in order: after a failure the chat's later replies wait for the next pass.
pub async fn deliver_due<D: Deliver>(
    store: &Store,
    channel: &str,
    sender: &D,
) -> Result<usize, crate::store::StoreError> {
    let now = Utc::now();
    let due = store.due_outbox_on(channel, now, 100).await?;
    let mut held_back: Vec<String> = Vec::new();
    let mut delivered = 0;
    for item in due {
        if held_back.contains(&item.chat) {
            continue;
        }
        // Claimed at this moment (not the start of the pass), so the lease is whole.
        if !store.claim_outbox(item.id, Utc::now(), CLAIM_LEASE).await? {
            // Another replica holds it: this chat's later replies wait behind it.
            held_back.push(item.chat.clone());
            continue;
        }

        let reply: Reply = match serde_json::from_str(&item.payload) {
            Ok(reply) => reply,
            Err(e) => {
                // Written by this program, so this is a bug; keep the row and say so loudly.
                tracing::error!(outbox = item.id, error = %e, "an outbox row cannot be read");
                held_back.push(item.chat.clone());
                store
                    .mark_failed(
                        item.id,
                        &format!("unreadable payload: {e}"),
                        now + chrono::Duration::hours(1),
                    )
                    .await?;
                continue;
            }
        };
        match sender.deliver(&item, &reply).await {
            Ok(()) => {
                store.mark_sent(item.id, Utc::now()).await?;
                crate::telemetry::reply(channel, true);
                delivered += 1;
            }
            Err(e) => {
                held_back.push(item.chat.clone());
                let wait = match &e {
                    DeliveryError::RetryAfter(wait) => *wait,
                    DeliveryError::Failed(_) => backoff(item.attempts),
                    DeliveryError::NotConnected => Duration::from_secs(3600),
                };
                if !matches!(e, DeliveryError::NotConnected) {
                    crate::telemetry::reply(channel, false);
                    tracing::warn!(
                        %channel,
                        outbox = item.id,
                        attempts = item.attempts + 1,
                        retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        error = %e,
                        "a reply was not delivered; it will be tried again"
                    );
                }
                let retry_at = Utc::now()
                    + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(300));
                store.mark_failed(item.id, &e.to_string(), retry_at).await?;
            }
        }
    }
    Ok(delivered)
}

/// Splits a reply longer than a platform allows into parts of at most `limit` characters
/// (counted in UTF-16 code units, as Telegram and Discord count them), breaking at a paragraph,
/// a line, a sentence or a space where it can and never inside a character.
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut rest = text;
    while utf16_len(rest) > limit {
        // The longest prefix within the limit, on a character boundary.
        let mut units = 0;
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            if units + c.len_utf16() > limit {
                break;
            }
            units += c.len_utf16();
            end = i + c.len_utf8();
        }
        let window = &rest[..end];
        let cut = ["\n\n", "\n", ". ", " "]
            .iter()
            .find_map(|sep| {
                window
                    .rfind(sep)
                    .filter(|&at| at >= end / 2)
                    .map(|at| at + sep.len())
            })
            .unwrap_or(end);
        let cut = if cut == 0 {
            rest.chars().next().map_or(rest.len(), char::len_utf8)
        } else {
            cut
        };
        let part = rest[..cut].trim_end();
        if !part.is_empty() {
            parts.push(part.to_owned());
        }
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_owned());
    }
    parts
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// A token bucket per key (a chat) and one for everything, for the platforms' outbound limits.
#[derive(Debug)]
pub struct Throttle {
    per_key: Bucket,
    overall: Bucket,
    buckets: Mutex<(HashMap<String, Level>, Level)>,
}

/// A bucket's tokens and when they were last counted.
type Level = (f64, Instant);

/// `burst` sends at once, then `per_second`.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    pub burst: f64,
    pub per_second: f64,
}

impl Throttle {
    pub fn new(per_key: Bucket, overall: Bucket) -> Throttle {
        Throttle {
            per_key,
            overall,
            buckets: Mutex::new((HashMap::new(), (overall.burst, Instant::now()))),
        }
    }

    /// Waits until a send to `key` is within both limits, then takes a token from each.
    pub async fn wait(&self, key: &str) {
        loop {
            let pause = self.try_take(key, Instant::now());
            match pause {
                None => return,
                Some(pause) => tokio::time::sleep(pause).await,
            }
        }
    }

    /// Takes the tokens now, or says how long to wait for them (for limits that refuse
    /// rather than wait).
    pub fn check(&self, key: &str) -> Option<Duration> {
        self.try_take(key, Instant::now())
    }

    /// Takes the tokens, or says how long to wait for them.
    fn try_take(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut guard = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (keys, overall) = &mut *guard;
        if keys.len() > 10_000 {
            // Forget chats whose bucket has filled up again.
            let per_key = self.per_key;
            keys.retain(|_, (_, at)| {
                now.duration_since(*at).as_secs_f64() * per_key.per_second < per_key.burst
            });
        }
        let own = keys
            .entry(key.to_owned())
            .or_insert((self.per_key.burst, now));
        refill(own, self.per_key, now);
        refill(overall, self.overall, now);
        if own.0 >= 1.0 && overall.0 >= 1.0 {
            own.0 -= 1.0;
            overall.0 -= 1.0;
            return None;
        }
        let need = |bucket: &Level, rate: Bucket| {
            if bucket.0 >= 1.0 {
                0.0
            } else {
                (1.0 - bucket.0) / rate.per_second
            }
        };
        let secs = need(own, self.per_key).max(need(overall, self.overall));
        Some(Duration::from_secs_f64(secs.max(0.001)))
    }
}

fn refill(bucket: &mut Level, rate: Bucket, now: Instant) {
    let elapsed = now.duration_since(bucket.1).as_secs_f64();
    bucket.0 = (bucket.0 + elapsed * rate.per_second).min(rate.burst);
    bucket.1 = now;
}

/// A script or style sheet of the product's own: the web chat's, and the console's.
pub fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split_text("Hello", 4096), vec!["Hello".to_owned()]);
        assert_eq!(split_text("", 4096), vec![String::new()]);
    }

    #[test]
    fn long_text_breaks_at_paragraphs_and_keeps_every_word() {
        let paragraph = "Your complaint reference is C2026-00001. ".repeat(60);
        let text = format!("{paragraph}\n\n{paragraph}\n\n{paragraph}");
        let parts = split_text(&text, 4096);
        assert!(parts.len() >= 2, "{}", parts.len());
        for p in &parts {
            assert!(utf16_len(p) <= 4096);
        }
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(words(&parts.join(" ")), words(&text));
    }

    #[test]
    fn emoji_and_unbroken_text_never_split_inside_a_character() {
        let text = "😡".repeat(3000); // 6000 UTF-16 units, no spaces
        let parts = split_text(&text, 4096);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| utf16_len(p) <= 4096));
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(0), Duration::from_secs(2));
        assert_eq!(backoff(1), Duration::from_secs(4));
        assert_eq!(backoff(30), LONGEST_BACKOFF);
    }

    #[test]
    fn throttle_allows_a_burst_then_makes_a_chat_wait() {
        let throttle = Throttle::new(
            Bucket {
                burst: 2.0,
                per_second: 1.0,
            },
            Bucket {
                burst: 30.0,
                per_second: 30.0,
            },
        );
        let now = Instant::now();
        assert_eq!(throttle.try_take("a", now), None);
        assert_eq!(throttle.try_take("a", now), None);
        let wait = throttle.try_take("a", now).expect("a must wait");
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        // Another chat is not held up by the first.
        assert_eq!(throttle.try_take("b", now), None);
    }
}
