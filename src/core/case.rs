//! Case work the Code regulates, as pure functions: a stage response must have every part
//! the Code requires before it can be sent (6.9 at stage 1, 6.19 at stage 2); an extension
//! needs a reason, stays within the cap, and tells the resident how to reach the Ombudsman
//! (6.4, 6.5, 6.15, 6.16); an exclusion decision gives its reasons and the right to go to the
//! Ombudsman (2.4).
//!
//! Who may work on a complaint is decided here too, from what the service has read: at stage 2
//! nobody who handled stage 1 (6.13); once a handler is named, that person or a manager; a
//! handler is a complaints officer or a manager, never an agent. So are the limits on what
//! staff write into the record: a complaint definition (5.6), a remedy or an action.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::calendar::{Deadlines, ExtensionTooLong};
use super::ids::{CaseStatus, StaffId, Stage};
use super::outcome::{Outcome, Pence};
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
    /// Upheld, partly upheld or not upheld: recorded with the response, and what the reports
    /// count (issue 12; Code 8.1 and 9.7).
    pub outcome: Option<Outcome>,
    /// Any compensation offered (0 when none), told to the resident with the remedy.
    #[serde(default)]
    pub compensation: Pence,
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
        // The outcome is part of the decision the Code asks for.
        .chain(self.outcome.is_none().then_some(Missing {
            part: "the outcome (upheld, partly upheld or not upheld)",
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
             Our decision:\n{outcome}\n{decision}\n\n\
             Why:\n{reasons}\n\n\
             Putting things right:\n{remedy}{compensation}\n\n\
             Still to do:\n{outstanding}\n\n\
             {escalate}",
            landlord = profile.name,
            stage = self.stage,
            definition = self.definition.trim(),
            outcome = self.outcome.map_or("", Outcome::told),
            decision = self.decision.trim(),
            reasons = self.reasons.trim(),
            remedy = self.remedy.trim(),
            compensation = if self.compensation.is_zero() {
                String::new()
            } else {
                format!("\nCompensation offered: {}.", self.compensation)
            },
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
    pub stage: Stage,
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
    let provision = if stage == Stage::Two { "6.16" } else { "6.5" };
    if reason.trim().is_empty() {
        return Err(ExtensionError::NoReason(provision));
    }
    deadlines.extended(stage.number(), due_on, already.saturating_add(days))?;
    let new_due = deadlines.extended(stage.number(), due_on, days)?;
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

/// The longest complaint definition staff may write, in characters.
pub const LONGEST_DEFINITION: usize = 4000;
/// The longest remedy or action description, in characters.
pub const LONGEST_ACTION: usize = 1000;

/// Why the Code's rules (or the record's limits) refuse a piece of case work, in the words
/// staff read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "you handled stage 1, so someone else must handle stage 2 (Complaint Handling Code 6.13)"
    )]
    HandledStageOne,
    #[error("complaint {0} is assigned to someone else; a manager can reassign it")]
    AssignedToAnother(String),
    #[error("complaint {reference} is {status}, not awaiting a response, so it needs no handler")]
    NeedsNoHandler { reference: String, status: String },
    #[error("there is no member of staff {0}")]
    NoSuchStaff(StaffId),
    #[error("{0} is an agent; complaints are handled by complaints officers and managers")]
    Agent(String),
    #[error(
        "{name} handled stage 1 of {reference}, so someone else must handle stage 2 (Complaint Handling Code 6.13)"
    )]
    NamedHandledStageOne { name: String, reference: String },
    #[error("{name} already handles {reference}")]
    AlreadyHandles { name: String, reference: String },
    #[error("{0} already has a handler; a manager can reassign it")]
    HasHandler(String),
    #[error("complaint {0} is not awaiting a response, so there is nothing to extend")]
    NothingToExtend(String),
    #[error("an extension is at least one working day")]
    NoWorkingDays,
    #[error(
        "write the complaint definition: what went wrong and what the resident wants (Complaint Handling Code 5.6)"
    )]
    NoDefinition,
    #[error(
        "the definition is over {LONGEST_DEFINITION} characters; keep it to what the response will answer"
    )]
    DefinitionTooLong,
    #[error("complaint {reference} is {status}, so its definition can no longer change")]
    DefinitionSettled { reference: String, status: String },
    #[error("the definition is the same as before")]
    SameDefinition,
    #[error("{0:?} is neither a remedy nor an action")]
    NotAnAction(String),
    #[error("describe the {0}")]
    NoDescription(String),
    #[error("the description is over {LONGEST_ACTION} characters")]
    DescriptionTooLong,
    #[error("a remedy has no due date; record what is still to be done as an action")]
    RemedyWithDueDate,
}

/// A member of staff asking to work on a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub id: StaffId,
    /// Managers (and admins) may act on a complaint someone else handles, and reassign it.
    pub manager: bool,
}

/// A complaint as the rules on who may work on it read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handling<'a> {
    pub reference: &'a str,
    /// Its current stage.
    pub stage: Stage,
    /// Its status: only a complaint awaiting a response ("acknowledged") needs a handler.
    pub status: CaseStatus,
    /// Everyone who handled its stage 1: only looked at once it is at stage 2.
    pub stage_one: &'a [StaffId],
    /// Who is named to handle the current stage, if anyone.
    pub handler: Option<StaffId>,
}

/// A member of staff as the rules on handlers read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Named<'a> {
    pub name: &'a str,
    /// Their role handles complaints (complaints officers and managers; not agents).
    pub handles_complaints: bool,
}

/// At stage 2, nobody who handled stage 1 works on the complaint: not its response, its
/// definition, its deadline, its remedies or a decision not to take it on (6.13).
pub fn not_stage_one_handler(
    stage: Stage,
    stage_one: &[StaffId],
    staff: StaffId,
) -> Result<(), Refusal> {
    if stage == Stage::Two && stage_one.contains(&staff) {
        return Err(Refusal::HandledStageOne);
    }
    Ok(())
}

/// Who may act on a complaint (its response, extension, exclusion decision, closure,
/// definition, remedies and actions): not a stage 1 handler at stage 2 (6.13), and, once
/// someone is named, that person (or a manager).
pub fn may_act(case: &Handling<'_>, actor: Actor) -> Result<(), Refusal> {
    not_stage_one_handler(case.stage, case.stage_one, actor.id)?;
    match case.handler {
        Some(handler) if handler != actor.id && !actor.manager => {
            Err(Refusal::AssignedToAnother(case.reference.to_owned()))
        }
        _ => Ok(()),
    }
}

/// Who may be named to handle a complaint at its current stage, and by whom: only while it
/// awaits a response; never an agent; at stage 2 not anyone who handled stage 1 (6.13); and
/// taking a complaint from its handler is a manager's decision. `named` is member of staff
/// `handler` as the record has them, None if there is no such member of staff.
pub fn may_name_handler(
    case: &Handling<'_>,
    handler: StaffId,
    named: Option<Named<'_>>,
    by: Actor,
) -> Result<(), Refusal> {
    let reference = case.reference.to_owned();
    if case.status != CaseStatus::Acknowledged {
        return Err(Refusal::NeedsNoHandler {
            reference,
            status: case.status.as_str().to_owned(),
        });
    }
    let Some(named) = named else {
        return Err(Refusal::NoSuchStaff(handler));
    };
    let name = named.name.to_owned();
    if !named.handles_complaints {
        return Err(Refusal::Agent(name));
    }
    if case.stage == Stage::Two && case.stage_one.contains(&handler) {
        return Err(Refusal::NamedHandledStageOne { name, reference });
    }
    match case.handler {
        Some(current) if current == handler => Err(Refusal::AlreadyHandles { name, reference }),
        // Taking a complaint from its handler is a manager's decision.
        Some(_) if !by.manager => Err(Refusal::HasHandler(reference)),
        _ => Ok(()),
    }
}

/// Whether a complaint's response date can be extended at all: only while it awaits a
/// response, and by at least one working day. The reason and the cap are `extend`'s.
pub fn may_extend(reference: &str, status: CaseStatus, days: u32) -> Result<(), Refusal> {
    if status != CaseStatus::Acknowledged {
        return Err(Refusal::NothingToExtend(reference.to_owned()));
    }
    if days == 0 {
        return Err(Refusal::NoWorkingDays);
    }
    Ok(())
}

/// A complaint definition as staff wrote it, trimmed, if the record can take it: something
/// the response will answer (5.6), and not a document.
pub fn definition(text: &str) -> Result<&str, Refusal> {
    let definition = text.trim();
    if definition.is_empty() {
        return Err(Refusal::NoDefinition);
    }
    if definition.chars().count() > LONGEST_DEFINITION {
        return Err(Refusal::DefinitionTooLong);
    }
    Ok(definition)
}

/// Whether a complaint's definition may still be revised: not once it is closed or excluded.
pub fn may_redefine(reference: &str, status: CaseStatus) -> Result<(), Refusal> {
    if matches!(status, CaseStatus::Closed | CaseStatus::Excluded) {
        return Err(Refusal::DefinitionSettled {
            reference: reference.to_owned(),
            status: status.as_str().to_owned(),
        });
    }
    Ok(())
}

/// Whether `after` (as `definition` returns it) revises the definition `before` (as the
/// record has it): a revision with the same words is refused rather than sent to the
/// resident again.
pub fn redefines(before: &str, after: &str) -> Result<(), Refusal> {
    if before.trim() == after {
        return Err(Refusal::SameDefinition);
    }
    Ok(())
}

/// A remedy offered or an action promised, its description trimmed, if the record can take
/// it: a remedy is done when offered, so only an action carries a date it is due by.
pub fn case_action<'a>(
    kind: &str,
    description: &'a str,
    due_on: Option<NaiveDate>,
) -> Result<&'a str, Refusal> {
    let description = description.trim();
    if !matches!(kind, "remedy" | "action") {
        return Err(Refusal::NotAnAction(kind.to_owned()));
    }
    if description.is_empty() {
        return Err(Refusal::NoDescription(kind.to_owned()));
    }
    if description.chars().count() > LONGEST_ACTION {
        return Err(Refusal::DescriptionTooLong);
    }
    if kind == "remedy" && due_on.is_some() {
        return Err(Refusal::RemedyWithDueDate);
    }
    Ok(description)
}

#[cfg(test)]
mod tests;
