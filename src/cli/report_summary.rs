//! `intake report send-summary YYYY-MM`: sends the governing body's summary of a month now
//! (Code 9.7), by email to `reports.governing_body` through `[alerts.smtp]`, as the
//! scheduler does by itself each month. The send is kept with the month, the recipients and
//! "the command line" as the sender; once sent, the scheduler does not send that month again.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use clap::Subcommand;

use super::report::{self, ReportCommand};
use crate::config::Config;
use crate::scheduler::{GoverningBodyMail, SentBy, month_to_send};
use crate::service::Intake;

/// The `report` commands: the figures, and sending the month's summary.
#[derive(Debug, Subcommand)]
pub enum ReportAction {
    #[command(flatten)]
    Figures(ReportCommand),
    /// Send the governing body's summary of a month now, by email (Code 9.7): the month's
    /// figures in the message, and as CSV attached. The month must have ended.
    SendSummary {
        /// The month, as YYYY-MM (2026-11).
        #[arg(value_name = "YYYY-MM")]
        month: String,
    },
}

pub fn run(config: &Config, action: ReportAction) -> anyhow::Result<ExitCode> {
    let month = match action {
        ReportAction::Figures(command) => return report::run(config, command),
        ReportAction::SendSummary { month } => month,
    };
    config.validate()?;
    let today = config.landlord.calendar().local_date(Utc::now());
    let month = month_to_send(&month, today).map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let policy = config.policy()?;
    runtime.block_on(async {
        let intake = Intake::from_config(config, policy).await?;
        let Some(mail) = GoverningBodyMail::from_config(config, intake.store())? else {
            anyhow::bail!(
                "no one receives the summary: set reports.governing_body (INTAKE_REPORTS_GOVERNING_BODY) to the governing body's email addresses"
            );
        };
        let sent = mail
            .send(&intake, month, &SentBy::CommandLine, Utc::now())
            .await?;
        println!(
            "The summary for {} was sent to {}.",
            sent.label,
            mail.recipients().join(", ")
        );
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
