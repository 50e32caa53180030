//! Retention (consent and privacy: see [`crate::code`]): a conversation whose complaints all closed long enough ago, with
//! nothing said since, loses its personal data; each complaint is kept only as a count by
//! month, channel, stage and status.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Record, Store, StoreError, Value, from_millis, millis};
use crate::core::ids::ConversationId;

/// A complaint as the anonymised counts keep it once its conversation is erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseCount {
    /// The month it was received (YYYY-MM).
    pub month: String,
    pub channel: String,
    pub stage: i64,
    pub status: String,
}

/// Conversations the retention purge may erase (`$1` the cutoff): only closed complaints,
/// and only when every complaint of the conversation closed before the cutoff and nothing
/// was said since. With `$2`, one conversation.
const ERASABLE: &str = "SELECT DISTINCT c.conversation_id FROM cases c \
     WHERE c.erased_at IS NULL AND c.status = 'closed' \
     AND c.closed_at IS NOT NULL AND c.closed_at < $1 \
     AND ($2 IS NULL OR c.conversation_id = $2) \
     AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.conversation_id \
         AND m.at >= $1) \
     AND NOT EXISTS (SELECT 1 FROM cases o WHERE o.conversation_id = c.conversation_id \
         AND (o.status <> 'closed' OR o.closed_at IS NULL OR o.closed_at >= $1))";

impl Store {
    /// Conversations the retention purge may erase now, with `cutoff` (Unix milliseconds) the
    /// moment before which their complaints must all have closed (see `ERASABLE`).
    pub async fn erasable_conversations(
        &self,
        cutoff: i64,
    ) -> Result<Vec<ConversationId>, StoreError> {
        let rows = sqlx::query(ERASABLE)
            .bind(cutoff)
            .bind(None::<ConversationId>)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get("conversation_id")?))
            .collect()
    }

    /// A conversation's complaints as the anonymised counts will keep them.
    pub async fn case_counts(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<CaseCount>, StoreError> {
        let cases = sqlx::query(
            "SELECT k.stage, k.status, k.received_at, v.channel FROM cases k \
             JOIN conversations v ON v.id = k.conversation_id WHERE k.conversation_id = $1",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        let mut counts = Vec::new();
        for k in &cases {
            let received = from_millis(k.try_get("received_at")?);
            counts.push(CaseCount {
                month: received.format("%Y-%m").to_string(),
                channel: k.try_get::<String, _>("channel")?,
                stage: k.try_get::<i64, _>("stage")?,
                status: k.try_get::<String, _>("status")?,
            });
        }
        Ok(counts)
    }

    /// The earliest moment after `after` (Unix milliseconds) at which a closed complaint,
    /// not yet erased, reaches `erase` milliseconds since it closed.
    pub async fn next_erasure(&self, erase: i64, after: i64) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(closed_at + $1) FROM cases \
             WHERE status = 'closed' AND closed_at IS NOT NULL AND erased_at IS NULL \
             AND closed_at + $1 > $2",
        )
        .bind(erase)
        .bind(after)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }
}

impl Record<'_> {
    /// Whether a conversation may be erased now (checked inside the erasing transaction, so
    /// a message or an escalation committed since the purge looked cannot be erased with
    /// it): every complaint closed before `cutoff`, none open, nothing said since.
    pub async fn erasable(
        &mut self,
        conversation: ConversationId,
        cutoff: i64,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let found = sqlx::query(ERASABLE)
            .bind(cutoff)
            .bind(conversation)
            .fetch_optional(self.conn().await?)
            .await?;
        Ok(found.is_some())
    }

    /// The retention purge for one conversation: every message (and file), assessment, reply,
    /// event, alert, note, claim, assignment and resident link is deleted (and a resident left
    /// with no conversation), tracked requests lose their words, the
    /// complaints keep only their reference, stage and dates, the platform's chat id is
    /// replaced, and each complaint is added to the anonymised counts. The staff audit stays
    /// (it holds who did what, not what was said).
    pub fn erase_conversation(
        &mut self,
        conversation: ConversationId,
        counts: &[CaseCount],
        now: DateTime<Utc>,
    ) {
        const ERASE: &[&str] = &[
            "DELETE FROM alert_deliveries WHERE alert_id IN (SELECT id FROM alerts WHERE conversation_id = $1)",
            "DELETE FROM alerts WHERE conversation_id = $1",
            "DELETE FROM outbox WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = $1)",
            "DELETE FROM assessments WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = $1)",
            "DELETE FROM assessment_corrections WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = $1)",
            // The resident's photos and documents go with the messages they came with.
            "DELETE FROM attachments WHERE conversation_id = $1",
            "DELETE FROM messages WHERE conversation_id = $1",
            "DELETE FROM events WHERE conversation_id = $1",
            "DELETE FROM notes WHERE conversation_id = $1",
            "DELETE FROM claims WHERE conversation_id = $1",
            // Nobody's queue keeps a conversation with nothing left in it.
            "DELETE FROM assignments WHERE conversation_id = $1",
            "DELETE FROM resident_emails WHERE conversation_id = $1",
            // Its resident keeps only the conversations still held (see below).
            "DELETE FROM resident_links WHERE conversation_id = $1",
            // The request's record stays (kind and dates, for the ICO); its words go.
            "UPDATE requests SET detail = '', \
             answer = CASE WHEN answer IS NULL THEN NULL ELSE '' END, \
             extension_reason = CASE WHEN extension_reason IS NULL THEN NULL ELSE '' END \
             WHERE conversation_id = $1",
            // The score stays for the reports; the resident's own words go.
            "UPDATE case_feedback SET comment = CASE WHEN comment IS NULL THEN NULL ELSE '' END \
             WHERE conversation_id = $1",
            "UPDATE case_actions SET description = '' WHERE case_reference IN (SELECT reference FROM cases WHERE conversation_id = $1)",
            "UPDATE conversations SET state = '{}', chat = 'erased:' || CAST(id AS TEXT) WHERE id = $1",
        ];
        for statement in ERASE {
            self.queue(statement, vec![Value::Int(conversation.0)]);
        }
        // A resident whose last conversation this was has nothing left to be the record of.
        self.queue(super::residents::REMOVE_UNLINKED_RESIDENTS, Vec::new());
        self.queue(
            "UPDATE cases SET definition = '', answers = '{}', suggested_route = NULL, erased_at = $1 \
             WHERE conversation_id = $2",
            vec![Value::Int(millis(now)), Value::Int(conversation.0)],
        );
        for CaseCount {
            month,
            channel,
            stage,
            status,
        } in counts
        {
            self.queue(
                "INSERT INTO retention_counts (month, channel, stage, status, complaints) \
                 VALUES ($1, $2, $3, $4, 1) ON CONFLICT (month, channel, stage, status) \
                 DO UPDATE SET complaints = retention_counts.complaints + 1",
                vec![
                    Value::Text(month.clone()),
                    Value::Text(channel.clone()),
                    Value::Int(*stage),
                    Value::Text(status.clone()),
                ],
            );
        }
    }
}
