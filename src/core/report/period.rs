//! Reporting periods: the financial year landlords report on (1 April to 31 March) and calendar
//! months, both as days in the landlord's time zone.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use crate::core::calendar::Calendar;

/// A run of whole days in the landlord's time zone, first and last day included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// How landlords name it: "2025/26" for a financial year, "November 2026" for a month.
    pub label: String,
}

/// A period that does not exist, in the words the person who asked for it reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("{0} is not a year a report can cover")]
    Year(i32),
    #[error("month {0} does not exist: months are numbered 1 (January) to 12 (December)")]
    Month(u32),
}

impl Period {
    /// The financial year starting 1 April `start_year` and ending 31 March the year after, as
    /// the Regulator of Social Housing's reporting year runs: `financial_year(2025)` is
    /// 1 April 2025 to 31 March 2026.
    pub fn financial_year(start_year: i32) -> Result<Period, PeriodError> {
        let first_day = NaiveDate::from_ymd_opt(start_year, 4, 1);
        let last_day = start_year
            .checked_add(1)
            .and_then(|next| NaiveDate::from_ymd_opt(next, 3, 31));
        match (first_day, last_day) {
            (Some(first_day), Some(last_day)) => Ok(Period {
                first_day,
                last_day,
                label: format!("{start_year}/{:02}", (start_year + 1).rem_euclid(100)),
            }),
            _ => Err(PeriodError::Year(start_year)),
        }
    }

    /// The calendar month `month` (1 to 12) of `year`.
    pub fn month(year: i32, month: u32) -> Result<Period, PeriodError> {
        if !(1..=12).contains(&month) {
            return Err(PeriodError::Month(month));
        }
        let first_day = NaiveDate::from_ymd_opt(year, month, 1).ok_or(PeriodError::Year(year))?;
        let next_month = first_day
            .checked_add_months(chrono::Months::new(1))
            .ok_or(PeriodError::Year(year))?;
        let last_day = next_month.pred_opt().ok_or(PeriodError::Year(year))?;
        Ok(Period {
            first_day,
            last_day,
            label: first_day.format("%B %Y").to_string(),
        })
    }

    /// The financial year a day falls in: days from 1 April belong to the year starting then.
    pub fn financial_year_of(day: NaiveDate) -> Result<Period, PeriodError> {
        let start_year = if day.month() >= 4 {
            day.year()
        } else {
            day.year() - 1
        };
        Period::financial_year(start_year)
    }

    /// Whether the day is one of the period's days.
    pub fn contains_day(&self, day: NaiveDate) -> bool {
        self.first_day <= day && day <= self.last_day
    }

    /// Whether a moment falls in the period, read as the landlord's local day: 00:30 BST on
    /// 1 April (23:30 UTC on 31 March) is in the new financial year.
    pub fn contains(&self, calendar: &Calendar, at: DateTime<Utc>) -> bool {
        self.contains_day(calendar.local_date(at))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} to {})",
            self.label,
            self.first_day.format("%-d %B %Y"),
            self.last_day.format("%-d %B %Y")
        )
    }
}
