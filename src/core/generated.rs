//! A financial year of complaints planned from a seed, with every fate the reports must count
//! (issue 13): acknowledged on time or late (6.2, 6.11), answered within the Code's
//! timescale, within an extension or late (6.3, 6.4, 6.14, 6.15), still open at the year's
//! end, escalated to stage 2, excluded at stage 1 or 2 with a route (section 2, 2.4), with a
//! category, an outcome, compensation and a satisfaction score. Complaints are placed on
//! purpose where periods are easy to get wrong: the first and last minutes of the financial
//! year and of months, the clock changes on the last Sundays of March and October, Christmas
//! and New Year, and bank holidays.
//!
//! Pure and deterministic: the same options and calendar give the same plan, byte for byte
//! (a seeded `StdRng`, rand 0.9). The store writes a plan into the record
//! (`Store::write_plan`); tests work out the figures the plan should give on their own.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::calendar::Calendar;
use super::category::Categories;
use super::ids::Stage;
use super::outcome::{Outcome, Pence};
use super::policy::Route;
use super::report::{Period, PeriodError};

/// What to plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOptions {
    pub seed: u64,
    /// The financial year starting 1 April of this year.
    pub year: i32,
    pub complaints: usize,
}

/// A planned record: the complaints, in the order they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub period: Period,
    /// The moment the record stands at: noon on the day after the year ends. Nothing later
    /// than this has happened, so a response due after it is still awaited.
    pub as_of: DateTime<Utc>,
    pub complaints: Vec<PlannedComplaint>,
}

/// One complaint and everything that happened to it by `Plan::as_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedComplaint {
    pub channel: &'static str,
    pub received_at: DateTime<Utc>,
    /// A route other than complaints the engine suggested when it opened (2.5), whether or
    /// not staff have decided it yet.
    pub suggested_route: Option<Route>,
    pub stage1: PlannedStage,
    pub stage2: Option<PlannedEscalation>,
    /// Staff decided not to take it on (stage 1) or not to take the escalation on (stage 2).
    pub exclusion: Option<PlannedExclusion>,
    pub category: PlannedCategory,
    /// The resident's satisfaction with the handling, 1 to 5, once it closed.
    pub feedback: Option<PlannedFeedback>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// One stage's acknowledgement, extension and response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedStage {
    pub acknowledged_on: NaiveDate,
    /// The Code's response date from the acknowledgement (10 or 20 working days).
    pub due_on: NaiveDate,
    pub extension: Option<PlannedExtension>,
    pub response: Option<PlannedResponse>,
}

impl PlannedStage {
    /// The response date as the case row holds it: moved by the extension, if any.
    pub fn due_now(&self) -> NaiveDate {
        self.extension.map_or(self.due_on, |e| e.to)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedExtension {
    pub at: DateTime<Utc>,
    pub working_days: u32,
    pub to: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedResponse {
    pub at: DateTime<Utc>,
    /// None for a response recorded before outcomes were (the reports list them apart).
    pub outcome: Option<Outcome>,
    pub compensation: Pence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedEscalation {
    /// When the resident asked for stage 2 (6.11).
    pub requested_at: DateTime<Utc>,
    pub stage: PlannedStage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedExclusion {
    pub stage: Stage,
    pub at: DateTime<Utc>,
    pub route: Route,
}

/// The category the engine suggested and the one staff confirmed, as keys of the landlord's
/// list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCategory {
    pub suggested: Option<String>,
    pub confirmed: Option<(String, DateTime<Utc>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedFeedback {
    pub asked_at: DateTime<Utc>,
    /// The score and when it was given; None when the resident has not answered.
    pub score: Option<(u8, DateTime<Utc>)>,
}

/// The routes staff may exclude a complaint by (the Code's own and the landlord's).
const EXCLUSION_ROUTES: [Route; 6] = [
    Route::OutOfTime,
    Route::Legal,
    Route::AlreadyDecided,
    Route::Asb,
    Route::Insurance,
    Route::ServiceCharge,
];

const CHANNELS: [&str; 3] = ["web", "telegram", "discord"];

/// Plans `options.complaints` complaints over the financial year starting 1 April
/// `options.year`, the first of them at the awkward moments (`awkward_moments`), the rest
/// spread over the year.
pub fn plan(
    options: &PlanOptions,
    calendar: &Calendar,
    categories: &Categories,
) -> Result<Plan, PeriodError> {
    let period = Period::financial_year(options.year)?;
    let mut rng = StdRng::seed_from_u64(options.seed);
    let as_of = local(calendar, period.last_day + Duration::days(1), 12, 0);
    let keys: Vec<String> = categories.0.iter().map(|c| c.key.clone()).collect();
    let awkward = awkward_moments(calendar, &period);
    let days = (period.last_day - period.first_day).num_days() + 1;
    let mut complaints = Vec::with_capacity(options.complaints);
    for n in 0..options.complaints {
        let received_at = match awkward.get(n) {
            Some(at) => *at,
            None => {
                let day = period.first_day + Duration::days(rng.random_range(0..days));
                local(
                    calendar,
                    day,
                    rng.random_range(7..23),
                    rng.random_range(0..60),
                )
            }
        };
        complaints.push(complaint(&mut rng, calendar, &keys, received_at, as_of));
    }
    Ok(Plan {
        period,
        as_of,
        complaints,
    })
}

/// The moments periods are easy to get wrong at, in the landlord's time zone: either side
/// of the year's start and end and of some months' ends, through both clock changes (the
/// October hour that happens twice, the March hour that never happens), over Christmas and
/// New Year, and on and before every bank holiday in the year.
pub fn awkward_moments(calendar: &Calendar, period: &Period) -> Vec<DateTime<Utc>> {
    let tz = calendar.time_zone();
    let first = period.first_day;
    let last = period.last_day;
    let day = |d: NaiveDate, h: u32, m: u32| local(calendar, d, h, m);
    let mut moments = vec![
        // 00:30 on 1 April in British Summer Time is 23:30 UTC on 31 March: the new year.
        day(first, 0, 30),
        day(first - Duration::days(1), 23, 30),
        day(last, 23, 30),
        day(last + Duration::days(1), 0, 30),
    ];
    let october = last_sunday(first.year(), 10);
    let march = last_sunday(last.year(), 3);
    let at = |d: NaiveDate, h: u32, m: u32, later: bool| {
        let naive = d.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN));
        let found = tz.from_local_datetime(&naive);
        let chosen = if later {
            found.latest()
        } else {
            found.earliest()
        };
        chosen.map(|t| t.with_timezone(&Utc))
    };
    // 01:30 on the last Sunday of October happens twice, in summer time and then in GMT.
    for moment in [
        at(october - Duration::days(1), 23, 30, false),
        at(october, 0, 30, false),
        at(october, 1, 30, false),
        at(october, 1, 30, true),
        at(october, 2, 30, false),
        at(october, 23, 30, false),
        // 01:00 to 02:00 on the last Sunday of March never happens: 00:59 is followed by
        // 02:00 summer time.
        at(march - Duration::days(1), 23, 30, false),
        at(march, 0, 30, false),
        at(march, 0, 59, false),
        at(march, 2, 0, false),
        at(march, 3, 30, false),
        at(march, 23, 30, false),
    ]
    .into_iter()
    .flatten()
    {
        moments.push(moment);
    }
    for (month, last_of) in [(9, 30), (10, 31), (2, 28)] {
        let year = if month >= 4 {
            first.year()
        } else {
            last.year()
        };
        if let Some(end) = NaiveDate::from_ymd_opt(year, month, last_of) {
            moments.push(day(end, 23, 30));
            moments.push(day(end + Duration::days(1), 0, 30));
        }
    }
    let christmas_year = first.year();
    for (month, d, h, m) in [
        (12, 23, 16, 0),
        (12, 24, 23, 30),
        (12, 25, 10, 0),
        (12, 26, 11, 0),
        (12, 27, 9, 0),
        (12, 29, 9, 0),
        (12, 31, 23, 30),
    ] {
        if let Some(date) = NaiveDate::from_ymd_opt(christmas_year, month, d) {
            moments.push(day(date, h, m));
        }
    }
    for (d, h, m) in [(1, 0, 30), (2, 9, 0)] {
        if let Some(date) = NaiveDate::from_ymd_opt(christmas_year + 1, 1, d) {
            moments.push(day(date, h, m));
        }
    }
    let mut date = first;
    while date <= last {
        if calendar.holiday_on(date).is_some() {
            moments.push(day(date - Duration::days(1), 16, 30));
            moments.push(day(date, 10, 0));
        }
        date += Duration::days(1);
    }
    moments
}

/// The last Sunday of `month` in `year`: the clocks change on it in March and October.
pub fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .unwrap_or(NaiveDate::MIN);
    let mut day = next - Duration::days(1);
    while day.weekday() != Weekday::Sun {
        day -= Duration::days(1);
    }
    day
}

/// `h:m` local time on `day`, as a moment; a time the clocks skip is read an hour later, and
/// a time that happens twice as its first occurrence.
fn local(calendar: &Calendar, day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    let tz = calendar.time_zone();
    let naive = day.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN));
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc))
}

/// A moment in the working day on `day`, or, one time in ten, at 23:30 local: still that
/// local day, though the next day in UTC in winter and the same in summer time.
fn during(rng: &mut StdRng, calendar: &Calendar, day: NaiveDate) -> DateTime<Utc> {
    if rng.random_bool(0.1) {
        local(calendar, day, 23, 30)
    } else {
        local(
            calendar,
            day,
            rng.random_range(9..17),
            rng.random_range(0..60),
        )
    }
}

fn complaint(
    rng: &mut StdRng,
    calendar: &Calendar,
    keys: &[String],
    received_at: DateTime<Utc>,
    as_of: DateTime<Utc>,
) -> PlannedComplaint {
    let received_on = calendar.local_date(received_at);
    let channel = CHANNELS[rng.random_range(0..CHANNELS.len())];
    let stage1_acknowledged = acknowledge(rng, calendar, received_on);
    let excluded_at_stage1 = rng.random_bool(0.06);
    let suggested_route = if excluded_at_stage1 {
        Some(EXCLUSION_ROUTES[rng.random_range(0..EXCLUSION_ROUTES.len())])
    } else {
        None
    };
    let mut exclusion = None;
    let stage1 = if let Some(route) = suggested_route {
        let on = calendar.add_working_days(received_on, rng.random_range(1..=5));
        let at = during(rng, calendar, on).max(received_at);
        if at <= as_of {
            exclusion = Some(PlannedExclusion {
                stage: Stage::One,
                at,
                route,
            });
        }
        PlannedStage {
            acknowledged_on: stage1_acknowledged,
            due_on: calendar.add_working_days(stage1_acknowledged, 10),
            extension: None,
            response: None,
        }
    } else {
        handle(rng, calendar, stage1_acknowledged, 10, received_at, as_of)
    };
    let mut stage2 = None;
    if let Some(response) = stage1.response
        && rng.random_bool(0.2)
    {
        let requested_at = response.at
            + Duration::days(rng.random_range(1..=40))
            + Duration::minutes(rng.random_range(0..600));
        if requested_at <= as_of {
            let requested_on = calendar.local_date(requested_at);
            let acknowledged = acknowledge(rng, calendar, requested_on);
            let stage = if rng.random_bool(0.1) {
                let on = calendar.add_working_days(requested_on, rng.random_range(1..=5));
                let at = during(rng, calendar, on).max(requested_at);
                if at <= as_of {
                    exclusion = Some(PlannedExclusion {
                        stage: Stage::Two,
                        at,
                        route: EXCLUSION_ROUTES[rng.random_range(0..EXCLUSION_ROUTES.len())],
                    });
                }
                PlannedStage {
                    acknowledged_on: acknowledged,
                    due_on: calendar.add_working_days(acknowledged, 20),
                    extension: None,
                    response: None,
                }
            } else {
                handle(rng, calendar, acknowledged, 20, requested_at, as_of)
            };
            stage2 = Some(PlannedEscalation {
                requested_at,
                stage,
            });
        }
    }
    let final_word = match (&stage2, &exclusion) {
        (_, Some(e)) => Some(e.at),
        (Some(escalation), None) => escalation.stage.response.map(|r| r.at),
        (None, None) => stage1.response.map(|r| r.at),
    };
    let closed_at = final_word
        .map(|at| at + Duration::days(rng.random_range(0..=14)) + Duration::minutes(5))
        .filter(|at| *at <= as_of);
    let feedback = closed_at.map(|asked_at| PlannedFeedback {
        asked_at,
        score: rng
            .random_bool(0.45)
            .then(|| (rng.random_range(1..=5), asked_at + Duration::hours(1)))
            .filter(|(_, at)| *at <= as_of),
    });
    PlannedComplaint {
        channel,
        received_at,
        suggested_route,
        stage1,
        stage2,
        exclusion,
        category: category(rng, keys, received_at, as_of),
        feedback,
        closed_at,
    }
}

/// The acknowledgement: nine times in ten within 5 working days of the day the stage began
/// (6.2, 6.11), otherwise 6 to 9.
fn acknowledge(rng: &mut StdRng, calendar: &Calendar, began_on: NaiveDate) -> NaiveDate {
    let days = if rng.random_bool(0.9) {
        rng.random_range(0..=5)
    } else {
        rng.random_range(6..=9)
    };
    calendar.add_working_days(began_on, days)
}

/// A stage from its acknowledgement, with `response_days` the Code's timescale (10 at stage
/// 1, 20 at stage 2; the extension allowed is as long again): answered in time, late,
/// within an extension, after the extended date, or not at all; whatever would happen after
/// `as_of` has not happened.
fn handle(
    rng: &mut StdRng,
    calendar: &Calendar,
    acknowledged_on: NaiveDate,
    response_days: u32,
    began_at: DateTime<Utc>,
    as_of: DateTime<Utc>,
) -> PlannedStage {
    let due_on = calendar.add_working_days(acknowledged_on, response_days);
    let after = |days: u32| calendar.add_working_days(acknowledged_on, days);
    let fate = rng.random_range(0..100);
    let extend = |rng: &mut StdRng| {
        let on = after(rng.random_range(1..response_days));
        let working_days = rng.random_range(1..=response_days);
        PlannedExtension {
            at: during(rng, calendar, on).max(began_at),
            working_days,
            to: calendar.add_working_days(due_on, working_days),
        }
    };
    let (extension, responded_on) = match fate {
        0..60 => (None, Some(after(rng.random_range(1..=response_days)))),
        60..72 => (
            None,
            Some(after(response_days + rng.random_range(1..=response_days))),
        ),
        72..84 => {
            let extension = extend(rng);
            let extended_by = response_days + extension.working_days;
            let day = after(rng.random_range(response_days / 2..=extended_by));
            (Some(extension), Some(day))
        }
        84..91 => {
            let extension = extend(rng);
            let day = calendar.add_working_days(extension.to, rng.random_range(1..=8));
            (Some(extension), Some(day))
        }
        _ => (None, None),
    };
    let extension = extension.filter(|e| e.at <= as_of);
    let floor = extension.map_or(began_at, |e| e.at.max(began_at));
    let response = responded_on
        .map(|day| during(rng, calendar, day).max(floor + Duration::minutes(1)))
        .filter(|at| *at <= as_of)
        .map(|at| PlannedResponse {
            at,
            outcome: rng
                .random_bool(0.97)
                .then(|| Outcome::ALL[rng.random_range(0..3)]),
            compensation: Pence(if rng.random_bool(0.45) {
                rng.random_range(10..=600) * 100 + 50 * rng.random_range(0..2)
            } else {
                0
            }),
        });
    PlannedStage {
        acknowledged_on,
        due_on,
        extension,
        response,
    }
}

/// The engine's suggestion (most complaints have one) and the category staff confirmed
/// (mostly the same one), a day or so after the complaint came in.
fn category(
    rng: &mut StdRng,
    keys: &[String],
    received_at: DateTime<Utc>,
    as_of: DateTime<Utc>,
) -> PlannedCategory {
    let pick = |rng: &mut StdRng| keys[rng.random_range(0..keys.len())].clone();
    let suggested = (!keys.is_empty() && rng.random_bool(0.92)).then(|| pick(rng));
    let confirmed = (!keys.is_empty() && rng.random_bool(0.7))
        .then(|| {
            let key = match &suggested {
                Some(key) if rng.random_bool(0.8) => key.clone(),
                _ => pick(rng),
            };
            (key, received_at + Duration::hours(rng.random_range(1..72)))
        })
        .filter(|(_, at)| *at <= as_of);
    PlannedCategory {
        suggested,
        confirmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(seed: u64) -> PlanOptions {
        PlanOptions {
            seed,
            year: 2025,
            complaints: 1200,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_plan_and_another_seed_another() {
        let calendar = Calendar::england_and_wales();
        let categories = Categories::default();
        let a = plan(&options(7), &calendar, &categories).expect("plan");
        let b = plan(&options(7), &calendar, &categories).expect("plan");
        let c = plan(&options(8), &calendar, &categories).expect("plan");
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_ne!(a, c);
    }

    #[test]
    fn the_year_boundaries_and_clock_changes_are_where_they_should_be() {
        let calendar = Calendar::england_and_wales();
        let period = Period::financial_year(2025).expect("year");
        let moments = awkward_moments(&calendar, &period);
        let utc = |s: &str| s.parse::<DateTime<Utc>>().expect("moment");
        // 00:30 BST on 1 April 2025 and 23:30 BST on 31 March 2025.
        assert_eq!(moments[0], utc("2025-03-31T23:30:00Z"));
        assert_eq!(moments[1], utc("2025-03-31T22:30:00Z"));
        // 01:30 on 26 October 2025, first in BST, then in GMT.
        assert!(moments.contains(&utc("2025-10-26T00:30:00Z")));
        assert!(moments.contains(&utc("2025-10-26T01:30:00Z")));
        // 02:00 on 29 March 2026 is BST (01:00 UTC); 00:59 is GMT.
        assert!(moments.contains(&utc("2026-03-29T01:00:00Z")));
        assert!(moments.contains(&utc("2026-03-29T00:59:00Z")));
        assert_eq!(
            last_sunday(2025, 10),
            NaiveDate::from_ymd_opt(2025, 10, 26).expect("a day")
        );
        assert_eq!(
            last_sunday(2026, 3),
            NaiveDate::from_ymd_opt(2026, 3, 29).expect("a day")
        );
    }

    #[test]
    fn every_fate_is_planned() {
        let calendar = Calendar::england_and_wales();
        let plan = plan(&options(1), &calendar, &Categories::default()).expect("plan");
        let all = &plan.complaints;
        assert!(all.iter().any(|c| c.stage2.is_some()));
        assert!(
            all.iter()
                .any(|c| c.exclusion.map(|e| e.stage) == Some(Stage::One))
        );
        assert!(
            all.iter()
                .any(|c| c.exclusion.map(|e| e.stage) == Some(Stage::Two))
        );
        assert!(all.iter().any(|c| c.stage1.extension.is_some()));
        assert!(
            all.iter()
                .any(|c| c.suggested_route.is_none() && c.stage1.response.is_none())
        );
        assert!(
            all.iter()
                .any(|c| c.stage1.response.is_some_and(|r| r.outcome.is_none()))
        );
        assert!(
            all.iter()
                .any(|c| c.feedback.is_some_and(|f| f.score.is_some()))
        );
        for c in all {
            // Nothing happens before the complaint, or after the moment the record stands at.
            for at in [c.stage1.response.map(|r| r.at), c.closed_at]
                .into_iter()
                .flatten()
            {
                assert!(c.received_at < at && at <= plan.as_of);
            }
        }
    }
}
