//! The outbox: each reply waits here until its platform accepts it, in the order it was
//! written to each chat; a failure is tried again later, never dropped. (A reply and its
//! outbox row are written together, by `Record::outbound`.)

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Backend, Store, StoreError, millis};
use crate::core::ids::MessageId;

/// A reply waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub message_id: MessageId,
    pub channel: String,
    pub chat: String,
    pub payload: String,
    pub attempts: i64,
}

/// One channel's replies not yet delivered, for the operator's gauges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    pub channel: String,
    pub waiting: i64,
    /// When the oldest of them was written.
    pub oldest: Option<DateTime<Utc>>,
}

impl Store {
    /// Replies not yet delivered, per channel, with the time of the oldest: counted on the
    /// partial index of pending replies, and the oldest found by its id, not by sorting.
    pub async fn outbox_waiting(&self) -> Result<Vec<Backlog>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.channel, p.waiting, m.at FROM \
             (SELECT channel, COUNT(*) AS waiting, MIN(message_id) AS first FROM outbox \
              WHERE sent_at IS NULL GROUP BY channel) p \
             JOIN messages m ON m.id = p.first ORDER BY p.channel",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Backlog {
                    channel: r.try_get("channel")?,
                    waiting: r.try_get("waiting")?,
                    oldest: r.try_get::<Option<i64>, _>("at")?.map(super::from_millis),
                })
            })
            .collect()
    }

    /// Makes `chat`'s undelivered replies on `channel` due at `now`: after another replica's
    /// signals may have been missed, the replica holding the page open delivers them.
    pub async fn retry_now(
        &self,
        channel: &str,
        chat: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1 \
             WHERE channel = $2 AND chat = $3 AND sent_at IS NULL AND next_attempt_at > $1",
        )
        .bind(millis(now))
        .bind(channel)
        .bind(chat)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Replies due for delivery at `now`, oldest first.
    pub async fn due_outbox(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, message_id, channel, chat, payload, attempts FROM outbox \
             WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2",
        )
        .bind(millis(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(outbox_item).collect()
    }

    /// Replies due on `channel` at `now`, oldest first. A reply waiting behind an earlier one
    /// to the same chat that is not yet due (after a failure, or claimed by another replica)
    /// is held back, so replies reach a resident in the order they were written.
    ///
    /// Two single-table scans on partial indexes rather than one anti-join: first the chats
    /// held back and from which reply, then the due replies in order without those. Neither
    /// plan depends on the planner's statistics.
    pub async fn due_outbox_on(
        &self,
        channel: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        /// Held chats named in the query; the rest are filtered here.
        const NAMED: usize = 200;
        /// Waiting replies read at once; past this, each candidate is checked on its own.
        const HELD: i64 = 50_000;
        /// Pages of due replies read at most, so one call stays bounded.
        const PAGES: usize = 50;
        let wanted = usize::try_from(limit.max(0)).unwrap_or(usize::MAX);
        let mut record = self.begin().await?;
        if self.backend == Backend::Postgres {
            // Index scans only, in index order: with the statistics stale (a table that grew
            // fast, as under load), the planner otherwise sorts the whole backlog.
            sqlx::raw_sql(
                "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; \
                 SET LOCAL enable_sort = off",
            )
            .execute(record.conn().await?)
            .await?;
        }
        // The replies waiting to be tried again (a range scan on one index; grouped here, so
        // no plan can choose to walk every pending reply to group them), and from them the
        // chats held back and from which reply, those held longest first.
        // SQLite is told the index outright (it has no planner switches; after ANALYZE it
        // preferred walking the primary key through every sent reply).
        let sqlite = self.backend == Backend::Sqlite;
        let waiting_sql = format!(
            "SELECT chat, id FROM outbox {} \
             WHERE channel = $1 AND sent_at IS NULL AND next_attempt_at > $2 LIMIT $3",
            if sqlite {
                "INDEXED BY outbox_waiting"
            } else {
                ""
            }
        );
        let waiting = sqlx::query(sqlx::AssertSqlSafe(waiting_sql))
            .bind(channel)
            .bind(millis(now))
            .bind(HELD + 1)
            .fetch_all(record.conn().await?)
            .await?;
        let mut first: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        for row in &waiting {
            let chat: String = row.try_get("chat")?;
            let id: i64 = row.try_get("id")?;
            let from = first.entry(chat).or_insert(id);
            *from = (*from).min(id);
        }
        let mut held: Vec<(String, i64)> = first.into_iter().collect();
        held.sort_by_key(|(_, from)| *from);
        let complete = waiting.len() <= usize::try_from(HELD).unwrap_or(usize::MAX);
        let named = &held[..held.len().min(NAMED)];
        let rest: std::collections::HashMap<&str, i64> = held[named.len()..]
            .iter()
            .map(|(chat, from)| (chat.as_str(), *from))
            .collect();
        // `+next_attempt_at` keeps the planner off the index on that column: the scan walks
        // the pending replies in id order from `$3`, never sorting a backlog.
        let mut sql = format!(
            "SELECT id, message_id, channel, chat, payload, attempts FROM outbox {} \
             WHERE channel = $1 AND sent_at IS NULL AND +next_attempt_at <= $2 AND id > $3",
            if sqlite {
                "INDEXED BY outbox_pending_in_order"
            } else {
                ""
            }
        );
        for n in 0..named.len() {
            let at = 5 + 2 * n;
            sql.push_str(&format!(" AND NOT (chat = ${at} AND id > ${})", at + 1));
        }
        sql.push_str(" ORDER BY id LIMIT $4");
        let mut due = Vec::new();
        let mut after = 0_i64;
        for _ in 0..PAGES {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(channel)
                .bind(millis(now))
                .bind(after)
                .bind(limit.max(1));
            for (chat, from) in named {
                query = query.bind(chat.clone()).bind(*from);
            }
            let rows = query.fetch_all(record.conn().await?).await?;
            let full_page = rows.len() >= usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
            for row in rows {
                let item = outbox_item(&row)?;
                after = item.id;
                let held_back = match rest.get(item.chat.as_str()) {
                    Some(from) => item.id > *from,
                    // Too many chats held to list: ask about this one.
                    None if !complete => sqlx::query(
                        "SELECT 1 AS held FROM outbox WHERE channel = $1 AND chat = $2 \
                         AND sent_at IS NULL AND next_attempt_at > $3 AND id < $4 LIMIT 1",
                    )
                    .bind(channel)
                    .bind(&item.chat)
                    .bind(millis(now))
                    .bind(item.id)
                    .fetch_optional(record.conn().await?)
                    .await?
                    .is_some(),
                    None => false,
                };
                if !held_back {
                    due.push(item);
                    if due.len() >= wanted {
                        break;
                    }
                }
            }
            if due.len() >= wanted || !full_page {
                break;
            }
        }
        record.commit().await?;
        Ok(due)
    }

    /// Claims a due reply for `lease`, so that with several replicas only one sends it. A
    /// sender that dies holding a claim leaves the reply to be sent when the lease ends.
    pub async fn claim_outbox(
        &self,
        outbox: i64,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1 \
             WHERE id = $2 AND sent_at IS NULL AND next_attempt_at <= $3",
        )
        .bind(millis(now + lease))
        .bind(outbox)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The platform accepted the reply.
    pub async fn mark_sent(&self, outbox: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET sent_at = $1, attempts = attempts + 1 WHERE id = $2")
            .bind(millis(now))
            .bind(outbox)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Delivery failed; try again at `retry_at`. The reply is never dropped.
    pub async fn mark_failed(
        &self,
        outbox: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 \
             WHERE id = $3",
        )
        .bind(error)
        .bind(millis(retry_at))
        .bind(outbox)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn outbox_item(r: &sqlx::any::AnyRow) -> Result<OutboxItem, StoreError> {
    Ok(OutboxItem {
        id: r.try_get("id")?,
        message_id: r.try_get("message_id")?,
        channel: r.try_get("channel")?,
        chat: r.try_get("chat")?,
        payload: r.try_get("payload")?,
        attempts: r.try_get("attempts")?,
    })
}
