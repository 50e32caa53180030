//! Whether the landlord's office is open at a moment, and when it next opens: the web chat
//! tells a resident writing out of hours that nobody will read their message until then, and
//! gives the out-of-hours repairs line at once (the Code's section 6 counts working days; an
//! emergency never waits for one).
//!
//! Open means a working day (Monday to Friday, not a bank holiday or closure day: see
//! [`Calendar::is_working_day`]) between the configured opening and closing times, read in the
//! landlord's time zone, so 09:00 is 09:00 in British Summer Time too.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::Calendar;

/// The office's hours on a working day (`alerts.working_hours_start` and `_end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficeHours {
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

impl Default for OfficeHours {
    /// The configuration's defaults: 09:00 to 17:00.
    fn default() -> OfficeHours {
        OfficeHours {
            opens: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
            closes: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or(NaiveTime::MIN),
        }
    }
}

impl OfficeHours {
    /// The hours from the configuration's `HH:MM` strings, or `None` if either is not a time
    /// or the office would close before it opens (start-up validation refuses both).
    pub fn parse(opens: &str, closes: &str) -> Option<OfficeHours> {
        let opens = NaiveTime::parse_from_str(opens, "%H:%M").ok()?;
        let closes = NaiveTime::parse_from_str(closes, "%H:%M").ok()?;
        (opens < closes).then_some(OfficeHours { opens, closes })
    }
}

/// The office at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Office {
    Open,
    /// Closed; opens again at this moment, in the landlord's time zone.
    Closed {
        opens: DateTime<Tz>,
    },
}

/// Whether the office is open at `now`, and if not, when it next opens.
pub fn office_at(calendar: &Calendar, hours: OfficeHours, now: DateTime<Utc>) -> Office {
    let tz = calendar.time_zone();
    let local = now.with_timezone(&tz);
    let today = local.date_naive();
    let working = calendar.is_working_day(today);
    if working && local.time() >= hours.opens && local.time() < hours.closes {
        return Office::Open;
    }
    let mut day = if working && local.time() < hours.opens {
        today
    } else {
        calendar.add_working_days(today, 1)
    };
    loop {
        // The opening time exists on every day but one a year at most (a clock change
        // inside the hours); the next working day has it then.
        if let Some(opens) = tz
            .from_local_datetime(&day.and_time(hours.opens))
            .earliest()
        {
            return Office::Closed { opens };
        }
        day = calendar.add_working_days(day, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("test instant")
    }

    fn opens(calendar: &Calendar, now: &str) -> Option<String> {
        match office_at(calendar, OfficeHours::default(), at(now)) {
            Office::Open => None,
            Office::Closed { opens } => Some(opens.format("%Y-%m-%d %H:%M %Z").to_string()),
        }
    }

    #[test]
    fn open_in_hours_on_a_working_day() {
        let calendar = Calendar::england_and_wales();
        // Wednesday 2 December 2026, 10:00 GMT.
        assert_eq!(opens(&calendar, "2026-12-02T10:00:00Z"), None);
        // The last minute before closing is open; closing time itself is not.
        assert_eq!(opens(&calendar, "2026-12-02T16:59:00Z"), None);
        assert_eq!(
            opens(&calendar, "2026-12-02T17:00:00Z").as_deref(),
            Some("2026-12-03 09:00 GMT")
        );
    }

    #[test]
    fn before_opening_it_opens_the_same_day() {
        let calendar = Calendar::england_and_wales();
        assert_eq!(
            opens(&calendar, "2026-12-02T08:59:00Z").as_deref(),
            Some("2026-12-02 09:00 GMT")
        );
    }

    #[test]
    fn after_closing_on_friday_it_opens_on_monday() {
        let calendar = Calendar::england_and_wales();
        // Friday 4 December 2026, 18:30, and the weekend after.
        for now in [
            "2026-12-04T18:30:00Z",
            "2026-12-05T12:00:00Z",
            "2026-12-06T23:59:00Z",
        ] {
            assert_eq!(
                opens(&calendar, now).as_deref(),
                Some("2026-12-07 09:00 GMT"),
                "{now}"
            );
        }
    }

    #[test]
    fn bank_holidays_are_skipped() {
        let calendar = Calendar::england_and_wales();
        // Christmas 2026 falls on a Friday and Boxing Day on a Saturday, so the substitute
        // bank holiday is Monday 28 December: Christmas Eve after hours opens on the 29th.
        assert_eq!(
            opens(&calendar, "2026-12-24T17:30:00Z").as_deref(),
            Some("2026-12-29 09:00 GMT")
        );
        assert!(opens(&calendar, "2026-12-28T11:00:00Z").is_some());
    }

    #[test]
    fn closure_days_are_skipped() {
        let closure = NaiveDate::from_ymd_opt(2026, 12, 3).expect("date");
        let calendar = Calendar::new(chrono_tz::Europe::London, &[], &[closure]);
        assert_eq!(
            opens(&calendar, "2026-12-03T11:00:00Z").as_deref(),
            Some("2026-12-04 09:00 GMT")
        );
        assert_eq!(
            opens(&calendar, "2026-12-02T17:00:00Z").as_deref(),
            Some("2026-12-04 09:00 GMT")
        );
    }

    #[test]
    fn hours_are_read_in_british_summer_time() {
        let calendar = Calendar::england_and_wales();
        // Wednesday 1 July 2026: 08:30 UTC is 09:30 BST, open; 16:30 UTC is 17:30 BST, closed.
        assert_eq!(opens(&calendar, "2026-07-01T08:30:00Z"), None);
        assert_eq!(
            opens(&calendar, "2026-07-01T16:30:00Z").as_deref(),
            Some("2026-07-02 09:00 BST")
        );
        // 07:30 UTC is 08:30 BST: not yet open.
        assert_eq!(
            opens(&calendar, "2026-07-01T07:30:00Z").as_deref(),
            Some("2026-07-01 09:00 BST")
        );
    }

    #[test]
    fn hours_come_from_the_configuration() {
        assert_eq!(
            OfficeHours::parse("08:30", "16:00"),
            Some(OfficeHours {
                opens: NaiveTime::from_hms_opt(8, 30, 0).expect("time"),
                closes: NaiveTime::from_hms_opt(16, 0, 0).expect("time"),
            })
        );
        assert_eq!(OfficeHours::parse("17:00", "09:00"), None);
        assert_eq!(OfficeHours::parse("nine", "17:00"), None);
        let calendar = Calendar::england_and_wales();
        let early = OfficeHours::parse("08:00", "16:00").expect("hours");
        assert_eq!(
            office_at(&calendar, early, at("2026-12-02T08:15:00Z")),
            Office::Open
        );
    }
}
