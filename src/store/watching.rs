//! Whether the console is watched: each session notes when it was last used, so the bot
//! says "I have told a manager" only when a manager could see it (DESIGN: promise = effect).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Record, Store, StoreError, millis};

/// A session's last use is written at most this often (milliseconds): a console page polls
/// every second, and the question asked of it ("seen in the last few minutes?") does not
/// need more.
const SEEN_EVERY_MS: i64 = 60_000;

impl Store {
    /// Notes that the session known by this token hash was used at `now`, unless that was
    /// noted less than a minute ago (then nothing is written).
    pub async fn session_seen(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE staff_sessions SET last_seen_at = $1 WHERE token_hash = $2 \
             AND (last_seen_at IS NULL OR last_seen_at <= $3)",
        )
        .bind(millis(now))
        .bind(token_hash)
        .bind(millis(now) - SEEN_EVERY_MS)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether a manager or admin has a session used since `since` and not expired by then
    /// (a signed-out session is gone, and the session's last use is at most a minute old).
    pub async fn manager_watching(&self, since: DateTime<Utc>) -> Result<bool, StoreError> {
        let row = sqlx::query(WATCHING)
            .bind(millis(since))
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }
}

/// Manager or admin sessions used since $1 and not expired then.
const WATCHING: &str = "SELECT COUNT(*) AS n FROM staff_sessions x JOIN staff s ON s.id = x.staff_id \
     WHERE s.role IN ('manager', 'admin') AND x.last_seen_at >= $1 AND x.expires_at > $1";

impl Record<'_> {
    /// `Store::manager_watching`, read in this transaction (on SQLite the record holds the
    /// only connection), so the bot's words about who was told are decided with the message.
    pub async fn manager_watching(&mut self, since: DateTime<Utc>) -> Result<bool, StoreError> {
        let row = sqlx::query(WATCHING)
            .bind(millis(since))
            .fetch_one(self.conn().await?)
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }
}
