//! Rate limits shared by every replica on PostgreSQL: a token bucket per limit and key in
//! `limit_buckets`, so a second replica or a restart grants no fresh burst (issue 15). SQLite
//! is one process and keeps its buckets in memory (`channels::Limiter`).
//!
//! Each take is one statement: the insert of a full bucket less one token, or, when the row is
//! there, the refill computed from its stored time and the take, under the row's lock. Two
//! replicas racing for the last token queue on that lock and the second sees the first's
//! result, so exactly the tokens there are are granted. Keys are stored hashed: they are
//! client addresses, sessions and sign-in emails, and this table is no part of the record.

use chrono::{DateTime, Utc};
use sha2::Digest as _;
use sqlx::Row;

use super::{Store, StoreError, millis};

/// What a take found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Taken {
    pub granted: bool,
    /// Tokens left after the take.
    pub tokens: f64,
}

impl Store {
    /// Takes a token from the bucket `limit`/`key` (`burst` tokens, refilled at `per_second`)
    /// at `now`. PostgreSQL only.
    pub async fn take_token(
        &self,
        limit: &str,
        key: &str,
        burst: f64,
        per_second: f64,
        now: DateTime<Utc>,
    ) -> Result<Taken, StoreError> {
        // Times are milliseconds; a clock behind the stored time refills nothing and never
        // moves the bucket's time back (replicas' clocks differ a little).
        let row = sqlx::query(
            "INSERT INTO limit_buckets AS b (name, key, tokens, updated_at, granted) \
             VALUES ($1, $2, $3 - 1, $5, TRUE) \
             ON CONFLICT (name, key) DO UPDATE SET \
               (tokens, granted) = ( \
                 SELECT CASE WHEN level >= 1 THEN level - 1 ELSE level END, level >= 1 \
                 FROM (SELECT LEAST($3, b.tokens + GREATEST($5 - b.updated_at, 0) * $4) AS level) AS refilled \
               ), \
               updated_at = GREATEST(b.updated_at, $5) \
             RETURNING tokens, granted",
        )
        .bind(limit)
        .bind(hashed(key))
        .bind(burst)
        .bind(per_second / 1000.0)
        .bind(millis(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(Taken {
            granted: row.try_get("granted")?,
            tokens: row.try_get("tokens")?,
        })
    }

    /// Puts back a token taken for a request another limit then refused, never above `burst`.
    pub async fn return_token(&self, limit: &str, key: &str, burst: f64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE limit_buckets SET tokens = LEAST(tokens + 1, $3) WHERE name = $1 AND key = $2",
        )
        .bind(limit)
        .bind(hashed(key))
        .bind(burst)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the buckets of `limit` untouched since `before`: full again by then, as good as
    /// no row. Returns how many went.
    pub async fn sweep_tokens(
        &self,
        limit: &str,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM limit_buckets WHERE name = $1 AND updated_at < $2")
                .bind(limit)
                .bind(millis(before))
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}

fn hashed(key: &str) -> String {
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}
