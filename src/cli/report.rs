//! `intake report tsm`: the Regulator of Social Housing's complaint measures CH01 and CH02 for
//! a financial year, from the record, as a short table with the rules that produced it, or
//! as JSON with every count and the complaints behind each figure.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};

use super::report_tables;
use crate::config::Config;
use crate::core::report::{Figure, Period, TsmReport, Unit, Value};
use crate::store::Store;

/// The first financial year a report can be asked for: the record holds nothing older.
const FIRST_YEAR: i32 = 2000;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// CH01 (stage 1 and stage 2 complaints per 1,000 homes, for all homes and by tenure) and
    /// CH02 (the share of stage 1 and stage 2 responses within the Complaint Handling Code's
    /// timescales) for the financial year starting 1 April YEAR.
    Tsm {
        /// The year the financial year starts in: 2025 is 1 April 2025 to 31 March 2026.
        #[arg(long, value_name = "YEAR", value_parser = parse_year)]
        year: i32,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Complaint handling for one month, as the governing body receives it (Code 9.7):
    /// volumes, acknowledgements and responses against the Code's timescales, extensions,
    /// escalations, exclusions, outcomes, compensation, categories and satisfaction.
    Month {
        /// The month, as YYYY-MM (2026-11).
        #[arg(value_name = "YYYY-MM", value_parser = parse_month)]
        month: (i32, u32),
        #[arg(long, value_enum, default_value_t = Layout::Text)]
        format: Layout,
    },
    /// The same figures for the financial year starting 1 April YEAR, month by month, with
    /// CH01 and CH02 (the annual report's figures, Code section 8).
    Annual {
        #[arg(long, value_name = "YEAR", value_parser = parse_year)]
        year: i32,
        #[arg(long, value_enum, default_value_t = Layout::Text)]
        format: Layout,
    },
}

/// How the handling figures are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Layout {
    /// A table for a terminal.
    Text,
    /// Every figure with the complaint references behind it.
    Json,
    /// One row per figure: section, measure, value, numerator, denominator.
    Csv,
}

/// A month as a person types it: 2026-11.
fn parse_month(text: &str) -> Result<(i32, u32), String> {
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
    Ok((year, month))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table with the counts behind each figure, then the rules as numbered sentences.
    Text,
    /// Every figure with its numerator, denominator and the complaint references counted.
    Json,
}

/// A financial year's starting year, as a person types it. Clap reports the message and exits
/// with code 2, as for any other usage error.
fn parse_year(text: &str) -> Result<i32, String> {
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
    Ok(year)
}

pub fn run(config: &Config, command: ReportCommand) -> anyhow::Result<ExitCode> {
    config.validate()?;
    let (year, format) = match command {
        ReportCommand::Tsm { year, format } => (year, format),
        ReportCommand::Month {
            month: (year, month),
            format,
        } => return handling(config, &Period::month(year, month)?, None, format),
        ReportCommand::Annual { year, format } => {
            let period = Period::financial_year(year)?;
            return handling(config, &period, Some(year), format);
        }
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let report = runtime.block_on(async {
        let store = Store::connect(&config.database_url)
            .await
            .context("opening the database")?;
        anyhow::Ok(crate::service::tsm(&store, &config.landlord, year).await?)
    })?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print!("{}", text(&report, &config.landlord.name)),
    }
    Ok(ExitCode::SUCCESS)
}

/// The handling figures for `period`, printed in `layout`; for a financial year (`tsm_year`),
/// CH01 and CH02 with them.
fn handling(
    config: &Config,
    period: &Period,
    tsm_year: Option<i32>,
    layout: Layout,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let (performance, tsm) = runtime.block_on(async {
        let store = Store::connect(&config.database_url)
            .await
            .context("opening the database")?;
        anyhow::Ok(match tsm_year {
            Some(year) => {
                let (handling, tsm) =
                    crate::service::annual(&store, &config.landlord, year).await?;
                (handling, Some(tsm))
            }
            None => (
                crate::service::handling(&store, &config.landlord, period).await?,
                None,
            ),
        })
    })?;
    let landlord = &config.landlord.name;
    match layout {
        Layout::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "handling": performance,
                "tenant_satisfaction_measures": tsm,
            }))?
        ),
        Layout::Csv => print!("{}", report_tables::csv(&performance)),
        Layout::Text => {
            print!("{}", report_tables::text(&performance, landlord));
            if let Some(tsm) = &tsm {
                print!("\n{}", text(tsm, landlord));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The report as a short table: each figure, then the counts it was computed from.
pub fn text(report: &TsmReport, landlord: &str) -> String {
    let mut rows: Vec<(String, &Figure)> = Vec::new();
    for (stage, figures) in [(1, &report.ch01.stage1), (2, &report.ch01.stage2)] {
        rows.push((format!("CH01 stage {stage}, all homes"), &figures.all_homes));
        rows.push((
            format!("CH01 stage {stage}, low-cost rental"),
            &figures.low_cost_rental,
        ));
        rows.push((
            format!("CH01 stage {stage}, low-cost home ownership"),
            &figures.low_cost_home_ownership,
        ));
    }
    rows.push((
        "CH02 stage 1, within the Code's timescale".to_owned(),
        &report.ch02.stage1.on_time,
    ));
    rows.push((
        "CH02 stage 2, within the Code's timescale".to_owned(),
        &report.ch02.stage2.on_time,
    ));
    let mut out = format!(
        "Tenant Satisfaction Measures on complaints, {landlord}\nFinancial year {}\n\n",
        report.period
    );
    out.push_str(&format!(
        "{:<46} {:>8}  {}\n",
        "Measure", "Figure", "Counted"
    ));
    for (name, figure) in rows {
        let (value, counts) = match &figure.value {
            Value::Measured(v) => (
                match figure.unit {
                    Unit::PerThousandHomes => v.to_string(),
                    Unit::Percent => format!("{v}%"),
                },
                counts(figure),
            ),
            Value::NotMeasurable(why) => ("n/a".to_owned(), format!("not measurable: {why}")),
        };
        out.push_str(&format!("{name:<46} {value:>8}  {counts}\n"));
    }
    let mut notes = String::new();
    for (stage, figures) in [(1, &report.ch01.stage1), (2, &report.ch01.stage2)] {
        if !figures.tenure_not_recorded.is_empty() {
            notes.push_str(&format!(
                "Stage {stage}: {} counted for all homes only, their tenure not recorded.\n",
                plural(figures.tenure_not_recorded.len(), "complaint")
            ));
        }
    }
    for (stage, late) in [(1, &report.ch02.stage1.late), (2, &report.ch02.stage2.late)] {
        if !late.is_empty() {
            notes.push_str(&format!(
                "Late stage {stage} responses: {}\n",
                late.join(", ")
            ));
        }
    }
    if !notes.is_empty() {
        out.push('\n');
        out.push_str(&notes);
    }
    out.push_str("\nHow these figures are counted:\n");
    for (n, rule) in report.rules.iter().enumerate() {
        out.push_str(&format!("{:>2}. {rule}\n", n + 1));
    }
    out
}

/// "1 complaint", "3 complaints".
fn plural(n: impl std::fmt::Display, noun: &str) -> String {
    let n = n.to_string();
    if n == "1" {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The counts behind a figure, in words.
fn counts(figure: &Figure) -> String {
    match figure.unit {
        Unit::PerThousandHomes => format!(
            "{} / {} homes",
            plural(figure.numerator, "complaint"),
            figure.denominator
        ),
        Unit::Percent => format!(
            "{} of {} responses on time",
            figure.numerator, figure.denominator
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_month, parse_year};

    #[test]
    fn a_month_is_written_yyyy_mm() {
        assert_eq!(parse_month("2026-11"), Ok((2026, 11)));
        assert!(
            parse_month("2026-13")
                .expect_err("no 13th month")
                .contains("YYYY-MM")
        );
        assert!(
            parse_month("November")
                .expect_err("words")
                .contains("YYYY-MM")
        );
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
    }
}
