//! `intake report self-assessment --year YEAR`: the landlord's self-assessment against the
//! Complaint Handling Code (appendix A, 8.1(a)) for a financial year, from the record: the
//! provisions the record judges (6.2, 6.3, 6.11, 6.14) with their evidence, the managers'
//! answers and commentary for the rest, and the governing body's response (8.2). As text for
//! a terminal, JSON, or CSV in appendix A's columns.
//!
//! Also the printing of any report's plain tables (`core::report::Table`), for the annual
//! report's learning from complaints (section 9, 8.1(c) and (d)).
//!
//! Wired into `intake report` by one variant: `SelfAssessment(report_learning::SelfAssessmentArgs)`,
//! run with [`run`].

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::core::report::{SelfAssessment, Table};
use crate::store::Store;

/// The first financial year a self-assessment can be asked for: the record holds nothing older.
const FIRST_YEAR: i32 = 2000;

/// `intake report self-assessment`'s arguments.
#[derive(Debug, Clone, Args)]
pub struct SelfAssessmentArgs {
    /// The year the financial year starts in: 2025 is 1 April 2025 to 31 March 2026.
    #[arg(long, value_name = "YEAR", value_parser = parse_year)]
    pub year: i32,
    #[arg(long, value_enum, default_value_t = Layout::Text)]
    pub format: Layout,
}

/// How the self-assessment is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Layout {
    /// Provision by provision, for a terminal.
    Text,
    /// Everything, with the managers' answers' versions and who wrote them.
    Json,
    /// Appendix A's columns: provision, requirement, complies, evidence, commentary.
    Csv,
}

/// A financial year's starting year, as a person types it.
fn parse_year(text: &str) -> Result<i32, String> {
    let year: i32 = text.trim().parse().map_err(|_| {
        format!(
            "the year must be a number such as 2025 (the year starting 1 April 2025), not {text:?}"
        )
    })?;
    if !(FIRST_YEAR..=9998).contains(&year) {
        return Err(format!(
            "{year} is not a year a self-assessment can cover: give the year a financial year starts in, such as 2025"
        ));
    }
    Ok(year)
}

/// Prints the self-assessment for the year asked.
pub fn run(config: &Config, args: &SelfAssessmentArgs) -> anyhow::Result<ExitCode> {
    config.validate()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let assessment = runtime.block_on(async {
        let store = Store::connect(&config.database_url)
            .await
            .context("opening the database")?;
        anyhow::Ok(crate::service::self_assessment_for(&store, &config.landlord, args.year).await?)
    })?;
    match args.format {
        Layout::Text => print!("{}", text(&assessment, &config.landlord.name)),
        Layout::Json => println!("{}", serde_json::to_string_pretty(&assessment)?),
        Layout::Csv => print!("{}", csv(&assessment)),
    }
    Ok(ExitCode::SUCCESS)
}

/// The self-assessment for a terminal: each provision with whether the landlord complies, the
/// evidence and the commentary, then the governing body's response.
pub fn text(assessment: &SelfAssessment, landlord: &str) -> String {
    let mut out = format!(
        "{landlord}: self-assessment against the Complaint Handling Code, {}\n",
        assessment.period
    );
    let (mut yes, mut no, mut open) = (0, 0, 0);
    let mut section = "";
    let mut body = String::new();
    for a in &assessment.provisions {
        if a.provision.section != section {
            section = a.provision.section;
            body.push_str(&format!("\n{section}\n"));
        }
        let complies = match a.complies() {
            Some(true) => {
                yes += 1;
                "Yes"
            }
            Some(false) => {
                no += 1;
                "No"
            }
            None => {
                open += 1;
                "Not answered yet"
            }
        };
        body.push_str(&format!(
            "{:<5} Complies: {complies}\n      {}\n",
            a.provision.number, a.provision.requirement
        ));
        match (&a.from_record, &a.not_judged) {
            (Some(judged), _) => {
                body.push_str(&format!(
                    "      Evidence (from the record): {}\n",
                    judged.evidence
                ));
            }
            (None, Some(why)) => body.push_str(&format!("      {why}\n")),
            (None, None) => {}
        }
        if let Some(answer) = &a.answer
            && !answer.commentary.is_empty()
        {
            body.push_str(&format!(
                "      Commentary (version {}, {}): {}\n",
                answer.version, answer.by, answer.commentary
            ));
        }
    }
    out.push_str(&format!(
        "Complies: {yes}; does not comply: {no}; not answered yet: {open}.\n"
    ));
    out.push_str(&body);
    out.push_str("\nThe governing body's response (8.2)\n");
    match &assessment.governing_body {
        Some(answer) => out.push_str(&format!(
            "      {} (version {}, {})\n",
            answer.commentary, answer.version, answer.by
        )),
        None => out.push_str("      Not recorded yet.\n"),
    }
    out
}

/// The self-assessment as CSV (RFC 4180) in appendix A's columns, with the governing body's
/// response as a last row.
pub fn csv(assessment: &SelfAssessment) -> String {
    let mut tables = assessment.tables().into_iter();
    let Some(mut provisions) = tables.next() else {
        return String::new();
    };
    if let Some(response) = tables.next().and_then(|t| t.rows.into_iter().next()) {
        provisions.rows.push(vec![
            "The governing body's response (8.2)".to_owned(),
            String::new(),
            String::new(),
            String::new(),
            response.into_iter().next().unwrap_or_default(),
        ]);
    }
    provisions.csv()
}

/// Plain tables for a terminal, one after another.
pub fn tables_text(tables: &[Table]) -> String {
    tables
        .iter()
        .map(Table::text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Plain tables as one CSV: each row led by its table's title, each table headed by its
/// columns.
pub fn tables_csv(tables: &[Table]) -> String {
    let mut out = String::new();
    for table in tables {
        let led = Table {
            title: String::new(),
            columns: std::iter::once("table".to_owned())
                .chain(table.columns.iter().cloned())
                .collect(),
            rows: table
                .rows
                .iter()
                .map(|r| {
                    std::iter::once(table.title.clone())
                        .chain(r.iter().cloned())
                        .collect()
                })
                .collect(),
        };
        out.push_str(&led.csv());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_must_be_a_number_from_2000() {
        assert_eq!(parse_year("2025"), Ok(2025));
        assert!(parse_year("last year").is_err());
        assert!(parse_year("1999").is_err());
    }

    #[test]
    fn tables_in_one_csv_are_led_by_their_title() {
        let tables = vec![Table {
            title: "Learning, 2026/27".to_owned(),
            columns: vec!["Measure".to_owned(), "Value".to_owned()],
            rows: vec![vec!["Orders \"made\"".to_owned(), "2".to_owned()]],
        }];
        assert_eq!(
            tables_csv(&tables),
            "\"table\",\"Measure\",\"Value\"\r\n\"Learning, 2026/27\",\"Orders \"\"made\"\"\",\"2\"\r\n"
        );
        assert_eq!(
            tables_text(&tables),
            "Learning, 2026/27\nMeasure        Value\nOrders \"made\"  2\n"
        );
    }
}
