//! Case work the Code regulates, as pure functions: a stage response must have every part
//! the Code requires before it can be sent (6.9 at stage 1, 6.19 at stage 2); an extension
//! needs a reason, stays within the cap, and tells the resident how to reach the Ombudsman
//! (6.4, 6.5, 6.15, 6.16); an exclusion decision gives its reasons and the right to go to the
//! Ombudsman (2.4).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::calendar::{Deadlines, ExtensionTooLong};
use super::profile::LandlordProfile;

/// A stage response as staff write it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageResponse {
    pub stage: u8,
    /// The complaint definition the response answers (5.6).
    pub definition: String,
    /// The decision on each part of the complaint.
    pub decision: String,
    pub reasons: String,
    /// Any remedy: write "None" when there is none, so it is a decision and not an omission.
    pub remedy: String,
    /// Actions still outstanding, and when they will be done: "None" when there are none.
    pub outstanding_actions: String,
}

/// A part the Code requires that a response lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub part: &'static str,
    pub provision: &'static str,
}

impl StageResponse {
    fn provision(&self) -> &'static str {
        if self.stage == 2 { "6.19" } else { "6.9" }
    }

    /// Every part the Code requires that is missing; empty when the response can be sent.
    pub fn missing(&self) -> Vec<Missing> {
        let provision = self.provision();
        [
            ("the complaint definition", &self.definition),
            ("the decision", &self.decision),
            ("the reasons for the decision", &self.reasons),
            ("any remedy (write \"None\" if there is none)", &self.remedy),
            (
                "any outstanding actions (write \"None\" if there are none)",
                &self.outstanding_actions,
            ),
        ]
        .into_iter()
        .filter(|(_, text)| text.trim().is_empty())
        .map(|(part, _)| Missing { part, provision })
        .chain((!matches!(self.stage, 1 | 2)).then_some(Missing {
            part: "the stage (1 or 2)",
            provision,
        }))
        .collect()
    }

    /// The response as the resident receives it, ending with how to escalate: to stage 2
    /// after stage 1, to the Housing Ombudsman after stage 2. None while a part is missing.
    pub fn compose(&self, reference: &str, profile: &LandlordProfile) -> Option<String> {
        if !self.missing().is_empty() {
            return None;
        }
        let o = &profile.ombudsman;
        let escalate = if self.stage == 1 {
            format!(
                "If you are not happy with this response, you can ask for your complaint to go to stage 2. Just reply here and say so; you don't need to give reasons. You can also ask the Housing Ombudsman for advice at any time: {}, {}, {}.",
                o.phone, o.website, o.address
            )
        } else {
            format!(
                "This is our final response. If you are not happy with it, you can ask the Housing Ombudsman to look at your complaint: phone {}, online at {}, or write to {}.",
                o.phone, o.website, o.address
            )
        };
        Some(format!(
            "{landlord}: our stage {stage} response to your complaint {reference}.\n\n\
             Your complaint as we understood it:\n{definition}\n\n\
             Our decision:\n{decision}\n\n\
             Why:\n{reasons}\n\n\
             Putting things right:\n{remedy}\n\n\
             Still to do:\n{outstanding}\n\n\
             {escalate}",
            landlord = profile.name,
            stage = self.stage,
            definition = self.definition.trim(),
            decision = self.decision.trim(),
            reasons = self.reasons.trim(),
            remedy = self.remedy.trim(),
            outstanding = self.outstanding_actions.trim(),
        ))
    }
}

/// Why an extension was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtensionError {
    #[error("give the resident the reason for the extension (Complaint Handling Code {0})")]
    NoReason(&'static str),
    #[error(transparent)]
    TooLong(#[from] ExtensionTooLong),
}

/// An extension staff ask for: `days` more working days on the stage's response, due
/// `due_on`, for the resident's complaint `reference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    pub reference: &'a str,
    pub stage: u8,
    pub due_on: NaiveDate,
    /// The working days this stage has been extended before: the cap is on the total, not on
    /// each extension.
    pub already: u32,
    pub days: u32,
    pub reason: &'a str,
}

/// An extension: the new date and the message that tells the resident, with the reason and
/// the Ombudsman's details (6.5 at stage 1, 6.16 at stage 2).
pub fn extend(
    deadlines: &Deadlines<'_>,
    profile: &LandlordProfile,
    extension: &Extension<'_>,
) -> Result<(NaiveDate, String), ExtensionError> {
    let Extension {
        reference,
        stage,
        due_on,
        already,
        days,
        reason,
    } = *extension;
    let provision = if stage == 2 { "6.16" } else { "6.5" };
    if reason.trim().is_empty() {
        return Err(ExtensionError::NoReason(provision));
    }
    deadlines.extended(stage, due_on, already.saturating_add(days))?;
    let new_due = deadlines.extended(stage, due_on, days)?;
    let o = &profile.ombudsman;
    let message = format!(
        "We need more time to respond to your complaint {reference} (stage {stage}). {reason}\n\
         We will now respond by {date}.\n\
         If you are unhappy about the extension, you can contact the Housing Ombudsman: phone {phone}, online at {website}, or write to {address}.",
        reason = reason.trim(),
        date = new_due.format("%A %-d %B %Y"),
        phone = o.phone,
        website = o.website,
        address = o.address,
    );
    Ok((new_due, message))
}

/// The message for an exclusion decision (2.4): the reasons, and the right to go to the
/// Ombudsman when the complaint is not taken on.
pub fn exclusion_message(
    profile: &LandlordProfile,
    reference: &str,
    accepted: bool,
    reasons: &str,
) -> Option<String> {
    if reasons.trim().is_empty() {
        return None;
    }
    let o = &profile.ombudsman;
    Some(if accepted {
        format!(
            "We have looked at your complaint {reference} and decided not to take it through our complaints process. {reasons}\n\
             If you disagree, you can ask the Housing Ombudsman to look at our decision: phone {}, online at {}, or write to {}.",
            o.phone,
            o.website,
            o.address,
            reasons = reasons.trim(),
        )
    } else {
        format!(
            "We have looked at your complaint {reference} and will deal with it through our complaints process as normal. {reasons}",
            reasons = reasons.trim(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::calendar::Calendar;

    fn full(stage: u8) -> StageResponse {
        StageResponse {
            stage,
            definition: "No hot water since 2 November; you want it fixed and an apology.".into(),
            decision: "Upheld.".into(),
            reasons: "The repair was booked late and the first visit was missed.".into(),
            remedy: "£50 for the inconvenience, and an apology.".into(),
            outstanding_actions: "None".into(),
        }
    }

    #[test]
    fn a_response_names_every_missing_part_with_its_provision() {
        let mut r = full(1);
        r.reasons = "  ".into();
        r.remedy = String::new();
        let missing = r.missing();
        assert_eq!(missing.len(), 2);
        assert!(missing.iter().all(|m| m.provision == "6.9"));
        assert!(missing[0].part.contains("reasons"));
        assert!(
            r.compose("C2026-00001", &LandlordProfile::default())
                .is_none()
        );
        let mut r2 = full(2);
        r2.decision = String::new();
        assert_eq!(r2.missing()[0].provision, "6.19");
    }

    #[test]
    fn a_complete_response_says_how_to_escalate() {
        let profile = LandlordProfile::default();
        let one = full(1).compose("C2026-00001", &profile).expect("complete");
        assert!(one.contains("stage 2") && one.contains("don't need to give reasons"));
        let two = full(2).compose("C2026-00001", &profile).expect("complete");
        assert!(two.contains("Housing Ombudsman") && two.contains(&profile.ombudsman.phone));
        assert!(two.contains("final response"));
    }

    #[test]
    fn an_extension_needs_a_reason_stays_within_the_cap_and_names_the_ombudsman() {
        let profile = LandlordProfile::default();
        let calendar = Calendar::england_and_wales();
        let deadlines = Deadlines {
            calendar: &calendar,
            timescales: &profile.timescales,
        };
        let due = NaiveDate::from_ymd_opt(2026, 12, 23).expect("date");
        let ask = |stage, already, days, reason| {
            extend(
                &deadlines,
                &profile,
                &Extension {
                    reference: "C1",
                    stage,
                    due_on: due,
                    already,
                    days,
                    reason,
                },
            )
        };
        assert_eq!(ask(1, 0, 5, " "), Err(ExtensionError::NoReason("6.5")));
        assert!(matches!(
            ask(1, 0, 11, "waiting for a contractor"),
            Err(ExtensionError::TooLong(_))
        ));
        let (new_due, message) =
            ask(1, 0, 5, "We are waiting for a contractor's report.").expect("allowed");
        // Five working days after Wednesday 23 December, across Christmas: Thursday 24, then
        // Tuesday 29, Wednesday 30, Thursday 31 December and Friday 1 January... which is New
        // Year's Day, so Monday 4 January.
        assert_eq!(new_due, NaiveDate::from_ymd_opt(2027, 1, 4).expect("date"));
        assert!(message.contains("Monday 4 January 2027"));
        assert!(
            message.contains("contractor's report") && message.contains(&profile.ombudsman.phone)
        );
        // Stage 2 allows up to 20.
        assert!(ask(2, 0, 20, "complex").is_ok());
        assert!(ask(2, 0, 21, "complex").is_err());
        // Two extensions may not together pass the cap.
        assert!(ask(1, 6, 4, "again").is_ok());
        assert!(matches!(
            ask(1, 6, 5, "again"),
            Err(ExtensionError::TooLong(_))
        ));
    }

    #[test]
    fn an_exclusion_gives_reasons_and_the_right_to_the_ombudsman() {
        let profile = LandlordProfile::default();
        assert!(exclusion_message(&profile, "C1", true, "").is_none());
        let m = exclusion_message(&profile, "C1", true, "This is a matter for your insurer.")
            .expect("message");
        assert!(m.contains("insurer") && m.contains("Housing Ombudsman"));
    }
}
