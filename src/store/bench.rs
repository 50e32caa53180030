//! What `intake bench` and `intake soak` need of the record beyond the service's own reads and
//! writes: the benchmark's baseline (bare single-row durable inserts into a table of their
//! own, which bound any design that commits once per message), a backlog to time the outbox
//! query on, the query it replaced, the counts both check, and dropping their scratch
//! PostgreSQL schemas.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, millis};
use crate::core::ids::ConversationId;

/// How many times a resident message was recorded, by its platform message id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCount {
    pub platform_message_id: Option<String>,
    pub times: i64,
}

impl Store {
    /// Creates the baseline's table: an id and a body, nothing else.
    pub async fn create_bare_rows(&self) -> Result<(), StoreError> {
        sqlx::query("CREATE TABLE bare_rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// One bare durable insert, in a transaction of its own: the baseline's unit of work.
    pub async fn insert_bare_row(&self, body: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO bare_rows (body) VALUES ($1)")
            .bind(body)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many complaints the record holds.
    pub async fn count_cases(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM cases")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    /// How many conversations have more than one complaint (the soak expects none: each
    /// resident's script opens one).
    pub async fn conversations_with_several_cases(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM (SELECT conversation_id FROM cases \
             GROUP BY conversation_id HAVING COUNT(*) > 1) AS d",
        )
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?)
    }

    /// Replies on `channel` not yet delivered.
    pub async fn undelivered_on(&self, channel: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE channel = $1 AND sent_at IS NULL")
                .bind(channel)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?,
        )
    }

    /// How many times each resident message on `channel` was recorded, by its platform
    /// message id (an id never recorded is absent).
    pub async fn inbound_counts(&self, channel: &str) -> Result<Vec<RecordedCount>, StoreError> {
        sqlx::query(
            "SELECT platform_message_id, COUNT(*) AS n FROM messages \
             WHERE direction = 'in' AND channel = $1 GROUP BY platform_message_id",
        )
        .bind(channel)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(RecordedCount {
                platform_message_id: r.try_get("platform_message_id")?,
                times: r.try_get("n")?,
            })
        })
        .collect()
    }

    /// Fills the outbox on `channel` with `pending` replies not yet sent and `sent` replies
    /// sent, spread over 20,000 chats, all of one message of `conversation`; one pending reply
    /// in a hundred waits to be retried an hour after `now`, holding its chat back. The series
    /// is generated in the database.
    pub async fn outbox_backlog(
        &self,
        conversation: ConversationId,
        channel: &str,
        pending: i64,
        sent: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let at = millis(now);
        let message: i64 = sqlx::query(
            "INSERT INTO messages (conversation_id, channel, direction, author, body, attachments, at) \
             VALUES ($1, $2, 'out', 'bot', 'x', '[]', $3) RETURNING id",
        )
        .bind(conversation)
        .bind(channel)
        .bind(at)
        .fetch_one(&self.pool)
        .await?
        .try_get("id")?;
        // Trusted numbers, written into the statement; the channel is bound.
        let fill = |count: i64, sent: bool| {
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
                 INSERT INTO outbox (message_id, channel, chat, payload, attempts, next_attempt_at, sent_at) \
                 SELECT {message}, $1, 'chat-' || CAST(i % 20000 AS TEXT), '{{\"text\":\"x\"}}', 0, \
                 CASE WHEN i % 100 = 0 THEN {later} ELSE {earlier} END, {sent_at} FROM n",
                later = at + 3_600_000,
                earlier = at - 1_000,
                sent_at = if sent {
                    at.to_string()
                } else {
                    "NULL".to_owned()
                },
            )
        };
        sqlx::query(sqlx::AssertSqlSafe(fill(sent, true)))
            .bind(channel)
            .execute(&self.pool)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(fill(pending, false)))
            .bind(channel)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The due-outbox query `due_outbox_on` replaced, one anti-join, kept to be timed beside
    /// it: the ids of the replies due on `channel` at `now`, none behind a reply to the same
    /// chat that is waiting to be retried.
    pub async fn due_outbox_by_anti_join(
        &self,
        channel: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        sqlx::query(
            "SELECT o.id FROM outbox o \
             WHERE o.channel = $1 AND o.sent_at IS NULL AND o.next_attempt_at <= $2 \
             AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.channel = o.channel \
                 AND e.chat = o.chat AND e.sent_at IS NULL AND e.id < o.id \
                 AND e.next_attempt_at > $2) \
             ORDER BY o.id LIMIT $3",
        )
        .bind(channel)
        .bind(millis(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok(r.try_get("id")?))
        .collect()
    }

    /// Brings the planner's statistics up to date (`ANALYZE`).
    pub async fn analyze(&self) -> Result<(), StoreError> {
        sqlx::query("ANALYZE").execute(&self.pool).await?;
        Ok(())
    }

    /// Drops a scratch PostgreSQL schema (a benchmark's or a soak's) and everything in it, on
    /// a connection of its own to `url`.
    pub async fn drop_scratch_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        super::check_schema(schema)?;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(url)
            .await
            .map_err(|source| StoreError::Connect {
                url: super::redact(url),
                source,
            })?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&pool)
            .await?;
        Ok(())
    }
}
