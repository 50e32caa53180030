//! A seeded year of 1,200 complaints (`core::generated`) written into the record, and every
//! CH01 and CH02 figure and every total of the handling figures compared with values worked
//! out here from the plan, not by the report code: local days with chrono-tz, working days by
//! walking the calendar past the bank holidays of England and Wales listed by hand (gov.uk),
//! the Code's timescales as `tsm::rules` states them. For the financial year 2025/26, the
//! years either side (the complaints at 23:30 on 31 March and 00:30 on 1 April), and the
//! months of the clock changes, Christmas and the year's ends; on SQLite and PostgreSQL.
//! Then the conversations of complaints closed before December are erased by the retention
//! purge, and every figure is the same again.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Europe::London;
use intake::core::generated::{Plan, PlanOptions, PlannedComplaint, PlannedStage, plan};
use intake::core::ids::Stage;
use intake::core::outcome::Outcome;
use intake::core::profile::LandlordProfile;
use intake::core::report::{
    Figure, OneDecimal, Performance, Period, StagePerformance, TsmReport, Value,
};
use intake::service::{annual, handling};
use intake::staff::Role;
use intake::store::Store;
use sqlx::Row;

use crate::helpers::{on_both, staff_member};

const COMPLAINTS: usize = 1200;
const YEAR: i32 = 2025;

/// 2,500 homes: 2,000 at low-cost rent, 500 in shared ownership.
fn profile() -> LandlordProfile {
    LandlordProfile {
        homes: 2500,
        homes_low_cost_rental: Some(2000),
        homes_low_cost_home_ownership: Some(500),
        ..LandlordProfile::default()
    }
}

/// Bank holidays in England and Wales, 2024 to 2026, as gov.uk lists them.
const BANK_HOLIDAYS: &[(i32, u32, u32)] = &[
    (2024, 1, 1),
    (2024, 3, 29),
    (2024, 4, 1),
    (2024, 5, 6),
    (2024, 5, 27),
    (2024, 8, 26),
    (2024, 12, 25),
    (2024, 12, 26),
    (2025, 1, 1),
    (2025, 4, 18),
    (2025, 4, 21),
    (2025, 5, 5),
    (2025, 5, 26),
    (2025, 8, 25),
    (2025, 12, 25),
    (2025, 12, 26),
    (2026, 1, 1),
    (2026, 4, 3),
    (2026, 4, 6),
    (2026, 5, 4),
    (2026, 5, 25),
    (2026, 8, 31),
    (2026, 12, 25),
    (2026, 12, 28),
];

fn working(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
        && !BANK_HOLIDAYS.contains(&(day.year(), day.month(), day.day()))
}

/// The `n`th working day after `from`.
fn add(from: NaiveDate, n: u32) -> NaiveDate {
    let mut day = from;
    let mut left = n;
    while left > 0 {
        day += Duration::days(1);
        if working(day) {
            left -= 1;
        }
    }
    day
}

/// Working days after `from`, up to and including `to`.
fn between(from: NaiveDate, to: NaiveDate) -> i64 {
    let mut n = 0;
    let mut day = from;
    while day < to {
        day += Duration::days(1);
        if working(day) {
            n += 1;
        }
    }
    n
}

fn london(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&London).date_naive()
}

/// A ratio to one decimal place, halves up, worked out in integers.
fn tenths(numerator: usize, denominator: usize, scale: usize) -> Option<u64> {
    (denominator > 0)
        .then(|| ((numerator * scale * 10 * 2 + denominator) / (2 * denominator)) as u64)
}

fn check_figure(what: &str, figure: &Figure, refs: &[String], denominator: usize, scale: usize) {
    let mut refs = refs.to_vec();
    refs.sort();
    assert_eq!(figure.complaints, refs, "{what}: the complaints counted");
    assert_eq!(figure.numerator, refs.len() as u64, "{what}: numerator");
    assert_eq!(
        figure.denominator, denominator as u64,
        "{what}: denominator"
    );
    match tenths(refs.len(), denominator, scale) {
        Some(t) => assert_eq!(
            figure.value,
            Value::Measured(OneDecimal { tenths: t }),
            "{what}"
        ),
        None => assert!(matches!(figure.value, Value::NotMeasurable(_)), "{what}"),
    }
}

fn sorted(mut list: Vec<String>) -> Vec<String> {
    list.sort();
    list
}

/// A stage of a planned complaint as the figures read it: its facts and the day it began,
/// when it reached that stage.
fn stage_of(c: &PlannedComplaint, stage: Stage) -> Option<(&PlannedStage, NaiveDate)> {
    match stage {
        Stage::One => Some((&c.stage1, london(c.received_at))),
        Stage::Two => c
            .stage2
            .as_ref()
            .map(|e| (&e.stage, london(e.requested_at))),
    }
}

fn excluded_at(c: &PlannedComplaint, stage: Stage) -> bool {
    c.exclusion.is_some_and(|e| e.stage == stage)
}

/// The last day a response is within the Code's timescale (6.3, 6.14), and within the most
/// an extension may add (6.4, 6.15).
fn deadlines(planned: &PlannedStage, stage: Stage) -> (NaiveDate, NaiveDate) {
    let days = if stage == Stage::One { 10 } else { 20 };
    let due = add(planned.acknowledged_on, days);
    let latest = planned
        .extension
        .map_or(due, |e| e.to.min(add(due, days)).max(due));
    (due, latest)
}

/// What the handling figures of one stage should be.
#[derive(Default)]
struct StageExpected {
    received: Vec<String>,
    acknowledged_on_time: Vec<String>,
    responded: Vec<String>,
    on_time: Vec<String>,
    within_extension: Vec<String>,
    late: Vec<String>,
    extended: Vec<String>,
    days: BTreeMap<i64, u64>,
    upheld: Vec<String>,
    partly_upheld: Vec<String>,
    not_upheld: Vec<String>,
    not_recorded: Vec<String>,
    compensation: u64,
    compensated: Vec<String>,
    excluded: Vec<String>,
}

fn expect_stage(plan: &Plan, refs: &[String], period: &Period, stage: Stage) -> StageExpected {
    let mut e = StageExpected::default();
    for (c, r) in plan.complaints.iter().zip(refs) {
        let Some((planned, began_on)) = stage_of(c, stage) else {
            continue;
        };
        let out = excluded_at(c, stage) || excluded_at(c, Stage::One);
        if period.contains_day(began_on) {
            if excluded_at(c, stage) {
                e.excluded.push(r.clone());
            } else if !out {
                e.received.push(r.clone());
                if between(began_on, planned.acknowledged_on) <= 5 {
                    e.acknowledged_on_time.push(r.clone());
                }
            }
        }
        let Some(response) = planned.response else {
            continue;
        };
        let day = london(response.at);
        if out || !period.contains_day(day) {
            continue;
        }
        e.responded.push(r.clone());
        *e.days
            .entry(between(planned.acknowledged_on, day))
            .or_default() += 1;
        if planned.extension.is_some() {
            e.extended.push(r.clone());
        }
        let (due, latest) = deadlines(planned, stage);
        if day <= due {
            e.on_time.push(r.clone());
        } else if day <= latest {
            e.within_extension.push(r.clone());
        } else {
            e.late.push(r.clone());
        }
        match response.outcome {
            Some(Outcome::Upheld) => e.upheld.push(r.clone()),
            Some(Outcome::PartlyUpheld) => e.partly_upheld.push(r.clone()),
            Some(Outcome::NotUpheld) => e.not_upheld.push(r.clone()),
            None => e.not_recorded.push(r.clone()),
        }
        if response.outcome.is_some() && response.compensation.0 > 0 {
            e.compensation += response.compensation.0;
            e.compensated.push(r.clone());
        }
    }
    e
}

fn check_stage(what: &str, got: &StagePerformance, e: StageExpected) {
    let n = e.received.len();
    assert_eq!(got.received, sorted(e.received), "{what}: received");
    check_figure(
        &format!("{what}: acknowledged on time"),
        &got.acknowledged_on_time,
        &e.acknowledged_on_time,
        n,
        100,
    );
    assert!(
        got.not_acknowledged.is_empty(),
        "{what}: every complaint was acknowledged"
    );
    let responded = e.responded.len();
    assert_eq!(got.responded, sorted(e.responded), "{what}: responded");
    check_figure(
        &format!("{what}: on time"),
        &got.on_time,
        &e.on_time,
        responded,
        100,
    );
    assert_eq!(
        got.within_extension,
        sorted(e.within_extension),
        "{what}: within an extension"
    );
    assert_eq!(got.late, sorted(e.late), "{what}: late");
    assert_eq!(got.extended, sorted(e.extended), "{what}: extended");
    let days: BTreeMap<i64, u64> = got
        .working_days
        .iter()
        .map(|d| (d.working_days, d.responses))
        .collect();
    assert_eq!(days, e.days, "{what}: working days taken");
    assert_eq!(got.outcomes.upheld, sorted(e.upheld), "{what}: upheld");
    assert_eq!(
        got.outcomes.partly_upheld,
        sorted(e.partly_upheld),
        "{what}: partly upheld"
    );
    assert_eq!(
        got.outcomes.not_upheld,
        sorted(e.not_upheld),
        "{what}: not upheld"
    );
    assert_eq!(
        got.outcomes.not_recorded,
        sorted(e.not_recorded),
        "{what}: outcome not recorded"
    );
    assert_eq!(got.compensation.0, e.compensation, "{what}: compensation");
    assert_eq!(
        got.compensated,
        sorted(e.compensated),
        "{what}: compensated"
    );
    assert_eq!(got.excluded, sorted(e.excluded), "{what}: excluded");
}

/// Every handling figure for `period`, against the plan.
fn check_handling(plan: &Plan, refs: &[String], period: &Period, got: &Performance) {
    let what = &period.label;
    let stage1 = expect_stage(plan, refs, period, Stage::One);
    let stage2 = expect_stage(plan, refs, period, Stage::Two);
    let responded1 = stage1.responded.len();
    check_figure(
        &format!("{what}: escalation rate"),
        &got.escalation_rate,
        &stage2.received,
        responded1,
        100,
    );
    // Categories of the complaints received at stage 1: the confirmed one, else the
    // suggestion (counted as unconfirmed).
    let mut categories: BTreeMap<String, (Vec<String>, u64)> = profile()
        .categories
        .0
        .iter()
        .map(|c| (c.key.clone(), (Vec::new(), 0)))
        .collect();
    for (c, r) in plan.complaints.iter().zip(refs) {
        if !stage1.received.contains(r) {
            continue;
        }
        let (key, unconfirmed) = match (&c.category.confirmed, &c.category.suggested) {
            (Some((key, _)), _) => (key.clone(), 0),
            (None, Some(key)) => (key.clone(), 1),
            (None, None) => (String::new(), 0),
        };
        let entry = categories.entry(key).or_default();
        entry.0.push(r.clone());
        entry.1 += unconfirmed;
    }
    let got_categories: BTreeMap<String, (Vec<String>, u64)> = got
        .categories
        .iter()
        .map(|c| (c.key.clone(), (c.complaints.clone(), c.unconfirmed)))
        .collect();
    let categories: BTreeMap<String, (Vec<String>, u64)> = categories
        .into_iter()
        .filter(|(key, (list, _))| !key.is_empty() || !list.is_empty())
        .map(|(key, (list, n))| (key, (sorted(list), n)))
        .collect();
    assert_eq!(got_categories, categories, "{what}: categories");
    // Scores given for complaints received in the period.
    let mut by_score = [0u64; 5];
    let mut satisfied = Vec::new();
    for (c, r) in plan.complaints.iter().zip(refs) {
        if let Some((score, _)) = c.feedback.and_then(|f| f.score)
            && period.contains_day(london(c.received_at))
        {
            by_score[usize::from(score - 1)] += 1;
            if score >= 4 {
                satisfied.push(r.clone());
            }
        }
    }
    assert_eq!(got.feedback.by_score, by_score, "{what}: scores");
    let given = by_score.iter().sum::<u64>() as usize;
    check_figure(
        &format!("{what}: satisfied"),
        &got.feedback.satisfied,
        &satisfied,
        given,
        100,
    );
    // Month by month: complaints received and stage 2 requests, exclusions left out.
    let mut months: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut day = period.first_day;
    while day <= period.last_day {
        months.insert(format!("{:04}-{:02}", day.year(), day.month()), (0, 0));
        day += Duration::days(1);
    }
    for c in &plan.complaints {
        for stage in [Stage::One, Stage::Two] {
            let Some((_, began_on)) = stage_of(c, stage) else {
                continue;
            };
            if excluded_at(c, stage) || excluded_at(c, Stage::One) || !period.contains_day(began_on)
            {
                continue;
            }
            let month = months
                .get_mut(&format!("{:04}-{:02}", began_on.year(), began_on.month()))
                .expect("a month of the period");
            match stage {
                Stage::One => month.0 += 1,
                Stage::Two => month.1 += 1,
            }
        }
    }
    let got_months: BTreeMap<String, (u64, u64)> = got
        .months
        .iter()
        .map(|m| (m.month.clone(), (m.stage1, m.stage2)))
        .collect();
    assert_eq!(got_months, months, "{what}: months");
    check_stage(&format!("{what} stage 1"), &got.stage1, stage1);
    check_stage(&format!("{what} stage 2"), &got.stage2, stage2);
}

/// CH01 and CH02 for the financial year starting `year`, against the plan.
fn check_tsm(plan: &Plan, refs: &[String], year: i32, got: &TsmReport) {
    let period = Period::financial_year(year).expect("year");
    let homes = profile();
    for stage in [Stage::One, Stage::Two] {
        let what = format!("{} stage {stage}", period.label);
        let counted = |c: &PlannedComplaint| match stage {
            Stage::One => !excluded_at(c, Stage::One),
            Stage::Two => c.exclusion.is_none(),
        };
        let mut received = Vec::new();
        let mut on_time = Vec::new();
        let mut late = Vec::new();
        for (c, r) in plan.complaints.iter().zip(refs) {
            let Some((planned, began_on)) = stage_of(c, stage) else {
                continue;
            };
            if !counted(c) {
                continue;
            }
            if period.contains_day(began_on) {
                received.push(r.clone());
            }
            if let Some(response) = planned.response
                && period.contains_day(london(response.at))
            {
                if london(response.at) <= deadlines(planned, stage).1 {
                    on_time.push(r.clone());
                } else {
                    late.push(r.clone());
                }
            }
        }
        let (ch01, ch02) = match stage {
            Stage::One => (&got.ch01.stage1, &got.ch02.stage1),
            Stage::Two => (&got.ch01.stage2, &got.ch02.stage2),
        };
        check_figure(
            &format!("{what} CH01"),
            &ch01.all_homes,
            &received,
            homes.homes as usize,
            1000,
        );
        // The record holds no tenure: every complaint counts for all homes only.
        check_figure(
            &format!("{what} CH01 rental"),
            &ch01.low_cost_rental,
            &[],
            2000,
            1000,
        );
        check_figure(
            &format!("{what} CH01 ownership"),
            &ch01.low_cost_home_ownership,
            &[],
            500,
            1000,
        );
        assert_eq!(
            ch01.tenure_not_recorded,
            sorted(received.clone()),
            "{what}: tenure not recorded"
        );
        let responded = on_time.len() + late.len();
        check_figure(
            &format!("{what} CH02"),
            &ch02.on_time,
            &on_time,
            responded,
            100,
        );
        assert_eq!(ch02.late, sorted(late), "{what}: CH02 late");
    }
}

/// The periods checked: three financial years and the months where days are easy to get
/// wrong.
fn months() -> Vec<Period> {
    [(2025, 4), (2025, 10), (2025, 12), (2026, 1), (2026, 3)]
        .into_iter()
        .map(|(y, m)| Period::month(y, m).expect("month"))
        .collect()
}

async fn check_everything(store: &Store, plan: &Plan, refs: &[String]) {
    let profile = profile();
    for year in [YEAR - 1, YEAR, YEAR + 1] {
        let (performance, tsm) = annual(store, &profile, year).await.expect("annual report");
        check_tsm(plan, refs, year, &tsm);
        check_handling(plan, refs, &performance.period, &performance);
    }
    for month in months() {
        let performance = handling(store, &profile, &month)
            .await
            .expect("month report");
        check_handling(plan, refs, &month, &performance);
    }
}

/// The retention purge as the scheduler runs it, at `cutoff`: every conversation whose
/// complaints all closed before it.
async fn purge(store: &Store, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> usize {
    let cutoff = cutoff.timestamp_millis();
    let mut erased = 0;
    for conversation in store
        .erasable_conversations(cutoff)
        .await
        .expect("erasable")
    {
        let counts = store.case_counts(conversation).await.expect("counts");
        let mut record = store.begin().await.expect("begin");
        if record
            .erasable(conversation, cutoff)
            .await
            .expect("erasable")
            && record
                .once("erase", &conversation.to_string(), now)
                .await
                .expect("once")
        {
            record.erase_conversation(conversation, &counts, now);
            record.commit().await.expect("erase");
            erased += 1;
        }
    }
    erased
}

async fn count(store: &Store, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(store.pool_for_tests())
        .await
        .expect(sql)
        .try_get(0)
        .expect("count")
}

#[test]
fn every_figure_of_a_generated_year_matches_the_plan_before_and_after_erasure() {
    on_both(|store| async move {
        let profile = profile();
        let calendar = profile.calendar();
        let options = PlanOptions {
            seed: 2025,
            year: YEAR,
            complaints: COMPLAINTS,
        };
        let plan = plan(&options, &calendar, &profile.categories).expect("plan");
        let now = plan.as_of;
        let officer = staff_member(
            &store,
            "Officer",
            "officer@example.org",
            Role::ComplaintsOfficer,
            now,
        )
        .await;
        let refs = store
            .write_plan(&plan, &calendar, officer.id)
            .await
            .expect("write the plan");
        assert_eq!(refs.len(), COMPLAINTS);
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM cases").await,
            COMPLAINTS as i64
        );

        // The plan holds what the figures must cover, so a wrong rule cannot hide.
        let all = &plan.complaints;
        let some = |what: &str, n: usize| assert!(n >= 5, "only {n} complaints {what}");
        some(
            "escalated",
            all.iter().filter(|c| c.stage2.is_some()).count(),
        );
        some(
            "excluded at stage 1",
            all.iter().filter(|c| excluded_at(c, Stage::One)).count(),
        );
        some(
            "excluded at stage 2",
            all.iter().filter(|c| excluded_at(c, Stage::Two)).count(),
        );
        some(
            "answered within an extension",
            all.iter()
                .filter(|c| {
                    c.stage1.response.is_some_and(|r| {
                        let (due, latest) = deadlines(&c.stage1, Stage::One);
                        let d = london(r.at);
                        d > due && d <= latest
                    })
                })
                .count(),
        );
        some(
            "answered after the extended date",
            all.iter()
                .filter(|c| {
                    c.stage1.extension.is_some()
                        && c.stage1
                            .response
                            .is_some_and(|r| london(r.at) > deadlines(&c.stage1, Stage::One).1)
                })
                .count(),
        );
        some(
            "open at the year's end",
            all.iter().filter(|c| c.closed_at.is_none()).count(),
        );
        some(
            "received over Christmas and New Year",
            all.iter()
                .filter(|c| {
                    let d = london(c.received_at);
                    (d.month() == 12 && d.day() >= 24) || (d.month() == 1 && d.day() <= 2)
                })
                .count(),
        );
        // 00:30 BST on 1 April is the new year; 23:30 on 31 March the old.
        let first = "2025-03-31T23:30:00Z"
            .parse::<DateTime<Utc>>()
            .expect("moment");
        assert!(all.iter().any(|c| c.received_at == first));

        check_everything(&store, &plan, &refs).await;

        // Erase every conversation whose complaint closed before December: part of the year.
        let cutoff = "2025-12-01T00:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("cutoff");
        let erased = purge(&store, cutoff, now).await;
        let closed_before = all
            .iter()
            .filter(|c| c.closed_at.is_some_and(|at| at < cutoff))
            .count();
        assert_eq!(
            erased, closed_before,
            "each conversation with a complaint closed before the cutoff"
        );
        assert!(erased > 200 && erased < COMPLAINTS - 200, "{erased} erased");
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM cases WHERE erased_at IS NOT NULL"
            )
            .await,
            erased as i64
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM events e JOIN cases c ON c.reference = e.case_reference WHERE c.erased_at IS NOT NULL").await,
            0,
            "the erased conversations' events are gone"
        );
        // What is kept has no words: only dates and stages.
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM kept_events WHERE detail LIKE '%Generated%' OR detail LIKE '%reason%' OR detail LIKE '%definition%'").await,
            0
        );
        assert!(count(&store, "SELECT COUNT(*) FROM kept_events").await > erased as i64 * 2);
        check_everything(&store, &plan, &refs).await;

        // A purge that finds nothing more changes nothing.
        assert_eq!(purge(&store, cutoff, now).await, 0);
    });
}
