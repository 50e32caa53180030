//! Working days, bank holidays in England and Wales, and the Code's deadlines.
//!
//! Moments are instants (`DateTime<Utc>`); days are counted in the landlord's time zone, so a
//! message sent at 23:30 on a Friday in British Summer Time counts as received that Friday.
//! Working days are Monday to Friday, except bank holidays and the landlord's closure days
//! (section 6 of the Code: see [`crate::code`]).
//!
//! - `holidays`: the bank holidays of England and Wales, by rule and by proclamation.
//! - this module: the landlord's working calendar (bank holidays, extra holidays, closures).
//! - `deadlines`: the Code's steps, the landlord's timescales and the deadlines they give.
//! - `office`: whether the office is open at a moment, and when it next opens.

mod deadlines;
mod holidays;
mod office;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

pub use deadlines::{
    DeadlinePlan, Deadlines, ExtensionTooLong, StageDates, Step, TimescaleError, Timescales,
};
pub use holidays::{Holiday, HolidayKind, bank_holidays, easter_sunday, holiday_dates};
pub use office::{Office, OfficeHours, office_at};

use holidays::date;

/// `months` calendar months after `from`: the same day of the month, or the month's last day
/// when it has no such day. This is how the ICO reads "one month" in UK GDPR art. 12(3): a
/// request received on 31 January is due on 28 (or 29) February.
pub fn calendar_months_after(from: NaiveDate, months: u32) -> NaiveDate {
    from.checked_add_months(chrono::Months::new(months))
        .unwrap_or(from)
}

/// The landlord's working calendar: bank holidays plus configured extra holidays and closures.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: Tz,
    /// Every non-working weekday we know of, with what it is.
    closed: BTreeMap<NaiveDate, Holiday>,
    /// Years whose bank holidays are already in `closed`.
    years: (i32, i32),
}

/// Bank holidays are precomputed for this span; later years are computed on demand.
const PRECOMPUTED_YEARS: (i32, i32) = (2000, 2100);

impl Calendar {
    /// England and Wales bank holidays in the given time zone, with the landlord's extra bank
    /// holidays and closure days.
    pub fn new(tz: Tz, extra_bank_holidays: &[NaiveDate], closure_days: &[NaiveDate]) -> Calendar {
        let mut closed = BTreeMap::new();
        for year in PRECOMPUTED_YEARS.0..=PRECOMPUTED_YEARS.1 {
            for h in bank_holidays(year) {
                closed.insert(h.date, h);
            }
        }
        for &date in extra_bank_holidays {
            closed.entry(date).or_insert(Holiday {
                date,
                name: "Extra bank holiday (configured)".to_owned(),
                kind: HolidayKind::ExtraBankHoliday,
            });
        }
        for &date in closure_days {
            closed.entry(date).or_insert(Holiday {
                date,
                name: "Office closure day (configured)".to_owned(),
                kind: HolidayKind::Closure,
            });
        }
        Calendar {
            tz,
            closed,
            years: PRECOMPUTED_YEARS,
        }
    }

    /// England and Wales in Europe/London, with nothing extra.
    pub fn england_and_wales() -> Calendar {
        Calendar::new(chrono_tz::Europe::London, &[], &[])
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// The calendar day, in the landlord's time zone, on which `at` falls.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The holiday or closure on `date`, if there is one.
    pub fn holiday_on(&self, date: NaiveDate) -> Option<Holiday> {
        if (self.years.0..=self.years.1).contains(&date.year()) {
            return self.closed.get(&date).cloned();
        }
        self.closed.get(&date).cloned().or_else(|| {
            bank_holidays(date.year())
                .into_iter()
                .find(|h| h.date == date)
        })
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && self.holiday_on(date).is_none()
    }

    /// The `n`th working day after `from`. `from` itself never counts, whether or not it is a
    /// working day; `n = 0` gives `from` back.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut day = from;
        let mut left = n;
        while left > 0 {
            day = day.succ_opt().unwrap_or(day);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// The `n`th working day after the local day on which `at` falls.
    pub fn add_working_days_at(&self, at: DateTime<Utc>, n: u32) -> NaiveDate {
        self.add_working_days(self.local_date(at), n)
    }

    /// Working days in `(from, to]`: how many working days after `from` the day `to` is.
    /// Negative when `to` comes before `from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if to < from {
            return -self.working_days_between(to, from);
        }
        from.iter_days()
            .skip(1)
            .take_while(|d| *d <= to)
            .filter(|d| self.is_working_day(*d))
            .count() as i64
    }

    /// Bank holidays and closure days in `year`, in date order (weekend closures included, so
    /// staff see what was configured).
    pub fn holidays_in(&self, year: i32) -> Vec<Holiday> {
        let start = date(year, 1, 1);
        let end = date(year, 12, 31);
        let mut out: BTreeMap<NaiveDate, Holiday> = self
            .closed
            .range(start..=end)
            .map(|(d, h)| (*d, h.clone()))
            .collect();
        if !(self.years.0..=self.years.1).contains(&year) {
            for h in bank_holidays(year) {
                out.entry(h.date).or_insert(h);
            }
        }
        out.into_values().collect()
    }
}

#[cfg(test)]
mod tests;
