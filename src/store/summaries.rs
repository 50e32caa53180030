//! The monthly summary for the governing body (Code 9.7): which months the scheduler has
//! sent, claimed so one replica sends each month once, and every send (automatic or asked
//! for, sent or failed) with who sent it and to whom.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, from_millis, millis};
use crate::core::ids::StaffId;

/// One send of a month's summary, or one failed try, as the record keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummarySend {
    /// "2026-11".
    pub month: String,
    /// The member of staff who asked for it, if one did.
    pub staff: Option<StaffId>,
    /// Who sent it, in words: a member of staff's name, "the scheduler" or "the command line".
    pub sent_by: String,
    /// The addresses, comma-separated.
    pub recipients: String,
    /// Why it was not sent; None when it was.
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

/// A month the scheduler is sending or has sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryMonth {
    pub month: String,
    pub attempts: i64,
    pub next_try_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Claims `month` for the scheduler to send, until `until`: true for one caller only,
    /// when the month has not been sent, its due moment (`due`) or its next try has come,
    /// and no other replica holds a claim on it. The claim moves the next try to `until`, so
    /// a replica that stops mid-send leaves the month to be taken over then, never lost.
    pub async fn claim_summary_month(
        &self,
        month: &str,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        sqlx::query(
            "INSERT INTO governing_body_summaries (month, next_try_at) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(month)
        .bind(millis(due))
        .execute(&self.pool)
        .await?;
        let claimed = sqlx::query(
            "UPDATE governing_body_summaries SET next_try_at = $1, attempts = attempts + 1 \
             WHERE month = $2 AND sent_at IS NULL AND next_try_at <= $3",
        )
        .bind(millis(until))
        .bind(month)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// The scheduler's send of the month failed: the reason is kept and it is tried again
    /// at `retry_at`.
    pub async fn summary_month_failed(
        &self,
        month: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE governing_body_summaries SET last_error = $1, next_try_at = $2 \
             WHERE month = $3 AND sent_at IS NULL",
        )
        .bind(error)
        .bind(millis(retry_at))
        .bind(month)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// What the scheduler knows of `month`, if it has claimed or sent it.
    pub async fn summary_month(&self, month: &str) -> Result<Option<SummaryMonth>, StoreError> {
        let row = sqlx::query(
            "SELECT month, attempts, next_try_at, last_error, sent_at \
             FROM governing_body_summaries WHERE month = $1",
        )
        .bind(month)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SummaryMonth {
                month: r.try_get("month")?,
                attempts: r.try_get("attempts")?,
                next_try_at: from_millis(r.try_get("next_try_at")?),
                last_error: r.try_get("last_error")?,
                sent_at: r.try_get::<Option<i64>, _>("sent_at")?.map(from_millis),
            })
        })
        .transpose()
    }

    /// Keeps one send (or failed try) of a month's summary: who, which month, to whom; and
    /// when it went, marks the month sent in the same transaction, so a month the governing
    /// body received is never left looking unsent (and sent again).
    pub async fn record_summary_send(&self, send: &SummarySend) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO governing_body_summary_sends \
             (month, staff_id, sent_by, recipients, error, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&send.month)
        .bind(send.staff.map(|s| s.0))
        .bind(&send.sent_by)
        .bind(&send.recipients)
        .bind(send.error.as_deref())
        .bind(millis(send.at))
        .execute(&mut *tx)
        .await?;
        if send.error.is_none() {
            sqlx::query(
                "INSERT INTO governing_body_summaries (month, next_try_at, sent_at) VALUES ($1, $2, $2) \
                 ON CONFLICT (month) DO UPDATE SET sent_at = $2, last_error = NULL \
                 WHERE governing_body_summaries.sent_at IS NULL",
            )
            .bind(&send.month)
            .bind(millis(send.at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Months the scheduler claimed and has not yet sent, whose next try has come (a month
    /// that kept failing until the next one ended is still sent, not dropped), oldest first.
    pub async fn unsent_summary_months(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT month FROM governing_body_summaries \
             WHERE sent_at IS NULL AND next_try_at <= $1 ORDER BY month",
        )
        .bind(millis(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get("month").map_err(StoreError::from))
            .collect()
    }

    /// The latest `limit` sends and failed tries, newest first.
    pub async fn summary_sends(&self, limit: i64) -> Result<Vec<SummarySend>, StoreError> {
        let rows = sqlx::query(
            "SELECT month, staff_id, sent_by, recipients, error, at \
             FROM governing_body_summary_sends ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SummarySend {
                    month: r.try_get("month")?,
                    staff: r.try_get::<Option<i64>, _>("staff_id")?.map(StaffId),
                    sent_by: r.try_get("sent_by")?,
                    recipients: r.try_get("recipients")?,
                    error: r.try_get("error")?,
                    at: from_millis(r.try_get("at")?),
                })
            })
            .collect()
    }
}
