//! The figures as rows: the handling figures (Code 9.7, section 8) and CH01 and CH02, each
//! row with the counts behind it and the complaints it counts, so every printing of a report
//! (text, CSV, HTML, the console's drill-down) reads the same rows.

use chrono::NaiveDate;

use super::{Row, Section, Table, charts};
use crate::core::report::{Figure, Performance, StagePerformance, TsmReport, Unit, Value};

/// A count of the complaints listed.
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

/// A count the record gives without naming the complaints.
fn count(measure: impl Into<String>, n: u64) -> Row {
    Row {
        measure: measure.into(),
        value: n.to_string(),
        numerator: None,
        denominator: None,
        counted: String::new(),
        complaints: None,
    }
}

/// A ratio, its counts in words given by `counted` when it is measurable.
fn ratio(measure: impl Into<String>, figure: &Figure, counted: impl Fn(&Figure) -> String) -> Row {
    let (value, counted) = match (&figure.value, figure.unit) {
        (Value::Measured(v), Unit::Percent) => (format!("{v}%"), counted(figure)),
        (Value::Measured(v), Unit::PerThousandHomes) => (v.to_string(), counted(figure)),
        (Value::NotMeasurable(why), _) => ("n/a".to_owned(), format!("not measurable: {why}")),
    };
    Row {
        measure: measure.into(),
        value,
        numerator: Some(figure.numerator),
        denominator: Some(figure.denominator),
        counted,
        complaints: Some(figure.complaints.clone()),
    }
}

fn of(figure: &Figure) -> String {
    format!("{} of {}", figure.numerator, figure.denominator)
}

fn stage_table(s: &StagePerformance, stage: u8) -> Table {
    let (ack, respond) = if stage == 1 {
        ("6.2", "10 working days, 6.3")
    } else {
        ("6.11", "20 working days, 6.14")
    };
    let responded = s.responded.len() as u64;
    let rows = vec![
        listed("Received", &s.received),
        ratio(
            format!("Acknowledged within 5 working days ({ack})"),
            &s.acknowledged_on_time,
            of,
        ),
        listed("No acknowledgement recorded", &s.not_acknowledged),
        listed("Responses sent", &s.responded),
        ratio(
            format!("Responded within the Code's timescale ({respond})"),
            &s.on_time,
            of,
        ),
        listed(
            "Responded within an extension the Code allows",
            &s.within_extension,
        ),
        listed("Responded late", &s.late),
        listed("Responses whose stage was extended", &s.extended),
        listed("Upheld", &s.outcomes.upheld),
        listed("Partly upheld", &s.outcomes.partly_upheld),
        listed("Not upheld", &s.outcomes.not_upheld),
        listed("Outcome not recorded", &s.outcomes.not_recorded),
        Row {
            measure: "Compensation offered".to_owned(),
            value: s.compensation.to_string(),
            numerator: Some(s.compensated.len() as u64),
            denominator: Some(responded),
            counted: format!("{} of {responded} responses", s.compensated.len()),
            complaints: Some(s.compensated.clone()),
        },
        listed("Not taken on (exclusions, 2.4)", &s.excluded),
    ];
    Table {
        key: format!("stage-{stage}"),
        title: format!("Stage {stage}"),
        rows,
    }
}

/// "April 2025" for "2025-04".
pub(super) fn month_name(month: &str) -> String {
    NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map(|d| d.format("%B %Y").to_string())
        .unwrap_or_else(|_| month.to_owned())
}

/// The handling figures for a period: both stages, escalation, categories, satisfaction and
/// volumes month by month, with the charts of volumes, timeliness and categories.
pub(super) fn handling_section(p: &Performance) -> Section {
    let categories = Table {
        key: "categories".to_owned(),
        title: "Categories".to_owned(),
        rows: p
            .categories
            .iter()
            .map(|c| {
                let mut row = listed(c.label.clone(), &c.complaints);
                if c.unconfirmed > 0 {
                    row.counted = format!("{} not yet confirmed by staff", c.unconfirmed);
                }
                row
            })
            .collect(),
    };
    let mut satisfaction: Vec<Row> = p
        .feedback
        .by_score
        .iter()
        .enumerate()
        .map(|(n, given)| count(format!("Scored {} of 5", n + 1), *given))
        .collect();
    satisfaction.push(ratio("Satisfied (4 or 5)", &p.feedback.satisfied, of));
    let months = Table {
        key: "months".to_owned(),
        title: "Months".to_owned(),
        rows: p
            .months
            .iter()
            .map(|m| Row {
                measure: m.month.clone(),
                value: format!("{} stage 1, {} stage 2", m.stage1, m.stage2),
                numerator: None,
                denominator: None,
                counted: String::new(),
                complaints: None,
            })
            .collect(),
    };
    let escalation = Table {
        key: "escalation".to_owned(),
        title: "Escalation".to_owned(),
        rows: vec![ratio(
            "Stage 2 requests per stage 1 response",
            &p.escalation_rate,
            of,
        )],
    };
    Section {
        key: "handling".to_owned(),
        title: "Complaint handling".to_owned(),
        charts: charts::handling(p),
        tables: vec![
            stage_table(&p.stage1, 1),
            stage_table(&p.stage2, 2),
            escalation,
            categories,
            Table {
                key: "satisfaction".to_owned(),
                title: "Satisfaction".to_owned(),
                rows: satisfaction,
            },
            months,
        ],
        notes: Vec::new(),
        rules: vec![
            "Complaints count at stage 1 in the period they were received and at stage 2 in the period stage 2 was asked for; a response counts in the period it was sent; periods are the landlord's local days.".to_owned(),
            "Acknowledgements are timed against 5 working days (Code 6.2 and 6.11); responses against the Code's timescales, not any shorter target: 10 working days at stage 1 (6.3) and 20 at stage 2 (6.14), from the acknowledgement.".to_owned(),
            "A response after the Code's timescale but within an extension the Code allows (6.4, 6.15) is counted as within an extension, not as on time.".to_owned(),
            "Complaints staff decided not to take on (section 2, 2.4) are counted only as exclusions.".to_owned(),
            "A complaint's category is the one staff confirmed, else the one the bot suggested (counted as not yet confirmed).".to_owned(),
            "Satisfaction counts the scores residents gave for complaints received in the period; satisfied means 4 or 5 out of 5.".to_owned(),
        ],
    }
}

/// "1 complaint", "3 complaints".
fn complaints(n: u64) -> String {
    if n == 1 {
        "1 complaint".to_owned()
    } else {
        format!("{n} complaints")
    }
}

/// CH01 and CH02 with the rules that produced them (`tsm::rules`).
pub(super) fn tsm_section(report: &TsmReport) -> Section {
    let per_homes = |f: &Figure| format!("{} / {} homes", complaints(f.numerator), f.denominator);
    let on_time = |f: &Figure| format!("{} of {} responses on time", f.numerator, f.denominator);
    let mut rows = Vec::new();
    for (stage, figures) in [(1, &report.ch01.stage1), (2, &report.ch01.stage2)] {
        rows.push(ratio(
            format!("CH01 stage {stage}, all homes"),
            &figures.all_homes,
            per_homes,
        ));
        rows.push(ratio(
            format!("CH01 stage {stage}, low-cost rental"),
            &figures.low_cost_rental,
            per_homes,
        ));
        rows.push(ratio(
            format!("CH01 stage {stage}, low-cost home ownership"),
            &figures.low_cost_home_ownership,
            per_homes,
        ));
    }
    for (stage, figures) in [(1, &report.ch02.stage1), (2, &report.ch02.stage2)] {
        rows.push(ratio(
            format!("CH02 stage {stage}, within the Code's timescale"),
            &figures.on_time,
            on_time,
        ));
    }
    let mut notes = Vec::new();
    for (stage, figures) in [(1, &report.ch01.stage1), (2, &report.ch01.stage2)] {
        if !figures.tenure_not_recorded.is_empty() {
            notes.push(format!(
                "Stage {stage}: {} counted for all homes only, their tenure not recorded.",
                complaints(figures.tenure_not_recorded.len() as u64)
            ));
        }
    }
    for (stage, late) in [(1, &report.ch02.stage1.late), (2, &report.ch02.stage2.late)] {
        if !late.is_empty() {
            notes.push(format!("Late stage {stage} responses: {}", late.join(", ")));
        }
    }
    Section {
        key: "tsm".to_owned(),
        title: "Tenant Satisfaction Measures on complaints".to_owned(),
        charts: Vec::new(),
        tables: vec![Table {
            key: "tsm".to_owned(),
            title: "CH01 and CH02".to_owned(),
            rows,
        }],
        notes,
        rules: report.rules.clone(),
    }
}
