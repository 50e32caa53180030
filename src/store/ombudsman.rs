//! Complaints taken to the Housing Ombudsman: the referral, the Ombudsman's reference, its
//! determination and findings, and its orders and recommendations with their due and
//! completion dates (8.1(c), 9.7(c)). Each change is audited in the same transaction. These
//! are about the landlord's handling, not the resident's words, so the retention purge leaves
//! them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::Row;

use super::learning::{conversation_of, day, maybe_day};
use super::{Record, Store, StoreError, Value, from_millis, millis};
use crate::core::ids::{ConversationId, StaffId};
use crate::core::report::{Finding, OmbudsmanFacts, OrderFacts, OrderKind};

/// A complaint at the Ombudsman, with its orders and recommendations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OmbudsmanCase {
    pub reference: String,
    pub referred_on: NaiveDate,
    pub ombudsman_reference: String,
    pub determined_on: Option<NaiveDate>,
    pub findings: Vec<Finding>,
    pub orders: Vec<OmbudsmanOrder>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// One order or recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OmbudsmanOrder {
    pub id: i64,
    pub kind: OrderKind,
    pub description: String,
    pub due_on: NaiveDate,
    pub completed_on: Option<NaiveDate>,
    pub completed_by: Option<String>,
}

/// A complaint's Ombudsman case as staff record it (already checked by the service).
#[derive(Debug, Clone, Copy)]
pub struct OmbudsmanFields<'a> {
    pub referred_on: NaiveDate,
    pub ombudsman_reference: &'a str,
    pub determined_on: Option<NaiveDate>,
    pub findings: &'a [Finding],
}

/// What became of a change to a complaint's Ombudsman case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OmbudsmanChanged {
    /// Done: the complaint's conversation.
    Done(ConversationId),
    NoSuchComplaint,
    /// The complaint has not been recorded as referred to the Ombudsman.
    NotReferred,
    /// Orders need a determination, and a determination with orders cannot be taken away.
    NotDetermined,
    NoSuchOrder,
    AlreadyCompleted,
}

impl Store {
    /// Records (or rewrites) a complaint's referral to the Ombudsman and its determination,
    /// as `by`, audited.
    pub async fn record_ombudsman_case(
        &self,
        by: StaffId,
        reference: &str,
        fields: &OmbudsmanFields<'_>,
        now: DateTime<Utc>,
    ) -> Result<OmbudsmanChanged, StoreError> {
        let mut record = self.begin().await?;
        let Some(conversation) = conversation_of(&mut record, reference).await? else {
            return Ok(OmbudsmanChanged::NoSuchComplaint);
        };
        let referred = referred(&mut record, reference).await?;
        if fields.determined_on.is_none() && orders_on(&mut record, reference).await? > 0 {
            return Ok(OmbudsmanChanged::NotDetermined);
        }
        let findings = fields
            .findings
            .iter()
            .map(|f| f.key())
            .collect::<Vec<_>>()
            .join(",");
        let values = vec![
            Value::Text(fields.referred_on.to_string()),
            Value::Text(fields.ombudsman_reference.to_owned()),
            Value::MaybeText(fields.determined_on.map(|d| d.to_string())),
            Value::Text(findings),
            Value::Int(by.0),
            Value::Int(millis(now)),
            Value::Text(reference.to_owned()),
        ];
        if referred.is_some() {
            record.queue(
                "UPDATE ombudsman_cases SET referred_on = $1, ombudsman_reference = $2, \
                 determined_on = $3, findings = $4, updated_by = $5, updated_at = $6 \
                 WHERE case_reference = $7",
                values,
            );
        } else {
            record.queue(
                "INSERT INTO ombudsman_cases (referred_on, ombudsman_reference, determined_on, \
                 findings, updated_by, updated_at, case_reference) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                values,
            );
        }
        record.audit(
            by,
            "ombudsman_case_recorded",
            Some(conversation),
            Some(reference),
            &serde_json::json!({
                "ombudsman_reference": fields.ombudsman_reference,
                "referred_on": fields.referred_on.to_string(),
                "determined_on": fields.determined_on.map(|d| d.to_string()),
                "findings": fields.findings.iter().map(|f| f.key()).collect::<Vec<_>>(),
            }),
            now,
        );
        record.commit().await?;
        Ok(OmbudsmanChanged::Done(conversation))
    }

    /// Adds an order or recommendation to a determined complaint, as `by`, audited.
    pub async fn add_ombudsman_order(
        &self,
        by: StaffId,
        reference: &str,
        kind: OrderKind,
        description: &str,
        due_on: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<OmbudsmanChanged, StoreError> {
        let mut record = self.begin().await?;
        let Some(conversation) = conversation_of(&mut record, reference).await? else {
            return Ok(OmbudsmanChanged::NoSuchComplaint);
        };
        match referred(&mut record, reference).await? {
            None => return Ok(OmbudsmanChanged::NotReferred),
            Some(None) => return Ok(OmbudsmanChanged::NotDetermined),
            Some(Some(_)) => {}
        }
        record.queue(
            "INSERT INTO ombudsman_orders (case_reference, kind, description, due_on, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                Value::Text(reference.to_owned()),
                Value::Text(kind.key().to_owned()),
                Value::Text(description.to_owned()),
                Value::Text(due_on.to_string()),
                Value::Int(by.0),
                Value::Int(millis(now)),
            ],
        );
        record.audit(
            by,
            "ombudsman_order_added",
            Some(conversation),
            Some(reference),
            &serde_json::json!({ "kind": kind.key(), "due_on": due_on.to_string() }),
            now,
        );
        record.commit().await?;
        Ok(OmbudsmanChanged::Done(conversation))
    }

    /// Marks an order or recommendation completed on `completed_on`, as `by`, audited.
    pub async fn complete_ombudsman_order(
        &self,
        by: StaffId,
        id: i64,
        completed_on: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<OmbudsmanChanged, StoreError> {
        let mut record = self.begin().await?;
        let row =
            sqlx::query("SELECT case_reference, completed_on FROM ombudsman_orders WHERE id = $1")
                .bind(id)
                .fetch_optional(record.conn().await?)
                .await?;
        let Some(row) = row else {
            return Ok(OmbudsmanChanged::NoSuchOrder);
        };
        if row.try_get::<Option<String>, _>("completed_on")?.is_some() {
            return Ok(OmbudsmanChanged::AlreadyCompleted);
        }
        let reference: String = row.try_get("case_reference")?;
        let Some(conversation) = conversation_of(&mut record, &reference).await? else {
            return Ok(OmbudsmanChanged::NoSuchComplaint);
        };
        record.queue(
            "UPDATE ombudsman_orders SET completed_on = $1, completed_by = $2 WHERE id = $3",
            vec![
                Value::Text(completed_on.to_string()),
                Value::Int(by.0),
                Value::Int(id),
            ],
        );
        record.audit(
            by,
            "ombudsman_order_completed",
            Some(conversation),
            Some(&reference),
            &serde_json::json!({ "order": id, "completed_on": completed_on.to_string() }),
            now,
        );
        record.commit().await?;
        Ok(OmbudsmanChanged::Done(conversation))
    }

    /// The determination date of an order's complaint, if the order exists: a completion is
    /// checked against it.
    pub async fn ombudsman_order_determined_on(
        &self,
        id: i64,
    ) -> Result<Option<Option<NaiveDate>>, StoreError> {
        let row = sqlx::query(
            "SELECT o.determined_on FROM ombudsman_orders x \
             JOIN ombudsman_cases o ON o.case_reference = x.case_reference WHERE x.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| maybe_day(&r, "determined_on")).transpose()
    }

    /// The Ombudsman cases of a conversation's complaints.
    pub async fn ombudsman_cases_of(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<OmbudsmanCase>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.case_reference, o.referred_on, o.ombudsman_reference, o.determined_on, \
             o.findings, o.updated_at, s.name FROM ombudsman_cases o \
             JOIN cases c ON c.reference = o.case_reference JOIN staff s ON s.id = o.updated_by \
             WHERE c.conversation_id = $1 ORDER BY o.case_reference",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        let mut cases = rows
            .iter()
            .map(|r| {
                Ok(OmbudsmanCase {
                    reference: r.try_get("case_reference")?,
                    referred_on: day(r, "referred_on")?,
                    ombudsman_reference: r.try_get("ombudsman_reference")?,
                    determined_on: maybe_day(r, "determined_on")?,
                    findings: findings(&r.try_get::<String, _>("findings")?)?,
                    orders: Vec::new(),
                    updated_by: r.try_get("name")?,
                    updated_at: from_millis(r.try_get("updated_at")?),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let rows = sqlx::query(
            "SELECT x.id, x.case_reference, x.kind, x.description, x.due_on, x.completed_on, \
             s.name FROM ombudsman_orders x JOIN cases c ON c.reference = x.case_reference \
             LEFT JOIN staff s ON s.id = x.completed_by WHERE c.conversation_id = $1 \
             ORDER BY x.id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let reference: String = r.try_get("case_reference")?;
            if let Some(case) = cases.iter_mut().find(|c| c.reference == reference) {
                case.orders.push(OmbudsmanOrder {
                    id: r.try_get("id")?,
                    kind: kind(&r.try_get::<String, _>("kind")?)?,
                    description: r.try_get("description")?,
                    due_on: day(r, "due_on")?,
                    completed_on: maybe_day(r, "completed_on")?,
                    completed_by: r.try_get("name")?,
                });
            }
        }
        Ok(cases)
    }

    /// Every complaint at the Ombudsman with its orders, as the learning summary counts
    /// them (a landlord has a handful a year, so all are read).
    pub async fn ombudsman_facts(&self) -> Result<Vec<OmbudsmanFacts>, StoreError> {
        let rows = sqlx::query(
            "SELECT case_reference, referred_on, determined_on, findings FROM ombudsman_cases \
             ORDER BY case_reference",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut facts = rows
            .iter()
            .map(|r| {
                Ok(OmbudsmanFacts {
                    reference: r.try_get("case_reference")?,
                    referred_on: day(r, "referred_on")?,
                    determined_on: maybe_day(r, "determined_on")?,
                    findings: findings(&r.try_get::<String, _>("findings")?)?,
                    orders: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let rows = sqlx::query(
            "SELECT case_reference, kind, due_on, completed_on FROM ombudsman_orders ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let reference: String = r.try_get("case_reference")?;
            if let Some(case) = facts.iter_mut().find(|c| c.reference == reference) {
                case.orders.push(OrderFacts {
                    kind: kind(&r.try_get::<String, _>("kind")?)?,
                    due_on: day(r, "due_on")?,
                    completed_on: maybe_day(r, "completed_on")?,
                });
            }
        }
        Ok(facts)
    }
}

/// Whether the complaint is at the Ombudsman: None if not, else its determination date.
async fn referred(
    record: &mut Record<'_>,
    reference: &str,
) -> Result<Option<Option<NaiveDate>>, StoreError> {
    let row = sqlx::query("SELECT determined_on FROM ombudsman_cases WHERE case_reference = $1")
        .bind(reference)
        .fetch_optional(record.conn().await?)
        .await?;
    row.map(|r| maybe_day(&r, "determined_on")).transpose()
}

async fn orders_on(record: &mut Record<'_>, reference: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM ombudsman_orders WHERE case_reference = $1")
        .bind(reference)
        .fetch_one(record.conn().await?)
        .await?;
    Ok(row.try_get("n")?)
}

fn undecodable(what: String) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(what.into()))
}

fn findings(text: &str) -> Result<Vec<Finding>, StoreError> {
    text.split(',')
        .filter(|k| !k.is_empty())
        .map(|k| {
            k.parse()
                .map_err(|_| undecodable(format!("a stored Ombudsman finding {k:?} is unknown")))
        })
        .collect()
}

fn kind(text: &str) -> Result<OrderKind, StoreError> {
    text.parse()
        .map_err(|_| undecodable(format!("a stored Ombudsman order kind {text:?} is unknown")))
}
