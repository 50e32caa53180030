//! The facts per complaint that the reports need (`core::report::ComplaintFacts`), read from
//! the cases and their events in two queries for a whole period, however many complaints it
//! holds (never a query per complaint).
//!
//! Where each fact is in the record:
//! - received: `cases.received_at`;
//! - stage 1 acknowledgement: the `open_case` event's `acknowledged_on` (the case row's
//!   `acknowledged_on` is replaced on escalation, so it is used only while at stage 1);
//! - stage 2 request and acknowledgement: the `escalate` event (`requested_at`,
//!   `acknowledged_on`; 6.11, 6.14);
//! - responses: the `stage1_response_sent` and `stage2_response_sent` events (6.9, 6.19);
//! - extensions: the `extension` events, the latest date per stage (6.4, 6.15);
//! - exclusions: an `exclusion_decision` event with `accepted` true (2.4), at stage 2 when
//!   it came after the stage 2 request;
//! - once the retention purge has erased a complaint's conversation, the same events, with
//!   only their dates, in `kept_events` (the case row, its category, outcomes and score
//!   stay where they were);
//! - category, outcomes, compensation and feedback: `case_categories` (the confirmed
//!   category, else the suggested one), `case_outcomes` (one row per stage responded to) and
//!   `case_feedback` (the score), in a third query.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::Row;

use super::{Store, StoreError, from_millis, millis};
use crate::core::calendar::Calendar;
use crate::core::ids::Stage;
use crate::core::report::{CaseWork, ComplaintFacts, Decided, Escalation, Period, StageFacts};

/// The complaints a period's figures can touch: received, escalated or answered between `$1`
/// and `$2` (Unix milliseconds). A macro so the queries stay literal SQL.
macro_rules! in_scope {
    () => {
        "SELECT reference FROM cases WHERE received_at >= $1 AND received_at < $2 \
         UNION SELECT case_reference FROM events WHERE case_reference IS NOT NULL \
         AND kind IN ('escalate', 'stage1_response_sent', 'stage2_response_sent') \
         AND at >= $1 AND at < $2 \
         UNION SELECT case_reference FROM kept_events \
         WHERE kind IN ('escalate', 'stage1_response_sent', 'stage2_response_sent') \
         AND at >= $1 AND at < $2"
    };
}

/// The fields of an event's detail the facts come from. Only these are kept: the rest of a
/// detail (an opened complaint's definition and answers) is skipped without being built.
/// Each is as the JSON has it, so a value of the wrong type is ignored, not an error.
#[derive(Default, serde::Deserialize)]
struct Detail {
    acknowledged_on: Option<serde_json::Value>,
    requested_at: Option<serde_json::Value>,
    to: Option<serde_json::Value>,
    stage: Option<serde_json::Value>,
    accepted: Option<serde_json::Value>,
}

impl Detail {
    fn text(&self, key: &str) -> Option<&str> {
        let value = match key {
            "acknowledged_on" => &self.acknowledged_on,
            "requested_at" => &self.requested_at,
            "to" => &self.to,
            _ => return None,
        };
        value.as_ref().and_then(|v| v.as_str())
    }

    fn date(&self, key: &str) -> Option<NaiveDate> {
        self.text(key).and_then(|d| d.parse().ok())
    }
}

/// One complaint's facts as they are gathered from its events.
struct Gathered {
    received_at: DateTime<Utc>,
    /// The case row's stage and acknowledgement date now.
    stage_now: i64,
    acknowledged_now: Option<NaiveDate>,
    opened_acknowledged: Option<NaiveDate>,
    escalated: Option<(DateTime<Utc>, Option<NaiveDate>)>,
    responded: [Option<DateTime<Utc>>; 2],
    extended_to: [Option<NaiveDate>; 2],
    excluded_at: Option<DateTime<Utc>>,
    work: CaseWork,
}

impl Store {
    /// Every complaint received, escalated or responded to between `first_day` and
    /// `last_day` (local days), with the facts CH01 and CH02 need. The window read is a day
    /// wider each side than the period, as UTC moments, because a local day in British
    /// Summer Time starts at 23:00 UTC the day before; the report decides, by the landlord's
    /// local day, which complaints fall in the period.
    ///
    /// The record keeps no tenure per complaint and no "withdrawn" status: every complaint
    /// has tenure `None` (counted in CH01 for all homes only) and `withdrawn: false`.
    pub async fn complaint_facts(
        &self,
        period: &Period,
        calendar: &Calendar,
    ) -> Result<Vec<ComplaintFacts>, StoreError> {
        let (first_day, last_day) = (period.first_day, period.last_day);
        let from = millis(first_day.and_time(chrono::NaiveTime::MIN).and_utc() - Duration::days(1));
        let to = millis(last_day.and_time(chrono::NaiveTime::MIN).and_utc() + Duration::days(2));
        let cases = sqlx::query(concat!(
            "SELECT c.reference, c.stage, c.received_at, c.acknowledged_on, k.suggested, \
             k.category, f.score FROM cases c \
             LEFT JOIN case_categories k ON k.case_reference = c.reference \
             LEFT JOIN case_feedback f ON f.case_reference = c.reference \
             WHERE c.reference IN (",
            in_scope!(),
            ")"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        // Looked up once per event row: hashed, then put in reference order once at the end.
        let mut gathered: HashMap<String, Gathered> = HashMap::with_capacity(cases.len());
        for row in &cases {
            let reference: String = row.try_get("reference")?;
            let acknowledged: String = row.try_get("acknowledged_on")?;
            let confirmed: Option<String> = row.try_get("category")?;
            let work = CaseWork {
                category_confirmed: confirmed.is_some(),
                category: confirmed.or(row.try_get("suggested")?),
                decided: [None, None],
                feedback_score: super::outcomes::score(row.try_get("score")?),
            };
            gathered.insert(
                reference,
                Gathered {
                    received_at: from_millis(row.try_get("received_at")?),
                    stage_now: row.try_get("stage")?,
                    acknowledged_now: acknowledged.parse().ok(),
                    opened_acknowledged: None,
                    escalated: None,
                    responded: [None, None],
                    extended_to: [None, None],
                    excluded_at: None,
                    work,
                },
            );
        }
        let outcomes = sqlx::query(concat!(
            "SELECT case_reference, stage, outcome, compensation_pence FROM case_outcomes \
             WHERE case_reference IN (",
            in_scope!(),
            ")"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        for row in &outcomes {
            let reference: String = row.try_get("case_reference")?;
            let decided = super::outcomes::stage_outcome(row)?;
            if let Some(facts) = gathered.get_mut(&reference) {
                facts.work.decided[usize::from(decided.stage.number() - 1)] = Some(Decided {
                    outcome: decided.outcome,
                    compensation: decided.compensation,
                });
            }
        }
        // A complaint's events are all in `events` or, once its conversation was erased,
        // all in `kept_events` (the purge moves them in one transaction): read from both,
        // each complaint's facts come from one place, and it is counted once. The scope is
        // worked out once for both halves (`MATERIALIZED`), and a response's detail (its
        // whole text) is not read: only when it was sent counts.
        let events = sqlx::query(concat!(
            "WITH scope AS MATERIALIZED (",
            in_scope!(),
            ") SELECT e.case_reference, e.kind, \
             CASE WHEN e.kind IN ('stage1_response_sent', 'stage2_response_sent') \
             THEN NULL ELSE e.detail END AS detail, e.at, e.id, 0 AS kept \
             FROM scope s JOIN events e ON e.case_reference = s.reference \
             WHERE e.case_reference IS NOT NULL \
             AND e.kind IN ('open_case', 'escalate', 'stage1_response_sent', \
             'stage2_response_sent', 'extension', 'exclusion_decision') \
             UNION ALL SELECT k.case_reference, k.kind, k.detail, k.at, k.id, 1 AS kept \
             FROM scope s JOIN kept_events k ON k.case_reference = s.reference"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        // In the order they happened within each table, `events` before `kept_events`: the
        // first response and the last escalation of a complaint are the ones that count.
        // Sorted here rather than by the database, which would sort the wide rows.
        let mut order = Vec::with_capacity(events.len());
        for (at, row) in events.iter().enumerate() {
            let kept: i64 = row.try_get("kept")?;
            let id: i64 = row.try_get("id")?;
            order.push((kept, id, at));
        }
        order.sort_unstable();
        for &(_, _, at) in &order {
            let row = &events[at];
            let reference: &str = row.try_get("case_reference")?;
            let Some(facts) = gathered.get_mut(reference) else {
                continue;
            };
            let kind: &str = row.try_get("kind")?;
            let at = from_millis(row.try_get("at")?);
            let detail: Detail = row
                .try_get::<Option<&str>, _>("detail")?
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_default();
            match kind {
                "open_case" => facts.opened_acknowledged = detail.date("acknowledged_on"),
                "escalate" => {
                    let requested = detail
                        .text("requested_at")
                        .and_then(|d| d.parse().ok())
                        .unwrap_or(at);
                    facts.escalated = Some((requested, detail.date("acknowledged_on")));
                }
                // The first response at each stage is the one the resident was sent; the
                // store refuses a second (`case_responded`).
                "stage1_response_sent" => {
                    facts.responded[0].get_or_insert(at);
                }
                "stage2_response_sent" => {
                    facts.responded[1].get_or_insert(at);
                }
                "extension" => {
                    let slot = match detail.stage.as_ref().and_then(|s| s.as_u64()) {
                        Some(2) => 1,
                        _ => 0,
                    };
                    // Extensions add up: the latest moves the date furthest.
                    if let Some(to) = detail.date("to") {
                        let current = &mut facts.extended_to[slot];
                        *current = Some(current.map_or(to, |c: NaiveDate| c.max(to)));
                    }
                }
                "exclusion_decision"
                    if detail.accepted.as_ref().and_then(|a| a.as_bool()) == Some(true) =>
                {
                    facts.excluded_at = Some(at);
                }
                _ => {}
            }
        }
        let mut gathered: Vec<(String, Gathered)> = gathered.into_iter().collect();
        gathered.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(gathered
            .into_iter()
            .map(|(reference, g)| g.into_facts(reference, calendar))
            .collect())
    }
}

impl Gathered {
    fn into_facts(self, reference: String, calendar: &Calendar) -> ComplaintFacts {
        // A response counts on the landlord's local day it was sent.
        let local = |at: DateTime<Utc>| calendar.local_date(at);
        let stage1_acknowledged = self.opened_acknowledged.or(if self.stage_now == 1 {
            self.acknowledged_now
        } else {
            None
        });
        let stage2 = self
            .escalated
            .map(|(requested_at, acknowledged)| Escalation {
                requested_at,
                stage: StageFacts {
                    acknowledged_on: acknowledged.or(if self.stage_now == 2 {
                        self.acknowledged_now
                    } else {
                        None
                    }),
                    extended_due_on: self.extended_to[1],
                    responded_on: self.responded[1].map(local),
                },
            });
        let excluded_at = self.excluded_at.map(|at| match self.escalated {
            Some((requested_at, _)) if at >= requested_at => Stage::Two,
            _ => Stage::One,
        });
        ComplaintFacts {
            reference,
            tenure: None,
            received_at: self.received_at,
            stage1: StageFacts {
                acknowledged_on: stage1_acknowledged,
                extended_due_on: self.extended_to[0],
                responded_on: self.responded[0].map(local),
            },
            stage2,
            excluded_at,
            withdrawn: false,
            work: self.work,
        }
    }
}
