//! The self-assessment's judgements from the record, over complaints whose timings are worked
//! out by hand (no bank holidays fall in October or November 2026).

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::core::calendar::Calendar;
use crate::core::category::Categories;
use crate::core::report::{
    CaseWork, ComplaintFacts, Homes, PerformanceInput, StageFacts, TsmInput, TsmSettings,
    performance, tenant_satisfaction_measures,
};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).expect("date")
}

fn complaint(
    reference: &str,
    received: NaiveDate,
    acknowledged: Option<NaiveDate>,
    responded: Option<NaiveDate>,
) -> ComplaintFacts {
    ComplaintFacts {
        reference: reference.to_owned(),
        tenure: None,
        received_at: received.and_hms_opt(10, 0, 0).expect("time").and_utc(),
        stage1: StageFacts {
            acknowledged_on: acknowledged,
            extended_due_on: None,
            responded_on: responded,
        },
        stage2: None,
        excluded_at: None,
        withdrawn: false,
        work: CaseWork::default(),
    }
}

fn assess(complaints: &[ComplaintFacts], answers: &[Answer]) -> SelfAssessment {
    let period = Period::financial_year(2026).expect("year");
    let calendar = Calendar::england_and_wales();
    let categories = Categories::default();
    let handling = performance(&PerformanceInput {
        period: &period,
        calendar: &calendar,
        categories: &categories,
        complaints,
    });
    let tsm = tenant_satisfaction_measures(&TsmInput {
        period: &period,
        homes: Homes {
            total: 1000,
            ..Homes::default()
        },
        settings: TsmSettings::default(),
        calendar: &calendar,
        complaints,
    });
    self_assessment(&handling, &tsm, answers)
}

fn item<'a>(s: &'a SelfAssessment, number: &str) -> &'a Assessed {
    s.provisions
        .iter()
        .find(|a| a.provision.number == number)
        .unwrap_or_else(|| panic!("no provision {number}"))
}

#[test]
fn the_record_judges_the_timescales_and_a_person_the_rest() {
    let complaints = vec![
        // Acknowledged the day it came; answered 10 working days later (2 to 16 November).
        complaint(
            "C2026-00001",
            day(11, 2),
            Some(day(11, 2)),
            Some(day(11, 16)),
        ),
        // Acknowledged on the 6th working day (2 to 10 November); answered on the 11th
        // working day after it (10 to 25 November): late at both.
        complaint(
            "C2026-00002",
            day(11, 2),
            Some(day(11, 10)),
            Some(day(11, 25)),
        ),
        // Acknowledged on the 5th working day; not answered yet.
        complaint("C2026-00003", day(11, 2), Some(day(11, 9)), None),
    ];
    let s = assess(&complaints, &[]);
    assert_eq!(s.provisions.len(), PROVISIONS.len());
    let ack = item(&s, "6.2").from_record.clone().expect("judged");
    assert!(!ack.complies);
    assert!(
        ack.evidence.starts_with(
            "6.2: 2 of 3 stage 1 complaints acknowledged within 5 working days (66.7%)."
        ),
        "{}",
        ack.evidence
    );
    let answered = item(&s, "6.3").from_record.clone().expect("judged");
    assert!(!answered.complies);
    assert!(
        answered.evidence.starts_with(
            "6.3: 1 of 2 stage 1 responses sent within 10 working days or an extension the Code allows (1 within 10 working days, 0 within an extension); CH02 stage 1: 50.0%."
        ),
        "{}",
        answered.evidence
    );
    assert!(
        answered.evidence.ends_with("Late: C2026-00002."),
        "{}",
        answered.evidence
    );
    // No stage 2 this year: nothing to judge from, so a person answers.
    let stage2 = item(&s, "6.11");
    assert!(stage2.from_record.is_none());
    assert!(stage2.for_a_person());
    assert!(
        stage2
            .not_judged
            .as_deref()
            .unwrap_or_default()
            .contains("No stage 2 complaints")
    );
    assert!(item(&s, "9.1").for_a_person());
    assert_eq!(item(&s, "9.1").complies(), None);
}

#[test]
fn every_acknowledgement_and_response_on_time_complies() {
    let complaints = vec![complaint(
        "C2026-00001",
        day(11, 2),
        Some(day(11, 3)),
        Some(day(11, 17)),
    )];
    let s = assess(&complaints, &[]);
    assert_eq!(item(&s, "6.2").complies(), Some(true));
    assert_eq!(item(&s, "6.3").complies(), Some(true));
}

#[test]
fn answers_fill_the_provisions_a_person_judges_and_the_governing_body() {
    let at = Utc.with_ymd_and_hms(2027, 5, 1, 9, 0, 0).unwrap();
    let answer = |item: &str, complies: Option<bool>, commentary: &str| Answer {
        item: item.to_owned(),
        complies,
        commentary: commentary.to_owned(),
        version: 2,
        by: "Morgan Manager".to_owned(),
        at,
    };
    let answers = vec![
        answer("9.1", Some(true), "The learning panel meets monthly."),
        answer("6.2", None, "Two acknowledgements were late in the summer."),
        answer(GOVERNING_BODY, None, "The board accepts the report."),
    ];
    let complaints = vec![complaint("C2026-00001", day(11, 2), Some(day(11, 3)), None)];
    let s = assess(&complaints, &answers);
    assert_eq!(item(&s, "9.1").complies(), Some(true));
    // A judged provision keeps the record's judgement and shows the commentary beside it.
    assert_eq!(item(&s, "6.2").complies(), Some(true));
    let tables = s.tables();
    let rows = &tables[0].rows;
    let row = |n: &str| rows.iter().find(|r| r[0] == n).expect("row").clone();
    assert_eq!(row("9.1")[2], "Yes");
    assert_eq!(row("9.1")[4], "The learning panel meets monthly.");
    assert!(
        row("6.2")[3].starts_with("From the record. 6.2: 1 of 1"),
        "{:?}",
        row("6.2")
    );
    assert_eq!(
        row("6.2")[4],
        "Two acknowledgements were late in the summer."
    );
    assert_eq!(row("1.2")[2], "Not answered yet");
    assert_eq!(tables[1].rows[0][0], "The board accepts the report.");
}

#[test]
fn provision_numbers_are_unique_and_in_the_codes_order() {
    let numbers: Vec<(u32, u32)> = PROVISIONS
        .iter()
        .map(|p| {
            let (section, n) = p.number.split_once('.').expect("section.number");
            (
                section.parse().expect("section"),
                n.parse().expect("number"),
            )
        })
        .collect();
    let mut sorted = numbers.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(numbers, sorted);
    assert!(provision("6.13").is_some());
    assert!(provision("6.21").is_none());
}
