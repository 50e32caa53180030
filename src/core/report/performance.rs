//! Complaint handling performance for any period, as the governing body receives it (Code
//! 9.7: volumes, categories, outcomes and performance) and as the annual report summarises it
//! (section 8): complaints received at each stage, acknowledgements within 5 working days,
//! responses within the Code's timescales (and within a Code-compliant extension), extensions
//! used, the escalation rate, exclusions, outcomes, compensation, categories, the residents'
//! satisfaction with the handling, how long responses took, and volumes month by month.
//!
//! Counting follows CH01 and CH02 (`tsm`) so the figures agree with them: a complaint counts as
//! received at stage 1 in the period it was received and at stage 2 in the period stage 2 was
//! asked for; a response counts in the period it was sent; periods are the landlord's local
//! days. Exclusions are counted on their own and left out of the other figures.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::tsm::latest_on_time;
use super::{ComplaintFacts, Figure, Period, StageFacts, Unit};
use crate::core::calendar::{Calendar, Step};
use crate::core::category::Categories;
use crate::core::ids::Stage;
use crate::core::outcome::{Outcome, Pence};

/// What the performance figures are computed from.
#[derive(Debug, Clone, Copy)]
pub struct PerformanceInput<'a> {
    pub period: &'a Period,
    pub calendar: &'a Calendar,
    pub categories: &'a Categories,
    pub complaints: &'a [ComplaintFacts],
}

/// Complaint handling performance for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Performance {
    pub period: Period,
    pub stage1: StagePerformance,
    pub stage2: StagePerformance,
    /// Stage 2 requests made in the period over stage 1 responses sent in it.
    pub escalation_rate: Figure,
    /// Complaints received in the period, by category (the one staff confirmed, else the
    /// engine's suggestion), in the landlord's order.
    pub categories: Vec<CategoryCount>,
    /// The residents' satisfaction with how complaints closed in the period were handled.
    pub feedback: Feedback,
    /// Complaints received and stage 2 requests, month by month through the period.
    pub months: Vec<MonthVolume>,
}

/// One stage's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StagePerformance {
    /// Complaints received at this stage in the period (stage 2: asked for in the period).
    pub received: Vec<String>,
    /// Of those, acknowledged within 5 working days (Code 6.2 at stage 1, 6.11 at stage 2),
    /// over those received.
    pub acknowledged_on_time: Figure,
    /// Received but with no acknowledgement recorded.
    pub not_acknowledged: Vec<String>,
    /// Responses sent in the period.
    pub responded: Vec<String>,
    /// Of those, sent within the Code's timescale without an extension.
    pub on_time: Figure,
    /// Sent late without an extension, or after the extended date, or after the most the
    /// Code allows beyond the response date.
    pub late: Vec<String>,
    /// Sent within an extension the Code allows.
    pub within_extension: Vec<String>,
    /// Responses in the period whose stage was extended.
    pub extended: Vec<String>,
    /// Working days from the acknowledgement (or the start of the stage) to the response, for
    /// the responses sent in the period: how many took each number of days.
    pub working_days: Vec<DaysCount>,
    /// What the responses sent in the period decided.
    pub outcomes: OutcomeCounts,
    /// Compensation offered in the responses sent in the period.
    pub compensation: Pence,
    /// Complaints whose compensation at this stage was more than nothing.
    pub compensated: Vec<String>,
    /// Complaints staff decided not to take on at this stage (section 2, 2.4), by the period
    /// they were received (stage 2: asked for) in.
    pub excluded: Vec<String>,
}

/// Responses that took a number of working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DaysCount {
    pub working_days: i64,
    pub responses: u64,
}

/// What responses decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutcomeCounts {
    pub upheld: Vec<String>,
    pub partly_upheld: Vec<String>,
    pub not_upheld: Vec<String>,
    /// Responses sent before outcomes were recorded.
    pub not_recorded: Vec<String>,
}

/// Complaints in one category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryCount {
    pub key: String,
    pub label: String,
    pub complaints: Vec<String>,
    /// Of those, how many carry the engine's suggestion that no one has confirmed.
    pub unconfirmed: u64,
}

/// The residents' answers to "how satisfied were you with how we handled your complaint?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feedback {
    /// Scores 1 to 5 given for complaints received in the period: how many gave each.
    pub by_score: [u64; 5],
    /// Scores of 4 or 5 over all scores given.
    pub satisfied: Figure,
}

/// One month's volumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthVolume {
    /// "2026-04".
    pub month: String,
    pub stage1: u64,
    pub stage2: u64,
}

/// The performance figures for `input.period`.
pub fn performance(input: &PerformanceInput<'_>) -> Performance {
    let stage1 = stage(input, Stage::One);
    let stage2 = stage(input, Stage::Two);
    let escalation_rate = Figure::ratio(
        Unit::Percent,
        stage2.received.clone(),
        stage1.responded.len() as u64,
        "no stage 1 responses were sent in the period",
    );
    Performance {
        period: input.period.clone(),
        escalation_rate,
        categories: categories(input, &stage1.received),
        feedback: feedback(input),
        months: months(input),
        stage1,
        stage2,
    }
}

/// A stage's facts and the day it began (received, or stage 2 asked for), when the complaint
/// reached that stage.
fn stage_of(
    calendar: &Calendar,
    complaint: &ComplaintFacts,
    stage: Stage,
) -> Option<(StageFacts, NaiveDate)> {
    match (stage, &complaint.stage2) {
        (Stage::One, _) => Some((complaint.stage1, calendar.local_date(complaint.received_at))),
        (Stage::Two, Some(e)) => Some((e.stage, calendar.local_date(e.requested_at))),
        (Stage::Two, None) => None,
    }
}

/// Whether the complaint was excluded at `stage` (an exclusion at stage 1 is of the whole
/// complaint; at stage 2, of the escalation).
fn excluded_at(complaint: &ComplaintFacts, stage: Stage) -> bool {
    complaint.excluded_at == Some(stage)
}

fn stage(input: &PerformanceInput<'_>, stage: Stage) -> StagePerformance {
    let calendar = input.calendar;
    let acknowledgement = match stage {
        Stage::One => Step::Stage1Acknowledgement,
        Stage::Two => Step::Stage2Acknowledgement,
    };
    let index = usize::from(stage == Stage::Two);
    let mut received = Vec::new();
    let mut acknowledged_on_time = Vec::new();
    let mut not_acknowledged = Vec::new();
    let mut excluded = Vec::new();
    let mut responded = Vec::new();
    let mut on_time = Vec::new();
    let mut late = Vec::new();
    let mut within_extension = Vec::new();
    let mut extended = Vec::new();
    let mut days: BTreeMap<i64, u64> = BTreeMap::new();
    let mut outcomes = OutcomeCounts::default();
    let mut compensation = 0u64;
    let mut compensated = Vec::new();
    for complaint in input.complaints {
        let Some((facts, began_on)) = stage_of(calendar, complaint, stage) else {
            continue;
        };
        // An exclusion at stage 1 takes the complaint out of both stages' figures.
        let out = excluded_at(complaint, stage) || excluded_at(complaint, Stage::One);
        let reference = complaint.reference.clone();
        if input.period.contains_day(began_on) {
            if excluded_at(complaint, stage) {
                excluded.push(reference.clone());
            } else if !out {
                received.push(reference.clone());
                match facts.acknowledged_on {
                    Some(on)
                        if calendar.working_days_between(began_on, on)
                            <= i64::from(acknowledgement.code_maximum()) =>
                    {
                        acknowledged_on_time.push(reference.clone());
                    }
                    Some(_) => {}
                    None => not_acknowledged.push(reference.clone()),
                }
            }
        }
        let Some(responded_on) = facts.responded_on else {
            continue;
        };
        if out || !input.period.contains_day(responded_on) {
            continue;
        }
        responded.push(reference.clone());
        let clock_from = facts.acknowledged_on.unwrap_or(began_on);
        *days
            .entry(calendar.working_days_between(clock_from, responded_on))
            .or_default() += 1;
        let response = match stage {
            Stage::One => Step::Stage1Response,
            Stage::Two => Step::Stage2Response,
        };
        let code_due = calendar.add_working_days(clock_from, response.code_maximum());
        if facts.extended_due_on.is_some() {
            extended.push(reference.clone());
        }
        if responded_on <= code_due {
            on_time.push(reference.clone());
        } else if responded_on <= latest_on_time(calendar, &facts, began_on, stage) {
            within_extension.push(reference.clone());
        } else {
            late.push(reference.clone());
        }
        match complaint.work.decided[index] {
            Some(decided) => {
                match decided.outcome {
                    Outcome::Upheld => outcomes.upheld.push(reference.clone()),
                    Outcome::PartlyUpheld => outcomes.partly_upheld.push(reference.clone()),
                    Outcome::NotUpheld => outcomes.not_upheld.push(reference.clone()),
                }
                if decided.compensation.0 > 0 {
                    compensation += decided.compensation.0;
                    compensated.push(reference);
                }
            }
            None => outcomes.not_recorded.push(reference),
        }
    }
    let received_count = received.len() as u64;
    let responded_count = responded.len() as u64;
    for list in [
        &mut received,
        &mut not_acknowledged,
        &mut responded,
        &mut late,
        &mut within_extension,
        &mut extended,
        &mut compensated,
        &mut excluded,
        &mut outcomes.upheld,
        &mut outcomes.partly_upheld,
        &mut outcomes.not_upheld,
        &mut outcomes.not_recorded,
    ] {
        list.sort();
    }
    StagePerformance {
        acknowledged_on_time: Figure::ratio(
            Unit::Percent,
            acknowledged_on_time,
            received_count,
            &format!("no stage {stage} complaints were received in the period"),
        ),
        on_time: Figure::ratio(
            Unit::Percent,
            on_time,
            responded_count,
            &format!("no stage {stage} responses were sent in the period"),
        ),
        working_days: days
            .into_iter()
            .map(|(working_days, responses)| DaysCount {
                working_days,
                responses,
            })
            .collect(),
        compensation: Pence(compensation),
        received,
        not_acknowledged,
        responded,
        late,
        within_extension,
        extended,
        outcomes,
        compensated,
        excluded,
    }
}

/// Complaints received at stage 1 in the period, by category, in the landlord's order; a
/// category the landlord has since removed is listed after, under its key.
fn categories(input: &PerformanceInput<'_>, received: &[String]) -> Vec<CategoryCount> {
    let mut counts: Vec<CategoryCount> = input
        .categories
        .0
        .iter()
        .map(|c| CategoryCount {
            key: c.key.clone(),
            label: c.label.clone(),
            complaints: Vec::new(),
            unconfirmed: 0,
        })
        .collect();
    let mut uncategorised = CategoryCount {
        key: String::new(),
        label: "No category".to_owned(),
        complaints: Vec::new(),
        unconfirmed: 0,
    };
    for complaint in input.complaints {
        if received.binary_search(&complaint.reference).is_err() {
            continue;
        }
        let count = match &complaint.work.category {
            Some(key) => {
                let at = match counts.iter().position(|c| &c.key == key) {
                    Some(at) => at,
                    None => {
                        counts.push(CategoryCount {
                            key: key.clone(),
                            label: key.clone(),
                            complaints: Vec::new(),
                            unconfirmed: 0,
                        });
                        counts.len() - 1
                    }
                };
                &mut counts[at]
            }
            None => &mut uncategorised,
        };
        count.complaints.push(complaint.reference.clone());
        if complaint.work.category.is_some() && !complaint.work.category_confirmed {
            count.unconfirmed += 1;
        }
    }
    if !uncategorised.complaints.is_empty() {
        counts.push(uncategorised);
    }
    for c in &mut counts {
        c.complaints.sort();
    }
    counts
}

/// Scores given for complaints received in the period.
fn feedback(input: &PerformanceInput<'_>) -> Feedback {
    let mut by_score = [0u64; 5];
    let mut satisfied = Vec::new();
    for complaint in input.complaints {
        if !input.period.contains(input.calendar, complaint.received_at) {
            continue;
        }
        if let Some(score @ 1..=5) = complaint.work.feedback_score {
            by_score[usize::from(score - 1)] += 1;
            if score >= 4 {
                satisfied.push(complaint.reference.clone());
            }
        }
    }
    let given = by_score.iter().sum();
    Feedback {
        by_score,
        satisfied: Figure::ratio(
            Unit::Percent,
            satisfied,
            given,
            "no resident scored a complaint received in the period",
        ),
    }
}

/// Every month the period covers, with the complaints received and stage 2 requests in it.
fn months(input: &PerformanceInput<'_>) -> Vec<MonthVolume> {
    let key = |d: NaiveDate| format!("{:04}-{:02}", d.year(), d.month());
    let mut months: BTreeMap<String, MonthVolume> = BTreeMap::new();
    let mut day = input.period.first_day;
    while day <= input.period.last_day {
        months.entry(key(day)).or_insert_with(|| MonthVolume {
            month: key(day),
            stage1: 0,
            stage2: 0,
        });
        day = day
            .checked_add_months(chrono::Months::new(1))
            .and_then(|d| d.with_day(1))
            .unwrap_or(NaiveDate::MAX);
    }
    for complaint in input.complaints {
        for stage in [Stage::One, Stage::Two] {
            let Some((_, began_on)) = stage_of(input.calendar, complaint, stage) else {
                continue;
            };
            if excluded_at(complaint, stage) || excluded_at(complaint, Stage::One) {
                continue;
            }
            if let Some(month) = months.get_mut(&key(began_on))
                && input.period.contains_day(began_on)
            {
                match stage {
                    Stage::One => month.stage1 += 1,
                    Stage::Two => month.stage2 += 1,
                }
            }
        }
    }
    months.into_values().collect()
}

#[cfg(test)]
#[path = "performance_tests.rs"]
mod tests;
