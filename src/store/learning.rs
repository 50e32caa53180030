//! Learning from complaints (Code section 9): what the landlord learned from each complaint
//! and what it changed, and the register of service improvements with the complaints they came
//! from. Each change is audited in the same transaction. Nothing here holds the resident's
//! words or name, so the retention purge leaves it: it is the landlord's account of its
//! service, and the annual report (8.1(d)) needs it after the conversations are erased.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Record, Store, StoreError, Value, from_millis, millis};
use crate::core::ids::{ConversationId, StaffId};
use crate::core::report::{ImprovementFacts, LearningRecorded};

/// What the landlord learned from one complaint and what it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseLearning {
    pub reference: String,
    pub learned: String,
    pub changed: String,
    /// Who wrote the current wording, by name, and when.
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A service improvement's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ImprovementId(pub i64);

impl fmt::Display for ImprovementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ImprovementId {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<ImprovementId, Self::Err> {
        s.parse().map(ImprovementId)
    }
}

/// A service improvement in the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Improvement {
    pub id: ImprovementId,
    pub title: String,
    pub what_changed: String,
    /// A person's name or a team.
    pub owner: String,
    pub agreed_on: NaiveDate,
    pub target_on: NaiveDate,
    pub completed_on: Option<NaiveDate>,
    /// The complaints it came from, by reference.
    pub complaints: Vec<String>,
    /// Who made the last change, by name, and when.
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// An improvement as it is added or edited (already checked by the service).
#[derive(Debug, Clone, Copy)]
pub struct ImprovementFields<'a> {
    pub title: &'a str,
    pub what_changed: &'a str,
    pub owner: &'a str,
    pub agreed_on: NaiveDate,
    pub target_on: NaiveDate,
    pub completed_on: Option<NaiveDate>,
    pub complaints: &'a [String],
}

/// What became of a change to the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterChanged {
    Done(ImprovementId),
    NoSuchImprovement,
    /// A complaint it names is not in the record: nothing written.
    NoSuchComplaint(String),
}

impl Store {
    /// Records (or rewrites) what was learned from a complaint and what changed, as `by`,
    /// audited; the complaint's conversation, or None if there is no such complaint.
    pub async fn record_learning(
        &self,
        by: StaffId,
        reference: &str,
        learned: &str,
        changed: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ConversationId>, StoreError> {
        let mut record = self.begin().await?;
        let Some(conversation) = conversation_of(&mut record, reference).await? else {
            return Ok(None);
        };
        let existing =
            sqlx::query("SELECT 1 AS found FROM case_learning WHERE case_reference = $1")
                .bind(reference)
                .fetch_optional(record.conn().await?)
                .await?;
        let values = vec![
            Value::Text(learned.to_owned()),
            Value::Text(changed.to_owned()),
            Value::Int(by.0),
            Value::Int(millis(now)),
            Value::Text(reference.to_owned()),
        ];
        if existing.is_some() {
            // The moment it was first recorded stays: it decides the year the learning counts
            // in, so correcting a typo after the year ends never moves it into the next
            // year's published report. Each edit is in the audit log.
            record.queue(
                "UPDATE case_learning SET learned = $1, changed = $2, recorded_by = $3 \
                 WHERE case_reference = $4",
                vec![
                    Value::Text(learned.to_owned()),
                    Value::Text(changed.to_owned()),
                    Value::Int(by.0),
                    Value::Text(reference.to_owned()),
                ],
            );
        } else {
            record.queue(
                "INSERT INTO case_learning (learned, changed, recorded_by, recorded_at, \
                 case_reference) VALUES ($1, $2, $3, $4, $5)",
                values,
            );
        }
        record.audit(
            by,
            "learning_recorded",
            Some(conversation),
            Some(reference),
            &serde_json::json!({ "rewritten": existing.is_some() }),
            now,
        );
        record.commit().await?;
        Ok(Some(conversation))
    }

    /// The learning recorded on a conversation's complaints.
    pub async fn case_learning(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<CaseLearning>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.case_reference, l.learned, l.changed, l.recorded_at, s.name \
             FROM case_learning l JOIN cases c ON c.reference = l.case_reference \
             JOIN staff s ON s.id = l.recorded_by WHERE c.conversation_id = $1",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseLearning {
                    reference: r.try_get("case_reference")?,
                    learned: r.try_get("learned")?,
                    changed: r.try_get("changed")?,
                    by: r.try_get("name")?,
                    at: from_millis(r.try_get("recorded_at")?),
                })
            })
            .collect()
    }

    /// The register: open improvements first, the earliest target first; then completed
    /// ones, the latest first.
    pub async fn improvements(&self) -> Result<Vec<Improvement>, StoreError> {
        self.improvements_where(None).await
    }

    /// The improvements that came from a conversation's complaints.
    pub async fn improvements_of(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<Improvement>, StoreError> {
        self.improvements_where(Some(conversation)).await
    }

    async fn improvements_where(
        &self,
        conversation: Option<ConversationId>,
    ) -> Result<Vec<Improvement>, StoreError> {
        let rows = match conversation {
            None => {
                sqlx::query(
                    "SELECT i.id, i.title, i.what_changed, i.owner, i.agreed_on, i.target_on, \
                     i.completed_on, i.updated_at, s.name FROM improvements i \
                     JOIN staff s ON s.id = i.updated_by",
                )
                .fetch_all(&self.pool)
                .await?
            }
            Some(conversation) => {
                sqlx::query(
                    "SELECT i.id, i.title, i.what_changed, i.owner, i.agreed_on, i.target_on, \
                     i.completed_on, i.updated_at, s.name FROM improvements i \
                     JOIN staff s ON s.id = i.updated_by WHERE i.id IN (SELECT x.improvement_id \
                     FROM improvement_sources x JOIN cases c ON c.reference = x.case_reference \
                     WHERE c.conversation_id = $1)",
                )
                .bind(conversation)
                .fetch_all(&self.pool)
                .await?
            }
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(Improvement {
                id: ImprovementId(r.try_get("id")?),
                title: r.try_get("title")?,
                what_changed: r.try_get("what_changed")?,
                owner: r.try_get("owner")?,
                agreed_on: day(r, "agreed_on")?,
                target_on: day(r, "target_on")?,
                completed_on: maybe_day(r, "completed_on")?,
                complaints: Vec::new(),
                updated_by: r.try_get("name")?,
                updated_at: from_millis(r.try_get("updated_at")?),
            });
        }
        let sources = sqlx::query(
            "SELECT improvement_id, case_reference FROM improvement_sources \
             ORDER BY case_reference",
        )
        .fetch_all(&self.pool)
        .await?;
        for r in &sources {
            let id = ImprovementId(r.try_get("improvement_id")?);
            if let Some(i) = out.iter_mut().find(|i| i.id == id) {
                i.complaints.push(r.try_get("case_reference")?);
            }
        }
        out.sort_by(|a, b| match (a.completed_on, b.completed_on) {
            (None, None) => (a.target_on, a.id).cmp(&(b.target_on, b.id)),
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => (y, b.id).cmp(&(x, a.id)),
        });
        Ok(out)
    }

    /// Adds an improvement to the register as `by`, audited.
    pub async fn add_improvement(
        &self,
        by: StaffId,
        fields: &ImprovementFields<'_>,
        now: DateTime<Utc>,
    ) -> Result<RegisterChanged, StoreError> {
        let mut record = self.begin().await?;
        if let Some(missing) = missing_complaint(&mut record, fields.complaints).await? {
            return Ok(RegisterChanged::NoSuchComplaint(missing));
        }
        record.flush().await?;
        let row = sqlx::query(
            "INSERT INTO improvements (title, what_changed, owner, agreed_on, target_on, \
             completed_on, created_by, created_at, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $8) RETURNING id",
        )
        .bind(fields.title)
        .bind(fields.what_changed)
        .bind(fields.owner)
        .bind(fields.agreed_on.to_string())
        .bind(fields.target_on.to_string())
        .bind(fields.completed_on.map(|d| d.to_string()))
        .bind(by.0)
        .bind(millis(now))
        .fetch_one(record.conn().await?)
        .await?;
        let id = ImprovementId(row.try_get("id")?);
        sources(&mut record, id, fields.complaints);
        audit(&mut record, by, "improvement_added", id, fields, now);
        record.commit().await?;
        Ok(RegisterChanged::Done(id))
    }

    /// Rewrites an improvement as `by`, audited: its fields and the complaints it came from.
    pub async fn edit_improvement(
        &self,
        by: StaffId,
        id: ImprovementId,
        fields: &ImprovementFields<'_>,
        now: DateTime<Utc>,
    ) -> Result<RegisterChanged, StoreError> {
        let mut record = self.begin().await?;
        let found = sqlx::query("SELECT completed_on FROM improvements WHERE id = $1")
            .bind(id.0)
            .fetch_optional(record.conn().await?)
            .await?;
        let Some(found) = found else {
            return Ok(RegisterChanged::NoSuchImprovement);
        };
        let was_completed = found
            .try_get::<Option<String>, _>("completed_on")?
            .is_some();
        if let Some(missing) = missing_complaint(&mut record, fields.complaints).await? {
            return Ok(RegisterChanged::NoSuchComplaint(missing));
        }
        record.queue(
            "UPDATE improvements SET title = $1, what_changed = $2, owner = $3, agreed_on = $4, \
             target_on = $5, completed_on = $6, updated_by = $7, updated_at = $8 WHERE id = $9",
            vec![
                Value::Text(fields.title.to_owned()),
                Value::Text(fields.what_changed.to_owned()),
                Value::Text(fields.owner.to_owned()),
                Value::Text(fields.agreed_on.to_string()),
                Value::Text(fields.target_on.to_string()),
                Value::MaybeText(fields.completed_on.map(|d| d.to_string())),
                Value::Int(by.0),
                Value::Int(millis(now)),
                Value::Int(id.0),
            ],
        );
        record.queue(
            "DELETE FROM improvement_sources WHERE improvement_id = $1",
            vec![Value::Int(id.0)],
        );
        sources(&mut record, id, fields.complaints);
        let action = if !was_completed && fields.completed_on.is_some() {
            "improvement_completed"
        } else {
            "improvement_edited"
        };
        audit(&mut record, by, action, id, fields, now);
        record.commit().await?;
        Ok(RegisterChanged::Done(id))
    }

    /// The facts the learning summary counts: learning recorded between `from` and `to`
    /// (moments; the summary decides by local day), and the whole register.
    pub async fn learning_facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<LearningRecorded>, Vec<ImprovementFacts>), StoreError> {
        let rows = sqlx::query(
            "SELECT case_reference, recorded_at FROM case_learning \
             WHERE recorded_at >= $1 AND recorded_at < $2",
        )
        .bind(millis(from))
        .bind(millis(to))
        .fetch_all(&self.pool)
        .await?;
        let learning = rows
            .iter()
            .map(|r| {
                Ok(LearningRecorded {
                    reference: r.try_get("case_reference")?,
                    recorded_at: from_millis(r.try_get("recorded_at")?),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let rows = sqlx::query(
            "SELECT title, agreed_on, target_on, completed_on FROM improvements ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let improvements = rows
            .iter()
            .map(|r| {
                Ok(ImprovementFacts {
                    title: r.try_get("title")?,
                    agreed_on: day(r, "agreed_on")?,
                    target_on: day(r, "target_on")?,
                    completed_on: maybe_day(r, "completed_on")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((learning, improvements))
    }
}

/// The conversation a complaint belongs to, read in the change's transaction.
pub(super) async fn conversation_of(
    record: &mut Record<'_>,
    reference: &str,
) -> Result<Option<ConversationId>, StoreError> {
    let row = sqlx::query("SELECT conversation_id FROM cases WHERE reference = $1")
        .bind(reference)
        .fetch_optional(record.conn().await?)
        .await?;
    row.map(|r| Ok(ConversationId(r.try_get("conversation_id")?)))
        .transpose()
}

/// The first of `references` that is not a complaint in the record.
async fn missing_complaint(
    record: &mut Record<'_>,
    references: &[String],
) -> Result<Option<String>, StoreError> {
    for reference in references {
        if conversation_of(record, reference).await?.is_none() {
            return Ok(Some(reference.clone()));
        }
    }
    Ok(None)
}

fn sources(record: &mut Record<'_>, id: ImprovementId, complaints: &[String]) {
    for reference in complaints {
        record.queue(
            "INSERT INTO improvement_sources (improvement_id, case_reference) VALUES ($1, $2)",
            vec![Value::Int(id.0), Value::Text(reference.clone())],
        );
    }
}

fn audit(
    record: &mut Record<'_>,
    by: StaffId,
    action: &str,
    id: ImprovementId,
    fields: &ImprovementFields<'_>,
    now: DateTime<Utc>,
) {
    record.audit(
        by,
        action,
        None,
        None,
        &serde_json::json!({
            "improvement": id.0,
            "title": fields.title,
            "complaints": fields.complaints,
            "completed_on": fields.completed_on.map(|d| d.to_string()),
        }),
        now,
    );
}

/// A day kept as text (YYYY-MM-DD).
pub(super) fn day(row: &sqlx::any::AnyRow, column: &str) -> Result<NaiveDate, StoreError> {
    let text: String = row.try_get(column)?;
    parse_day(column, &text)
}

pub(super) fn maybe_day(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> Result<Option<NaiveDate>, StoreError> {
    row.try_get::<Option<String>, _>(column)?
        .map(|text| parse_day(column, &text))
        .transpose()
}

fn parse_day(column: &str, text: &str) -> Result<NaiveDate, StoreError> {
    text.parse().map_err(|_| {
        StoreError::Database(sqlx::Error::Decode(
            format!("a stored {column} {text:?} is not YYYY-MM-DD").into(),
        ))
    })
}
