//! `intake report`: CH01 and CH02 for a financial year (`tsm`), the handling figures for a
//! month (`month`, Code 9.7), the annual report's figures (`annual`, Code section 8) and the
//! self-assessment against the Code (`self-assessment`, appendix A), from the record. Each prints as a table for a terminal, JSON with the complaints behind every
//! figure, CSV, or HTML with charts; `--out DIR` writes the HTML, one CSV per table and the
//! JSON as files. All of them come from one `reports::Document`, so they agree.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use clap::{Args, Subcommand, ValueEnum};

use super::report_learning::{self, SelfAssessmentArgs};
use crate::config::Config;
use crate::reports::{Asked, Document, Figures, parse_month, parse_year, standalone};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// CH01 (stage 1 and stage 2 complaints per 1,000 homes, for all homes and by tenure) and
    /// CH02 (the share of stage 1 and stage 2 responses within the Complaint Handling Code's
    /// timescales) for the financial year starting 1 April YEAR.
    Tsm {
        /// The year the financial year starts in: 2025 is 1 April 2025 to 31 March 2026.
        #[arg(long, value_name = "YEAR", value_parser = parse_year)]
        year: i32,
        #[command(flatten)]
        output: Output,
    },
    /// Complaint handling for one month, as the governing body receives it (Code 9.7):
    /// volumes, acknowledgements and responses against the Code's timescales, extensions,
    /// escalations, exclusions, outcomes, compensation, categories and satisfaction.
    Month {
        /// The month, as YYYY-MM (2026-11).
        #[arg(value_name = "YYYY-MM", value_parser = parse_month)]
        month: (i32, u32),
        #[command(flatten)]
        output: Output,
    },
    /// The same figures for the financial year starting 1 April YEAR, month by month, with
    /// CH01 and CH02 (the annual report's figures, Code section 8).
    Annual {
        #[arg(long, value_name = "YEAR", value_parser = parse_year)]
        year: i32,
        #[command(flatten)]
        output: Output,
    },
    /// The landlord's self-assessment against the Complaint Handling Code (appendix A,
    /// 8.1(a)) for the financial year starting 1 April YEAR: the provisions the record judges
    /// with their evidence, the managers' answers and commentary, and the governing body's
    /// response (8.2).
    SelfAssessment(SelfAssessmentArgs),
}

/// Where and how a report is printed.
#[derive(Debug, Args)]
pub struct Output {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report into DIR (made if missing) instead of printing it: the HTML (one
    /// file, prints to A4), one CSV per table and the JSON; prints the files written. Nothing
    /// is left half-written: each file is written under a temporary name, then renamed.
    #[arg(long, value_name = "DIR", conflicts_with = "format")]
    out: Option<PathBuf>,
}

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables for a terminal, with the counts behind each figure and the rules.
    Text,
    /// Every figure with its numerator, denominator and the complaint references counted.
    Json,
    /// One row per figure: section (the table), measure, value, numerator, denominator.
    Csv,
    /// One self-contained HTML document with charts and a print stylesheet.
    Html,
}

pub fn run(config: &Config, command: ReportCommand) -> anyhow::Result<ExitCode> {
    config.validate()?;
    let (asked, output) = match command {
        ReportCommand::SelfAssessment(args) => return report_learning::run(config, &args),
        ReportCommand::Tsm { year, output } => (Asked::Tsm(year), output),
        ReportCommand::Month {
            month: (year, month),
            output,
        } => (Asked::Month(year, month), output),
        ReportCommand::Annual { year, output } => (Asked::Annual(year), output),
    };
    // The period is checked before the record is opened.
    asked.period()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let now = Utc::now();
    let figures = runtime.block_on(async {
        let store = Store::connect(&config.database_url)
            .await
            .context("opening the database")?;
        anyhow::Ok(Figures::read(&store, &config.landlord, asked, now).await?)
    })?;
    let today = config.landlord.calendar().local_date(now);
    let document = Document::new(&figures, &config.landlord.name, today);
    if let Some(dir) = &output.out {
        for path in write_out(dir, &files(&figures, &document)?)? {
            println!("Wrote {}", path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    match output.format {
        Format::Text => print!("{}", document.text()),
        Format::Json => println!("{}", serde_json::to_string_pretty(&figures.json())?),
        Format::Csv => print!("{}", document.csv()),
        Format::Html => print!("{}", standalone(&document)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// The files `--out` writes, by name: the HTML, the JSON, and one CSV per table.
fn files(figures: &Figures, document: &Document) -> anyhow::Result<Vec<(String, String)>> {
    let stem = &document.stem;
    let mut files = vec![
        (format!("{stem}.html"), standalone(document)?),
        (
            format!("{stem}.json"),
            serde_json::to_string_pretty(&figures.json())? + "\n",
        ),
    ];
    for table in document.tables() {
        files.push((format!("{stem}-{}.csv", table.key), table.csv()));
    }
    Ok(files)
}

/// Writes each file into `dir` under a temporary name, then renames them all, so a failure
/// (a directory that cannot be made or written, a full disk) leaves no file half-written and
/// none of the report's files behind. Gives the paths written.
fn write_out(dir: &Path, files: &[(String, String)]) -> anyhow::Result<Vec<PathBuf>> {
    let refused = |why: String| {
        anyhow::anyhow!(
            "the report cannot be written to {}: {why}; nothing was written",
            dir.display()
        )
    };
    if dir.exists() && !dir.is_dir() {
        return Err(refused("it is not a directory".to_owned()));
    }
    std::fs::create_dir_all(dir).map_err(|e| refused(e.to_string()))?;
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let discard = |staged: &[(PathBuf, PathBuf)]| {
        for (temporary, _) in staged {
            let _ = std::fs::remove_file(temporary);
        }
    };
    for (name, contents) in files {
        let temporary = dir.join(format!(".{name}.{}.partial", std::process::id()));
        if let Err(e) = std::fs::write(&temporary, contents) {
            let _ = std::fs::remove_file(&temporary);
            discard(&staged);
            return Err(refused(e.to_string()));
        }
        staged.push((temporary, dir.join(name)));
    }
    let mut written = Vec::new();
    for (n, (temporary, path)) in staged.iter().enumerate() {
        if let Err(e) = std::fs::rename(temporary, path) {
            discard(&staged[n..]);
            for done in &written {
                let _ = std::fs::remove_file(done);
            }
            return Err(refused(e.to_string()));
        }
        written.push(path.clone());
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::write_out;

    #[test]
    fn a_directory_that_cannot_be_written_gets_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").expect("file");
        let files = vec![("one.csv".to_owned(), "a\r\n".to_owned())];
        let e = write_out(&file, &files).expect_err("a file is not a directory");
        assert!(e.to_string().contains("not a directory"), "{e}");
        let e = write_out(&file.join("below"), &files).expect_err("below a file");
        assert!(e.to_string().contains("nothing was written"), "{e}");

        let out = dir.path().join("out");
        let written = write_out(&out, &files).expect("written");
        assert_eq!(written, vec![out.join("one.csv")]);
        let names: Vec<_> = std::fs::read_dir(&out)
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec!["one.csv"], "no temporary file is left");
    }
}
