//! The Code's rules for case work, one provision at a time.

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
        outcome: Some(crate::core::outcome::Outcome::Upheld),
        compensation: crate::core::outcome::Pence(5_000),
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
fn a_response_needs_its_outcome_and_tells_the_resident_it_and_the_compensation() {
    use crate::core::outcome::{Outcome, Pence};
    let profile = LandlordProfile::default();
    let mut r = full(1);
    r.outcome = None;
    let missing = r.missing();
    assert_eq!(missing.len(), 1);
    assert!(missing[0].part.contains("outcome") && missing[0].provision == "6.9");
    assert!(r.compose("C2026-00001", &profile).is_none());

    let told = full(1).compose("C2026-00001", &profile).expect("complete");
    assert!(told.contains("We have upheld your complaint."), "{told}");
    assert!(told.contains("Compensation offered: £50.00."), "{told}");
    r.outcome = Some(Outcome::NotUpheld);
    r.compensation = Pence(0);
    let told = r.compose("C2026-00001", &profile).expect("complete");
    assert!(
        told.contains("We have not upheld your complaint."),
        "{told}"
    );
    assert!(!told.contains("Compensation"), "{told}");
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
    assert_eq!(
        ask(Stage::One, 0, 5, " "),
        Err(ExtensionError::NoReason("6.5"))
    );
    assert!(matches!(
        ask(Stage::One, 0, 11, "waiting for a contractor"),
        Err(ExtensionError::TooLong(_))
    ));
    let (new_due, message) = ask(
        Stage::One,
        0,
        5,
        "We are waiting for a contractor's report.",
    )
    .expect("allowed");
    // Five working days after Wednesday 23 December, across Christmas: Thursday 24, then
    // Tuesday 29, Wednesday 30, Thursday 31 December and Friday 1 January... which is New
    // Year's Day, so Monday 4 January.
    assert_eq!(new_due, NaiveDate::from_ymd_opt(2027, 1, 4).expect("date"));
    assert!(message.contains("Monday 4 January 2027"));
    assert!(message.contains("contractor's report") && message.contains(&profile.ombudsman.phone));
    // Stage 2 allows up to 20.
    assert!(ask(Stage::Two, 0, 20, "complex").is_ok());
    assert!(ask(Stage::Two, 0, 21, "complex").is_err());
    // Two extensions may not together pass the cap.
    assert!(ask(Stage::One, 6, 4, "again").is_ok());
    assert!(matches!(
        ask(Stage::One, 6, 5, "again"),
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

const ALEX: StaffId = StaffId(1);
const CY: StaffId = StaffId(2);
const MO: StaffId = StaffId(3);
const ONE: Stage = Stage::One;
const TWO: Stage = Stage::Two;

fn officer(id: StaffId) -> Actor {
    Actor { id, manager: false }
}

fn manager(id: StaffId) -> Actor {
    Actor { id, manager: true }
}

/// A complaint awaiting its response at `stage`, whose stage 1 Cy handled.
fn at_stage(stage: Stage, handler: Option<StaffId>) -> Handling<'static> {
    Handling {
        reference: "C1",
        stage,
        status: CaseStatus::Acknowledged,
        stage_one: &[CY],
        handler,
    }
}

#[test]
fn at_stage_two_nobody_who_handled_stage_one_acts_not_even_a_manager() {
    assert_eq!(
        not_stage_one_handler(TWO, &[CY], CY),
        Err(Refusal::HandledStageOne)
    );
    assert_eq!(not_stage_one_handler(ONE, &[CY], CY), Ok(()));
    assert_eq!(not_stage_one_handler(TWO, &[CY], ALEX), Ok(()));
    assert_eq!(
        may_act(&at_stage(TWO, None), manager(CY)),
        Err(Refusal::HandledStageOne)
    );
    assert!(
        Refusal::HandledStageOne
            .to_string()
            .ends_with("someone else must handle stage 2 (Complaint Handling Code 6.13)")
    );
}

#[test]
fn once_a_handler_is_named_only_they_or_a_manager_act() {
    let case = at_stage(TWO, Some(ALEX));
    assert_eq!(may_act(&case, officer(ALEX)), Ok(()));
    assert_eq!(may_act(&case, manager(MO)), Ok(()));
    assert_eq!(
        may_act(&case, officer(StaffId(4))),
        Err(Refusal::AssignedToAnother("C1".into()))
    );
    // Before anyone is named, any officer may act (bar 6.13).
    assert_eq!(may_act(&at_stage(ONE, None), officer(CY)), Ok(()));
}

#[test]
fn a_handler_is_an_officer_or_manager_new_at_stage_two_and_reassigned_by_a_manager() {
    let alex = Some(Named {
        name: "Alex",
        handles_complaints: true,
    });
    let case = at_stage(TWO, None);
    assert_eq!(may_name_handler(&case, ALEX, alex, officer(ALEX)), Ok(()));
    // Only a complaint awaiting its response needs a handler; that is said first.
    let closed = Handling {
        status: CaseStatus::Closed,
        ..case
    };
    assert_eq!(
        may_name_handler(&closed, StaffId(9), None, manager(MO)),
        Err(Refusal::NeedsNoHandler {
            reference: "C1".into(),
            status: "closed".into()
        })
    );
    assert_eq!(
        may_name_handler(&case, StaffId(9), None, manager(MO)),
        Err(Refusal::NoSuchStaff(StaffId(9)))
    );
    let agent = Some(Named {
        name: "Ash",
        handles_complaints: false,
    });
    assert_eq!(
        may_name_handler(&case, StaffId(5), agent, manager(MO)),
        Err(Refusal::Agent("Ash".into()))
    );
    let cy = Some(Named {
        name: "Cy",
        handles_complaints: true,
    });
    let refused = may_name_handler(&case, CY, cy, manager(MO)).expect_err("6.13");
    assert_eq!(
        refused.to_string(),
        "Cy handled stage 1 of C1, so someone else must handle stage 2 (Complaint Handling Code 6.13)"
    );
    // At stage 1, Cy may handle it.
    assert_eq!(
        may_name_handler(&at_stage(ONE, None), CY, cy, officer(CY)),
        Ok(())
    );
    let handled = at_stage(TWO, Some(ALEX));
    assert_eq!(
        may_name_handler(&handled, ALEX, alex, manager(MO)),
        Err(Refusal::AlreadyHandles {
            name: "Alex".into(),
            reference: "C1".into()
        })
    );
    let bo = Some(Named {
        name: "Bo",
        handles_complaints: true,
    });
    assert_eq!(
        may_name_handler(&handled, StaffId(6), bo, officer(StaffId(6))),
        Err(Refusal::HasHandler("C1".into()))
    );
    assert_eq!(
        may_name_handler(&handled, StaffId(6), bo, manager(MO)),
        Ok(())
    );
}

#[test]
fn only_a_complaint_awaiting_its_response_is_extended_by_a_working_day_or_more() {
    assert_eq!(may_extend("C1", CaseStatus::Acknowledged, 1), Ok(()));
    assert_eq!(
        may_extend("C1", CaseStatus::Responded, 5),
        Err(Refusal::NothingToExtend("C1".into()))
    );
    assert_eq!(
        may_extend("C1", CaseStatus::Acknowledged, 0),
        Err(Refusal::NoWorkingDays)
    );
}

#[test]
fn a_definition_is_written_within_bounds_and_changes_until_the_case_is_settled() {
    assert_eq!(definition("  No heating.  "), Ok("No heating."));
    assert_eq!(definition(" "), Err(Refusal::NoDefinition));
    let long = "x".repeat(LONGEST_DEFINITION + 1);
    assert_eq!(
        definition(&long).map_err(|r| r.to_string()),
        Err(
            "the definition is over 4000 characters; keep it to what the response will answer"
                .to_owned()
        )
    );
    assert!(definition(&long[1..]).is_ok());
    assert_eq!(
        may_redefine("C1", CaseStatus::Excluded).map_err(|r| r.to_string()),
        Err("complaint C1 is excluded, so its definition can no longer change".to_owned())
    );
    assert_eq!(may_redefine("C1", CaseStatus::Responded), Ok(()));
    assert_eq!(
        redefines(" No heating. ", "No heating."),
        Err(Refusal::SameDefinition)
    );
    assert_eq!(redefines("No heating.", "No hot water."), Ok(()));
}

#[test]
fn a_remedy_or_action_is_described_and_only_an_action_is_due() {
    let due = NaiveDate::from_ymd_opt(2026, 12, 1);
    assert_eq!(
        case_action("action", " Fix the boiler ", due),
        Ok("Fix the boiler")
    );
    assert_eq!(case_action("remedy", "An apology", None), Ok("An apology"));
    assert_eq!(
        case_action("refund", "£50", None).map_err(|r| r.to_string()),
        Err("\"refund\" is neither a remedy nor an action".to_owned())
    );
    assert_eq!(
        case_action("remedy", "  ", None).map_err(|r| r.to_string()),
        Err("describe the remedy".to_owned())
    );
    assert_eq!(
        case_action("action", &"x".repeat(LONGEST_ACTION + 1), None).map_err(|r| r.to_string()),
        Err("the description is over 1000 characters".to_owned())
    );
    assert_eq!(
        case_action("remedy", "An apology", due),
        Err(Refusal::RemedyWithDueDate)
    );
}
