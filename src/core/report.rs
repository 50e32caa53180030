//! Reports from the record, as pure functions of plain facts per complaint. This first part
//! computes the Regulator of Social Housing's Tenant Satisfaction Measures on complaints:
//! CH01 (stage 1 and stage 2 complaints received per 1,000 homes) and CH02 (the share of
//! stage 1 and of stage 2 responses sent within the Complaint Handling Code's timescales).
//!
//! - `period`: financial years (1 April to 31 March) and months, as local days.
//! - `figure`: a figure to one decimal place with its counts, or why it cannot be measured.
//! - `tsm`: CH01 and CH02, and the rules they apply in plain English.
//! - `performance`: the handling figures the governing body receives (9.7) and the annual
//!   report summarises (section 8).
//! - `learning`: learning from complaints, the improvement register and the Ombudsman's
//!   cases for a period (section 9, 8.1(c) and (d)), and the plain tables reports print.
//! - `assessment`: the annual self-assessment against the Code (appendix A, 8.1(a)).
//!
//! The facts are read from the record by the store; nothing here touches a database.

mod assessment;
mod figure;
mod learning;
mod performance;
mod period;
mod tsm;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::ids::Stage;
use super::outcome::{Outcome, Pence};

pub use assessment::{
    Answer, Assessed, FromRecord, GOVERNING_BODY, Judged, PROVISIONS, Provision, SelfAssessment,
    provision, self_assessment,
};
pub use figure::{Figure, OneDecimal, Unit, Value, scaled_tenths};
pub use learning::{
    Finding, FindingCount, ImprovementFacts, LearningInput, LearningRecorded, LearningSummary,
    OmbudsmanFacts, OrderCounts, OrderFacts, OrderKind, Table, learning_summary,
};
pub use performance::{
    CategoryCount, DaysCount, Feedback, MonthVolume, OutcomeCounts, Performance, PerformanceInput,
    StagePerformance, performance,
};
pub use period::{Period, PeriodError};
pub use tsm::{
    Ch01, Ch01Stage, Ch02, Ch02Stage, TsmInput, TsmReport, rules, tenant_satisfaction_measures,
};

/// The two kinds of social housing the regulator's measures cover, counted separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tenure {
    /// Low-cost rental accommodation (LCRA): social and affordable rent, supported housing.
    LowCostRental,
    /// Low-cost home ownership (LCHO): shared ownership.
    LowCostHomeOwnership,
}

impl Tenure {
    pub fn label(self) -> &'static str {
        match self {
            Tenure::LowCostRental => "low-cost rental",
            Tenure::LowCostHomeOwnership => "low-cost home ownership",
        }
    }
}

/// The homes the landlord owns, as its profile gives them: the total, and by tenure where the
/// landlord has said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Homes {
    pub total: u32,
    pub low_cost_rental: Option<u32>,
    pub low_cost_home_ownership: Option<u32>,
}

impl Homes {
    pub fn of(&self, tenure: Tenure) -> Option<u32> {
        match tenure {
            Tenure::LowCostRental => self.low_cost_rental,
            Tenure::LowCostHomeOwnership => self.low_cost_home_ownership,
        }
    }
}

/// One stage of a complaint as the measures read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageFacts {
    /// The local day the stage was acknowledged: the Code's response time runs from it (6.3,
    /// 6.14). None when the record has no acknowledgement (an escalation refused before it was
    /// acknowledged, say).
    pub acknowledged_on: Option<NaiveDate>,
    /// The response date after any extension, if the stage was extended (6.4, 6.15).
    pub extended_due_on: Option<NaiveDate>,
    /// The local day the stage's response was sent, if it has been.
    pub responded_on: Option<NaiveDate>,
}

/// A stage 2 request and what became of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escalation {
    /// When the resident asked for stage 2 (6.11): the moment stage 2 counts from in CH01.
    pub requested_at: DateTime<Utc>,
    pub stage: StageFacts,
}

/// What the measures need to know about one complaint, as the record holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintFacts {
    pub reference: String,
    /// The tenure of the home the complaint is about, when the record says.
    pub tenure: Option<Tenure>,
    /// When the complaint was received: the moment stage 1 counts from in CH01.
    pub received_at: DateTime<Utc>,
    pub stage1: StageFacts,
    pub stage2: Option<Escalation>,
    /// The stage at which staff decided not to take the complaint (or its escalation) on
    /// (section 2, 2.4), if they did.
    pub excluded_at: Option<Stage>,
    /// The resident withdrew the complaint.
    pub withdrawn: bool,
    /// Its category, outcomes, compensation and the resident's feedback (issue 12).
    pub work: CaseWork,
}

/// What staff recorded of a complaint beyond its dates, and what the resident said of its
/// handling: the figures on categories, outcomes, remedies and satisfaction that the annual
/// report (Code 8.1) and the governing body (9.7) need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseWork {
    /// The category staff confirmed, or else the one the engine suggested (a key of the
    /// landlord's list); `category_confirmed` says which.
    pub category: Option<String>,
    pub category_confirmed: bool,
    /// What each stage's response decided: stage 1 and stage 2.
    pub decided: [Option<Decided>; 2],
    /// The resident's satisfaction with the handling, 1 to 5, if they gave it.
    pub feedback_score: Option<u8>,
}

/// What one stage's response decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    pub outcome: Outcome,
    pub compensation: Pence,
}

impl CaseWork {
    /// All the compensation offered, over both stages.
    pub fn compensation(&self) -> Pence {
        Pence(
            self.decided
                .iter()
                .flatten()
                .map(|d| d.compensation.0)
                .sum(),
        )
    }
}

/// Choices the regulator leaves to the landlord, stated in the report it publishes. Part of
/// the landlord profile, under `[landlord.tsm]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TsmSettings {
    pub withdrawn: WithdrawnComplaints,
}

/// Whether complaints the resident later withdrew count in CH01 and CH02.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawnComplaints {
    /// Counted as received in CH01 (they were received), and in CH02 when a response was sent.
    #[default]
    Counted,
    /// Left out of CH01 and CH02 altogether.
    NotCounted,
}

/// One CSV field (RFC 4180: quoted, quotes doubled), made safe to open in a spreadsheet: a
/// cell staff typed that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be
/// run as a formula, so it gains a leading apostrophe (the OWASP advice for CSV injection).
/// A number such as "-3" is left alone.
pub fn csv_field(text: &str) -> String {
    let formula =
        text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text.parse::<f64>().is_err();
    let text = if formula {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    format!("\"{}\"", text.replace('"', "\"\""))
}

#[cfg(test)]
mod tests;
