//! The governing body's monthly summary by email (Code 9.7: the governing body receives
//! regular information on complaint volumes, categories, outcomes and performance).
//!
//! The scheduler sends each month's summary once, at the start of working hours on the first
//! working day after the month ends (the landlord's calendar: weekends, bank holidays and
//! closure days are skipped). The month is claimed in the record before it is sent, so a
//! restart or a second replica does not send it again, and a failed send keeps its reason and
//! is tried again with backoff. A manager in the console, or `intake report send-summary` at
//! the command line, sends a month's summary at once. Every send and every failed try is kept
//! with who sent it, the month and the recipients.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeZone as _, Utc};

use super::{Run, Scheduler, lease_end};
use crate::channels::alerts::{MailAttachment, Sinks};
use crate::config::{Config, ConfigError};
use crate::core::calendar::Calendar;
use crate::core::ids::StaffId;
use crate::reports::{MonthlySummary, monthly_summary};
use crate::service::{Intake, ReportError};
use crate::store::{Store, StoreError, SummarySend};

/// Where the summary goes, and how.
#[derive(Clone)]
pub struct GoverningBodyMail {
    recipients: Vec<String>,
    /// Sent by the scheduler each month, not only when asked for.
    pub automatic: bool,
    /// The start of working hours, when an automatic summary goes out.
    starts_at: NaiveTime,
    /// The SMTP server of `[alerts.smtp]`.
    sinks: Sinks,
}

/// Who sent a summary, as the record of sends names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SentBy {
    Scheduler,
    CommandLine,
    Staff { id: StaffId, name: String },
}

impl SentBy {
    fn staff(&self) -> Option<StaffId> {
        match self {
            SentBy::Staff { id, .. } => Some(*id),
            _ => None,
        }
    }

    fn words(&self) -> String {
        match self {
            SentBy::Scheduler => "the scheduler".to_owned(),
            SentBy::CommandLine => "the command line".to_owned(),
            SentBy::Staff { name, .. } => name.clone(),
        }
    }
}

/// Why a summary was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The mail server refused it or could not be reached: the reason, kept in the record.
    #[error("the summary was not sent: {0}")]
    NotSent(String),
}

impl GoverningBodyMail {
    /// The summary's recipients and mail server as configured, or None when no recipient is
    /// set (`reports.governing_body`).
    pub fn from_config(config: &Config, store: &Store) -> Result<Option<Self>, ConfigError> {
        let recipients = config.reports.recipients()?;
        if recipients.is_empty() {
            return Ok(None);
        }
        let starts_at = NaiveTime::parse_from_str(&config.alerts.working_hours_start, "%H:%M")
            .map_err(|_| {
                ConfigError::Alerts(format!(
                    "alerts.working_hours_start = {:?} is not a time such as \"09:00\"",
                    config.alerts.working_hours_start
                ))
            })?;
        Ok(Some(GoverningBodyMail {
            recipients,
            automatic: config.reports.send_summary_automatically,
            starts_at,
            sinks: Sinks::new(
                store.clone(),
                config.alerts.smtp.clone(),
                None,
                config.secrets.smtp_password.clone(),
            ),
        }))
    }

    /// Who the summary goes to.
    pub fn recipients(&self) -> &[String] {
        &self.recipients
    }

    /// Sends the summary of `month` (1 to 12) of `year` now, and keeps who sent it, to whom,
    /// and whether it went. Once sent, the scheduler does not send that month again.
    pub async fn send(
        &self,
        intake: &Intake,
        (year, month): (i32, u32),
        by: &SentBy,
        now: DateTime<Utc>,
    ) -> Result<MonthlySummary, SummaryError> {
        let store = intake.store();
        let summary = monthly_summary(store, intake.profile(), year, month).await?;
        let attachment = MailAttachment {
            file_name: &summary.file_name,
            content_type: "text/csv; charset=utf-8",
            text: &summary.csv,
        };
        let sent = self
            .sinks
            .email_with(
                &self.recipients,
                &summary.subject,
                &summary.body,
                Some(attachment),
            )
            .await;
        store
            .record_summary_send(&SummarySend {
                month: summary.month.clone(),
                staff: by.staff(),
                sent_by: by.words(),
                recipients: self.recipients.join(", "),
                error: sent.as_ref().err().cloned(),
                at: now,
            })
            .await?;
        match sent {
            Ok(()) => {
                tracing::info!(month = %summary.month, by = %by.words(), "the governing body's summary was sent");
                Ok(summary)
            }
            Err(e) => Err(SummaryError::NotSent(e)),
        }
    }

    /// When the summary of the month that ended before `month_after` began is due: the start
    /// of working hours on the first working day after it.
    fn due(&self, calendar: &Calendar, month_after: NaiveDate) -> DateTime<Utc> {
        let last_day = month_after.pred_opt().unwrap_or(month_after);
        let mut day = calendar.add_working_days(last_day, 1);
        let tz = calendar.time_zone();
        // A start of hours that does not exist that day (a clock change) moves to the next.
        for _ in 0..3 {
            if let Some(at) = tz
                .from_local_datetime(&day.and_time(self.starts_at))
                .earliest()
            {
                return at.with_timezone(&Utc);
            }
            day = calendar.add_working_days(day, 1);
        }
        day.and_time(NaiveTime::MIN).and_utc()
    }
}

/// The earliest month a summary can be asked for: the record holds nothing older.
const FIRST_YEAR: i32 = 2000;

/// A month as a person types it (2026-11), for a summary: it must have ended by `today` (a
/// month still running would be sent as if its figures were final).
pub fn month_to_send(text: &str, today: NaiveDate) -> Result<(i32, u32), String> {
    let bad = || format!("the month must be written YYYY-MM, such as 2026-11, not {text:?}");
    let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
    let (Ok(year), Ok(month)) = (year.parse::<i32>(), month.parse::<u32>()) else {
        return Err(bad());
    };
    let Some(first_day) = NaiveDate::from_ymd_opt(year, month, 1) else {
        return Err(bad());
    };
    if year < FIRST_YEAR {
        return Err(format!(
            "{year} is before {FIRST_YEAR}: the record holds nothing older"
        ));
    }
    if first_day >= first_of_month(today) {
        return Err(format!(
            "{} has not ended yet: a summary is sent for a month once it is over",
            first_day.format("%B %Y")
        ));
    }
    Ok((year, month))
}

/// The first day of the month `day` is in.
fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

impl Scheduler {
    /// The summary of last month, once its due moment has come: claimed, sent, and kept as
    /// sent; a failed send is kept with its reason and tried again with backoff.
    pub(super) async fn governing_body_summary(
        &self,
        now: DateTime<Utc>,
        run: &mut Run,
    ) -> Result<(), StoreError> {
        let Some(mail) = self.summary.as_ref().filter(|m| m.automatic) else {
            return Ok(());
        };
        let calendar = self.intake.calendar();
        let this_month = first_of_month(calendar.local_date(now));
        let due = mail.due(calendar, this_month);
        if now < due {
            return Ok(());
        }
        let Some(last_month) = this_month.checked_sub_months(Months::new(1)) else {
            return Ok(());
        };
        let key = last_month.format("%Y-%m").to_string();
        let store = self.intake.store();
        // Last month, and any earlier month claimed but never sent (it kept failing until
        // the next month ended): each is sent once it is claimed, oldest first.
        let mut months = store.unsent_summary_months(now).await?;
        months.retain(|m| *m != key);
        months.push(key);
        for key in months {
            let Some(first_day) = NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d").ok()
            else {
                continue;
            };
            if !store
                .claim_summary_month(&key, due, now, lease_end(now))
                .await?
            {
                continue;
            }
            let month = (first_day.year(), first_day.month());
            match mail
                .send(&self.intake, month, &SentBy::Scheduler, now)
                .await
            {
                Ok(_) => run.summaries_sent += 1,
                Err(SummaryError::Store(e)) => return Err(e),
                Err(e) => {
                    let attempts = store.summary_month(&key).await?.map_or(1, |m| m.attempts);
                    let wait = chrono::Duration::from_std(crate::channels::backoff(attempts))
                        .unwrap_or(chrono::Duration::seconds(60));
                    tracing::warn!(month = %key, error = %e, "the governing body's summary was not sent; it will be tried again");
                    store
                        .summary_month_failed(&key, &e.to_string(), now + wait)
                        .await?;
                    run.failed += 1;
                }
            }
        }
        Ok(())
    }

    /// When the next summary falls due, or last month's failed one is tried again, if the
    /// scheduler sends them.
    pub(super) async fn next_summary(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let Some(mail) = self.summary.as_ref().filter(|m| m.automatic) else {
            return Ok(None);
        };
        let calendar = self.intake.calendar();
        let this_month = first_of_month(calendar.local_date(now));
        let due = mail.due(calendar, this_month);
        if now < due {
            return Ok(Some(due));
        }
        let last_month = this_month
            .checked_sub_months(Months::new(1))
            .unwrap_or(this_month);
        let key = last_month.format("%Y-%m").to_string();
        Ok(Some(
            match self.intake.store().summary_month(&key).await? {
                Some(m) if m.sent_at.is_some() => {
                    let next_month = this_month
                        .checked_add_months(Months::new(1))
                        .unwrap_or(this_month);
                    mail.due(calendar, next_month)
                }
                Some(m) => m.next_try_at,
                None => now,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::month_to_send;

    #[test]
    fn only_a_month_that_has_ended_is_sent() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        assert_eq!(month_to_send(" 2026-11 ", today), Ok((2026, 11)));
        assert_eq!(month_to_send("2025-12", today), Ok((2025, 12)));
        for (text, says) in [
            ("2026-12", "has not ended yet"),
            ("2027-01", "has not ended yet"),
            ("2026-13", "YYYY-MM"),
            ("November", "YYYY-MM"),
            ("2026-00", "YYYY-MM"),
            ("1999-05", "before 2000"),
        ] {
            let refused = month_to_send(text, today).expect_err(text);
            assert!(refused.contains(says), "{text}: {refused}");
        }
    }
}
