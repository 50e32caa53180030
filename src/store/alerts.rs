//! Alerts for managers (emergencies, safeguarding, deadlines, idle claims...): raised in the
//! record, acknowledged by a manager, moved up the escalation chain while nobody does, and
//! delivered to each configured sink once, with failures retried.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::{Conversation, Record, Store, StoreError, Value, from_millis, millis};
use crate::core::ids::{AlertId, ConversationId, StaffId};

/// An alert not yet acknowledged, for the console.
#[derive(Debug, Clone, Serialize)]
pub struct OpenAlert {
    pub id: AlertId,
    pub conversation: ConversationId,
    pub kind: String,
    pub urgent: bool,
    pub level: i64,
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// An urgent alert nobody has acknowledged, below the top of the escalation chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrgentAlert {
    pub id: AlertId,
    pub level: i64,
    /// When it was raised (Unix milliseconds).
    pub at: i64,
}

/// A recent alert, as its deliveries to the sinks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentAlert {
    pub id: AlertId,
    pub kind: String,
    pub urgent: bool,
    pub level: i64,
    pub detail: String,
    pub conversation: ConversationId,
    /// The channel of the alert's conversation.
    pub channel: String,
    pub at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// The delivery of an alert to one sink, due to be tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDelivery {
    pub id: i64,
    pub alert: AlertId,
    /// The sink's name in the configuration.
    pub sink: String,
    pub attempts: i64,
}

impl Store {
    /// Alerts raised for a conversation: (kind, urgent).
    pub async fn alerts(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<(String, bool)>, StoreError> {
        let rows =
            sqlx::query("SELECT kind, urgent FROM alerts WHERE conversation_id = $1 ORDER BY id")
                .bind(conversation)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get::<i64, _>("urgent")? != 0)))
            .collect()
    }

    /// Alerts nobody has acknowledged, urgent first, then oldest first.
    pub async fn open_alerts(&self) -> Result<Vec<OpenAlert>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, conversation_id, kind, urgent, level, detail, at FROM alerts \
             WHERE acknowledged_at IS NULL ORDER BY urgent DESC, id LIMIT 200",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OpenAlert {
                    id: r.try_get("id")?,
                    conversation: r.try_get("conversation_id")?,
                    kind: r.try_get("kind")?,
                    urgent: r.try_get::<i64, _>("urgent")? != 0,
                    level: r.try_get("level")?,
                    detail: r.try_get("detail")?,
                    at: from_millis(r.try_get("at")?),
                })
            })
            .collect()
    }

    /// How many alerts nobody has acknowledged, and how many of them are urgent.
    pub async fn open_alert_counts(&self) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS open, COALESCE(SUM(CASE WHEN urgent <> 0 THEN 1 ELSE 0 END), 0) AS urgent \
             FROM alerts WHERE acknowledged_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("open")?, row.try_get("urgent")?))
    }

    /// Urgent alerts nobody has acknowledged, at a level below `top`.
    pub async fn urgent_unacknowledged(&self, top: i64) -> Result<Vec<UrgentAlert>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, level, at FROM alerts WHERE urgent = 1 AND acknowledged_at IS NULL AND level < $1",
        )
        .bind(top)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UrgentAlert {
                    id: r.try_get("id")?,
                    level: r.try_get("level")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    /// Moves an alert from `level` one level up the escalation chain: one conditional update,
    /// so with several replicas only one moves it (false for the others, or if it has moved
    /// already).
    pub async fn escalate_alert(&self, alert: AlertId, level: i64) -> Result<bool, StoreError> {
        let moved = sqlx::query("UPDATE alerts SET level = $1 WHERE id = $2 AND level = $3")
            .bind(level + 1)
            .bind(alert)
            .bind(level)
            .execute(&self.pool)
            .await?;
        Ok(moved.rows_affected() == 1)
    }

    /// The earliest moment after `after` (Unix milliseconds) at which an unacknowledged
    /// urgent alert moves up a level, with `period` milliseconds between levels.
    pub async fn next_escalation(
        &self,
        period: i64,
        after: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(at + $1 * (level + 1)) FROM alerts \
             WHERE urgent = 1 AND acknowledged_at IS NULL AND at + $1 * (level + 1) > $2",
        )
        .bind(period)
        .bind(after)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    /// Alerts raised after `since`, oldest first, with their conversation's channel.
    pub async fn recent_alerts(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<RecentAlert>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.kind, a.urgent, a.level, a.detail, a.conversation_id, a.at, a.acknowledged_at, c.channel \
             FROM alerts a JOIN conversations c ON c.id = a.conversation_id \
             WHERE a.at > $1 ORDER BY a.id",
        )
        .bind(millis(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RecentAlert {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    urgent: r.try_get::<i64, _>("urgent")? != 0,
                    level: r.try_get("level")?,
                    detail: r.try_get("detail")?,
                    conversation: r.try_get("conversation_id")?,
                    channel: r.try_get("channel")?,
                    at: from_millis(r.try_get("at")?),
                    acknowledged_at: r
                        .try_get::<Option<i64>, _>("acknowledged_at")?
                        .map(from_millis),
                })
            })
            .collect()
    }

    /// Queues the delivery of an alert to a sink, first tried at `first_try`; nothing if it
    /// is queued already.
    pub async fn queue_alert_delivery(
        &self,
        alert: AlertId,
        sink: &str,
        level: i64,
        first_try: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO alert_deliveries (alert_id, sink, level, attempts, next_attempt_at) \
             VALUES ($1, $2, $3, 0, $4) ON CONFLICT (alert_id, sink) DO NOTHING",
        )
        .bind(alert)
        .bind(sink)
        .bind(level)
        .bind(millis(first_try))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deliveries not yet made that are due at `now`, oldest first.
    pub async fn due_alert_deliveries(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<AlertDelivery>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, alert_id, sink, attempts FROM alert_deliveries \
             WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT 200",
        )
        .bind(millis(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AlertDelivery {
                    id: r.try_get("id")?,
                    alert: r.try_get("alert_id")?,
                    sink: r.try_get("sink")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect()
    }

    /// Puts a delivery that cannot be made now off until `until`, keeping the reason.
    pub async fn postpone_alert_delivery(
        &self,
        delivery: i64,
        until: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE alert_deliveries SET next_attempt_at = $1, last_error = $2 WHERE id = $3",
        )
        .bind(millis(until))
        .bind(reason)
        .bind(delivery)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims a due delivery until `until`, so that another replica does not send it too;
    /// false if another has it or it is no longer due.
    pub async fn claim_alert_delivery(
        &self,
        delivery: i64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let claimed = sqlx::query(
            "UPDATE alert_deliveries SET next_attempt_at = $1 WHERE id = $2 AND sent_at IS NULL AND next_attempt_at <= $3",
        )
        .bind(millis(until))
        .bind(delivery)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// The sink accepted the alert.
    pub async fn alert_delivered(
        &self,
        delivery: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE alert_deliveries SET sent_at = $1, attempts = attempts + 1 WHERE id = $2",
        )
        .bind(millis(now))
        .bind(delivery)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The sink refused the alert, or could not be reached: tried again at `retry_at`.
    pub async fn alert_delivery_failed(
        &self,
        delivery: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE alert_deliveries SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3",
        )
        .bind(error)
        .bind(millis(retry_at))
        .bind(delivery)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// When the next delivery not yet made is to be tried (Unix milliseconds), even one
    /// already due.
    pub async fn next_alert_delivery(&self) -> Result<Option<i64>, StoreError> {
        let row =
            sqlx::query("SELECT MIN(next_attempt_at) FROM alert_deliveries WHERE sent_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }
}

impl Record<'_> {
    /// Raises an alert for managers.
    pub fn alert(
        &mut self,
        conversation: &Conversation,
        kind: &str,
        urgent: bool,
        detail: &str,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO alerts (conversation_id, kind, urgent, detail, at) VALUES ($1, $2, $3, $4, $5)",
            vec![
                Value::Int(conversation.id.0),
                Value::Text(kind.to_owned()),
                Value::Int(i64::from(urgent)),
                Value::Text(detail.to_owned()),
                Value::Int(millis(now)),
            ],
        );
    }

    /// Raises an alert about a conversation known only by its id.
    pub fn alert_on(
        &mut self,
        conversation: ConversationId,
        kind: &str,
        urgent: bool,
        detail: &str,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO alerts (conversation_id, kind, urgent, detail, at) VALUES ($1, $2, $3, $4, $5)",
            vec![
                Value::Int(conversation.0),
                Value::Text(kind.to_owned()),
                Value::Int(i64::from(urgent)),
                Value::Text(detail.to_owned()),
                Value::Int(millis(now)),
            ],
        );
    }

    /// Marks an alert acknowledged by `staff`; false if it already was.
    pub async fn acknowledge_alert(
        &mut self,
        alert: AlertId,
        staff: StaffId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let done = sqlx::query(
            "UPDATE alerts SET acknowledged_at = $1, acknowledged_by = $2 \
             WHERE id = $3 AND acknowledged_at IS NULL",
        )
        .bind(millis(now))
        .bind(staff)
        .bind(alert)
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks every unacknowledged alert of `kind` on a conversation acknowledged by `staff`;
    /// the ids it marked (none if there were none left).
    pub async fn acknowledge_alerts(
        &mut self,
        conversation: ConversationId,
        kind: &str,
        staff: StaffId,
        now: DateTime<Utc>,
    ) -> Result<Vec<AlertId>, StoreError> {
        self.flush().await?;
        let rows = sqlx::query(
            "UPDATE alerts SET acknowledged_at = $1, acknowledged_by = $2 \
             WHERE conversation_id = $3 AND kind = $4 AND acknowledged_at IS NULL RETURNING id",
        )
        .bind(millis(now))
        .bind(staff)
        .bind(conversation)
        .bind(kind)
        .fetch_all(self.conn().await?)
        .await?;
        rows.iter()
            .map(|r| r.try_get("id").map_err(StoreError::from))
            .collect()
    }
}
