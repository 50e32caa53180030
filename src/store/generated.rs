//! Writes a planned year of complaints (`core::generated`) into the record: the rows the
//! service writes when a resident complains and staff work the complaint (a conversation,
//! the case, its `open_case`, `extension`, `stage1_response_sent`, `escalate`,
//! `exclusion_decision` and `stage2_response_sent` events, its category, outcomes and
//! feedback), many rows to a statement and all in one transaction, so 100,000 complaints
//! take seconds and a failure leaves nothing behind.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Utc};
use serde_json::json;
use sqlx::Row;

use super::{Store, StoreError, Value, bind, millis};
use crate::core::calendar::Calendar;
use crate::core::case::StageResponse;
use crate::core::dialog::{Effect, NewCase};
use crate::core::generated::{Plan, PlannedComplaint, PlannedStage};
use crate::core::ids::{StaffId, Stage};

/// Complaints written per round of statements: well inside SQLite's 32,766 and
/// PostgreSQL's 65,535 bound values per statement for every table.
const BATCH: usize = 500;

/// One table's rows, gathered for a multi-row INSERT.
struct Rows {
    table: &'static str,
    columns: &'static [&'static str],
    values: Vec<Value>,
}

impl Rows {
    fn new(table: &'static str, columns: &'static [&'static str]) -> Rows {
        Rows {
            table,
            columns,
            values: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.values.extend(row);
    }

    /// `INSERT INTO table (columns) VALUES ($1, ...), (...)`, with its values; None when
    /// there are no rows. Only this module's table and column names are written into it.
    fn statement(
        self,
        returning: &str,
    ) -> Option<sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>> {
        if self.values.is_empty() {
            return None;
        }
        let width = self.columns.len();
        let rows = self.values.len() / width;
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.table,
            self.columns.join(", ")
        );
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..width {
                if column > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", row * width + column + 1));
            }
            sql.push(')');
        }
        sql.push_str(returning);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in self.values {
            query = bind(query, value);
        }
        Some(query)
    }
}

impl Store {
    /// Writes `plan` into the record, as staff member `staff` working every complaint, in one
    /// transaction. The complaints take the next references the record would hand out
    /// (`C<year received>-<number>`); they are returned in the plan's order.
    pub async fn write_plan(
        &self,
        plan: &Plan,
        calendar: &Calendar,
        staff: StaffId,
    ) -> Result<Vec<String>, StoreError> {
        let mut record = self.begin().await?;
        let count = i64::try_from(plan.complaints.len()).unwrap_or(i64::MAX);
        let last: i64 = sqlx::query(
            "UPDATE counters SET value = value + $1 WHERE name = 'case_reference' RETURNING value",
        )
        .bind(count)
        .fetch_one(record.conn().await?)
        .await?
        .try_get("value")?;
        let first = last - count + 1;
        let references: Vec<String> = plan
            .complaints
            .iter()
            .zip(first..)
            .map(|(c, n)| format!("C{}-{n:05}", calendar.local_date(c.received_at).year()))
            .collect();
        for (batch, refs) in plan.complaints.chunks(BATCH).zip(references.chunks(BATCH)) {
            write_batch(&mut record, batch, refs, staff).await?;
        }
        record.commit().await?;
        Ok(references)
    }
}

/// One batch: the conversations first (their ids are the database's), then every other row.
async fn write_batch(
    record: &mut super::Record<'_>,
    complaints: &[PlannedComplaint],
    references: &[String],
    staff: StaffId,
) -> Result<(), StoreError> {
    let mut conversations = Rows::new(
        "conversations",
        &[
            "channel",
            "chat",
            "state",
            "locale",
            "created_at",
            "updated_at",
        ],
    );
    for (c, reference) in complaints.iter().zip(references) {
        let last = c.closed_at.unwrap_or(c.received_at);
        conversations.push(vec![
            Value::Text(c.channel.to_owned()),
            Value::Text(chat(reference)),
            Value::Text("{}".to_owned()),
            Value::Text("en".to_owned()),
            Value::Int(millis(c.received_at)),
            Value::Int(millis(last)),
        ]);
    }
    let mut ids: HashMap<String, i64> = HashMap::new();
    if let Some(query) = conversations.statement(" RETURNING id, chat") {
        for row in query.fetch_all(record.conn().await?).await? {
            ids.insert(row.try_get("chat")?, row.try_get("id")?);
        }
    }
    let mut cases = Rows::new(
        "cases",
        &[
            "reference",
            "conversation_id",
            "stage",
            "status",
            "received_at",
            "acknowledged_on",
            "due_on",
            "definition",
            "answers",
            "suggested_route",
            "created_at",
            "updated_at",
            "closed_at",
        ],
    );
    let mut events = Rows::new(
        "events",
        &["conversation_id", "case_reference", "kind", "detail", "at"],
    );
    let mut categories = Rows::new(
        "case_categories",
        &[
            "case_reference",
            "suggested",
            "category",
            "confirmed_by",
            "confirmed_at",
        ],
    );
    let mut outcomes = Rows::new(
        "case_outcomes",
        &[
            "case_reference",
            "stage",
            "outcome",
            "compensation_pence",
            "recorded_by",
            "recorded_at",
        ],
    );
    let mut feedback = Rows::new(
        "case_feedback",
        &[
            "case_reference",
            "conversation_id",
            "asked_at",
            "score",
            "answered_at",
        ],
    );
    for (c, reference) in complaints.iter().zip(references) {
        let Some(&conversation) = ids.get(&chat(reference)) else {
            // Every conversation of the batch was just inserted: one missing is the database
            // failing to return what it wrote.
            return Err(StoreError::Database(sqlx::Error::RowNotFound));
        };
        cases.push(case_row(c, reference, conversation));
        // In the order they happened: the reports take the first response and the latest
        // extension at each stage.
        let mut happened: BTreeMap<(DateTime<Utc>, usize), (&str, serde_json::Value)> =
            BTreeMap::new();
        let mut happen = |at: DateTime<Utc>, kind: &'static str, detail: serde_json::Value| {
            let n = happened.len();
            happened.insert((at, n), (kind, detail));
        };
        let definition = definition(c, reference);
        let open = Effect::OpenCase(NewCase {
            reference: reference.clone(),
            received_at: c.received_at,
            acknowledged_on: c.stage1.acknowledged_on,
            due_on: c.stage1.due_on,
            definition: definition.clone(),
            answers: BTreeMap::new(),
            suggested_route: c.suggested_route,
        });
        happen(c.received_at, "open_case", serde_json::to_value(&open)?);
        stage_events(&mut happen, &c.stage1, Stage::One, &definition, staff)?;
        if let Some(escalation) = &c.stage2 {
            let effect = Effect::Escalate {
                reference: reference.clone(),
                requested_at: escalation.requested_at,
                acknowledged_on: escalation.stage.acknowledged_on,
                due_on: escalation.stage.due_on,
            };
            happen(
                escalation.requested_at,
                "escalate",
                serde_json::to_value(&effect)?,
            );
            stage_events(
                &mut happen,
                &escalation.stage,
                Stage::Two,
                &definition,
                staff,
            )?;
        }
        if let Some(exclusion) = &c.exclusion {
            happen(
                exclusion.at,
                "exclusion_decision",
                json!({
                    "accepted": true,
                    "reasons": format!("Not taken on: {}.", exclusion.route.as_str()),
                    "staff": staff,
                }),
            );
        }
        for ((at, _), (kind, detail)) in happened {
            events.push(vec![
                Value::Int(conversation),
                Value::Text(reference.clone()),
                Value::Text(kind.to_owned()),
                Value::Text(detail.to_string()),
                Value::Int(millis(at)),
            ]);
        }
        let (category, confirmed_at) = match &c.category.confirmed {
            Some((key, at)) => (Some(key.clone()), Some(millis(*at))),
            None => (None, None),
        };
        categories.push(vec![
            Value::Text(reference.clone()),
            Value::MaybeText(c.category.suggested.clone()),
            Value::MaybeText(category),
            Value::MaybeInt(confirmed_at.map(|_| staff.0)),
            Value::MaybeInt(confirmed_at),
        ]);
        let stages = [
            Some((Stage::One, &c.stage1)),
            c.stage2.as_ref().map(|e| (Stage::Two, &e.stage)),
        ];
        for (stage, planned) in stages.into_iter().flatten() {
            if let Some(response) = planned.response
                && let Some(outcome) = response.outcome
            {
                outcomes.push(vec![
                    Value::Text(reference.clone()),
                    Value::Int(i64::from(stage)),
                    Value::Text(outcome.as_str().to_owned()),
                    Value::Int(i64::try_from(response.compensation.0).unwrap_or(i64::MAX)),
                    Value::Int(staff.0),
                    Value::Int(millis(response.at)),
                ]);
            }
        }
        if let Some(asked) = &c.feedback {
            feedback.push(vec![
                Value::Text(reference.clone()),
                Value::Int(conversation),
                Value::Int(millis(asked.asked_at)),
                Value::MaybeInt(asked.score.map(|(s, _)| i64::from(s))),
                Value::MaybeInt(asked.score.map(|(_, at)| millis(at))),
            ]);
        }
    }
    for rows in [cases, events, categories, outcomes, feedback] {
        if let Some(query) = rows.statement("") {
            query.execute(record.conn().await?).await?;
        }
    }
    Ok(())
}

/// The chat a generated complaint's conversation is on: one resident per complaint.
fn chat(reference: &str) -> String {
    format!("generated-{reference}")
}

/// A complaint definition with no one's words in it (5.6).
fn definition(c: &PlannedComplaint, reference: &str) -> String {
    let about = c
        .category
        .confirmed
        .as_ref()
        .map(|(k, _)| k.as_str())
        .or(c.category.suggested.as_deref())
        .unwrap_or("the service");
    format!("Generated complaint {reference} about {about}.")
}

/// The case row as the record holds it now: its stage, status and dates.
fn case_row(c: &PlannedComplaint, reference: &str, conversation: i64) -> Vec<Value> {
    let (stage, now) = match &c.stage2 {
        Some(escalation) => (2, &escalation.stage),
        None => (1, &c.stage1),
    };
    let excluded = c.exclusion.is_some();
    let status = if c.closed_at.is_some() {
        "closed"
    } else if excluded {
        "excluded"
    } else if now.response.is_some() {
        "responded"
    } else {
        "acknowledged"
    };
    // A route suggested and not yet decided is still awaiting staff (2.5).
    let route = match (c.suggested_route, excluded, &c.stage2) {
        (Some(route), false, None) => Some(route.as_str().to_owned()),
        _ => None,
    };
    let updated = [
        Some(c.received_at),
        c.stage1.response.map(|r| r.at),
        c.stage2.map(|e| e.requested_at),
        c.stage2.and_then(|e| e.stage.response.map(|r| r.at)),
        c.exclusion.map(|e| e.at),
        c.closed_at,
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(c.received_at);
    vec![
        Value::Text(reference.to_owned()),
        Value::Int(conversation),
        Value::Int(stage),
        Value::Text(status.to_owned()),
        Value::Int(millis(c.received_at)),
        Value::Text(now.acknowledged_on.to_string()),
        Value::Text(now.due_now().to_string()),
        Value::Text(definition(c, reference)),
        Value::Text("{}".to_owned()),
        Value::MaybeText(route),
        Value::Int(millis(c.received_at)),
        Value::Int(millis(updated)),
        Value::MaybeInt(c.closed_at.map(millis)),
    ]
}

/// A stage's extension and response events, with the details the service records.
fn stage_events(
    happen: &mut impl FnMut(DateTime<Utc>, &'static str, serde_json::Value),
    planned: &PlannedStage,
    stage: Stage,
    definition: &str,
    staff: StaffId,
) -> Result<(), StoreError> {
    if let Some(extension) = planned.extension {
        happen(
            extension.at,
            "extension",
            json!({
                "stage": stage,
                "from": planned.due_on,
                "to": extension.to,
                "working_days": extension.working_days,
                "reason": "More time to inspect the repair.",
                "staff": staff,
            }),
        );
    }
    if let Some(response) = planned.response {
        let written = StageResponse {
            stage: stage.number(),
            definition: definition.to_owned(),
            decision: "Decided on each part of the complaint.".to_owned(),
            reasons: "The repair records and the inspection.".to_owned(),
            remedy: "None".to_owned(),
            outstanding_actions: "None".to_owned(),
            outcome: response.outcome,
            compensation: response.compensation,
        };
        let kind = match stage {
            Stage::One => "stage1_response_sent",
            Stage::Two => "stage2_response_sent",
        };
        happen(
            response.at,
            kind,
            json!({ "response": serde_json::to_value(&written)?, "staff": staff }),
        );
    }
    Ok(())
}
