use chrono::Duration;

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
