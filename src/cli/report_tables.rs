//! The handling figures (`core::report::Performance`) as rows: one list that the text table
//! and the CSV both print, so the two never disagree.

use crate::core::report::{Figure, Performance, StagePerformance, Unit, Value};

/// One line of the report.
pub struct Row {
    pub section: &'static str,
    pub measure: String,
    /// The figure as landlords publish it ("87.5%", "12", "£1,250.00").
    pub value: String,
    /// The counts behind a ratio, else empty.
    pub numerator: String,
    pub denominator: String,
}

fn count(section: &'static str, measure: impl Into<String>, n: usize) -> Row {
    Row {
        section,
        measure: measure.into(),
        value: n.to_string(),
        numerator: String::new(),
        denominator: String::new(),
    }
}

fn ratio(section: &'static str, measure: impl Into<String>, figure: &Figure) -> Row {
    let value = match (&figure.value, figure.unit) {
        (Value::Measured(v), Unit::Percent) => format!("{v}%"),
        (Value::Measured(v), Unit::PerThousandHomes) => v.to_string(),
        (Value::NotMeasurable(_), _) => "n/a".to_owned(),
    };
    Row {
        section,
        measure: measure.into(),
        value,
        numerator: figure.numerator.to_string(),
        denominator: figure.denominator.to_string(),
    }
}

fn stage_rows(rows: &mut Vec<Row>, section: &'static str, s: &StagePerformance, stage: u8) {
    let (ack, respond) = if stage == 1 {
        ("6.2", "10 working days, 6.3")
    } else {
        ("6.11", "20 working days, 6.14")
    };
    rows.push(count(section, "Received", s.received.len()));
    rows.push(ratio(
        section,
        format!("Acknowledged within 5 working days ({ack})"),
        &s.acknowledged_on_time,
    ));
    rows.push(count(
        section,
        "No acknowledgement recorded",
        s.not_acknowledged.len(),
    ));
    rows.push(count(section, "Responses sent", s.responded.len()));
    rows.push(ratio(
        section,
        format!("Responded within the Code's timescale ({respond})"),
        &s.on_time,
    ));
    rows.push(count(
        section,
        "Responded within an extension the Code allows",
        s.within_extension.len(),
    ));
    rows.push(count(section, "Responded late", s.late.len()));
    rows.push(count(
        section,
        "Responses whose stage was extended",
        s.extended.len(),
    ));
    rows.push(count(section, "Upheld", s.outcomes.upheld.len()));
    rows.push(count(
        section,
        "Partly upheld",
        s.outcomes.partly_upheld.len(),
    ));
    rows.push(count(section, "Not upheld", s.outcomes.not_upheld.len()));
    rows.push(count(
        section,
        "Outcome not recorded",
        s.outcomes.not_recorded.len(),
    ));
    rows.push(Row {
        section,
        measure: "Compensation offered".to_owned(),
        value: s.compensation.to_string(),
        numerator: s.compensated.len().to_string(),
        denominator: s.responded.len().to_string(),
    });
    rows.push(count(
        section,
        "Not taken on (exclusions, 2.4)",
        s.excluded.len(),
    ));
}

/// Every figure of the handling report, in the order a reader takes them.
pub fn rows(p: &Performance) -> Vec<Row> {
    let mut rows = Vec::new();
    stage_rows(&mut rows, "Stage 1", &p.stage1, 1);
    stage_rows(&mut rows, "Stage 2", &p.stage2, 2);
    rows.push(ratio(
        "Escalation",
        "Stage 2 requests per stage 1 response",
        &p.escalation_rate,
    ));
    for c in &p.categories {
        rows.push(Row {
            section: "Categories",
            measure: c.label.clone(),
            value: c.complaints.len().to_string(),
            numerator: if c.unconfirmed > 0 {
                format!("{} not yet confirmed", c.unconfirmed)
            } else {
                String::new()
            },
            denominator: String::new(),
        });
    }
    for (n, given) in p.feedback.by_score.iter().enumerate() {
        rows.push(count(
            "Satisfaction",
            format!("Scored {} of 5", n + 1),
            usize::try_from(*given).unwrap_or(usize::MAX),
        ));
    }
    rows.push(ratio(
        "Satisfaction",
        "Satisfied (4 or 5)",
        &p.feedback.satisfied,
    ));
    for m in &p.months {
        rows.push(Row {
            section: "Months",
            measure: m.month.clone(),
            value: format!("{} stage 1, {} stage 2", m.stage1, m.stage2),
            numerator: m.stage1.to_string(),
            denominator: m.stage2.to_string(),
        });
    }
    rows
}

/// The rows as a table for a terminal.
pub fn text(p: &Performance, landlord: &str) -> String {
    let mut out = format!("Complaint handling, {landlord}\n{}\n", p.period);
    let mut section = "";
    for row in rows(p) {
        if row.section != section {
            section = row.section;
            out.push_str(&format!("\n{section}\n"));
        }
        let counts = match (row.numerator.is_empty(), row.denominator.is_empty()) {
            (false, false) => format!("  ({} of {})", row.numerator, row.denominator),
            (false, true) => format!("  ({})", row.numerator),
            _ => String::new(),
        };
        out.push_str(&format!(
            "  {:<62} {:>12}{counts}\n",
            row.measure, row.value
        ));
    }
    out
}

/// The rows as CSV (RFC 4180: every field quoted, quotes doubled), with a header.
pub fn csv(p: &Performance) -> String {
    let field = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::from("section,measure,value,numerator,denominator\r\n");
    for row in rows(p) {
        let line = [
            row.section,
            row.measure.as_str(),
            row.value.as_str(),
            row.numerator.as_str(),
            row.denominator.as_str(),
        ]
        .map(field)
        .join(",");
        out.push_str(&line);
        out.push_str("\r\n");
    }
    out
}
