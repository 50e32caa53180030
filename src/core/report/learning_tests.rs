//! The learning summary for the financial year 2026/27 over a small register whose every
//! figure is worked out by hand below.

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::core::calendar::Calendar;
use crate::core::report::Period;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn improvement(
    title: &str,
    agreed: NaiveDate,
    target: NaiveDate,
    completed: Option<NaiveDate>,
) -> ImprovementFacts {
    ImprovementFacts {
        title: title.to_owned(),
        agreed_on: agreed,
        target_on: target,
        completed_on: completed,
    }
}

fn order(kind: OrderKind, due: NaiveDate, completed: Option<NaiveDate>) -> OrderFacts {
    OrderFacts {
        kind,
        due_on: due,
        completed_on: completed,
    }
}

fn summary(today: NaiveDate) -> LearningSummary {
    let period = Period::financial_year(2026).expect("year");
    let calendar = Calendar::england_and_wales();
    let learning = vec![
        // 23:30 UTC on 31 March 2026 is 00:30 BST on 1 April: in 2026/27.
        LearningRecorded {
            reference: "C2026-00001".to_owned(),
            recorded_at: Utc.with_ymd_and_hms(2026, 3, 31, 23, 30, 0).unwrap(),
        },
        // The day before, in 2025/26: not counted.
        LearningRecorded {
            reference: "C2025-00900".to_owned(),
            recorded_at: Utc.with_ymd_and_hms(2026, 3, 30, 12, 0, 0).unwrap(),
        },
        LearningRecorded {
            reference: "C2026-00002".to_owned(),
            recorded_at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap(),
        },
    ];
    let improvements = vec![
        // Agreed last year, finished this year: completed, not agreed, in 2026/27.
        improvement(
            "Repairs text updates",
            day(2026, 2, 1),
            day(2026, 5, 1),
            Some(day(2026, 4, 20)),
        ),
        // Agreed this year, target passed, still open: overdue.
        improvement(
            "Damp survey within 10 days",
            day(2026, 6, 1),
            day(2026, 9, 1),
            None,
        ),
        // Agreed this year, finished after its target but before today: completed, not overdue.
        improvement(
            "Contractor induction",
            day(2026, 6, 1),
            day(2026, 7, 1),
            Some(day(2026, 8, 1)),
        ),
        // Agreed last year, never finished, target last year: still overdue.
        improvement(
            "Letters in plain English",
            day(2025, 6, 1),
            day(2025, 12, 1),
            None,
        ),
        // Agreed this year, target still ahead: neither.
        improvement(
            "New complaints leaflet",
            day(2026, 10, 1),
            day(2027, 1, 31),
            None,
        ),
    ];
    let ombudsman = vec![
        // Referred last year, determined this year: two findings, an order done on time and
        // an order overdue, a recommendation done.
        OmbudsmanFacts {
            reference: "C2025-00800".to_owned(),
            referred_on: day(2026, 1, 10),
            determined_on: Some(day(2026, 7, 15)),
            findings: vec![
                Finding::Maladministration,
                Finding::ComplaintHandlingFailureOrder,
            ],
            orders: vec![
                order(OrderKind::Order, day(2026, 8, 15), Some(day(2026, 8, 10))),
                order(OrderKind::Order, day(2026, 9, 15), None),
                order(
                    OrderKind::Recommendation,
                    day(2026, 9, 15),
                    Some(day(2026, 10, 1)),
                ),
            ],
        },
        // Referred this year, not yet determined.
        OmbudsmanFacts {
            reference: "C2026-00003".to_owned(),
            referred_on: day(2026, 10, 5),
            determined_on: None,
            findings: Vec::new(),
            orders: Vec::new(),
        },
        // Referred and determined this year: no maladministration.
        OmbudsmanFacts {
            reference: "C2026-00004".to_owned(),
            referred_on: day(2026, 5, 5),
            determined_on: Some(day(2026, 11, 20)),
            findings: vec![Finding::NoMaladministration],
            orders: Vec::new(),
        },
    ];
    learning_summary(&LearningInput {
        period: &period,
        calendar: &calendar,
        today,
        learning: &learning,
        improvements: &improvements,
        ombudsman: &ombudsman,
    })
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_year_is_counted_as_worked_out_by_hand() {
    let s = summary(day(2026, 12, 1));
    assert_eq!(s.as_of, day(2026, 12, 1));
    assert_eq!(
        s.learning_recorded,
        strings(&["C2026-00001", "C2026-00002"])
    );
    assert_eq!(
        s.improvements_agreed,
        strings(&[
            "Damp survey within 10 days",
            "Contractor induction",
            "New complaints leaflet"
        ])
    );
    assert_eq!(
        s.improvements_completed,
        strings(&["Repairs text updates", "Contractor induction"])
    );
    assert_eq!(
        s.improvements_overdue,
        strings(&["Damp survey within 10 days", "Letters in plain English"])
    );
    assert_eq!(s.referrals, strings(&["C2026-00003", "C2026-00004"]));
    assert_eq!(s.determinations, strings(&["C2025-00800", "C2026-00004"]));
    let by_kind = |f: Finding| {
        s.findings
            .iter()
            .find(|c| c.finding == f)
            .map(|c| c.complaints.clone())
            .expect("every kind is listed")
    };
    assert_eq!(s.findings.len(), 6);
    assert_eq!(
        by_kind(Finding::Maladministration),
        strings(&["C2025-00800"])
    );
    assert_eq!(
        by_kind(Finding::ComplaintHandlingFailureOrder),
        strings(&["C2025-00800"])
    );
    assert_eq!(
        by_kind(Finding::NoMaladministration),
        strings(&["C2026-00004"])
    );
    assert!(by_kind(Finding::SevereMaladministration).is_empty());
    assert_eq!(
        s.orders,
        OrderCounts {
            made: 2,
            completed: 1,
            overdue: 1
        }
    );
    assert_eq!(
        s.recommendations,
        OrderCounts {
            made: 1,
            completed: 1,
            overdue: 0
        }
    );
}

#[test]
fn overdue_is_read_on_the_last_day_of_a_year_that_has_ended() {
    // Read in 2028: the year ended on 31 March 2027, when the damp survey was still open.
    let s = summary(day(2028, 1, 1));
    assert_eq!(s.as_of, day(2027, 3, 31));
    assert_eq!(
        s.improvements_overdue,
        strings(&[
            "Damp survey within 10 days",
            "Letters in plain English",
            "New complaints leaflet"
        ])
    );
}

#[test]
fn nothing_is_overdue_before_its_date() {
    // On 1 August 2026 only last year's letters are overdue; the order due on 15 August is
    // not yet, and the determination of 15 July has made its orders.
    let s = summary(day(2026, 8, 1));
    assert_eq!(
        s.improvements_overdue,
        strings(&["Letters in plain English"])
    );
    assert_eq!(s.orders.overdue, 0);
}

#[test]
fn the_tables_carry_every_figure() {
    let s = summary(day(2026, 12, 1));
    let tables = s.tables();
    assert_eq!(tables.len(), 3);
    let figures = &tables[0];
    assert_eq!(figures.columns, strings(&["Measure", "Value"]));
    let value = |measure: &str| {
        figures
            .rows
            .iter()
            .find(|r| r[0] == measure)
            .map(|r| r[1].clone())
            .unwrap_or_else(|| panic!("no row {measure}"))
    };
    assert_eq!(value("Complaints with learning recorded"), "2");
    assert_eq!(value("Service improvements agreed"), "3");
    assert_eq!(value("Service improvements overdue on 2026-12-01"), "2");
    assert_eq!(value("Orders made"), "2");
    assert_eq!(value("Recommendations completed"), "1");
    let findings = &tables[1];
    assert_eq!(findings.rows.len(), 6);
    assert!(
        findings
            .rows
            .iter()
            .all(|r| r.len() == findings.columns.len())
    );
    let csv = figures.csv();
    assert!(csv.starts_with("\"Measure\",\"Value\"\r\n"), "{csv}");
    assert!(csv.contains("\"Orders made\",\"2\"\r\n"), "{csv}");
    let text = figures.text();
    assert!(
        text.starts_with("Learning from complaints, 2026/27\n"),
        "{text}"
    );
}

#[test]
fn findings_and_order_kinds_read_back_from_their_keys() {
    for f in Finding::ALL {
        assert_eq!(f.key().parse::<Finding>(), Ok(f));
    }
    assert!("maladministered".parse::<Finding>().is_err());
    assert_eq!("order".parse::<OrderKind>(), Ok(OrderKind::Order));
    assert!("request".parse::<OrderKind>().is_err());
}
