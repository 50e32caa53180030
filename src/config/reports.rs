//! `[reports]`: who receives the monthly complaint handling summary (the governing body, Code
//! 9.7), and whether it goes out by itself each month.

use serde::{Deserialize, Serialize};

use super::{Config, ConfigError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportsConfig {
    /// The email addresses the monthly summary goes to (the governing body, or the member
    /// responsible for complaints and the clerk who circulates it). Empty: no summary is sent.
    pub governing_body: Vec<String>,
    /// Send the summary of each month by itself on the first working day after the month
    /// ends; when false it goes only when asked for (`intake report send-summary`, the console).
    pub send_summary_automatically: bool,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig {
            governing_body: Vec::new(),
            send_summary_automatically: true,
        }
    }
}

impl ReportsConfig {
    /// The recipients, each checked to be one email address.
    pub fn recipients(&self) -> Result<Vec<String>, ConfigError> {
        let mut addresses = Vec::new();
        for given in &self.governing_body {
            let address = given.trim();
            if address.parse::<lettre::Address>().is_err() {
                return Err(ConfigError::Reports(format!(
                    "reports.governing_body: {given:?} is not an email address (give each as name@example.org, one per item)"
                )));
            }
            if !addresses
                .iter()
                .any(|a: &String| a.eq_ignore_ascii_case(address))
            {
                addresses.push(address.to_owned());
            }
        }
        Ok(addresses)
    }
}

impl Config {
    /// The summary's recipients are real addresses, and a mail server is set to reach them.
    pub(super) fn check_reports(&self) -> Result<(), ConfigError> {
        let recipients = self.reports.recipients()?;
        if !recipients.is_empty() && self.alerts.smtp.host.is_none() {
            return Err(ConfigError::Reports(
                "reports.governing_body is set, but alerts.smtp.host is not: the summary goes by email through that server".to_owned(),
            ));
        }
        Ok(())
    }
}
