//! The record of case work: the complaint definition as staff revise it (5.6), who handles a
//! complaint (6.13), remedies and outstanding actions (6.9, 6.19), and copies by email for
//! residents who asked for replies by email (consent and privacy: see [`crate::code`]).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::Row;

use super::{Record, Store, StoreError, Value, from_millis, millis};
use crate::core::ids::{ActionId, ConversationId, StaffId, Stage};

/// A remedy offered or an action promised on a complaint.
#[derive(Debug, Clone, Serialize)]
pub struct CaseAction {
    pub id: ActionId,
    pub case_reference: String,
    /// `remedy` or `action`.
    pub kind: String,
    pub description: String,
    pub due_on: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
}

/// The complaint a remedy or action belongs to, and the complaint's conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionCase {
    pub case_reference: String,
    pub conversation: ConversationId,
}

/// An outstanding action whose promised date has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueAction {
    pub id: ActionId,
    pub case_reference: String,
    pub conversation: ConversationId,
    pub description: String,
    /// The date it was promised by (YYYY-MM-DD).
    pub due_on: String,
}

/// A copy by email of a message to a resident, and how its sending went.
#[derive(Debug, Clone, Serialize)]
pub struct ResidentEmail {
    pub id: i64,
    pub conversation_id: ConversationId,
    pub case_reference: Option<String>,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl Store {
    /// Where a complaint's resident asked for replies: `(contact, detail)`, from their answers
    /// (`contact` is `chat`, `email`, `phone` or `letter`).
    pub async fn case_contact(
        &self,
        reference: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query("SELECT answers FROM cases WHERE reference = $1")
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let answers: serde_json::Value =
            serde_json::from_str(&row.try_get::<String, _>("answers")?)
                .unwrap_or(serde_json::Value::Null);
        let contact = answers["contact"].as_str().unwrap_or("chat").to_owned();
        let detail = answers["contact_detail"].as_str().unwrap_or("").to_owned();
        Ok(Some((contact, detail)))
    }

    /// Who handles a complaint now, if someone was named.
    pub async fn case_handler(&self, reference: &str) -> Result<Option<StaffId>, StoreError> {
        let row = sqlx::query("SELECT handler_id FROM cases WHERE reference = $1")
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(r.try_get("handler_id")?),
            None => Ok(None),
        }
    }

    /// Everyone who handled a complaint at stage 1: whoever was named its handler and whoever
    /// sent its stage 1 response. None of them may handle stage 2 (6.13).
    pub async fn stage_one_handlers(&self, reference: &str) -> Result<Vec<StaffId>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, detail FROM events WHERE case_reference = $1 \
             AND kind IN ('handler_assigned', 'stage1_response_sent') ORDER BY id",
        )
        .bind(reference)
        .fetch_all(&self.pool)
        .await?;
        let mut handlers = Vec::new();
        for r in rows {
            let kind: String = r.try_get("kind")?;
            let detail: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>("detail")?)?;
            let at_stage_one =
                kind == "stage1_response_sent" || detail["stage"].as_i64() == Some(1);
            let who = if kind == "handler_assigned" {
                detail["handler"].as_i64()
            } else {
                detail["staff"].as_i64()
            }
            .map(StaffId);
            if let (true, Some(who)) = (at_stage_one, who)
                && !handlers.contains(&who)
            {
                handlers.push(who);
            }
        }
        Ok(handlers)
    }

    /// The remedies and actions recorded on a conversation's complaints, oldest first.
    pub async fn case_actions(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<CaseAction>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.case_reference, a.kind, a.description, a.due_on, a.created_at, \
             a.done_at, s.name AS created_by, d.name AS done_by \
             FROM case_actions a JOIN cases c ON c.reference = a.case_reference \
             JOIN staff s ON s.id = a.created_by LEFT JOIN staff d ON d.id = a.done_by \
             WHERE c.conversation_id = $1 ORDER BY a.id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseAction {
                    id: r.try_get("id")?,
                    case_reference: r.try_get("case_reference")?,
                    kind: r.try_get("kind")?,
                    description: r.try_get("description")?,
                    due_on: r.try_get("due_on")?,
                    created_by: r.try_get("created_by")?,
                    created_at: from_millis(r.try_get("created_at")?),
                    done_at: r.try_get::<Option<i64>, _>("done_at")?.map(from_millis),
                    done_by: r.try_get("done_by")?,
                })
            })
            .collect()
    }

    /// The copies by email sent, or waiting to be sent, for a conversation.
    pub async fn resident_emails(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<ResidentEmail>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, conversation_id, case_reference, to_address, subject, body, created_at, attempts, sent_at, \
             last_error FROM resident_emails WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(resident_email).collect()
    }

    /// Copies by email due to be tried at `now`.
    pub async fn due_resident_emails(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<ResidentEmail>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, conversation_id, case_reference, to_address, subject, body, created_at, attempts, sent_at, \
             last_error FROM resident_emails WHERE sent_at IS NULL AND next_attempt_at <= $1 \
             ORDER BY id LIMIT 100",
        )
        .bind(millis(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(resident_email).collect()
    }

    /// Claims a copy by email until `until`, so that another replica does not send it too;
    /// false if another has it.
    pub async fn claim_resident_email(
        &self,
        id: i64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE resident_emails SET next_attempt_at = $1 \
             WHERE id = $2 AND sent_at IS NULL AND next_attempt_at <= $3",
        )
        .bind(millis(until))
        .bind(id)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The outcome of one try at sending a copy by email: sent, or failed with the reason and
    /// the time of the next try.
    pub async fn resident_email_tried(
        &self,
        id: i64,
        now: DateTime<Utc>,
        failure: Option<(&str, DateTime<Utc>)>,
    ) -> Result<(), StoreError> {
        match failure {
            None => {
                sqlx::query(
                    "UPDATE resident_emails SET sent_at = $1, attempts = attempts + 1, \
                     last_error = NULL WHERE id = $2",
                )
                .bind(millis(now))
                .bind(id)
                .execute(&self.pool)
                .await?;
            }
            Some((error, next)) => {
                sqlx::query(
                    "UPDATE resident_emails SET attempts = attempts + 1, last_error = $1, \
                     next_attempt_at = $2 WHERE id = $3",
                )
                .bind(error)
                .bind(millis(next))
                .bind(id)
                .execute(&self.pool)
                .await?;
            }
        }
        Ok(())
    }

    /// Outstanding actions whose promised date has passed, on complaints not erased.
    pub async fn overdue_actions(
        &self,
        today: NaiveDate,
    ) -> Result<Vec<OverdueAction>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.case_reference, c.conversation_id, a.description, a.due_on \
             FROM case_actions a JOIN cases c ON c.reference = a.case_reference \
             WHERE a.kind = 'action' AND a.done_at IS NULL AND a.due_on IS NOT NULL \
             AND a.due_on < $1 AND c.erased_at IS NULL",
        )
        .bind(today.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OverdueAction {
                    id: r.try_get("id")?,
                    case_reference: r.try_get("case_reference")?,
                    conversation: r.try_get("conversation_id")?,
                    description: r.try_get("description")?,
                    due_on: r.try_get("due_on")?,
                })
            })
            .collect()
    }

    /// The complaint a remedy or action was recorded on, with the complaint's conversation.
    pub async fn action_case(&self, action: ActionId) -> Result<Option<ActionCase>, StoreError> {
        let row = sqlx::query(
            "SELECT a.case_reference, c.conversation_id FROM case_actions a \
             JOIN cases c ON c.reference = a.case_reference WHERE a.id = $1",
        )
        .bind(action)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(ActionCase {
                case_reference: r.try_get("case_reference")?,
                conversation: r.try_get("conversation_id")?,
            })),
            None => Ok(None),
        }
    }

    /// When the next copy by email not yet sent is to be tried (Unix milliseconds), even one
    /// already due.
    pub async fn next_resident_email(&self) -> Result<Option<i64>, StoreError> {
        let row =
            sqlx::query("SELECT MIN(next_attempt_at) FROM resident_emails WHERE sent_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }
}

fn resident_email(r: &sqlx::any::AnyRow) -> Result<ResidentEmail, StoreError> {
    Ok(ResidentEmail {
        id: r.try_get("id")?,
        conversation_id: r.try_get("conversation_id")?,
        case_reference: r.try_get("case_reference")?,
        to_address: r.try_get("to_address")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        created_at: from_millis(r.try_get("created_at")?),
        attempts: r.try_get("attempts")?,
        sent_at: r.try_get::<Option<i64>, _>("sent_at")?.map(from_millis),
        last_error: r.try_get("last_error")?,
    })
}

impl Record<'_> {
    /// Staff revised the complaint definition (5.6).
    pub fn case_definition(&mut self, reference: &str, definition: &str, now: DateTime<Utc>) {
        self.queue(
            "UPDATE cases SET definition = $1, updated_at = $2 WHERE reference = $3",
            vec![
                Value::Text(definition.to_owned()),
                Value::Int(millis(now)),
                Value::Text(reference.to_owned()),
            ],
        );
    }

    /// Names who handles a complaint at `stage`; false if the complaint is no longer at that
    /// stage awaiting a response.
    pub async fn case_handler(
        &mut self,
        reference: &str,
        stage: Stage,
        handler: StaffId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let done = sqlx::query(
            "UPDATE cases SET handler_id = $1, updated_at = $2 \
             WHERE reference = $3 AND stage = $4 AND status = 'acknowledged'",
        )
        .bind(handler)
        .bind(millis(now))
        .bind(reference)
        .bind(i64::from(stage))
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a remedy or an outstanding action on a complaint.
    pub fn case_action(
        &mut self,
        reference: &str,
        kind: &str,
        description: &str,
        due_on: Option<NaiveDate>,
        staff: StaffId,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO case_actions (case_reference, kind, description, due_on, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                Value::Text(reference.to_owned()),
                Value::Text(kind.to_owned()),
                Value::Text(description.to_owned()),
                Value::MaybeText(due_on.map(|d| d.to_string())),
                Value::Int(staff.0),
                Value::Int(millis(now)),
            ],
        );
    }

    /// Marks an outstanding action done: its complaint's reference, or None if it was not an
    /// outstanding action.
    pub async fn action_done(
        &mut self,
        action: ActionId,
        staff: StaffId,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        self.flush().await?;
        let row = sqlx::query(
            "SELECT case_reference FROM case_actions WHERE id = $1 AND kind = 'action' AND done_at IS NULL",
        )
        .bind(action)
        .fetch_optional(self.conn().await?)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let done = sqlx::query(
            "UPDATE case_actions SET done_at = $1, done_by = $2 WHERE id = $3 AND done_at IS NULL",
        )
        .bind(millis(now))
        .bind(staff)
        .bind(action)
        .execute(self.conn().await?)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        Ok(Some(row.try_get("case_reference")?))
    }

    /// Queues a copy by email of a message to a resident, sent by the scheduler.
    pub fn email_resident(
        &mut self,
        conversation: ConversationId,
        reference: Option<&str>,
        to: &str,
        subject: &str,
        body: &str,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO resident_emails (conversation_id, case_reference, to_address, subject, body, \
             created_at, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $6)",
            vec![
                Value::Int(conversation.0),
                Value::MaybeText(reference.map(str::to_owned)),
                Value::Text(to.to_owned()),
                Value::Text(subject.to_owned()),
                Value::Text(body.to_owned()),
                Value::Int(millis(now)),
            ],
        );
    }
}

/// The email address in what a resident typed when asked where to reply ("it's
/// jo@example.org thanks"), if there is one that looks deliverable.
pub fn email_address_in(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '(' | ')'))
        .map(|w| w.trim_matches(|c: char| matches!(c, '.' | '"' | '\'' | ':')))
        .find(|w| {
            let Some((local, domain)) = w.split_once('@') else {
                return false;
            };
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && w.parse::<lettre::Address>().is_ok()
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::email_address_in;

    #[test]
    fn finds_the_address_in_what_the_resident_typed() {
        assert_eq!(
            email_address_in("it's jo.bloggs@example.org thanks."),
            Some("jo.bloggs@example.org".to_owned())
        );
        assert_eq!(
            email_address_in("<sam@flat4.co.uk>"),
            Some("sam@flat4.co.uk".to_owned())
        );
        assert_eq!(email_address_in("07700 900123"), None);
        assert_eq!(email_address_in("at sign @ nowhere"), None);
        assert_eq!(email_address_in("me@localhost"), None);
    }
}
