//! CH01 and CH02, the Regulator of Social Housing's Tenant Satisfaction Measures on complaints,
//! with every rule they apply stated in code (as the doc comment where it is applied) and in
//! plain English (`rules`), so a published report says how its figures were counted.

use chrono::NaiveDate;
use serde::Serialize;

use super::{
    ComplaintFacts, Figure, Homes, Period, StageFacts, Tenure, TsmSettings, Unit,
    WithdrawnComplaints,
};
use crate::core::calendar::{Calendar, Step};
use crate::core::ids::Stage;

/// What CH01 and CH02 are computed from.
#[derive(Debug, Clone, Copy)]
pub struct TsmInput<'a> {
    pub period: &'a Period,
    pub homes: Homes,
    pub settings: TsmSettings,
    /// The landlord's calendar: its time zone, bank holidays and closure days.
    pub calendar: &'a Calendar,
    pub complaints: &'a [ComplaintFacts],
}

/// CH01 and CH02 for one period, with the rules that produced them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TsmReport {
    pub period: Period,
    pub ch01: Ch01,
    pub ch02: Ch02,
    /// Every rule the figures apply, as sentences the report prints.
    pub rules: Vec<String>,
}

/// CH01: complaints received per 1,000 homes, at each stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ch01 {
    pub stage1: Ch01Stage,
    pub stage2: Ch01Stage,
}

/// One stage of CH01, for all homes and for each tenure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ch01Stage {
    pub all_homes: Figure,
    pub low_cost_rental: Figure,
    pub low_cost_home_ownership: Figure,
    /// Complaints counted for all homes whose tenure the record does not give.
    pub tenure_not_recorded: Vec<String>,
}

/// CH02: the share of responses sent within the Code's timescales, at each stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ch02 {
    pub stage1: Ch02Stage,
    pub stage2: Ch02Stage,
}

/// One stage of CH02: the on-time responses over all responses sent in the period, and the
/// late ones by reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ch02Stage {
    pub on_time: Figure,
    pub late: Vec<String>,
}

/// CH01 and CH02 for `input.period`.
pub fn tenant_satisfaction_measures(input: &TsmInput<'_>) -> TsmReport {
    TsmReport {
        period: input.period.clone(),
        ch01: Ch01 {
            stage1: ch01_stage(input, Stage::One),
            stage2: ch01_stage(input, Stage::Two),
        },
        ch02: Ch02 {
            stage1: ch02_stage(input, Stage::One),
            stage2: ch02_stage(input, Stage::Two),
        },
        rules: rules(&input.settings),
    }
}

/// Every rule CH01 and CH02 apply, in the order a reader needs them, as plain English.
pub fn rules(settings: &TsmSettings) -> Vec<String> {
    let s1 = Step::Stage1Response;
    let s2 = Step::Stage2Response;
    let e1 = Step::Stage1Extension;
    let e2 = Step::Stage2Extension;
    vec![
        "Periods are whole days in the landlord's time zone (Europe/London unless configured otherwise): a financial year runs from 1 April to 31 March, so a complaint received at 00:30 on 1 April in British Summer Time belongs to the year starting that day.".to_owned(),
        "CH01 at stage 1 counts each complaint received in the period once, whether or not it has been answered by the end of the period, and divides by the homes owned, per 1,000 homes.".to_owned(),
        "CH01 at stage 2 counts a complaint in the period in which the resident asked for stage 2, which may be a later year than the one in which the complaint was received.".to_owned(),
        "CH01 is given for all homes, for low-cost rental homes and for low-cost home ownership homes; a complaint whose tenure the record does not give counts only in the figure for all homes.".to_owned(),
        "CH02 counts the complaints whose stage 1 (or stage 2) response was sent in the period, whenever they were received; a complaint still awaiting its response at the end of the period is counted in the period in which it is answered.".to_owned(),
        format!(
            "CH02 uses the Complaint Handling Code's timescales, not any shorter target of the landlord's: a stage 1 response is on time when sent within {} working days of the acknowledgement ({}), a stage 2 response within {} working days of the stage 2 acknowledgement ({}); a response with no acknowledgement recorded is timed from the day the complaint was received or stage 2 was asked for.",
            s1.code_maximum(), s1.provision(), s2.code_maximum(), s2.provision()
        ),
        format!(
            "A response sent by an extended date is on time when the extension is one the Code allows: at most {} more working days at stage 1 ({}) and {} at stage 2 ({}). A response after the extended date, or after the most the Code allows, is late.",
            e1.code_maximum(), e1.provision(), e2.code_maximum(), e2.provision()
        ),
        "Working days are Monday to Friday, except bank holidays in England and Wales and the landlord's closure days.".to_owned(),
        "A complaint staff decided not to take on (an exclusion under section 2 of the Code, with reasons given under 2.4) is not counted: excluded at stage 1, it is in no figure; an escalation refused at stage 2 leaves it out of the stage 2 figures only.".to_owned(),
        match settings.withdrawn {
            WithdrawnComplaints::Counted => "A complaint the resident withdrew is counted in CH01 (it was received), and in CH02 if its response was sent (landlord's choice: landlord.tsm.withdrawn = \"counted\").".to_owned(),
            WithdrawnComplaints::NotCounted => "A complaint the resident withdrew is not counted in CH01 or CH02 (landlord's choice: landlord.tsm.withdrawn = \"not_counted\").".to_owned(),
        },
        "Figures are given to one decimal place, halves rounded up (12.25 is published as 12.3), with the counts behind them; a figure with nothing to divide by (no homes, no responses) is reported as not measurable, never as 0.".to_owned(),
    ]
}

/// Whether a complaint is counted at `stage` at all. Exclusions are not complaints handled
/// through the procedure (section 2, 2.4): one at stage 1 leaves the complaint out of every
/// figure, a refused escalation leaves it out of stage 2. Withdrawn complaints follow the
/// landlord's setting.
fn counted_at(complaint: &ComplaintFacts, stage: Stage, settings: &TsmSettings) -> bool {
    if complaint.withdrawn && settings.withdrawn == WithdrawnComplaints::NotCounted {
        return false;
    }
    match (complaint.excluded_at, stage) {
        (Some(Stage::One), _) | (Some(Stage::Two), Stage::Two) => false,
        (_, Stage::One) => true,
        (_, Stage::Two) => complaint.stage2.is_some(),
    }
}

/// CH01 at one stage: a complaint counts at stage 1 in the period it was received, and at
/// stage 2 in the period the resident asked for stage 2 (6.11), as the landlord's local day;
/// open or answered, it counts once. Divided by the homes owned, per 1,000 homes, for all
/// homes and for each tenure; a complaint of unrecorded tenure counts only for all homes.
fn ch01_stage(input: &TsmInput<'_>, stage: Stage) -> Ch01Stage {
    let received: Vec<&ComplaintFacts> = input
        .complaints
        .iter()
        .filter(|c| counted_at(c, stage, &input.settings))
        .filter(|c| {
            let at = match (stage, &c.stage2) {
                (Stage::Two, Some(escalation)) => escalation.requested_at,
                _ => c.received_at,
            };
            input.period.contains(input.calendar, at)
        })
        .collect();
    let references = |tenure: Option<Tenure>| -> Vec<String> {
        received
            .iter()
            .filter(|c| tenure.is_none() || c.tenure == tenure)
            .map(|c| c.reference.clone())
            .collect()
    };
    let homes = input.homes;
    let all_homes = Figure::ratio(
        Unit::PerThousandHomes,
        references(None),
        u64::from(homes.total),
        "landlord.homes is 0, so there are no homes to count complaints against",
    );
    let by_tenure = |tenure: Tenure, key: &str| -> Figure {
        let why = match homes.of(tenure) {
            None => format!("landlord.{key} is not set"),
            Some(_) => format!("the landlord has no {} homes", tenure.label()),
        };
        Figure::ratio(
            Unit::PerThousandHomes,
            references(Some(tenure)),
            u64::from(homes.of(tenure).unwrap_or(0)),
            &why,
        )
    };
    let mut tenure_not_recorded: Vec<String> = received
        .iter()
        .filter(|c| c.tenure.is_none())
        .map(|c| c.reference.clone())
        .collect();
    tenure_not_recorded.sort();
    Ch01Stage {
        all_homes,
        low_cost_rental: by_tenure(Tenure::LowCostRental, "homes_low_cost_rental"),
        low_cost_home_ownership: by_tenure(
            Tenure::LowCostHomeOwnership,
            "homes_low_cost_home_ownership",
        ),
        tenure_not_recorded,
    }
}

/// CH02 at one stage: of the complaints whose response at that stage was sent in the period
/// (whenever received; those still open are counted when answered), the share sent within
/// the Code's timescale.
fn ch02_stage(input: &TsmInput<'_>, stage: Stage) -> Ch02Stage {
    let mut on_time = Vec::new();
    let mut late = Vec::new();
    for complaint in input.complaints {
        if !counted_at(complaint, stage, &input.settings) {
            continue;
        }
        let (facts, began_on) = match (stage, &complaint.stage2) {
            (Stage::One, _) => (
                complaint.stage1,
                input.calendar.local_date(complaint.received_at),
            ),
            (Stage::Two, Some(escalation)) => (
                escalation.stage,
                input.calendar.local_date(escalation.requested_at),
            ),
            (Stage::Two, None) => continue,
        };
        let Some(responded_on) = facts.responded_on else {
            continue;
        };
        if !input.period.contains_day(responded_on) {
            continue;
        }
        let latest = latest_on_time(input.calendar, &facts, began_on, stage);
        if responded_on <= latest {
            on_time.push(complaint.reference.clone());
        } else {
            late.push(complaint.reference.clone());
        }
    }
    late.sort();
    let responded = (on_time.len() + late.len()) as u64;
    let none = format!("no stage {stage} complaints were responded to in the period");
    Ch02Stage {
        on_time: Figure::ratio(Unit::Percent, on_time, responded, &none),
        late,
    }
}

/// The last day a response is within the Code's timescale: 10 working days from the stage 1
/// acknowledgement (6.3), 20 from the stage 2 acknowledgement (6.14), counted from the day the
/// stage began when no acknowledgement is recorded. The Code's maximums apply, not the
/// landlord's shorter targets, because CH02 measures against the Code. An extension moves the
/// day to the extended date, but never past the most the Code allows beyond the response
/// date: 10 more working days at stage 1 (6.4), 20 at stage 2 (6.15).
pub(super) fn latest_on_time(
    calendar: &Calendar,
    facts: &StageFacts,
    began_on: NaiveDate,
    stage: Stage,
) -> NaiveDate {
    let (response, extension) = match stage {
        Stage::One => (Step::Stage1Response, Step::Stage1Extension),
        Stage::Two => (Step::Stage2Response, Step::Stage2Extension),
    };
    let clock_from = facts.acknowledged_on.unwrap_or(began_on);
    let code_due = calendar.add_working_days(clock_from, response.code_maximum());
    match facts.extended_due_on {
        Some(extended) => {
            let most = calendar.add_working_days(code_due, extension.code_maximum());
            extended.min(most).max(code_due)
        }
        None => code_due,
    }
}
