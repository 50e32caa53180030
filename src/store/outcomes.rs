//! Categories, outcomes and resident feedback (issue 12): a complaint's category as suggested
//! and as staff confirmed it, each stage's outcome and compensation, and the resident's
//! satisfaction with how the complaint was handled, asked once after it closes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::{Record, Store, StoreError, Value, from_millis, millis};
use crate::core::ids::{ConversationId, StaffId, Stage};
use crate::core::outcome::{Outcome, Pence};

/// What staff recorded of a complaint's handling, and what the resident said of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseHandling {
    pub reference: String,
    /// The category the engine suggested when the complaint opened (a key).
    pub suggested_category: Option<String>,
    /// The category staff confirmed or chose (a key), by whom and when.
    pub category: Option<String>,
    pub category_by: Option<String>,
    pub category_at: Option<DateTime<Utc>>,
    /// The outcome of each stage responded to, in stage order.
    pub outcomes: Vec<StageOutcome>,
    /// The resident's feedback, once asked.
    pub feedback: Option<Feedback>,
}

/// What a stage's response decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageOutcome {
    pub stage: Stage,
    pub outcome: Outcome,
    pub compensation: Pence,
    /// Who sent the response, by name.
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// The resident's satisfaction with how a closed complaint was handled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feedback {
    pub asked_at: DateTime<Utc>,
    /// 1 (very dissatisfied) to 5 (very satisfied).
    pub score: Option<u8>,
    pub comment: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// The resident chose not to answer.
    pub skipped_at: Option<DateTime<Utc>>,
}

impl Store {
    /// The handling of every complaint of a conversation, in the order they were opened.
    pub async fn case_handling(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<CaseHandling>, StoreError> {
        let cases = sqlx::query(
            "SELECT c.reference, k.suggested, k.category, k.confirmed_at, s.name AS confirmed_by \
             FROM cases c LEFT JOIN case_categories k ON k.case_reference = c.reference \
             LEFT JOIN staff s ON s.id = k.confirmed_by \
             WHERE c.conversation_id = $1 ORDER BY c.created_at, c.reference",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(cases.len());
        for r in &cases {
            out.push(CaseHandling {
                reference: r.try_get("reference")?,
                suggested_category: r.try_get("suggested")?,
                category: r.try_get("category")?,
                category_by: r.try_get("confirmed_by")?,
                category_at: r
                    .try_get::<Option<i64>, _>("confirmed_at")?
                    .map(from_millis),
                outcomes: Vec::new(),
                feedback: None,
            });
        }
        let outcomes = sqlx::query(
            "SELECT o.case_reference, o.stage, o.outcome, o.compensation_pence, o.recorded_at, \
             s.name FROM case_outcomes o JOIN cases c ON c.reference = o.case_reference \
             JOIN staff s ON s.id = o.recorded_by \
             WHERE c.conversation_id = $1 ORDER BY o.case_reference, o.stage",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        for r in &outcomes {
            let reference: String = r.try_get("case_reference")?;
            let outcome = stage_outcome(r)?;
            if let Some(case) = out.iter_mut().find(|c| c.reference == reference) {
                case.outcomes.push(StageOutcome {
                    recorded_by: r.try_get("name")?,
                    recorded_at: from_millis(r.try_get("recorded_at")?),
                    ..outcome
                });
            }
        }
        let feedback = sqlx::query(
            "SELECT case_reference, asked_at, score, comment, answered_at, skipped_at \
             FROM case_feedback WHERE conversation_id = $1",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        for r in &feedback {
            let reference: String = r.try_get("case_reference")?;
            if let Some(case) = out.iter_mut().find(|c| c.reference == reference) {
                let moment = |column: &str| -> Result<Option<DateTime<Utc>>, StoreError> {
                    Ok(r.try_get::<Option<i64>, _>(column)?.map(from_millis))
                };
                case.feedback = Some(Feedback {
                    asked_at: from_millis(r.try_get("asked_at")?),
                    score: score(r.try_get("score")?),
                    comment: r.try_get("comment")?,
                    answered_at: moment("answered_at")?,
                    skipped_at: moment("skipped_at")?,
                });
            }
        }
        Ok(out)
    }

    /// Whether the resident was already asked for feedback on this complaint.
    pub async fn feedback_asked(&self, reference: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 AS asked FROM case_feedback WHERE case_reference = $1")
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}

/// A stage's outcome as a row of `case_outcomes` has it (stage, outcome, compensation); who
/// and when are the caller's to fill in.
pub(super) fn stage_outcome(row: &sqlx::any::AnyRow) -> Result<StageOutcome, StoreError> {
    let outcome: String = row.try_get("outcome")?;
    let pence: i64 = row.try_get("compensation_pence")?;
    Ok(StageOutcome {
        stage: super::stage(row)?,
        outcome: outcome
            .parse()
            .map_err(|e: crate::core::outcome::UnknownOutcome| {
                StoreError::Database(sqlx::Error::Decode(e.into()))
            })?,
        // The table refuses a negative amount.
        compensation: Pence(u64::try_from(pence).unwrap_or(0)),
        recorded_by: String::new(),
        recorded_at: DateTime::<Utc>::UNIX_EPOCH,
    })
}

/// A stored score, 1 to 5 (the table refuses any other).
pub(super) fn score(stored: Option<i64>) -> Option<u8> {
    stored.and_then(|s| u8::try_from(s).ok())
}

impl Record<'_> {
    /// The category the engine suggested for a complaint just opened (in this transaction).
    pub fn suggest_category(&mut self, reference: &str, suggested: Option<&str>) {
        self.queue(
            "INSERT INTO case_categories (case_reference, suggested) VALUES ($1, $2)",
            vec![
                Value::Text(reference.to_owned()),
                Value::MaybeText(suggested.map(str::to_owned)),
            ],
        );
    }

    /// The category staff confirmed or chose for a complaint.
    pub fn confirm_category(
        &mut self,
        reference: &str,
        category: &str,
        staff: StaffId,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO case_categories (case_reference, category, confirmed_by, confirmed_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (case_reference) DO UPDATE SET \
             category = $2, confirmed_by = $3, confirmed_at = $4",
            vec![
                Value::Text(reference.to_owned()),
                Value::Text(category.to_owned()),
                Value::Int(staff.0),
                Value::Int(millis(now)),
            ],
        );
    }

    /// What a stage's response decided, recorded with the response.
    pub fn case_outcome(
        &mut self,
        reference: &str,
        stage: Stage,
        (outcome, compensation): (Outcome, Pence),
        staff: StaffId,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO case_outcomes (case_reference, stage, outcome, compensation_pence, \
             recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                Value::Text(reference.to_owned()),
                Value::Int(i64::from(stage)),
                Value::Text(outcome.as_str().to_owned()),
                // At most £1,000,000 (`Pence::parse`): far inside an i64.
                Value::Int(i64::try_from(compensation.0).unwrap_or(i64::MAX)),
                Value::Int(staff.0),
                Value::Int(millis(now)),
            ],
        );
    }

    /// Marks the resident asked for feedback on a complaint: true the first time, false if
    /// they were asked before, so nobody is asked twice about the same complaint, even when
    /// two closes race.
    pub async fn ask_feedback(
        &mut self,
        reference: &str,
        conversation: ConversationId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let done = sqlx::query(
            "INSERT INTO case_feedback (case_reference, conversation_id, asked_at) \
             VALUES ($1, $2, $3) ON CONFLICT (case_reference) DO NOTHING",
        )
        .bind(reference)
        .bind(conversation)
        .bind(millis(now))
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks the resident asked, as part of a step of their conversation that asked the
    /// question left pending when the complaint closed; nothing if they were asked before.
    pub fn feedback_asked_now(
        &mut self,
        reference: &str,
        conversation: ConversationId,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO case_feedback (case_reference, conversation_id, asked_at) \
             VALUES ($1, $2, $3) ON CONFLICT (case_reference) DO NOTHING",
            vec![
                Value::Text(reference.to_owned()),
                Value::Int(conversation.0),
                Value::Int(millis(now)),
            ],
        );
    }

    /// The resident's score, 1 to 5, kept only as the first answer to the question asked.
    pub fn feedback_score(&mut self, reference: &str, score: u8, now: DateTime<Utc>) {
        self.queue(
            "UPDATE case_feedback SET score = $1, answered_at = $2 \
             WHERE case_reference = $3 AND score IS NULL AND skipped_at IS NULL",
            vec![
                Value::Int(i64::from(score)),
                Value::Int(millis(now)),
                Value::Text(reference.to_owned()),
            ],
        );
    }

    /// The resident's comment after their score, once.
    pub fn feedback_comment(&mut self, reference: &str, comment: &str) {
        self.queue(
            "UPDATE case_feedback SET comment = $1 \
             WHERE case_reference = $2 AND score IS NOT NULL AND comment IS NULL",
            vec![
                Value::Text(comment.to_owned()),
                Value::Text(reference.to_owned()),
            ],
        );
    }

    /// The resident chose not to answer.
    pub fn feedback_skipped(&mut self, reference: &str, now: DateTime<Utc>) {
        self.queue(
            "UPDATE case_feedback SET skipped_at = $1 \
             WHERE case_reference = $2 AND score IS NULL AND skipped_at IS NULL",
            vec![Value::Int(millis(now)), Value::Text(reference.to_owned())],
        );
    }
}
