//! The Code's deadlines: each step of the complaints process, the landlord's timescale for it
//! (never longer than the Code allows), and the working day each falls due.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::Calendar;

/// A step of the complaints process that has a deadline (section 6 of the Code: see [`crate::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Stage 1 acknowledged, defined and logged: from receipt (6.2).
    Stage1Acknowledgement,
    /// Stage 1 response: from the acknowledgement (6.3).
    Stage1Response,
    /// Stage 1 extension: beyond the response date, with reasons (6.4, 6.5).
    Stage1Extension,
    /// Stage 2 acknowledged and logged: from the escalation request (6.11).
    Stage2Acknowledgement,
    /// Stage 2 response: from the stage 2 acknowledgement (6.14).
    Stage2Response,
    /// Stage 2 extension: beyond the stage 2 response date, with reasons (6.15, 6.16).
    Stage2Extension,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Stage1Acknowledgement,
        Step::Stage1Response,
        Step::Stage1Extension,
        Step::Stage2Acknowledgement,
        Step::Stage2Response,
        Step::Stage2Extension,
    ];

    /// The most working days the Code allows for this step.
    pub fn code_maximum(self) -> u32 {
        match self {
            Step::Stage1Acknowledgement | Step::Stage2Acknowledgement => 5,
            Step::Stage1Response | Step::Stage1Extension => 10,
            Step::Stage2Response | Step::Stage2Extension => 20,
        }
    }

    /// The Code provision that sets the maximum.
    pub fn provision(self) -> &'static str {
        match self {
            Step::Stage1Acknowledgement => "6.2",
            Step::Stage1Response => "6.3",
            Step::Stage1Extension => "6.4",
            Step::Stage2Acknowledgement => "6.11",
            Step::Stage2Response => "6.14",
            Step::Stage2Extension => "6.15",
        }
    }

    /// The configuration key under `[timescales]` for this step.
    pub fn key(self) -> &'static str {
        match self {
            Step::Stage1Acknowledgement => "stage1_acknowledgement",
            Step::Stage1Response => "stage1_response",
            Step::Stage1Extension => "stage1_extension",
            Step::Stage2Acknowledgement => "stage2_acknowledgement",
            Step::Stage2Response => "stage2_response",
            Step::Stage2Extension => "stage2_extension",
        }
    }

    /// What the step's working days are counted from.
    pub fn anchor(self) -> &'static str {
        match self {
            Step::Stage1Acknowledgement => "the day the complaint was received",
            Step::Stage1Response => "the day the complaint was acknowledged",
            Step::Stage1Extension | Step::Stage2Extension => "the response date being extended",
            Step::Stage2Acknowledgement => "the day the escalation was requested",
            Step::Stage2Response => "the day stage 2 was acknowledged",
        }
    }
}

/// The landlord's timescales in working days, one per step. Landlords may set shorter ones than
/// the Code's; never longer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timescales {
    pub stage1_acknowledgement: u32,
    pub stage1_response: u32,
    pub stage1_extension: u32,
    pub stage2_acknowledgement: u32,
    pub stage2_response: u32,
    pub stage2_extension: u32,
}

impl Default for Timescales {
    /// The Code's maximums.
    fn default() -> Self {
        Timescales {
            stage1_acknowledgement: Step::Stage1Acknowledgement.code_maximum(),
            stage1_response: Step::Stage1Response.code_maximum(),
            stage1_extension: Step::Stage1Extension.code_maximum(),
            stage2_acknowledgement: Step::Stage2Acknowledgement.code_maximum(),
            stage2_response: Step::Stage2Response.code_maximum(),
            stage2_extension: Step::Stage2Extension.code_maximum(),
        }
    }
}

/// A configured timescale the Code does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimescaleError {
    #[error(
        "timescales.{key} is {days} working days, longer than the Code allows: at most {max} working days from {anchor} (Complaint Handling Code {provision})",
        key = step.key(), max = step.code_maximum(), anchor = step.anchor(), provision = step.provision()
    )]
    LongerThanCode { step: Step, days: u32 },
    #[error(
        "timescales.{key} is 0 working days; a step needs at least one working day",
        key = step.key()
    )]
    Zero { step: Step },
}

impl Timescales {
    pub fn days(&self, step: Step) -> u32 {
        match step {
            Step::Stage1Acknowledgement => self.stage1_acknowledgement,
            Step::Stage1Response => self.stage1_response,
            Step::Stage1Extension => self.stage1_extension,
            Step::Stage2Acknowledgement => self.stage2_acknowledgement,
            Step::Stage2Response => self.stage2_response,
            Step::Stage2Extension => self.stage2_extension,
        }
    }

    /// Every timescale that breaks the Code, each named by its key and provision.
    pub fn check(&self) -> Result<(), Vec<TimescaleError>> {
        let errors: Vec<TimescaleError> = Step::ALL
            .into_iter()
            .filter_map(|step| {
                let days = self.days(step);
                if days > step.code_maximum() {
                    Some(TimescaleError::LongerThanCode { step, days })
                } else if days == 0 {
                    Some(TimescaleError::Zero { step })
                } else {
                    None
                }
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// An extension asked for beyond what the landlord's timescale (and so the Code) allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "an extension of {asked} working days is longer than the {allowed} allowed (Complaint Handling Code {provision})"
)]
pub struct ExtensionTooLong {
    pub asked: u32,
    pub allowed: u32,
    pub provision: &'static str,
}

/// Computes each Code deadline from its own anchor.
#[derive(Debug, Clone)]
pub struct Deadlines<'a> {
    pub calendar: &'a Calendar,
    pub timescales: &'a Timescales,
}

impl Deadlines<'_> {
    /// Stage 1 acknowledgement is due this many working days after receipt (6.2).
    pub fn stage1_acknowledgement_due(&self, received_at: DateTime<Utc>) -> NaiveDate {
        self.after(received_at, Step::Stage1Acknowledgement)
    }

    /// Stage 1 response is due counted from the acknowledgement (6.3).
    pub fn stage1_response_due(&self, acknowledged_at: DateTime<Utc>) -> NaiveDate {
        self.after(acknowledged_at, Step::Stage1Response)
    }

    /// Stage 2 acknowledgement is due counted from the escalation request (6.11).
    pub fn stage2_acknowledgement_due(&self, requested_at: DateTime<Utc>) -> NaiveDate {
        self.after(requested_at, Step::Stage2Acknowledgement)
    }

    /// Stage 2 response is due counted from the stage 2 acknowledgement (6.14).
    pub fn stage2_response_due(&self, acknowledged_at: DateTime<Utc>) -> NaiveDate {
        self.after(acknowledged_at, Step::Stage2Response)
    }

    /// A response date moved on by an extension of `days` working days, refused when longer than
    /// the timescale allows (6.4 at stage 1, 6.15 at stage 2).
    pub fn extended(
        &self,
        stage: u8,
        response_due: NaiveDate,
        days: u32,
    ) -> Result<NaiveDate, ExtensionTooLong> {
        let step = if stage >= 2 {
            Step::Stage2Extension
        } else {
            Step::Stage1Extension
        };
        let allowed = self.timescales.days(step);
        if days > allowed {
            return Err(ExtensionTooLong {
                asked: days,
                allowed,
                provision: step.provision(),
            });
        }
        Ok(self.calendar.add_working_days(response_due, days))
    }

    /// Every date for a complaint received at `received_at`, assuming it is acknowledged on the
    /// last allowed day, and for an escalation requested at the same moment.
    pub fn plan(&self, received_at: DateTime<Utc>) -> DeadlinePlan {
        let cal = self.calendar;
        let ts = self.timescales;
        let received = cal.local_date(received_at);
        let s1_ack = cal.add_working_days(received, ts.stage1_acknowledgement);
        let s1_resp = cal.add_working_days(s1_ack, ts.stage1_response);
        let s1_ext = cal.add_working_days(s1_resp, ts.stage1_extension);
        let s2_ack = cal.add_working_days(received, ts.stage2_acknowledgement);
        let s2_resp = cal.add_working_days(s2_ack, ts.stage2_response);
        let s2_ext = cal.add_working_days(s2_resp, ts.stage2_extension);
        DeadlinePlan {
            received_at,
            received_on: received,
            stage1: StageDates {
                acknowledge_by: s1_ack,
                respond_by: s1_resp,
                latest_extended_respond_by: s1_ext,
            },
            stage2: StageDates {
                acknowledge_by: s2_ack,
                respond_by: s2_resp,
                latest_extended_respond_by: s2_ext,
            },
        }
    }

    fn after(&self, at: DateTime<Utc>, step: Step) -> NaiveDate {
        self.calendar
            .add_working_days_at(at, self.timescales.days(step))
    }
}

/// The dates printed by `intake deadlines`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadlinePlan {
    pub received_at: DateTime<Utc>,
    /// The local calendar day of receipt.
    pub received_on: NaiveDate,
    pub stage1: StageDates,
    /// For an escalation requested at the same moment.
    pub stage2: StageDates,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageDates {
    pub acknowledge_by: NaiveDate,
    pub respond_by: NaiveDate,
    pub latest_extended_respond_by: NaiveDate,
}
