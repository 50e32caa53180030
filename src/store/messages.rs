//! Messages both ways: a resident's as it arrived (recorded once per platform message id),
//! the policy engine's assessment of it and staff corrections of that assessment, and each
//! reply with its outbox row; the transcript and a chat's lines as they are read back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Backend, Conversation, Record, Store, StoreError, Value, from_millis, millis};
use crate::core::ids::{ConversationId, MessageId, StaffId};
use crate::core::policy::Assessment;
use crate::core::policy::train::{CorpusContext, Correction};

/// A message as it arrived from a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbound {
    pub channel: String,
    pub chat: String,
    /// The platform's own id for the message, when it has one.
    pub platform_message_id: Option<String>,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub at: DateTime<Utc>,
}

/// A file, photo or voice note a resident sent, as the platform identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub kind: String,
    pub platform_file_id: String,
    pub name: Option<String>,
    pub size: Option<u64>,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: MessageId,
    pub direction: String,
    pub author: String,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub at: DateTime<Utc>,
}

/// A line of a conversation as a channel shows it: the message, and for a reply, what was
/// sent (text and choices) and whether it has been delivered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatLine {
    pub message: Message,
    pub outbox: Option<i64>,
    pub payload: Option<serde_json::Value>,
    pub sent: bool,
}

/// A resident message staff corrected the assessment of.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrectedMessage {
    pub message: MessageId,
    pub text: String,
    /// What was known of the case when the message was assessed.
    pub context: CorpusContext,
    pub assessed_risks: std::collections::BTreeSet<crate::core::policy::Risk>,
    pub corrections: Vec<Correction>,
}

impl Store {
    /// Every message of a conversation, oldest first.
    pub async fn transcript(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<Message>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, direction, author, body, attachments, at FROM messages \
             WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Message {
                    id: r.try_get("id")?,
                    direction: r.try_get("direction")?,
                    author: r.try_get("author")?,
                    body: r.try_get("body")?,
                    attachments: serde_json::from_str(&r.try_get::<String, _>("attachments")?)?,
                    at: from_millis(r.try_get("at")?),
                })
            })
            .collect()
    }

    /// The stored assessment of an inbound message, as JSON.
    pub async fn assessment_of(
        &self,
        message: MessageId,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let row = sqlx::query("SELECT assessment FROM assessments WHERE message_id = $1")
            .bind(message)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some(serde_json::from_str(
                &r.try_get::<String, _>("assessment")?,
            )?)),
            None => Ok(None),
        }
    }

    /// The stored assessment of the latest version of the inbound message a platform knows
    /// by `platform_id` (edits are kept as `<id>@<when>`).
    pub async fn assessment_of_platform_message(
        &self,
        channel: &str,
        platform_id: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let row = sqlx::query(
            "SELECT a.assessment FROM messages m JOIN assessments a ON a.message_id = m.id \
             WHERE m.channel = $1 AND m.direction = 'in' \
             AND (m.platform_message_id = $2 OR m.platform_message_id LIKE $3) \
             ORDER BY m.id DESC LIMIT 1",
        )
        .bind(channel)
        .bind(platform_id)
        .bind(format!("{platform_id}@%"))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(serde_json::from_str(
                &r.try_get::<String, _>("assessment")?,
            )?)),
            None => Ok(None),
        }
    }

    /// Every message staff corrected, with its text, the risks it was assessed with and the
    /// corrections in the order they were made: the landlord's own labelled examples.
    pub async fn corrected_messages(&self) -> Result<Vec<CorrectedMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.message_id, m.body, a.assessment, c.field, c.value \
             FROM assessment_corrections c JOIN messages m ON m.id = c.message_id \
             JOIN assessments a ON a.message_id = c.message_id ORDER BY c.message_id, c.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<CorrectedMessage> = Vec::new();
        for r in &rows {
            let message: MessageId = r.try_get("message_id")?;
            let field: String = r.try_get("field")?;
            let value: String = r.try_get("value")?;
            let Some(correction) = Correction::parse(&field, &value) else {
                continue;
            };
            if out.last().is_none_or(|m| m.message != message) {
                let assessment: serde_json::Value =
                    serde_json::from_str(&r.try_get::<String, _>("assessment")?)?;
                let risks = assessment["risks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.as_str()?.parse().ok())
                    .collect();
                // Assessments recorded before the context was kept read as an empty case.
                let context = serde_json::from_value::<crate::core::policy::Context>(
                    assessment["context"].clone(),
                )
                .map(|c| CorpusContext::of(&c))
                .unwrap_or_default();
                out.push(CorrectedMessage {
                    message,
                    text: r.try_get("body")?,
                    context,
                    assessed_risks: risks,
                    corrections: Vec::new(),
                });
            }
            if let Some(last) = out.last_mut() {
                last.corrections.push(correction);
            }
        }
        Ok(out)
    }

    /// The lines of the conversation on (channel, chat) after message `after`, oldest first,
    /// each outbound one with what was sent (its text and choices) and its outbox row.
    pub async fn chat_lines(
        &self,
        channel: &str,
        chat: &str,
        after: MessageId,
    ) -> Result<Vec<ChatLine>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id, m.direction, m.author, m.body, m.attachments, m.at, \
                    o.id AS outbox_id, o.payload, o.sent_at \
             FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             LEFT JOIN outbox o ON o.message_id = m.id \
             WHERE c.channel = $1 AND c.chat = $2 AND m.id > $3 ORDER BY m.id",
        )
        .bind(channel)
        .bind(chat)
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let payload: Option<String> = r.try_get("payload")?;
                Ok(ChatLine {
                    message: Message {
                        id: r.try_get("id")?,
                        direction: r.try_get("direction")?,
                        author: r.try_get("author")?,
                        body: r.try_get("body")?,
                        attachments: serde_json::from_str(&r.try_get::<String, _>("attachments")?)?,
                        at: from_millis(r.try_get("at")?),
                    },
                    outbox: r.try_get("outbox_id")?,
                    payload: payload.map(|p| serde_json::from_str(&p)).transpose()?,
                    sent: r.try_get::<Option<i64>, _>("sent_at")?.is_some(),
                })
            })
            .collect()
    }

    /// The buttons the bot offered most recently in a conversation (its last few replies,
    /// newest first), as (key, label): a press is recorded with the label the bot showed,
    /// never one the client makes up.
    pub async fn offered_choices(
        &self,
        channel: &str,
        chat: &str,
    ) -> Result<Vec<crate::core::dialog::Choice>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.payload FROM outbox o \
             JOIN messages m ON m.id = o.message_id \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE c.channel = $1 AND c.chat = $2 ORDER BY o.id DESC LIMIT 5",
        )
        .bind(channel)
        .bind(chat)
        .fetch_all(&self.pool)
        .await?;
        let mut offered = Vec::new();
        for r in rows {
            let payload: String = r.try_get("payload")?;
            if let Ok(reply) = serde_json::from_str::<crate::core::dialog::Reply>(&payload) {
                offered.extend(reply.choices);
            }
        }
        Ok(offered)
    }

    /// The stored assessment (as JSON text) of the resident's message `message` in
    /// `conversation`; `None` if there is no such assessed inbound message there.
    pub async fn inbound_assessment(
        &self,
        conversation: ConversationId,
        message: MessageId,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT a.assessment FROM messages m JOIN assessments a ON a.message_id = m.id \
             WHERE m.id = $1 AND m.conversation_id = $2 AND m.direction = 'in'",
        )
        .bind(message)
        .bind(conversation)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get("assessment").map_err(StoreError::from))
            .transpose()
    }

    /// How many times staff marked a message as disclosing a vulnerability.
    pub async fn vulnerability_marks(&self, message: MessageId) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM assessment_corrections \
             WHERE message_id = $1 AND field = 'vulnerability' AND value = 'true'",
        )
        .bind(message)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }
}

impl Record<'_> {
    /// Records an inbound message. `None` when the platform delivered it before: it was
    /// recorded then, and nothing more must happen now.
    pub async fn inbound(
        &mut self,
        conversation: &Conversation,
        message: &Inbound,
    ) -> Result<Option<MessageId>, StoreError> {
        let row = sqlx::query(
            "INSERT INTO messages \
             (conversation_id, channel, direction, author, platform_message_id, body, attachments, at) \
             VALUES ($1, $2, 'in', 'resident', $3, $4, $5, $6) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(conversation.id)
        .bind(&message.channel)
        .bind(message.platform_message_id.as_deref())
        .bind(&message.body)
        .bind(serde_json::to_string(&message.attachments)?)
        .bind(millis(message.at))
        .fetch_optional(self.conn().await?)
        .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("id")?),
            None => None,
        })
    }

    /// Records the policy engine's assessment of an inbound message, with its reasons.
    pub fn assessment(
        &mut self,
        message: MessageId,
        assessment: &Assessment,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.queue(
            "INSERT INTO assessments (message_id, assessment, at) VALUES ($1, $2, $3)",
            vec![
                Value::Int(message.0),
                Value::Text(serde_json::to_string(assessment)?),
                Value::Int(millis(now)),
            ],
        );
        Ok(())
    }

    /// Records a reply (from the bot or a member of staff) and queues it for delivery.
    pub fn outbound(
        &mut self,
        conversation: &Conversation,
        author: &str,
        body: &str,
        payload: &serde_json::Value,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO messages \
             (conversation_id, channel, direction, author, platform_message_id, body, attachments, at) \
             VALUES ($1, $2, 'out', $3, NULL, $4, '[]', $5)",
            vec![
                Value::Int(conversation.id.0),
                Value::Text(conversation.channel.clone()),
                Value::Text(author.to_owned()),
                Value::Text(body.to_owned()),
                Value::Int(millis(now)),
            ],
        );
        // The outbox row points at the message just written, by this connection's last
        // inserted id (a single writer on SQLite; the session's sequence on PostgreSQL).
        let sql = match self.backend {
            Backend::Sqlite => {
                "INSERT INTO outbox (message_id, channel, chat, payload, attempts, next_attempt_at) \
                 VALUES (last_insert_rowid(), $1, $2, $3, 0, $4)"
            }
            Backend::Postgres => {
                "INSERT INTO outbox (message_id, channel, chat, payload, attempts, next_attempt_at) \
                 VALUES (currval(pg_get_serial_sequence('messages', 'id')), $1, $2, $3, 0, $4)"
            }
        };
        self.queue(
            sql,
            vec![
                Value::Text(conversation.channel.clone()),
                Value::Text(conversation.chat.clone()),
                Value::Text(payload.to_string()),
                Value::Int(millis(now)),
            ],
        );
    }

    /// A member of staff marks one field of a message's assessment wrong.
    pub fn correction(
        &mut self,
        message: MessageId,
        staff: StaffId,
        correction: &Correction,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO assessment_corrections (message_id, staff_id, field, value, at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                Value::Int(message.0),
                Value::Int(staff.0),
                Value::Text(correction.field().to_owned()),
                Value::Text(correction.value()),
                Value::Int(millis(now)),
            ],
        );
    }
}
