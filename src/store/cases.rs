//! Complaints: opened at stage 1 under a reference never used twice, moved to stage 2 (6.11,
//! 6.14), responded to, extended, routed (2.5) and closed; and the full record of one (5.12).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::{Conversation, Record, Store, StoreError, Value, from_millis, millis};
use crate::core::dialog::NewCase;
use crate::core::ids::{CaseStatus, ConversationId, Stage};

/// A complaint's stage, status, response date and definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDefinition {
    pub stage: Stage,
    pub status: CaseStatus,
    /// The date the response is due (YYYY-MM-DD).
    pub due_on: String,
    pub definition: String,
}

/// Where a complaint stands, with its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseStanding {
    pub conversation: ConversationId,
    pub stage: Stage,
    pub status: CaseStatus,
    /// The date the response is due (YYYY-MM-DD).
    pub due_on: String,
}

/// A complaint awaiting its response, whose deadline the scheduler watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCase {
    pub reference: String,
    pub conversation: ConversationId,
    pub stage: Stage,
    /// The date the response is due (YYYY-MM-DD).
    pub due_on: String,
}

impl Store {
    /// A complaint: its stage, status, due date and definition.
    pub async fn case(&self, reference: &str) -> Result<Option<CaseDefinition>, StoreError> {
        let row =
            sqlx::query("SELECT stage, status, due_on, definition FROM cases WHERE reference = $1")
                .bind(reference)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(r) => Ok(Some(CaseDefinition {
                stage: super::stage(&r)?,
                status: super::status(&r)?,
                due_on: r.try_get("due_on")?,
                definition: r.try_get("definition")?,
            })),
            None => Ok(None),
        }
    }

    /// A complaint with its conversation: where it stands.
    pub async fn case_of(&self, reference: &str) -> Result<Option<CaseStanding>, StoreError> {
        let row = sqlx::query(
            "SELECT conversation_id, stage, status, due_on FROM cases WHERE reference = $1",
        )
        .bind(reference)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(CaseStanding {
                conversation: ConversationId(r.try_get("conversation_id")?),
                stage: super::stage(&r)?,
                status: super::status(&r)?,
                due_on: r.try_get("due_on")?,
            })),
            None => Ok(None),
        }
    }

    /// Working days a complaint's stage has been extended by so far.
    pub async fn extended_days(&self, reference: &str, stage: Stage) -> Result<u32, StoreError> {
        let rows = sqlx::query(
            "SELECT detail FROM events WHERE case_reference = $1 AND kind = 'extension'",
        )
        .bind(reference)
        .fetch_all(&self.pool)
        .await?;
        let mut total = 0u32;
        for r in rows {
            let detail: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>("detail")?)?;
            if detail["stage"].as_u64() == Some(u64::from(stage.number())) {
                let days = detail["working_days"].as_u64().unwrap_or(0);
                total = total.saturating_add(u32::try_from(days).unwrap_or(u32::MAX));
            }
        }
        Ok(total)
    }

    /// Complaints awaiting a response (status `acknowledged`), whose deadlines the scheduler
    /// watches.
    pub async fn awaiting_response(&self) -> Result<Vec<OpenCase>, StoreError> {
        let rows = sqlx::query(
            "SELECT reference, conversation_id, stage, due_on FROM cases WHERE status = 'acknowledged'",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut open = Vec::with_capacity(rows.len());
        for r in &rows {
            let reference: String = r.try_get("reference")?;
            // One row with a stage the Code does not have (a hand edit, an import) must not
            // stop the scheduler's run for every other complaint, its escalations and its
            // retention: that row is named in the log and left for a person to put right.
            let stage = match super::stage(r) {
                Ok(stage) => stage,
                Err(e) => {
                    tracing::error!(%reference, error = %e, "a complaint's stored stage is not 1 or 2; its deadlines are not watched until it is corrected");
                    continue;
                }
            };
            open.push(OpenCase {
                reference,
                conversation: ConversationId(r.try_get("conversation_id")?),
                stage,
                due_on: r.try_get("due_on")?,
            });
        }
        Ok(open)
    }

    /// The full record of a complaint (Code 5.12): the case, every message both ways with the
    /// assessment of each inbound one, every event and alert of its conversation.
    pub async fn export_case(
        &self,
        reference: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let Some(case) = sqlx::query(
            "SELECT reference, conversation_id, stage, status, received_at, acknowledged_on, due_on, \
             definition, answers, suggested_route, created_at, updated_at FROM cases WHERE reference = $1",
        )
        .bind(reference)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let conversation: ConversationId = case.try_get("conversation_id")?;
        let conv = sqlx::query("SELECT channel, chat, locale FROM conversations WHERE id = $1")
            .bind(conversation)
            .fetch_one(&self.pool)
            .await?;
        let mut messages = Vec::new();
        for m in self.transcript(conversation).await? {
            let assessment = if m.direction == "in" {
                self.assessment_of(m.id).await?
            } else {
                None
            };
            let mut value = serde_json::to_value(&m)?;
            value["assessment"] = assessment.unwrap_or(serde_json::Value::Null);
            messages.push(value);
        }
        let events = sqlx::query(
            "SELECT kind, case_reference, detail, at FROM events WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(serde_json::json!({
                "kind": r.try_get::<String, _>("kind")?,
                "case_reference": r.try_get::<Option<String>, _>("case_reference")?,
                "detail": serde_json::from_str::<serde_json::Value>(&r.try_get::<String, _>("detail")?)?,
                "at": from_millis(r.try_get("at")?),
            }))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let alerts = sqlx::query(
            "SELECT kind, urgent, detail, at, acknowledged_at FROM alerts WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(serde_json::json!({
                "kind": r.try_get::<String, _>("kind")?,
                "urgent": r.try_get::<i64, _>("urgent")? != 0,
                "detail": r.try_get::<String, _>("detail")?,
                "at": from_millis(r.try_get("at")?),
                "acknowledged_at": r.try_get::<Option<i64>, _>("acknowledged_at")?.map(from_millis),
            }))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(serde_json::json!({
            "case": {
                "reference": case.try_get::<String, _>("reference")?,
                "stage": case.try_get::<i64, _>("stage")?,
                "status": case.try_get::<String, _>("status")?,
                "received_at": from_millis(case.try_get("received_at")?),
                "acknowledged_on": case.try_get::<String, _>("acknowledged_on")?,
                "due_on": case.try_get::<String, _>("due_on")?,
                "definition": case.try_get::<String, _>("definition")?,
                "answers": serde_json::from_str::<serde_json::Value>(&case.try_get::<String, _>("answers")?)?,
                "suggested_route": case.try_get::<Option<String>, _>("suggested_route")?,
                "created_at": from_millis(case.try_get("created_at")?),
                "updated_at": from_millis(case.try_get("updated_at")?),
            },
            "conversation": {
                "channel": conv.try_get::<String, _>("channel")?,
                "chat": conv.try_get::<String, _>("chat")?,
                "locale": conv.try_get::<String, _>("locale")?,
            },
            "messages": messages,
            "events": events,
            "alerts": alerts,
            "remedies_and_actions": self.case_actions(conversation).await?
                .into_iter().filter(|a| a.case_reference == reference).collect::<Vec<_>>(),
            "emails": self.resident_emails(conversation).await?,
        })))
    }
}

impl Record<'_> {
    /// Hands out the reference for a new complaint: `C<year>-<number>`, never the same twice.
    pub async fn allocate_reference(&mut self, year: i32) -> Result<String, StoreError> {
        let row = sqlx::query(
            "UPDATE counters SET value = value + 1 WHERE name = 'case_reference' RETURNING value",
        )
        .fetch_one(self.conn().await?)
        .await?;
        let n: i64 = row.try_get("value")?;
        Ok(format!("C{year}-{n:05}"))
    }

    /// Opens a complaint at stage 1.
    pub fn open_case(
        &mut self,
        conversation: &Conversation,
        case: &NewCase,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.queue(
            "INSERT INTO cases (reference, conversation_id, stage, status, received_at, \
             acknowledged_on, due_on, definition, answers, suggested_route, created_at, updated_at) \
             VALUES ($1, $2, 1, 'acknowledged', $3, $4, $5, $6, $7, $8, $9, $9)",
            vec![
                Value::Text(case.reference.clone()),
                Value::Int(conversation.id.0),
                Value::Int(millis(case.received_at)),
                Value::Text(case.acknowledged_on.to_string()),
                Value::Text(case.due_on.to_string()),
                Value::Text(case.definition.clone()),
                Value::Text(serde_json::to_string(&case.answers)?),
                Value::MaybeText(case.suggested_route.map(|r| r.as_str().to_owned())),
                Value::Int(millis(now)),
            ],
        );
        Ok(())
    }

    /// Marks a complaint's stage responded, if it was awaiting its response: false when it
    /// was not (already responded, or at another stage), so a response is never sent twice.
    pub async fn case_responded(
        &mut self,
        reference: &str,
        stage: Stage,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let done = sqlx::query(
            "UPDATE cases SET status = 'responded', updated_at = $1 \
             WHERE reference = $2 AND stage = $3 AND status = 'acknowledged'",
        )
        .bind(millis(now))
        .bind(reference)
        .bind(i64::from(stage))
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves a complaint to stage 2 with its new dates (6.11, 6.14).
    pub fn escalate(
        &mut self,
        reference: &str,
        acknowledged_on: NaiveDate,
        due_on: NaiveDate,
        now: DateTime<Utc>,
    ) {
        self.queue(
            // Stage 2 starts with no handler: it must be someone other than the stage 1
            // handler (6.13), named by a manager or taken by whoever responds.
            // A closed stage 1 complaint is open again: the retention period (which runs from
            // closed_at) must not erase it while stage 2 is under way.
            "UPDATE cases SET stage = 2, status = 'acknowledged', acknowledged_on = $1, \
             due_on = $2, handler_id = NULL, closed_at = NULL, updated_at = $3 \
             WHERE reference = $4",
            vec![
                Value::Text(acknowledged_on.to_string()),
                Value::Text(due_on.to_string()),
                Value::Int(millis(now)),
                Value::Text(reference.to_owned()),
            ],
        );
    }

    /// Where a complaint stands: `acknowledged` (awaiting a response) or `responded`.
    pub fn case_status(&mut self, reference: &str, status: CaseStatus, now: DateTime<Utc>) {
        self.queue(
            "UPDATE cases SET status = $1, updated_at = $2 WHERE reference = $3",
            vec![
                Value::Text(status.as_str().to_owned()),
                Value::Int(millis(now)),
                Value::Text(reference.to_owned()),
            ],
        );
    }

    /// A complaint's response date, moved by an extension.
    pub fn case_due(&mut self, reference: &str, due_on: NaiveDate, now: DateTime<Utc>) {
        self.queue(
            "UPDATE cases SET due_on = $1, updated_at = $2 WHERE reference = $3",
            vec![
                Value::Text(due_on.to_string()),
                Value::Int(millis(now)),
                Value::Text(reference.to_owned()),
            ],
        );
    }

    /// Decides the route the engine suggested (2.5): the complaint is excluded, or taken on
    /// as a complaint after all. False, with nothing changed, when no route was suggested or
    /// the complaint is no longer awaiting a response.
    pub async fn decide_route(
        &mut self,
        reference: &str,
        exclude: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let status = if exclude {
            CaseStatus::Excluded
        } else {
            CaseStatus::Acknowledged
        };
        let done = sqlx::query(
            "UPDATE cases SET suggested_route = NULL, status = $1, updated_at = $2 \
             WHERE reference = $3 AND suggested_route IS NOT NULL AND status = 'acknowledged'",
        )
        .bind(status.as_str())
        .bind(millis(now))
        .bind(reference)
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Closes a complaint that has had its final word (a response or an exclusion decision);
    /// false if it was not in that state.
    pub async fn close_case(
        &mut self,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let done = sqlx::query(
            "UPDATE cases SET status = 'closed', closed_at = $1, updated_at = $1 \
             WHERE reference = $2 AND status IN ('responded', 'excluded')",
        )
        .bind(millis(now))
        .bind(reference)
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
