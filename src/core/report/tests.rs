use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;
use crate::core::calendar::Calendar;
use crate::core::ids::Stage;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid time")
}

/// A stage 1 complaint received at noon UTC on `received`, acknowledged the same day, not yet
/// answered.
fn complaint(reference: &str, received: NaiveDate) -> ComplaintFacts {
    ComplaintFacts {
        reference: reference.to_owned(),
        tenure: None,
        received_at: received
            .and_hms_opt(12, 0, 0)
            .expect("valid time")
            .and_utc(),
        stage1: StageFacts {
            acknowledged_on: Some(received),
            extended_due_on: None,
            responded_on: None,
        },
        stage2: None,
        excluded_at: None,
        withdrawn: false,
        work: super::CaseWork::default(),
    }
}

fn answered(mut c: ComplaintFacts, on: NaiveDate) -> ComplaintFacts {
    c.stage1.responded_on = Some(on);
    c
}

fn homes(total: u32) -> Homes {
    Homes {
        total,
        ..Homes::default()
    }
}

fn report(
    period: &Period,
    homes: Homes,
    settings: TsmSettings,
    complaints: &[ComplaintFacts],
) -> TsmReport {
    let calendar = Calendar::england_and_wales();
    tenant_satisfaction_measures(&TsmInput {
        period,
        homes,
        settings,
        calendar: &calendar,
        complaints,
    })
}

fn fy(year: i32) -> Period {
    Period::financial_year(year).expect("valid year")
}

fn measured(figure: &Figure) -> String {
    match &figure.value {
        Value::Measured(v) => v.to_string(),
        Value::NotMeasurable(why) => panic!("not measurable: {why}"),
    }
}

#[test]
fn a_financial_year_runs_from_1_april_to_31_march() {
    let p = fy(2025);
    assert_eq!(
        (p.first_day, p.last_day),
        (day(2025, 4, 1), day(2026, 3, 31))
    );
    assert_eq!(p.label, "2025/26");
    assert_eq!(p.to_string(), "2025/26 (1 April 2025 to 31 March 2026)");
    assert_eq!(Period::financial_year_of(day(2026, 3, 31)), Ok(fy(2025)));
    assert_eq!(Period::financial_year_of(day(2026, 4, 1)), Ok(fy(2026)));
    assert_eq!(fy(2099).label, "2099/00");
}

#[test]
fn a_month_is_its_calendar_days() {
    let nov = Period::month(2026, 11).expect("November");
    assert_eq!(
        (nov.first_day, nov.last_day),
        (day(2026, 11, 1), day(2026, 11, 30))
    );
    assert_eq!(nov.label, "November 2026");
    let feb = Period::month(2028, 2).expect("leap February");
    assert_eq!(feb.last_day, day(2028, 2, 29));
    assert_eq!(
        Period::month(2026, 12).expect("December").last_day,
        day(2026, 12, 31)
    );
    assert_eq!(Period::month(2026, 13), Err(PeriodError::Month(13)));
    assert_eq!(Period::month(2026, 0), Err(PeriodError::Month(0)));
    assert!(Period::financial_year(i32::MAX).is_err());
}

#[test]
fn a_complaint_at_half_past_midnight_bst_on_1_april_is_in_the_new_year() {
    let calendar = Calendar::england_and_wales();
    // BST began on 29 March 2026: 23:30 UTC on 31 March is 00:30 on 1 April in London.
    let after_midnight = utc(2026, 3, 31, 23, 30);
    assert!(fy(2026).contains(&calendar, after_midnight));
    assert!(!fy(2025).contains(&calendar, after_midnight));
    // 22:30 UTC is 23:30 BST on 31 March: still the old year.
    let before_midnight = utc(2026, 3, 31, 22, 30);
    assert!(fy(2025).contains(&calendar, before_midnight));
    assert!(!fy(2026).contains(&calendar, before_midnight));
    // After BST ends (25 October 2026) London is on UTC: 23:30 UTC on 31 October is October.
    let october = Period::month(2026, 10).expect("October");
    assert!(october.contains(&calendar, utc(2026, 10, 31, 23, 30)));
    // In summer, 23:30 UTC on 31 July is 00:30 on 1 August.
    let august = Period::month(2026, 8).expect("August");
    assert!(august.contains(&calendar, utc(2026, 7, 31, 23, 30)));

    let mut c = complaint("CMP-1", day(2026, 3, 31));
    c.received_at = after_midnight;
    let new_year = report(
        &fy(2026),
        homes(1000),
        TsmSettings::default(),
        std::slice::from_ref(&c),
    );
    let old_year = report(&fy(2025), homes(1000), TsmSettings::default(), &[c]);
    assert_eq!(new_year.ch01.stage1.all_homes.complaints, vec!["CMP-1"]);
    assert_eq!(old_year.ch01.stage1.all_homes.numerator, 0);
}

#[test]
fn ch01_counts_complaints_received_per_thousand_homes() {
    // 3 stage 1 complaints and 1 escalation over 1,200 homes: 3 / 1200 * 1000 = 2.5, and
    // 1 / 1200 * 1000 = 0.833... published as 0.8.
    let mut escalated = answered(complaint("CMP-3", day(2025, 6, 2)), day(2025, 6, 10));
    escalated.stage2 = Some(Escalation {
        requested_at: utc(2025, 6, 20, 9, 0),
        stage: StageFacts {
            acknowledged_on: Some(day(2025, 6, 23)),
            extended_due_on: None,
            responded_on: None,
        },
    });
    let complaints = [
        complaint("CMP-1", day(2025, 4, 1)),
        answered(complaint("CMP-2", day(2025, 5, 1)), day(2025, 5, 9)),
        escalated,
        // Received in the year before, not counted.
        complaint("CMP-0", day(2025, 3, 31)),
    ];
    let r = report(&fy(2025), homes(1200), TsmSettings::default(), &complaints);
    let s1 = &r.ch01.stage1.all_homes;
    assert_eq!((s1.numerator, s1.denominator), (3, 1200));
    assert_eq!(s1.complaints, vec!["CMP-1", "CMP-2", "CMP-3"]);
    assert_eq!(measured(s1), "2.5");
    assert_eq!(s1.published(), "2.5");
    let s2 = &r.ch01.stage2.all_homes;
    assert_eq!((s2.numerator, s2.denominator), (1, 1200));
    assert_eq!(measured(s2), "0.8");
    assert_eq!(
        r.ch01.stage1.tenure_not_recorded,
        vec!["CMP-1", "CMP-2", "CMP-3"]
    );
}

#[test]
fn a_complaint_escalated_in_a_later_year_counts_at_stage_2_in_that_year() {
    let mut c = answered(complaint("CMP-9", day(2026, 2, 2)), day(2026, 2, 13));
    c.stage2 = Some(Escalation {
        requested_at: utc(2026, 5, 5, 10, 0),
        stage: StageFacts {
            acknowledged_on: Some(day(2026, 5, 6)),
            extended_due_on: None,
            responded_on: Some(day(2026, 6, 1)),
        },
    });
    let first = report(
        &fy(2025),
        homes(500),
        TsmSettings::default(),
        std::slice::from_ref(&c),
    );
    let second = report(&fy(2026), homes(500), TsmSettings::default(), &[c]);
    assert_eq!(first.ch01.stage1.all_homes.numerator, 1);
    assert_eq!(first.ch01.stage2.all_homes.numerator, 0);
    assert_eq!(first.ch02.stage1.on_time.numerator, 1);
    assert_eq!(second.ch01.stage1.all_homes.numerator, 0);
    assert_eq!(second.ch01.stage2.all_homes.complaints, vec!["CMP-9"]);
    // 20 working days from Wednesday 6 May 2026 (bank holiday Monday 25 May) is 4 June.
    assert_eq!(second.ch02.stage2.on_time.numerator, 1);
    assert_eq!(second.ch02.stage2.on_time.published(), "100.0%");
}

#[test]
fn ch02_is_on_time_within_the_codes_working_days_and_a_code_compliant_extension() {
    // Acknowledged Monday 2 June 2025: 10 working days is Monday 16 June; a 10 working day
    // extension from there reaches Monday 30 June.
    let ack = day(2025, 6, 2);
    let extended = |c: ComplaintFacts, to: NaiveDate| -> ComplaintFacts {
        let mut c = c;
        c.stage1.extended_due_on = Some(to);
        c
    };
    let complaints = [
        answered(complaint("A-on-day-10", ack), day(2025, 6, 16)),
        answered(complaint("B-day-11", ack), day(2025, 6, 17)),
        answered(
            extended(complaint("C-by-extension", ack), day(2025, 6, 30)),
            day(2025, 6, 30),
        ),
        answered(
            extended(complaint("D-after-extension", ack), day(2025, 6, 24)),
            day(2025, 6, 25),
        ),
        // An extension beyond what the Code allows (an import, a hand edit) is capped at 30 June.
        answered(
            extended(complaint("E-past-the-cap", ack), day(2025, 7, 14)),
            day(2025, 7, 1),
        ),
        // Acknowledged Thursday 21 August 2025; bank holiday Monday 25 August: due 5 September.
        answered(
            complaint("F-over-bank-holiday", day(2025, 8, 21)),
            day(2025, 9, 5),
        ),
        answered(complaint("G-day-after", day(2025, 8, 21)), day(2025, 9, 8)),
        // Not yet answered: in CH01 only.
        complaint("H-open", ack),
    ];
    let r = report(&fy(2025), homes(1000), TsmSettings::default(), &complaints);
    let s1 = &r.ch02.stage1;
    assert_eq!(
        s1.on_time.complaints,
        vec!["A-on-day-10", "C-by-extension", "F-over-bank-holiday"]
    );
    assert_eq!(
        s1.late,
        vec![
            "B-day-11",
            "D-after-extension",
            "E-past-the-cap",
            "G-day-after"
        ]
    );
    assert_eq!((s1.on_time.numerator, s1.on_time.denominator), (3, 7));
    // 3 / 7 = 42.857...%
    assert_eq!(s1.on_time.published(), "42.9%");
    assert_eq!(r.ch01.stage1.all_homes.numerator, 8);
}

#[test]
fn ch02_counts_the_complaints_answered_in_the_period_whenever_received() {
    let late_in_year = answered(complaint("CMP-1", day(2026, 3, 23)), day(2026, 4, 2));
    let last = report(
        &fy(2025),
        homes(100),
        TsmSettings::default(),
        std::slice::from_ref(&late_in_year),
    );
    let next = report(
        &fy(2026),
        homes(100),
        TsmSettings::default(),
        &[late_in_year],
    );
    assert_eq!(last.ch01.stage1.all_homes.numerator, 1);
    assert_eq!(last.ch02.stage1.on_time.denominator, 0);
    assert_eq!(
        last.ch02.stage1.on_time.value,
        Value::NotMeasurable("no stage 1 complaints were responded to in the period".to_owned())
    );
    assert_eq!(next.ch01.stage1.all_homes.numerator, 0);
    // 10 working days from Monday 23 March 2026 (Good Friday 3 April, Easter Monday 6 April)
    // is 8 April.
    assert_eq!(next.ch02.stage1.on_time.complaints, vec!["CMP-1"]);
}

#[test]
fn stage_2_is_timed_from_its_acknowledgement_or_else_from_the_request() {
    let escalate = |reference: &str, ack: Option<NaiveDate>, responded: NaiveDate| {
        let mut c = answered(complaint(reference, day(2025, 9, 1)), day(2025, 9, 5));
        c.stage2 = Some(Escalation {
            requested_at: utc(2025, 9, 8, 9, 0),
            stage: StageFacts {
                acknowledged_on: ack,
                extended_due_on: None,
                responded_on: Some(responded),
            },
        });
        c
    };
    // Requested Monday 8 September 2025, acknowledged Friday 12th: 20 working days is 10 October.
    let complaints = [
        escalate("ACK-on-time", Some(day(2025, 9, 12)), day(2025, 10, 10)),
        escalate("ACK-late", Some(day(2025, 9, 12)), day(2025, 10, 13)),
        // No acknowledgement recorded: 20 working days from the request is 6 October.
        escalate("NOACK-on-time", None, day(2025, 10, 6)),
        escalate("NOACK-late", None, day(2025, 10, 7)),
    ];
    let r = report(&fy(2025), homes(1000), TsmSettings::default(), &complaints);
    assert_eq!(
        r.ch02.stage2.on_time.complaints,
        vec!["ACK-on-time", "NOACK-on-time"]
    );
    assert_eq!(r.ch02.stage2.late, vec!["ACK-late", "NOACK-late"]);
    assert_eq!(r.ch02.stage2.on_time.published(), "50.0%");
}

#[test]
fn withdrawn_complaints_follow_the_landlords_setting() {
    let mut withdrawn = answered(complaint("W-1", day(2025, 7, 1)), day(2025, 7, 2));
    withdrawn.withdrawn = true;
    let complaints = [
        withdrawn,
        answered(complaint("K-1", day(2025, 7, 1)), day(2025, 7, 30)),
    ];
    let counted = report(&fy(2025), homes(1000), TsmSettings::default(), &complaints);
    assert_eq!(counted.ch01.stage1.all_homes.numerator, 2);
    assert_eq!(counted.ch02.stage1.on_time.complaints, vec!["W-1"]);
    assert_eq!(counted.ch02.stage1.on_time.denominator, 2);

    let settings = TsmSettings {
        withdrawn: WithdrawnComplaints::NotCounted,
    };
    let left_out = report(&fy(2025), homes(1000), settings, &complaints);
    assert_eq!(left_out.ch01.stage1.all_homes.complaints, vec!["K-1"]);
    assert_eq!(left_out.ch02.stage1.on_time.denominator, 1);
    assert_eq!(left_out.ch02.stage1.late, vec!["K-1"]);
    assert!(
        left_out
            .rules
            .iter()
            .any(|r| r.contains("withdrew is not counted"))
    );
    assert!(
        counted
            .rules
            .iter()
            .any(|r| r.contains("withdrew is counted in CH01"))
    );
}

#[test]
fn excluded_complaints_are_left_out_at_the_stage_they_were_excluded() {
    let mut at_stage_1 = complaint("X-1", day(2025, 7, 1));
    at_stage_1.excluded_at = Some(Stage::One);
    let mut at_stage_2 = answered(complaint("X-2", day(2025, 7, 1)), day(2025, 7, 4));
    at_stage_2.stage2 = Some(Escalation {
        requested_at: utc(2025, 7, 10, 9, 0),
        stage: StageFacts {
            acknowledged_on: None,
            extended_due_on: None,
            responded_on: None,
        },
    });
    at_stage_2.excluded_at = Some(Stage::Two);
    let r = report(
        &fy(2025),
        homes(1000),
        TsmSettings::default(),
        &[at_stage_1, at_stage_2],
    );
    assert_eq!(r.ch01.stage1.all_homes.complaints, vec!["X-2"]);
    assert_eq!(r.ch02.stage1.on_time.complaints, vec!["X-2"]);
    assert_eq!(r.ch01.stage2.all_homes.numerator, 0);
}

#[test]
fn nothing_to_divide_by_is_not_measurable_rather_than_zero() {
    let r = report(
        &fy(2025),
        homes(0),
        TsmSettings::default(),
        &[complaint("C-1", day(2025, 5, 1))],
    );
    let s1 = &r.ch01.stage1.all_homes;
    assert_eq!((s1.numerator, s1.denominator), (1, 0));
    assert_eq!(
        s1.published(),
        "not measurable: landlord.homes is 0, so there are no homes to count complaints against"
    );
    assert_eq!(
        r.ch01.stage1.low_cost_rental.value,
        Value::NotMeasurable("landlord.homes_low_cost_rental is not set".to_owned())
    );
    assert!(matches!(
        r.ch02.stage2.on_time.value,
        Value::NotMeasurable(_)
    ));
}

#[test]
fn ch01_is_given_by_tenure_with_unrecorded_tenure_counted_for_all_homes_only() {
    let with = |reference: &str, tenure: Option<Tenure>| {
        let mut c = complaint(reference, day(2025, 10, 1));
        c.tenure = tenure;
        c
    };
    let complaints = [
        with("R-1", Some(Tenure::LowCostRental)),
        with("R-2", Some(Tenure::LowCostRental)),
        with("O-1", Some(Tenure::LowCostHomeOwnership)),
        with("U-1", None),
    ];
    let h = Homes {
        total: 1000,
        low_cost_rental: Some(800),
        low_cost_home_ownership: Some(200),
    };
    let r = report(&fy(2025), h, TsmSettings::default(), &complaints);
    let s1 = &r.ch01.stage1;
    assert_eq!(measured(&s1.all_homes), "4.0");
    // 2 / 800 * 1000 = 2.5; 1 / 200 * 1000 = 5.0.
    assert_eq!(measured(&s1.low_cost_rental), "2.5");
    assert_eq!(s1.low_cost_rental.complaints, vec!["R-1", "R-2"]);
    assert_eq!(measured(&s1.low_cost_home_ownership), "5.0");
    assert_eq!(s1.tenure_not_recorded, vec!["U-1"]);

    let no_ownership = Homes {
        low_cost_home_ownership: Some(0),
        ..h
    };
    let r = report(&fy(2025), no_ownership, TsmSettings::default(), &complaints);
    assert_eq!(
        r.ch01.stage1.low_cost_home_ownership.value,
        Value::NotMeasurable("the landlord has no low-cost home ownership homes".to_owned())
    );
}

#[test]
fn figures_round_to_one_decimal_place_with_halves_up() {
    // 49 per 4,000 homes is 12.25 per 1,000: 12.3.
    assert_eq!(scaled_tenths(49, 4000, Unit::PerThousandHomes), Some(123));
    // 49 of 400 is 12.25%: 12.3%.
    assert_eq!(scaled_tenths(49, 400, Unit::Percent), Some(123));
    // 12.24...% stays 12.2%.
    assert_eq!(scaled_tenths(4899, 40000, Unit::Percent), Some(122));
    assert_eq!(scaled_tenths(1, 3, Unit::Percent), Some(333));
    assert_eq!(scaled_tenths(2, 3, Unit::Percent), Some(667));
    assert_eq!(scaled_tenths(0, 5, Unit::Percent), Some(0));
    assert_eq!(scaled_tenths(3, 0, Unit::Percent), None);
    assert_eq!(scaled_tenths(u64::MAX, 1, Unit::PerThousandHomes), None);
    assert_eq!(OneDecimal { tenths: 5 }.to_string(), "0.5");
    assert_eq!(OneDecimal { tenths: 1000 }.to_string(), "100.0");
}

#[test]
fn the_rules_are_printed_with_the_report() {
    let r = report(&fy(2025), homes(10), TsmSettings::default(), &[]);
    assert_eq!(r.rules, rules(&TsmSettings::default()));
    let text = r.rules.join("\n");
    for needle in [
        "00:30 on 1 April",
        "10 working days of the acknowledgement (6.3)",
        "20 working days of the stage 2 acknowledgement (6.14)",
        "(6.4)",
        "(6.15)",
        "12.25 is published as 12.3",
        "section 2",
        "not measurable",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

#[test]
fn a_csv_cell_that_would_run_as_a_formula_is_made_text() {
    use super::csv_field;
    assert_eq!(csv_field("Fix the \"lift\""), "\"Fix the \"\"lift\"\"\"");
    assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    assert_eq!(csv_field("@SUM(A1)"), "\"'@SUM(A1)\"");
    assert_eq!(csv_field("+44 20"), "\"'+44 20\"");
    assert_eq!(csv_field("-3"), "\"-3\"");
    assert_eq!(csv_field("87.5%"), "\"87.5%\"");
}
