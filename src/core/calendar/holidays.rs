//! The bank holidays of England and Wales: by rule, with substitute days for those at the
//! weekend and the one-off changes proclaimed in recent years.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::Serialize;

/// One day on which the landlord does not work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
    pub kind: HolidayKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayKind {
    /// A bank holiday in England and Wales, by rule or by proclamation.
    BankHoliday,
    /// An extra bank holiday added in configuration (a future one-off, say).
    ExtraBankHoliday,
    /// A day the landlord's offices are closed (configuration).
    Closure,
}

/// Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    date(year, month as u32, day as u32)
}

/// The bank holidays of England and Wales in `year`, by rule, with substitute days and the
/// one-off changes proclaimed in recent years.
pub fn bank_holidays(year: i32) -> Vec<Holiday> {
    let mut days: Vec<(NaiveDate, &str)> = Vec::with_capacity(10);

    days.push((next_weekday_on_or_after(date(year, 1, 1)), "New Year's Day"));
    let easter = easter_sunday(year);
    days.push((easter - Duration::days(2), "Good Friday"));
    days.push((easter + Duration::days(1), "Easter Monday"));

    // Early May: the first Monday, moved to Friday 8 May in 2020 for the 75th VE Day.
    if year == 2020 {
        days.push((date(2020, 5, 8), "Early May bank holiday (VE Day)"));
    } else {
        days.push((
            first_weekday_of(year, 5, Weekday::Mon),
            "Early May bank holiday",
        ));
    }
    // Spring: the last Monday of May, moved to Thursday 2 June in 2022 for the Platinum Jubilee.
    if year == 2022 {
        days.push((date(2022, 6, 2), "Spring bank holiday"));
        days.push((date(2022, 6, 3), "Platinum Jubilee bank holiday"));
    } else {
        days.push((
            last_weekday_of(year, 5, Weekday::Mon),
            "Spring bank holiday",
        ));
    }
    days.push((
        last_weekday_of(year, 8, Weekday::Mon),
        "Summer bank holiday",
    ));
    if year == 2022 {
        days.push((
            date(2022, 9, 19),
            "Bank holiday for the State Funeral of Queen Elizabeth II",
        ));
    }
    if year == 2023 {
        days.push((
            date(2023, 5, 8),
            "Bank holiday for the coronation of King Charles III",
        ));
    }

    // Christmas Day and Boxing Day: a day at the weekend moves to the next free weekday.
    let christmas = date(year, 12, 25);
    let boxing = date(year, 12, 26);
    let (christmas_observed, boxing_observed) = match christmas.weekday() {
        Weekday::Fri => (christmas, date(year, 12, 28)),
        Weekday::Sat => (date(year, 12, 27), date(year, 12, 28)),
        Weekday::Sun => (date(year, 12, 27), boxing),
        _ => (christmas, boxing),
    };
    days.push((
        christmas_observed,
        if christmas_observed == christmas {
            "Christmas Day"
        } else {
            "Christmas Day (substitute day)"
        },
    ));
    days.push((
        boxing_observed,
        if boxing_observed == boxing {
            "Boxing Day"
        } else {
            "Boxing Day (substitute day)"
        },
    ));

    let mut holidays: Vec<Holiday> = days
        .into_iter()
        .map(|(date, name)| Holiday {
            date,
            name: if name == "New Year's Day" && date.day() != 1 {
                "New Year's Day (substitute day)".to_owned()
            } else {
                name.to_owned()
            },
            kind: HolidayKind::BankHoliday,
        })
        .collect();
    holidays.sort_by_key(|h| h.date);
    holidays
}

/// Dates that are valid by construction (callers pass known-good values).
pub(super) fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

fn next_weekday_on_or_after(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => d + Duration::days(2),
        Weekday::Sun => d + Duration::days(1),
        _ => d,
    }
}

fn first_weekday_of(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, 1).unwrap_or(NaiveDate::MIN)
}

fn last_weekday_of(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
    let first_of_next = if month == 12 {
        date(year + 1, 1, 1)
    } else {
        date(year, month + 1, 1)
    };
    let mut d = first_of_next - Duration::days(1);
    while d.weekday() != weekday {
        d -= Duration::days(1);
    }
    d
}

/// The set of dates in `holidays`, for quick membership tests.
pub fn holiday_dates(holidays: &[Holiday]) -> BTreeSet<NaiveDate> {
    holidays.iter().map(|h| h.date).collect()
}
