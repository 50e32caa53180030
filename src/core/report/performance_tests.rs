//! The performance figures for November 2026 over seven complaints whose every figure is
//! worked out by hand below (no bank holidays fall in October or November 2026).

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::core::calendar::Calendar;
use crate::core::category::Categories;
use crate::core::ids::Stage;
use crate::core::outcome::{Outcome, Pence};
use crate::core::report::{CaseWork, ComplaintFacts, Decided, Escalation, Period, StageFacts};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).expect("date")
}

fn complaint(
    reference: &str,
    received: NaiveDate,
    acknowledged: Option<NaiveDate>,
) -> ComplaintFacts {
    ComplaintFacts {
        reference: reference.to_owned(),
        tenure: None,
        received_at: received.and_hms_opt(10, 0, 0).expect("time").and_utc(),
        stage1: StageFacts {
            acknowledged_on: acknowledged,
            extended_due_on: None,
            responded_on: None,
        },
        stage2: None,
        excluded_at: None,
        withdrawn: false,
        work: CaseWork::default(),
    }
}

fn decided(outcome: Outcome, pence: u64) -> Option<Decided> {
    Some(Decided {
        outcome,
        compensation: Pence(pence),
    })
}

fn november() -> Vec<ComplaintFacts> {
    // A: acknowledged the day it came (0 working days), answered 9 working days later, upheld
    // with £50; category confirmed; the resident gave 5.
    let mut a = complaint("C2026-00101", day(11, 2), Some(day(11, 2)));
    a.stage1.responded_on = Some(day(11, 13));
    a.work = CaseWork {
        category: Some("repairs".into()),
        category_confirmed: true,
        decided: [decided(Outcome::Upheld, 5_000), None],
        feedback_score: Some(5),
    };
    // B: acknowledged on the 5th working day (on time); answered 11 working days after it,
    // within an extension to 27 November; not upheld; the engine's category, unconfirmed; 2.
    let mut b = complaint("C2026-00102", day(11, 3), Some(day(11, 10)));
    b.stage1.extended_due_on = Some(day(11, 27));
    b.stage1.responded_on = Some(day(11, 25));
    b.work = CaseWork {
        category: Some("damp_mould".into()),
        category_confirmed: false,
        decided: [decided(Outcome::NotUpheld, 0), None],
        feedback_score: Some(2),
    };
    // C: acknowledged on the 6th working day (late); answered 12 working days after it, no
    // extension (late); sent before outcomes were recorded; no category.
    let mut c = complaint("C2026-00103", day(11, 4), Some(day(11, 12)));
    c.stage1.responded_on = Some(day(11, 30));
    // D: no acknowledgement recorded, not answered.
    let d = complaint("C2026-00104", day(11, 5), None);
    // E: excluded at stage 1 (2.4): counted only as excluded.
    let mut e = complaint("C2026-00105", day(11, 6), Some(day(11, 6)));
    e.excluded_at = Some(Stage::One);
    // F: received and answered in October; stage 2 asked for on 9 November, acknowledged the
    // next working day, answered 13 working days later; partly upheld with £120.50.
    let mut f = complaint("C2026-00090", day(10, 15), Some(day(10, 15)));
    f.stage1.responded_on = Some(day(10, 23));
    f.stage2 = Some(Escalation {
        requested_at: Utc
            .with_ymd_and_hms(2026, 11, 9, 10, 0, 0)
            .single()
            .expect("time"),
        stage: StageFacts {
            acknowledged_on: Some(day(11, 10)),
            extended_due_on: None,
            responded_on: Some(day(11, 27)),
        },
    });
    f.work.decided = [
        decided(Outcome::Upheld, 0),
        decided(Outcome::PartlyUpheld, 12_050),
    ];
    f.work.feedback_score = Some(4);
    // G: received in October, answered on 3 November, exactly 10 working days after the
    // acknowledgement (on time); not upheld.
    let mut g = complaint("C2026-00091", day(10, 20), Some(day(10, 20)));
    g.stage1.responded_on = Some(day(11, 3));
    g.work.decided = [decided(Outcome::NotUpheld, 0), None];
    vec![a, b, c, d, e, f, g]
}

fn run(complaints: &[ComplaintFacts], period: &Period) -> Performance {
    let calendar = Calendar::england_and_wales();
    let categories = Categories::default();
    performance(&PerformanceInput {
        period,
        calendar: &calendar,
        categories: &categories,
        complaints,
    })
}

fn refs(list: &[&str]) -> Vec<String> {
    list.iter().map(|r| (*r).to_owned()).collect()
}

#[test]
fn november_2026_is_counted_as_worked_out_by_hand() {
    let period = Period::month(2026, 11).expect("month");
    let p = run(&november(), &period);
    let s1 = &p.stage1;
    assert_eq!(
        s1.received,
        refs(&["C2026-00101", "C2026-00102", "C2026-00103", "C2026-00104"])
    );
    assert_eq!(s1.excluded, refs(&["C2026-00105"]));
    assert_eq!(s1.acknowledged_on_time.published(), "50.0%");
    assert_eq!(
        s1.acknowledged_on_time.complaints,
        refs(&["C2026-00101", "C2026-00102"])
    );
    assert_eq!(s1.not_acknowledged, refs(&["C2026-00104"]));
    assert_eq!(
        s1.responded,
        refs(&["C2026-00091", "C2026-00101", "C2026-00102", "C2026-00103"])
    );
    assert_eq!(s1.on_time.published(), "50.0%");
    assert_eq!(s1.on_time.complaints, refs(&["C2026-00091", "C2026-00101"]));
    assert_eq!(s1.within_extension, refs(&["C2026-00102"]));
    assert_eq!(s1.late, refs(&["C2026-00103"]));
    assert_eq!(s1.extended, refs(&["C2026-00102"]));
    let days: Vec<(i64, u64)> = s1
        .working_days
        .iter()
        .map(|d| (d.working_days, d.responses))
        .collect();
    assert_eq!(days, vec![(9, 1), (10, 1), (11, 1), (12, 1)]);
    assert_eq!(s1.outcomes.upheld, refs(&["C2026-00101"]));
    assert_eq!(
        s1.outcomes.not_upheld,
        refs(&["C2026-00091", "C2026-00102"])
    );
    assert!(s1.outcomes.partly_upheld.is_empty());
    assert_eq!(s1.outcomes.not_recorded, refs(&["C2026-00103"]));
    assert_eq!(s1.compensation, Pence(5_000));
    assert_eq!(s1.compensated, refs(&["C2026-00101"]));

    let s2 = &p.stage2;
    assert_eq!(s2.received, refs(&["C2026-00090"]));
    assert_eq!(s2.acknowledged_on_time.published(), "100.0%");
    assert_eq!(s2.on_time.published(), "100.0%");
    assert_eq!(s2.outcomes.partly_upheld, refs(&["C2026-00090"]));
    assert_eq!(s2.compensation, Pence(12_050));
    let days: Vec<(i64, u64)> = s2
        .working_days
        .iter()
        .map(|d| (d.working_days, d.responses))
        .collect();
    assert_eq!(days, vec![(13, 1)]);

    // One stage 2 request over four stage 1 responses.
    assert_eq!(p.escalation_rate.published(), "25.0%");

    let by_key: Vec<(&str, Vec<String>, u64)> = p
        .categories
        .iter()
        .filter(|c| !c.complaints.is_empty())
        .map(|c| (c.key.as_str(), c.complaints.clone(), c.unconfirmed))
        .collect();
    assert_eq!(
        by_key,
        vec![
            ("damp_mould", refs(&["C2026-00102"]), 1),
            ("repairs", refs(&["C2026-00101"]), 0),
            ("", refs(&["C2026-00103", "C2026-00104"]), 0),
        ]
    );
    // Every category of the landlord's list is shown, with nothing in it where none came.
    assert!(
        p.categories
            .iter()
            .any(|c| c.key == "staff_conduct" && c.complaints.is_empty())
    );

    // Scores for complaints received in November only: A's 5 and B's 2 (F came in October).
    assert_eq!(p.feedback.by_score, [0, 1, 0, 0, 1]);
    assert_eq!(p.feedback.satisfied.published(), "50.0%");

    assert_eq!(
        p.months,
        vec![MonthVolume {
            month: "2026-11".into(),
            stage1: 4,
            stage2: 1
        }]
    );
}

#[test]
fn a_financial_year_lists_its_twelve_months_and_counts_each_in_its_own() {
    let period = Period::financial_year(2026).expect("year");
    let p = run(&november(), &period);
    let months: Vec<&str> = p.months.iter().map(|m| m.month.as_str()).collect();
    assert_eq!(months.len(), 12);
    assert_eq!(months.first(), Some(&"2026-04"));
    assert_eq!(months.last(), Some(&"2027-03"));
    let october = p
        .months
        .iter()
        .find(|m| m.month == "2026-10")
        .expect("October");
    assert_eq!((october.stage1, october.stage2), (2, 0));
    let november = p
        .months
        .iter()
        .find(|m| m.month == "2026-11")
        .expect("November");
    assert_eq!((november.stage1, november.stage2), (4, 1));
    // The year: six received at stage 1 (E excluded), F's and G's October responses too.
    assert_eq!(p.stage1.received.len(), 6);
    assert_eq!(p.stage1.responded.len(), 5);
}

#[test]
fn an_empty_period_is_not_measurable_rather_than_zero() {
    let period = Period::month(2026, 6).expect("month");
    let p = run(&november(), &period);
    assert!(p.stage1.received.is_empty());
    assert!(p.stage1.on_time.published().starts_with("not measurable"));
    assert!(p.escalation_rate.published().starts_with("not measurable"));
    assert!(
        p.feedback
            .satisfied
            .published()
            .starts_with("not measurable")
    );
    assert_eq!(p.months.len(), 1);
}
