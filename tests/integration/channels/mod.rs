//! End to end through the channels: the real `intake serve` binary, with the real teloxide and
//! serenity clients talking to fake platforms on loopback, and the web chat over HTTP. Each
//! test holds a whole conversation, from the first message to the acknowledgement, and checks
//! what the resident saw and what the record holds.

mod alert_chats;
mod discord;
mod telegram;
mod web;
pub(crate) mod web_files;

use std::time::{Duration, Instant};

use intake::store::Store;
use sqlx::Row;

/// What the record of one conversation holds after a channel test.
#[derive(Debug)]
pub struct Recorded {
    pub inbound: Vec<(Option<String>, String)>,
    pub outbound: Vec<String>,
    pub undelivered: i64,
    pub cases: Vec<(String, i64)>,
    pub consent_events: i64,
}

/// Reads the record of the conversation on (channel, chat).
pub async fn recorded(database: &str, channel: &str, chat: &str) -> Recorded {
    let store = Store::connect(database).await.expect("open the record");
    let conversation = store
        .find_conversation(channel, chat)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("no conversation on {channel} {chat}"));
    let rows = sqlx::query(
        "SELECT direction, platform_message_id, body FROM messages WHERE conversation_id = $1 ORDER BY id",
    )
    .bind(conversation.id)
    .fetch_all(store.pool_for_tests())
    .await
    .expect("messages");
    let mut inbound = Vec::new();
    let mut outbound = Vec::new();
    for r in rows {
        let direction: String = r.try_get("direction").expect("direction");
        let body: String = r.try_get("body").expect("body");
        if direction == "in" {
            inbound.push((r.try_get("platform_message_id").expect("id"), body));
        } else {
            outbound.push(body);
        }
    }
    let undelivered: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM outbox WHERE channel = $1 AND chat = $2 AND sent_at IS NULL",
    )
    .bind(channel)
    .bind(chat)
    .fetch_one(store.pool_for_tests())
    .await
    .expect("outbox")
    .try_get("n")
    .expect("n");
    let cases = sqlx::query("SELECT reference, stage FROM cases WHERE conversation_id = $1")
        .bind(conversation.id)
        .fetch_all(store.pool_for_tests())
        .await
        .expect("cases")
        .iter()
        .map(|r| {
            (
                r.try_get("reference").expect("ref"),
                r.try_get("stage").expect("stage"),
            )
        })
        .collect();
    let consent_events: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM events WHERE conversation_id = $1 AND kind = 'consent'",
    )
    .bind(conversation.id)
    .fetch_one(store.pool_for_tests())
    .await
    .expect("events")
    .try_get("n")
    .expect("n");
    Recorded {
        inbound,
        outbound,
        undelivered,
        cases,
        consent_events,
    }
}

/// The record once every reply to the conversation has been delivered (the last replies of a
/// step may still be on their way when its expected words arrive).
pub async fn settled(database: &str, channel: &str, chat: &str) -> Recorded {
    let started = Instant::now();
    loop {
        let record = recorded(database, channel, chat).await;
        if record.undelivered == 0 || started.elapsed() > Duration::from_secs(20) {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
