//! Working days, bank holidays in England and Wales, and the Code's deadlines.
//!
//! Moments are instants (`DateTime<Utc>`); days are counted in the landlord's time zone, so a
//! message sent at 23:30 on a Friday in British Summer Time counts as received that Friday.
//! Working days are Monday to Friday, except bank holidays and the landlord's closure days
//! (POLICY.md section 4).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

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

/// A step of the complaints process that has a deadline (POLICY.md section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Stage 1 acknowledged, defined and logged: from receipt (6.2).
    Stage1Acknowledgement,
    /// Stage 1 response: from the acknowledgement (6.3).
    Stage1Response,
    /// Stage 1 extension: beyond the response date, with reasons (6.4, 6.5).
    Stage1Extension,
    /// Stage 2 acknowledged and logged: from the escalation request (6.11).
    Stage2Acknowledgement,
    /// Stage 2 response: from the stage 2 acknowledgement (6.14).
    Stage2Response,
    /// Stage 2 extension: beyond the stage 2 response date, with reasons (6.15, 6.16).
    Stage2Extension,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Stage1Acknowledgement,
        Step::Stage1Response,
        Step::Stage1Extension,
        Step::Stage2Acknowledgement,
        Step::Stage2Response,
        Step::Stage2Extension,
    ];

    /// The most working days the Code allows for this step.
    pub fn code_maximum(self) -> u32 {
        match self {
            Step::Stage1Acknowledgement | Step::Stage2Acknowledgement => 5,
            Step::Stage1Response | Step::Stage1Extension => 10,
            Step::Stage2Response | Step::Stage2Extension => 20,
        }
    }

    /// The Code provision that sets the maximum.
    pub fn provision(self) -> &'static str {
        match self {
            Step::Stage1Acknowledgement => "6.2",
            Step::Stage1Response => "6.3",
            Step::Stage1Extension => "6.4",
            Step::Stage2Acknowledgement => "6.11",
            Step::Stage2Response => "6.14",
            Step::Stage2Extension => "6.15",
        }
    }

    /// The configuration key under `[timescales]` for this step.
    pub fn key(self) -> &'static str {
        match self {
            Step::Stage1Acknowledgement => "stage1_acknowledgement",
            Step::Stage1Response => "stage1_response",
            Step::Stage1Extension => "stage1_extension",
            Step::Stage2Acknowledgement => "stage2_acknowledgement",
            Step::Stage2Response => "stage2_response",
            Step::Stage2Extension => "stage2_extension",
        }
    }

    /// What the step's working days are counted from.
    pub fn anchor(self) -> &'static str {
        match self {
            Step::Stage1Acknowledgement => "the day the complaint was received",
            Step::Stage1Response => "the day the complaint was acknowledged",
            Step::Stage1Extension | Step::Stage2Extension => "the response date being extended",
            Step::Stage2Acknowledgement => "the day the escalation was requested",
            Step::Stage2Response => "the day stage 2 was acknowledged",
        }
    }
}

/// The landlord's timescales in working days, one per step. Landlords may set shorter ones than
/// the Code's; never longer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timescales {
    pub stage1_acknowledgement: u32,
    pub stage1_response: u32,
    pub stage1_extension: u32,
    pub stage2_acknowledgement: u32,
    pub stage2_response: u32,
    pub stage2_extension: u32,
}

impl Default for Timescales {
    /// The Code's maximums.
    fn default() -> Self {
        Timescales {
            stage1_acknowledgement: Step::Stage1Acknowledgement.code_maximum(),
            stage1_response: Step::Stage1Response.code_maximum(),
            stage1_extension: Step::Stage1Extension.code_maximum(),
            stage2_acknowledgement: Step::Stage2Acknowledgement.code_maximum(),
            stage2_response: Step::Stage2Response.code_maximum(),
            stage2_extension: Step::Stage2Extension.code_maximum(),
        }
    }
}

/// A configured timescale the Code does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimescaleError {
    #[error(
        "timescales.{key} is {days} working days, longer than the Code allows: at most {max} working days from {anchor} (Complaint Handling Code {provision})",
        key = step.key(), max = step.code_maximum(), anchor = step.anchor(), provision = step.provision()
    )]
    LongerThanCode { step: Step, days: u32 },
    #[error(
        "timescales.{key} is 0 working days; a step needs at least one working day",
        key = step.key()
    )]
    Zero { step: Step },
}

impl Timescales {
    pub fn days(&self, step: Step) -> u32 {
        match step {
            Step::Stage1Acknowledgement => self.stage1_acknowledgement,
            Step::Stage1Response => self.stage1_response,
            Step::Stage1Extension => self.stage1_extension,
            Step::Stage2Acknowledgement => self.stage2_acknowledgement,
            Step::Stage2Response => self.stage2_response,
            Step::Stage2Extension => self.stage2_extension,
        }
    }

    /// Every timescale that breaks the Code, each named by its key and provision.
    pub fn check(&self) -> Result<(), Vec<TimescaleError>> {
        let errors: Vec<TimescaleError> = Step::ALL
            .into_iter()
            .filter_map(|step| {
                let days = self.days(step);
                if days > step.code_maximum() {
                    Some(TimescaleError::LongerThanCode { step, days })
                } else if days == 0 {
                    Some(TimescaleError::Zero { step })
                } else {
                    None
                }
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// An extension asked for beyond what the landlord's timescale (and so the Code) allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "an extension of {asked} working days is longer than the {allowed} allowed (Complaint Handling Code {provision})"
)]
pub struct ExtensionTooLong {
    pub asked: u32,
    pub allowed: u32,
    pub provision: &'static str,
}

/// Computes each Code deadline from its own anchor.
#[derive(Debug, Clone)]
pub struct Deadlines<'a> {
    pub calendar: &'a Calendar,
    pub timescales: &'a Timescales,
}

impl Deadlines<'_> {
    /// Stage 1 acknowledgement is due this many working days after receipt (6.2).
    pub fn stage1_acknowledgement_due(&self, received_at: DateTime<Utc>) -> NaiveDate {
        self.after(received_at, Step::Stage1Acknowledgement)
    }

    /// Stage 1 response is due counted from the acknowledgement (6.3).
    pub fn stage1_response_due(&self, acknowledged_at: DateTime<Utc>) -> NaiveDate {
        self.after(acknowledged_at, Step::Stage1Response)
    }

    /// Stage 2 acknowledgement is due counted from the escalation request (6.11).
    pub fn stage2_acknowledgement_due(&self, requested_at: DateTime<Utc>) -> NaiveDate {
        self.after(requested_at, Step::Stage2Acknowledgement)
    }

    /// Stage 2 response is due counted from the stage 2 acknowledgement (6.14).
    pub fn stage2_response_due(&self, acknowledged_at: DateTime<Utc>) -> NaiveDate {
        self.after(acknowledged_at, Step::Stage2Response)
    }

    /// A response date moved on by an extension of `days` working days, refused when longer than
    /// the timescale allows (6.4 at stage 1, 6.15 at stage 2).
    pub fn extended(
        &self,
        stage: u8,
        response_due: NaiveDate,
        days: u32,
    ) -> Result<NaiveDate, ExtensionTooLong> {
        let step = if stage >= 2 {
            Step::Stage2Extension
        } else {
            Step::Stage1Extension
        };
        let allowed = self.timescales.days(step);
        if days > allowed {
            return Err(ExtensionTooLong {
                asked: days,
                allowed,
                provision: step.provision(),
            });
        }
        Ok(self.calendar.add_working_days(response_due, days))
    }

    /// Every date for a complaint received at `received_at`, assuming it is acknowledged on the
    /// last allowed day, and for an escalation requested at the same moment.
    pub fn plan(&self, received_at: DateTime<Utc>) -> DeadlinePlan {
        let cal = self.calendar;
        let ts = self.timescales;
        let received = cal.local_date(received_at);
        let s1_ack = cal.add_working_days(received, ts.stage1_acknowledgement);
        let s1_resp = cal.add_working_days(s1_ack, ts.stage1_response);
        let s1_ext = cal.add_working_days(s1_resp, ts.stage1_extension);
        let s2_ack = cal.add_working_days(received, ts.stage2_acknowledgement);
        let s2_resp = cal.add_working_days(s2_ack, ts.stage2_response);
        let s2_ext = cal.add_working_days(s2_resp, ts.stage2_extension);
        DeadlinePlan {
            received_at,
            received_on: received,
            stage1: StageDates {
                acknowledge_by: s1_ack,
                respond_by: s1_resp,
                latest_extended_respond_by: s1_ext,
            },
            stage2: StageDates {
                acknowledge_by: s2_ack,
                respond_by: s2_resp,
                latest_extended_respond_by: s2_ext,
            },
        }
    }

    fn after(&self, at: DateTime<Utc>, step: Step) -> NaiveDate {
        self.calendar
            .add_working_days_at(at, self.timescales.days(step))
    }
}

/// The dates printed by `intake deadlines`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadlinePlan {
    pub received_at: DateTime<Utc>,
    /// The local calendar day of receipt.
    pub received_on: NaiveDate,
    pub stage1: StageDates,
    /// For an escalation requested at the same moment.
    pub stage2: StageDates,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageDates {
    pub acknowledge_by: NaiveDate,
    pub respond_by: NaiveDate,
    pub latest_extended_respond_by: NaiveDate,
}

/// Dates that are valid by construction (callers pass known-good values).
fn date(year: i32, month: u32, day: u32) -> NaiveDate {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("test date")
    }

    #[test]
    fn easter_matches_known_dates() {
        for (year, easter) in [
            (2020, "2020-04-12"),
            (2021, "2021-04-04"),
            (2022, "2022-04-17"),
            (2023, "2023-04-09"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2030, "2030-04-21"),
        ] {
            assert_eq!(easter_sunday(year), d(easter), "{year}");
        }
    }

    #[test]
    fn one_off_changes_are_in_place() {
        let dates = |y| holiday_dates(&bank_holidays(y));
        assert!(dates(2020).contains(&d("2020-05-08")));
        assert!(!dates(2020).contains(&d("2020-05-04")));
        assert!(dates(2022).contains(&d("2022-06-02")));
        assert!(dates(2022).contains(&d("2022-06-03")));
        assert!(!dates(2022).contains(&d("2022-05-30")));
        assert!(dates(2022).contains(&d("2022-09-19")));
        assert!(dates(2023).contains(&d("2023-05-08")));
        assert!(dates(2023).contains(&d("2023-05-01")));
    }

    #[test]
    fn substitute_days_follow_the_weekend() {
        let dates = |y| holiday_dates(&bank_holidays(y));
        // Christmas on Saturday: Mon 27 and Tue 28.
        assert!(dates(2021).contains(&d("2021-12-27")));
        assert!(dates(2021).contains(&d("2021-12-28")));
        // New Year's Day 2022 on a Saturday: Monday 3 January.
        assert!(dates(2022).contains(&d("2022-01-03")));
        // Christmas on Sunday: Boxing Day Monday, Christmas substitute Tuesday 27.
        assert!(dates(2022).contains(&d("2022-12-26")));
        assert!(dates(2022).contains(&d("2022-12-27")));
        // Boxing Day on Saturday: Monday 28.
        assert!(dates(2020).contains(&d("2020-12-28")));
        for y in 2000..2100 {
            assert_eq!(
                bank_holidays(y).len(),
                if y == 2022 {
                    10
                } else if y == 2023 {
                    9
                } else {
                    8
                }
            );
        }
    }

    #[test]
    fn friday_night_in_summer_time_counts_as_friday() {
        let cal = Calendar::england_and_wales();
        let at: DateTime<Utc> = "2024-06-07T22:30:00Z".parse().expect("instant");
        assert_eq!(cal.local_date(at), d("2024-06-07"));
        let at: DateTime<Utc> = "2024-06-07T23:30:00Z".parse().expect("instant");
        assert_eq!(cal.local_date(at), d("2024-06-08"));
        // In winter London is on UTC.
        let at: DateTime<Utc> = "2024-01-05T23:30:00Z".parse().expect("instant");
        assert_eq!(cal.local_date(at), d("2024-01-05"));
    }

    #[test]
    fn closure_days_are_not_working_days() {
        let cal = Calendar::new(chrono_tz::Europe::London, &[], &[d("2024-12-24")]);
        assert!(!cal.is_working_day(d("2024-12-24")));
        // Received Monday 23 Dec 2024: Tue 24 closed, 25/26 bank holidays, so Fri 27 is the first.
        assert_eq!(cal.add_working_days(d("2024-12-23"), 1), d("2024-12-27"));
        assert!(
            cal.holidays_in(2024)
                .iter()
                .any(|h| h.kind == HolidayKind::Closure)
        );
    }

    #[test]
    fn timescales_longer_than_the_code_are_refused_by_key_and_provision() {
        let ts = Timescales {
            stage1_response: 12,
            stage2_extension: 0,
            ..Timescales::default()
        };
        let errors = ts.check().expect_err("too long");
        assert_eq!(errors.len(), 2);
        let text = errors[0].to_string();
        assert!(text.contains("timescales.stage1_response"), "{text}");
        assert!(text.contains("6.3"), "{text}");
        assert!(Timescales::default().check().is_ok());
    }

    #[test]
    fn extensions_are_capped() {
        let cal = Calendar::england_and_wales();
        let ts = Timescales::default();
        let dl = Deadlines {
            calendar: &cal,
            timescales: &ts,
        };
        let err = dl.extended(1, d("2025-01-10"), 11).expect_err("cap");
        assert_eq!(err.provision, "6.4");
        assert_eq!(
            dl.extended(2, d("2025-01-10"), 20).expect("ok"),
            d("2025-02-07")
        );
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0i64..(365 * 30)).prop_map(|n| d("2015-01-01") + Duration::days(n))
    }

    proptest! {
        #[test]
        fn adding_then_counting_gives_back_n(from in any_date(), n in 0u32..60) {
            let cal = Calendar::england_and_wales();
            let to = cal.add_working_days(from, n);
            prop_assert_eq!(cal.working_days_between(from, to), i64::from(n));
        }

        #[test]
        fn a_deadline_is_never_a_weekend_or_holiday(from in any_date(), n in 1u32..60) {
            let cal = Calendar::new(chrono_tz::Europe::London, &[], &[d("2024-12-24"), d("2031-12-24")]);
            let to = cal.add_working_days(from, n);
            prop_assert!(cal.is_working_day(to));
            prop_assert!(!matches!(to.weekday(), Weekday::Sat | Weekday::Sun));
            prop_assert!(cal.holiday_on(to).is_none());
        }

        #[test]
        fn instants_on_the_same_local_day_share_deadlines(secs in 0i64..86_399, day in any_date()) {
            let cal = Calendar::england_and_wales();
            let ts = Timescales::default();
            let dl = Deadlines { calendar: &cal, timescales: &ts };
            let local = day.and_hms_opt(0, 0, 0).expect("midnight") + Duration::seconds(secs);
            let Some(at) = chrono::TimeZone::from_local_datetime(&chrono_tz::Europe::London, &local).earliest() else {
                return Ok(());
            };
            let at = at.with_timezone(&Utc);
            prop_assert_eq!(cal.local_date(at), day);
            prop_assert_eq!(dl.stage1_acknowledgement_due(at), cal.add_working_days(day, 5));
        }
    }
}
