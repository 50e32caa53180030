//! What the staff console reads across the aggregates: the inbox, a conversation's lines
//! with their assessments and corrections, its complaints with their handlers, and its
//! internal notes. The console's rules (what each role may see, 5.10) are in `crate::staff`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::{Attachment, Store, StoreError, from_millis};
use crate::core::ids::{CaseStatus, ConversationId, MessageId, StaffId, Stage};

/// A conversation as the inbox reads it, most recently active first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxConversation {
    pub id: ConversationId,
    pub channel: String,
    pub chat: String,
    pub updated_at: DateTime<Utc>,
    /// Its latest message, either way.
    pub last_message: Option<String>,
    /// Who holds it, by name and id.
    pub held_by: Option<String>,
    pub held_by_id: Option<StaffId>,
    /// Its latest complaint: reference, due date and handler.
    pub reference: Option<String>,
    pub due_on: Option<String>,
    pub handler_id: Option<StaffId>,
    /// When its earliest open tracked request is due (YYYY-MM-DD), if it has one.
    pub request_due: Option<String>,
    /// Who it is assigned to, if anyone.
    pub assigned: Option<super::Assignee>,
}

/// An alert nobody has acknowledged: its conversation and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertKind {
    pub conversation: ConversationId,
    pub kind: String,
    pub urgent: bool,
}

/// A resident message read as disclosing a vulnerability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    pub conversation: ConversationId,
    pub body: String,
}

/// A complaint's answers (what the resident said when it was opened), by conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseAnswers {
    pub conversation: ConversationId,
    pub answers: serde_json::Value,
}

/// A message of a conversation as staff read it: with its assessment, and for a reply by a
/// member of staff, their name.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffLineRecord {
    pub id: MessageId,
    /// `in` or `out`.
    pub direction: String,
    /// `resident`, `bot` or `staff:<id>`.
    pub author: String,
    pub staff_name: Option<String>,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub at: DateTime<Utc>,
    pub assessment: Option<serde_json::Value>,
}

/// A complaint of a conversation as the console lists it, with its handler's name.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseListing {
    pub reference: String,
    pub stage: Stage,
    pub status: CaseStatus,
    pub due_on: String,
    pub definition: String,
    pub answers: serde_json::Value,
    pub suggested_route: Option<String>,
    pub handler_id: Option<StaffId>,
    pub handler: Option<String>,
}

/// A correction of an assessment: the message, the field and value as stored, and who.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionLine {
    pub message: MessageId,
    pub field: String,
    pub value: String,
    pub staff: String,
}

/// An internal note: staff only, never shown to the resident.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub author: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

impl Store {
    /// The 500 most recently active conversations, most recent first, each with its latest
    /// message, holder, latest complaint and the due date of its earliest open request.
    pub async fn inbox_conversations(&self) -> Result<Vec<InboxConversation>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.channel, c.chat, c.updated_at, s.name AS held_by, h.staff_id AS held_by_id, \
               (SELECT k.handler_id FROM cases k WHERE k.conversation_id = c.id ORDER BY k.created_at DESC LIMIT 1) AS handler_id, \
               (SELECT m.body FROM messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) AS last_message, \
               (SELECT k.reference FROM cases k WHERE k.conversation_id = c.id ORDER BY k.created_at DESC LIMIT 1) AS reference, \
               (SELECT k.due_on FROM cases k WHERE k.conversation_id = c.id ORDER BY k.created_at DESC LIMIT 1) AS due_on, \
               (SELECT MIN(COALESCE(r.extended_due_on, r.due_on)) FROM requests r \
                WHERE r.conversation_id = c.id AND r.answered_at IS NULL) AS request_due \
             , g.staff_id AS assigned_staff, g.team AS assigned_team \
             FROM conversations c LEFT JOIN claims h ON h.conversation_id = c.id \
             LEFT JOIN staff s ON s.id = h.staff_id \
             LEFT JOIN assignments g ON g.conversation_id = c.id \
             ORDER BY c.updated_at DESC LIMIT 500",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(InboxConversation {
                    id: r.try_get("id")?,
                    channel: r.try_get("channel")?,
                    chat: r.try_get("chat")?,
                    updated_at: from_millis(r.try_get("updated_at")?),
                    last_message: r.try_get("last_message")?,
                    held_by: r.try_get("held_by")?,
                    held_by_id: r.try_get("held_by_id")?,
                    reference: r.try_get("reference")?,
                    due_on: r.try_get("due_on")?,
                    handler_id: r.try_get("handler_id")?,
                    request_due: r.try_get("request_due")?,
                    assigned: super::assignments::assignee(
                        r.try_get("assigned_staff")?,
                        r.try_get("assigned_team")?,
                    ),
                })
            })
            .collect()
    }

    /// Every alert nobody has acknowledged: its conversation, kind and urgency.
    pub async fn unacknowledged_alerts(&self) -> Result<Vec<AlertKind>, StoreError> {
        let rows = sqlx::query(
            "SELECT conversation_id, kind, urgent FROM alerts WHERE acknowledged_at IS NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AlertKind {
                    conversation: r.try_get("conversation_id")?,
                    kind: r.try_get("kind")?,
                    urgent: r.try_get::<i64, _>("urgent")? != 0,
                })
            })
            .collect()
    }

    /// Resident messages in these conversations that the engine read, or staff marked, as
    /// disclosing a vulnerability. Fails safe: a finding the learned layer doubted counts.
    pub async fn disclosures(
        &self,
        conversations: &[ConversationId],
    ) -> Result<Vec<Disclosure>, StoreError> {
        if conversations.is_empty() {
            return Ok(Vec::new());
        }
        // The ids are integers, so they can be written into the statement.
        let ids: Vec<String> = conversations
            .iter()
            .map(ConversationId::to_string)
            .collect();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT m.conversation_id, m.body FROM messages m \
             JOIN assessments a ON a.message_id = m.id \
             WHERE m.conversation_id IN ({}) AND (a.assessment LIKE '%\"vulnerability\"%' \
             OR a.assessment LIKE '%learned.doubts.vulnerability%' \
             OR EXISTS (SELECT 1 FROM assessment_corrections c WHERE c.message_id = m.id \
             AND c.field = 'vulnerability' AND c.value = 'true'))",
            ids.join(", ")
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Disclosure {
                    conversation: r.try_get("conversation_id")?,
                    body: r.try_get("body")?,
                })
            })
            .collect()
    }

    /// The answers of every complaint, by conversation.
    pub async fn case_answers(&self) -> Result<Vec<CaseAnswers>, StoreError> {
        let rows = sqlx::query("SELECT conversation_id, answers FROM cases")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseAnswers {
                    conversation: r.try_get("conversation_id")?,
                    answers: serde_json::from_str(&r.try_get::<String, _>("answers")?)?,
                })
            })
            .collect()
    }

    /// The messages of a conversation after message `after`, oldest first, as staff read
    /// them.
    pub async fn staff_lines(
        &self,
        conversation: ConversationId,
        after: MessageId,
    ) -> Result<Vec<StaffLineRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id, m.direction, m.author, m.body, m.attachments, m.at, a.assessment, s.name AS staff_name \
             FROM messages m LEFT JOIN assessments a ON a.message_id = m.id \
             LEFT JOIN staff s ON m.author = 'staff:' || CAST(s.id AS TEXT) \
             WHERE m.conversation_id = $1 AND m.id > $2 ORDER BY m.id",
        )
        .bind(conversation)
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let assessment: Option<String> = r.try_get("assessment")?;
                Ok(StaffLineRecord {
                    id: r.try_get("id")?,
                    direction: r.try_get("direction")?,
                    author: r.try_get("author")?,
                    staff_name: r.try_get("staff_name")?,
                    body: r.try_get("body")?,
                    attachments: serde_json::from_str(&r.try_get::<String, _>("attachments")?)?,
                    at: from_millis(r.try_get("at")?),
                    assessment: assessment.map(|a| serde_json::from_str(&a)).transpose()?,
                })
            })
            .collect()
    }

    /// The complaints of a conversation, oldest first, with their handlers' names.
    pub async fn conversation_cases(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<CaseListing>, StoreError> {
        let rows = sqlx::query(
            "SELECT k.reference, k.stage, k.status, k.due_on, k.definition, k.answers, k.suggested_route, \
             k.handler_id, s.name AS handler FROM cases k LEFT JOIN staff s ON s.id = k.handler_id \
             WHERE k.conversation_id = $1 ORDER BY k.created_at",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseListing {
                    reference: r.try_get("reference")?,
                    stage: super::stage(r)?,
                    status: super::status(r)?,
                    due_on: r.try_get("due_on")?,
                    definition: r.try_get("definition")?,
                    answers: serde_json::from_str(&r.try_get::<String, _>("answers")?)?,
                    suggested_route: r.try_get("suggested_route")?,
                    handler_id: r.try_get("handler_id")?,
                    handler: r.try_get("handler")?,
                })
            })
            .collect()
    }

    /// The corrections of a conversation's assessments, oldest first, with who made each.
    pub async fn correction_lines(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<CorrectionLine>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.message_id, c.field, c.value, s.name FROM assessment_corrections c \
             JOIN messages m ON m.id = c.message_id JOIN staff s ON s.id = c.staff_id \
             WHERE m.conversation_id = $1 ORDER BY c.id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CorrectionLine {
                    message: r.try_get("message_id")?,
                    field: r.try_get("field")?,
                    value: r.try_get("value")?,
                    staff: r.try_get("name")?,
                })
            })
            .collect()
    }

    /// A conversation's internal notes, oldest first.
    pub async fn notes(&self, conversation: ConversationId) -> Result<Vec<Note>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.name, n.body, n.at FROM notes n JOIN staff s ON s.id = n.staff_id \
             WHERE n.conversation_id = $1 ORDER BY n.id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Note {
                    author: r.try_get("name")?,
                    body: r.try_get("body")?,
                    at: from_millis(r.try_get("at")?),
                })
            })
            .collect()
    }
}
