//! The conversation's record of what happened (events: consent, offers, complaints, privacy
//! requests...), the audit of staff actions (who, when, what), and jobs claimed to happen
//! once across replicas.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conversation, Record, Store, StoreError, Value, from_millis, millis};
use crate::core::ids::{ConversationId, StaffId};

/// An event of a conversation's record.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: String,
    pub case_reference: Option<String>,
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// A staff action on a conversation: who (by name), what, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLine {
    pub staff: String,
    pub action: String,
    pub at: DateTime<Utc>,
}

impl Store {
    /// The kinds of event recorded for a conversation, oldest first.
    pub async fn events(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        let rows =
            sqlx::query("SELECT kind, detail FROM events WHERE conversation_id = $1 ORDER BY id")
                .bind(conversation)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("kind")?,
                    serde_json::from_str(&r.try_get::<String, _>("detail")?)?,
                ))
            })
            .collect()
    }

    /// The events of a conversation, oldest first, each with its complaint and time.
    pub async fn conversation_events(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, case_reference, detail, at FROM events WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Event {
                    kind: r.try_get("kind")?,
                    case_reference: r.try_get("case_reference")?,
                    detail: serde_json::from_str(&r.try_get::<String, _>("detail")?)?,
                    at: from_millis(r.try_get("at")?),
                })
            })
            .collect()
    }

    /// The audit of a conversation: who did what, when, oldest first.
    pub async fn audit_lines(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<AuditLine>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.name, a.action, a.at FROM audit a JOIN staff s ON s.id = a.staff_id \
             WHERE a.conversation_id = $1 ORDER BY a.id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditLine {
                    staff: r.try_get("name")?,
                    action: r.try_get("action")?,
                    at: from_millis(r.try_get("at")?),
                })
            })
            .collect()
    }
}

impl Record<'_> {
    /// Appends an event to the conversation's record.
    pub fn event(
        &mut self,
        conversation: &Conversation,
        case_reference: Option<&str>,
        kind: &str,
        detail: &serde_json::Value,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO events (conversation_id, case_reference, kind, detail, at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                Value::Int(conversation.id.0),
                Value::MaybeText(case_reference.map(str::to_owned)),
                Value::Text(kind.to_owned()),
                Value::Text(detail.to_string()),
                Value::Int(millis(now)),
            ],
        );
    }

    /// Records a staff action: who, when, what.
    pub fn audit(
        &mut self,
        staff: StaffId,
        action: &str,
        conversation: Option<ConversationId>,
        case: Option<&str>,
        detail: &serde_json::Value,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO audit (staff_id, action, conversation_id, case_reference, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                Value::Int(staff.0),
                Value::Text(action.to_owned()),
                Value::MaybeInt(conversation.map(|c| c.0)),
                Value::MaybeText(case.map(str::to_owned)),
                Value::Text(detail.to_string()),
                Value::Int(millis(now)),
            ],
        );
    }

    /// Claims a job that must happen once (a deadline warning, an escalation): true for the
    /// first caller; with several replicas, the others see false.
    pub async fn once(
        &mut self,
        job: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let done = sqlx::query(
            "INSERT INTO scheduled_once (job, key, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(job)
        .bind(key)
        .bind(millis(now))
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
