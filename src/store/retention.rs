//! Retention (consent and privacy: see [`crate::code`]): a conversation whose complaints all closed long enough ago, with
//! nothing said since, loses its personal data; each complaint is kept as a count by month,
//! channel, stage and status, and, for the reports, as the dates of its handling with no
//! words (`kept_events`).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Backend, Record, Store, StoreError, Value, from_millis, millis};
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

/// Moves the facts the reports read (`store::report`) from a conversation's events (`$1`)
/// into `kept_events`, keeping of each detail only the dates and the stage: the stage 1
/// acknowledgement, the stage 2 request and acknowledgement, each extension's new date and
/// stage, the responses' moments, and accepted exclusion decisions. One statement per
/// backend, as each spells JSON its own way.
const KEEP_FACTS_SQLITE: &str = "INSERT INTO kept_events (case_reference, kind, detail, at) \
     SELECT case_reference, kind, CASE kind \
         WHEN 'open_case' THEN json_object('acknowledged_on', json_extract(detail, '$.acknowledged_on')) \
         WHEN 'escalate' THEN json_object('requested_at', json_extract(detail, '$.requested_at'), \
             'acknowledged_on', json_extract(detail, '$.acknowledged_on')) \
         WHEN 'extension' THEN json_object('stage', json_extract(detail, '$.stage'), \
             'to', json_extract(detail, '$.to')) \
         WHEN 'exclusion_decision' THEN '{\"accepted\":true}' \
         ELSE '{}' END, at \
     FROM events WHERE conversation_id = $1 AND case_reference IS NOT NULL \
     AND (kind IN ('open_case', 'escalate', 'extension', 'stage1_response_sent', 'stage2_response_sent') \
         OR (kind = 'exclusion_decision' AND json_extract(detail, '$.accepted') = 1)) \
     ORDER BY id";
const KEEP_FACTS_POSTGRES: &str = "INSERT INTO kept_events (case_reference, kind, detail, at) \
     SELECT case_reference, kind, CASE kind \
         WHEN 'open_case' THEN json_build_object('acknowledged_on', detail::json->>'acknowledged_on')::text \
         WHEN 'escalate' THEN json_build_object('requested_at', detail::json->>'requested_at', \
             'acknowledged_on', detail::json->>'acknowledged_on')::text \
         WHEN 'extension' THEN json_build_object('stage', detail::json->'stage', \
             'to', detail::json->>'to')::text \
         WHEN 'exclusion_decision' THEN '{\"accepted\":true}' \
         ELSE '{}' END, at \
     FROM events WHERE conversation_id = $1 AND case_reference IS NOT NULL \
     AND (kind IN ('open_case', 'escalate', 'extension', 'stage1_response_sent', 'stage2_response_sent') \
         OR (kind = 'exclusion_decision' AND detail::json->>'accepted' = 'true')) \
     ORDER BY id";

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
    /// complaints keep only their reference, stage and dates (the dates of their handling
    /// move to `kept_events`, for the reports), the platform's chat id is replaced, and each
    /// complaint is added to the anonymised counts. The staff audit stays
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
        // First the dates the reports count, without the words (issue 13): an erased
        // period's figures come from these, and each complaint's from one place only.
        let keep = match self.backend {
            Backend::Sqlite => KEEP_FACTS_SQLITE,
            Backend::Postgres => KEEP_FACTS_POSTGRES,
        };
        self.queue(keep, vec![Value::Int(conversation.0)]);
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
