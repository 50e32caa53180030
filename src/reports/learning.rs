//! The annual report's last two sections (Code 8.1): learning from complaints (section 9,
//! 8.1(c) and (d)) and the self-assessment against the Code (appendix A, 8.1(a)), as rows, so
//! the text, CSV, HTML and the console's drill-down print them as they print the handling
//! figures. A figure that names complaints carries their references; improvements are named by
//! their titles, which are not complaints, so they carry none.

use super::{Row, Section, Table};
use crate::core::report::{LearningSummary, OrderCounts, SelfAssessment};

/// A count of the complaints listed, for the console's drill-down.
fn listed(measure: impl Into<String>, complaints: &[String]) -> Row {
    Row {
        measure: measure.into(),
        value: complaints.len().to_string(),
        numerator: None,
        denominator: None,
        counted: String::new(),
        complaints: Some(complaints.to_vec()),
    }
}

/// A count with what it counts in words.
fn count(measure: impl Into<String>, n: u64, counted: String) -> Row {
    Row {
        measure: measure.into(),
        value: n.to_string(),
        numerator: None,
        denominator: None,
        counted,
        complaints: None,
    }
}

/// The improvements counted, by title.
fn improvements(measure: &str, titles: &[String]) -> Row {
    count(measure, titles.len() as u64, titles.join("; "))
}

/// Orders (or recommendations) made, completed and overdue.
fn orders(rows: &mut Vec<Row>, what: &str, counts: OrderCounts, as_of: &str) {
    rows.push(count(format!("{what} made"), counts.made, String::new()));
    rows.push(count(
        format!("{what} completed"),
        counts.completed,
        String::new(),
    ));
    rows.push(count(
        format!("{what} overdue on {as_of}"),
        counts.overdue,
        String::new(),
    ));
}

/// Learning from complaints for the period (section 9): what was learned and improved, and the
/// complaints taken to the Housing Ombudsman, its findings and its orders.
pub(super) fn learning_section(summary: &LearningSummary) -> Section {
    let as_of = summary.as_of.format("%-d %B %Y").to_string();
    let learning = Table {
        key: "learning".to_owned(),
        title: "Learning and service improvements".to_owned(),
        rows: vec![
            listed(
                "Complaints with learning recorded (9.1)",
                &summary.learning_recorded,
            ),
            improvements("Improvements agreed", &summary.improvements_agreed),
            improvements("Improvements completed", &summary.improvements_completed),
            improvements(
                &format!("Improvements overdue on {as_of}"),
                &summary.improvements_overdue,
            ),
        ],
    };
    let mut ombudsman = vec![
        listed(
            "Complaints referred to the Housing Ombudsman",
            &summary.referrals,
        ),
        listed(
            "Complaints the Ombudsman determined",
            &summary.determinations,
        ),
    ];
    for finding in &summary.findings {
        ombudsman.push(listed(
            format!("Finding: {}", finding.label),
            &finding.complaints,
        ));
    }
    orders(&mut ombudsman, "Orders", summary.orders, &as_of);
    orders(
        &mut ombudsman,
        "Recommendations",
        summary.recommendations,
        &as_of,
    );
    Section {
        key: "learning".to_owned(),
        title: "Learning from complaints".to_owned(),
        charts: Vec::new(),
        tables: vec![
            learning,
            Table {
                key: "ombudsman".to_owned(),
                title: "The Housing Ombudsman: referrals, findings, orders and recommendations"
                    .to_owned(),
                rows: ombudsman,
            },
        ],
        notes: Vec::new(),
        rules: vec![
            "Learning counts in the period it was recorded; an improvement counts as agreed and as completed on those dates.".to_owned(),
            "A referral counts on the day the complaint was referred; a determination, its findings and the orders and recommendations it made on the day of the determination; an order or recommendation as completed on the day it was completed.".to_owned(),
            format!("Overdue is read on {as_of} (the period's last day, or the day the report was made if the period has not ended): past the target or due date and not completed by then, whenever it was agreed or made."),
        ],
    }
}

/// The self-assessment against the Code for the year (appendix A): one row per provision, with
/// whether the landlord complies and the evidence or commentary, then the governing body's
/// response (8.2).
pub(super) fn assessment_section(assessment: &SelfAssessment) -> Section {
    let mut rows: Vec<Row> = assessment
        .provisions
        .iter()
        .map(|a| {
            let value = match a.complies() {
                Some(true) => "Yes",
                Some(false) => "No",
                None => "for a person to answer",
            };
            let mut said = Vec::new();
            match (&a.from_record, &a.not_judged) {
                (Some(judged), _) => said.push(format!("From the record: {}", judged.evidence)),
                (None, Some(why)) => said.push(why.clone()),
                (None, None) => {}
            }
            if let Some(answer) = a.answer.as_ref().filter(|a| !a.commentary.is_empty()) {
                said.push(format!("Commentary: {}", answer.commentary));
            }
            Row {
                measure: format!("{} {}", a.provision.number, a.provision.requirement),
                value: value.to_owned(),
                numerator: None,
                denominator: None,
                counted: said.join(" "),
                complaints: None,
            }
        })
        .collect();
    let (value, counted) = match &assessment.governing_body {
        Some(answer) => (
            "Recorded",
            format!(
                "{} ({}, {})",
                answer.commentary,
                answer.by,
                answer.at.format("%Y-%m-%d")
            ),
        ),
        None => ("Not recorded yet", String::new()),
    };
    rows.push(Row {
        measure: "The governing body's response to the self-assessment (8.2)".to_owned(),
        value: value.to_owned(),
        numerator: None,
        denominator: None,
        counted,
        complaints: None,
    });
    Section {
        key: "self-assessment".to_owned(),
        title: "Self-assessment against the Code".to_owned(),
        charts: Vec::new(),
        tables: vec![Table {
            key: "self-assessment".to_owned(),
            title: "Self-assessment against the Complaint Handling Code".to_owned(),
            rows,
        }],
        notes: Vec::new(),
        rules: vec![
            "The record judges 6.2, 6.3, 6.11 and 6.14 from the year's figures; a person answers the other provisions, and those the record had nothing to judge from this year.".to_owned(),
            "Where both exist, the record's judgement stands and the manager's commentary is printed with it.".to_owned(),
        ],
    }
}
