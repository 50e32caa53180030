//! Reports as documents: the figures of `core::report` made once into a list of titled
//! sections of tables and charts, which the command line prints as text, CSV, JSON or HTML
//! and the console shows, so no two of them can disagree. A section added later (learning,
//! the Ombudsman's findings, the self-assessment) is one more `Section` in the list.
//!
//! - `tables`: the handling figures and CH01 and CH02 as rows, each with the complaints
//!   behind it;
//! - `learning`: learning from complaints (section 9) and the self-assessment against the
//!   Code (appendix A), the annual report's last sections (8.1);
//! - `charts`: the charts, drawn as SVG by the plotters crate;
//! - `html`: the document as one self-contained HTML file (its print stylesheet inline), and
//!   the body the console's Reports page shows;
//! - `summary`: the month's document as the governing body's plain-text email and its CSV
//!   attachment (9.7).

mod charts;
mod html;
mod learning;
mod summary;
mod tables;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::core::profile::LandlordProfile;
use crate::core::report::{
    LearningSummary, Performance, Period, SelfAssessment, TsmReport, self_assessment,
};
use crate::service::ReportError;
use crate::store::Store;

pub use html::{Links, STYLESHEET, body, standalone};
pub use summary::{MonthlySummary, monthly_summary};

/// The first year a report can be asked for: the record holds nothing older.
pub const FIRST_YEAR: i32 = 2000;

/// Which report was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// CH01 and CH02 for the financial year starting 1 April of the year.
    Tsm(i32),
    /// The handling figures for one calendar month (Code 9.7).
    Month(i32, u32),
    /// The annual report's figures for the financial year starting 1 April of the year:
    /// handling, month by month, with CH01 and CH02, learning from complaints and the
    /// self-assessment against the Code (Code section 8, 8.1).
    Annual(i32),
}

impl Asked {
    /// The period the report covers.
    pub fn period(self) -> Result<Period, ReportError> {
        Ok(match self {
            Asked::Tsm(year) | Asked::Annual(year) => Period::financial_year(year)?,
            Asked::Month(year, month) => Period::month(year, month)?,
        })
    }

    /// How the console's period picker writes it: "2025" for a financial year, "2025-07".
    pub fn picked(self) -> String {
        match self {
            Asked::Tsm(year) | Asked::Annual(year) => year.to_string(),
            Asked::Month(year, month) => format!("{year:04}-{month:02}"),
        }
    }

    /// The start of each file name written for it: "annual-2025", "month-2025-07".
    fn stem(self) -> String {
        match self {
            Asked::Tsm(year) => format!("tsm-{year}"),
            Asked::Month(..) => format!("month-{}", self.picked()),
            Asked::Annual(year) => format!("annual-{year}"),
        }
    }
}

/// A financial year's starting year, as a person types it.
pub fn parse_year(text: &str) -> Result<i32, String> {
    let year: i32 = text.trim().parse().map_err(|_| {
        format!(
            "the year must be a number such as 2025 (the year starting 1 April 2025), not {text:?}"
        )
    })?;
    if year < FIRST_YEAR {
        return Err(format!(
            "{year} is before {FIRST_YEAR}: give the year a financial year starts in, such as 2025"
        ));
    }
    if Period::financial_year(year).is_err() {
        return Err(format!("{year} is not a year a report can cover"));
    }
    Ok(year)
}

/// A month as a person types it: 2026-11.
pub fn parse_month(text: &str) -> Result<(i32, u32), String> {
    let bad = || format!("the month must be written YYYY-MM, such as 2026-11, not {text:?}");
    let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
    let year: i32 = year.parse().map_err(|_| bad())?;
    let month: u32 = month.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&month) {
        return Err(bad());
    }
    if year < FIRST_YEAR {
        return Err(format!(
            "{year} is before {FIRST_YEAR}: the record holds nothing older"
        ));
    }
    if Period::month(year, month).is_err() {
        return Err(format!("{year} is not a year a report can cover"));
    }
    Ok((year, month))
}

/// The console's period: a financial year ("2025", the annual report) or a month
/// ("2025-07", the month's handling figures).
pub fn parse_period(text: &str) -> Result<Asked, String> {
    if text.contains('-') {
        let (year, month) = parse_month(text)?;
        Ok(Asked::Month(year, month))
    } else {
        Ok(Asked::Annual(parse_year(text)?))
    }
}

/// What a report is made from: the handling figures, CH01 and CH02, or both; for the annual
/// report also learning from complaints and the self-assessment.
#[derive(Debug, Clone)]
pub struct Figures {
    pub asked: Asked,
    pub handling: Option<Performance>,
    pub tsm: Option<TsmReport>,
    pub learning: Option<LearningSummary>,
    pub assessment: Option<SelfAssessment>,
}

impl Figures {
    /// The figures from the record, read once. `now` is the moment the report is made: the
    /// learning summary reads "overdue" on that day when the year has not ended.
    pub async fn read(
        store: &Store,
        profile: &LandlordProfile,
        asked: Asked,
        now: DateTime<Utc>,
    ) -> Result<Figures, ReportError> {
        let mut figures = Figures {
            asked,
            handling: None,
            tsm: None,
            learning: None,
            assessment: None,
        };
        match asked {
            Asked::Tsm(year) => {
                figures.tsm = Some(crate::service::tsm(store, profile, year).await?)
            }
            Asked::Month(..) => {
                let period = asked.period()?;
                figures.handling = Some(crate::service::handling(store, profile, &period).await?);
            }
            Asked::Annual(year) => {
                let (handling, tsm) = crate::service::annual(store, profile, year).await?;
                // The self-assessment judges 6.2, 6.3, 6.11 and 6.14 from the same year's
                // figures, so they are not read twice and cannot differ from the handling
                // section's.
                let answers = store.self_assessment_answers(year).await?;
                figures.assessment = Some(self_assessment(&handling, &tsm, &answers));
                figures.learning =
                    Some(crate::service::learning(store, profile, &handling.period, now).await?);
                figures.handling = Some(handling);
                figures.tsm = Some(tsm);
            }
        }
        Ok(figures)
    }

    /// Every figure with its counts and the complaint references behind it: CH01 and CH02
    /// alone for `report tsm`, else `{"handling": …, "tenant_satisfaction_measures": …}`, and
    /// for the annual report `"learning"` and `"self_assessment"` too.
    pub fn json(&self) -> serde_json::Value {
        match (&self.handling, &self.tsm) {
            (None, Some(tsm)) => serde_json::json!(tsm),
            (handling, tsm) => {
                let mut json = serde_json::json!({
                    "handling": handling,
                    "tenant_satisfaction_measures": tsm,
                });
                if let Some(learning) = &self.learning {
                    json["learning"] = serde_json::json!(learning);
                }
                if let Some(assessment) = &self.assessment {
                    json["self_assessment"] = serde_json::json!(assessment);
                }
                json
            }
        }
    }
}

/// A report as a document: what it is, for whom and when, and its sections in order.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub title: String,
    pub landlord: String,
    pub period: Period,
    /// The landlord's local day the document was made.
    pub produced_on: NaiveDate,
    pub sections: Vec<Section>,
    /// The start of each file name written for it ("annual-2025").
    pub stem: String,
}

/// A titled part of a report.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Unique in the document, for anchors: "handling".
    pub key: String,
    pub title: String,
    pub charts: Vec<Chart>,
    pub tables: Vec<Table>,
    /// Sentences that qualify the figures (late responses, unrecorded tenure).
    pub notes: Vec<String>,
    /// How the section's figures are counted, as numbered sentences.
    pub rules: Vec<String>,
}

/// A table of figures.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// Unique in the document, for file names and links: "stage-1".
    pub key: String,
    pub title: String,
    pub rows: Vec<Row>,
}

/// One figure.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub measure: String,
    /// As landlords publish it: "87.5%", "12", "£1,250.00", or "n/a".
    pub value: String,
    /// The counts a ratio is computed from.
    pub numerator: Option<u64>,
    pub denominator: Option<u64>,
    /// The counts in words: "8 of 10", "10 complaints / 1000 homes", or why there is no
    /// figure.
    pub counted: String,
    /// The complaints the figure counts, when the record names them, in reference order.
    pub complaints: Option<Vec<String>>,
}

/// A chart, drawn as SVG.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub key: String,
    pub title: String,
    /// What the chart shows in words, for those who cannot see it.
    pub description: String,
    pub svg: String,
}

impl Document {
    /// The document for `figures`, made on `produced_on` for `landlord`.
    pub fn new(figures: &Figures, landlord: &str, produced_on: NaiveDate) -> Document {
        let title = match figures.asked {
            Asked::Tsm(_) => "Tenant Satisfaction Measures on complaints",
            Asked::Month(..) => "Complaint handling report",
            Asked::Annual(_) => "Annual complaints performance report",
        };
        let mut sections = Vec::new();
        if let Some(handling) = &figures.handling {
            sections.push(tables::handling_section(handling));
        }
        if let Some(tsm) = &figures.tsm {
            sections.push(tables::tsm_section(tsm));
        }
        if let Some(summary) = &figures.learning {
            sections.push(learning::learning_section(summary));
        }
        if let Some(assessment) = &figures.assessment {
            sections.push(learning::assessment_section(assessment));
        }
        let period = match (&figures.handling, &figures.tsm) {
            (Some(h), _) => h.period.clone(),
            (None, Some(t)) => t.period.clone(),
            (None, None) => Period {
                first_day: produced_on,
                last_day: produced_on,
                label: String::new(),
            },
        };
        Document {
            title: title.to_owned(),
            landlord: landlord.to_owned(),
            period,
            produced_on,
            sections,
            stem: figures.asked.stem(),
        }
    }

    /// Every table, in order.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.sections.iter().flat_map(|s| s.tables.iter())
    }

    /// The table with this key.
    pub fn table(&self, key: &str) -> Option<&Table> {
        self.tables().find(|t| t.key == key)
    }

    /// The document for a terminal: each section's tables, notes and rules.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (n, section) in self.sections.iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            out.push_str(&format!(
                "{}, {}\n{}\n",
                section.title, self.landlord, self.period
            ));
            for table in &section.tables {
                out.push_str(&format!("\n{}\n", table.title));
                for row in &table.rows {
                    out.push_str(
                        format!("{:<62} {:>12}  {}", row.measure, row.value, row.counted)
                            .trim_end(),
                    );
                    out.push('\n');
                }
            }
            if !section.notes.is_empty() {
                out.push('\n');
                for note in &section.notes {
                    out.push_str(note);
                    out.push('\n');
                }
            }
            if !section.rules.is_empty() {
                out.push_str("\nHow these figures are counted:\n");
                for (n, rule) in section.rules.iter().enumerate() {
                    out.push_str(&format!("{:>2}. {rule}\n", n + 1));
                }
            }
        }
        out
    }

    /// Every table as one CSV, the table's title in the first column.
    pub fn csv(&self) -> String {
        let mut out = String::from(CSV_HEADER);
        for table in self.tables() {
            table.csv_rows(&mut out);
        }
        out
    }
}

/// The CSV files' header line.
const CSV_HEADER: &str = "section,measure,value,numerator,denominator\r\n";

impl Table {
    /// The table as CSV (RFC 4180: every field quoted, quotes doubled; see `csv_field`), with
    /// a header.
    pub fn csv(&self) -> String {
        let mut out = String::from(CSV_HEADER);
        self.csv_rows(&mut out);
        out
    }

    fn csv_rows(&self, out: &mut String) {
        // Titles and measures can carry text staff typed (an improvement's title): made safe
        // to open in a spreadsheet.
        let field = crate::core::report::csv_field;
        let count = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
        for row in &self.rows {
            let line = [
                self.title.as_str(),
                row.measure.as_str(),
                row.value.as_str(),
                &count(row.numerator),
                &count(row.denominator),
            ]
            .map(field)
            .join(",");
            out.push_str(&line);
            out.push_str("\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Asked, parse_month, parse_period, parse_year};

    #[test]
    fn a_month_is_written_yyyy_mm() {
        assert_eq!(parse_month("2026-11"), Ok((2026, 11)));
        for bad in ["2026-13", "November", "2026-00", "2026-"] {
            assert!(
                parse_month(bad).expect_err(bad).contains("YYYY-MM"),
                "{bad}"
            );
        }
        assert!(
            parse_month("1999-01")
                .expect_err("too early")
                .contains("before 2000")
        );
    }

    #[test]
    fn a_year_must_be_a_number_from_2000() {
        assert_eq!(parse_year("2025"), Ok(2025));
        assert!(
            parse_year("twenty")
                .expect_err("not a number")
                .contains("a number")
        );
        assert!(
            parse_year("1999")
                .expect_err("too early")
                .contains("before 2000")
        );
        assert!(
            parse_year("2147483647")
                .expect_err("no such year")
                .contains("not a year")
        );
    }

    #[test]
    fn the_console_picks_a_year_or_a_month() {
        assert_eq!(parse_period("2025"), Ok(Asked::Annual(2025)));
        assert_eq!(parse_period("2025-07"), Ok(Asked::Month(2025, 7)));
        assert!(parse_period("2026-13").is_err());
        assert!(parse_period("").is_err());
        assert_eq!(Asked::Month(2025, 7).picked(), "2025-07");
    }
}
