//! `intake bench --report N`: N complaints over the financial year 2025/26, planned from a
//! fixed seed (`core::generated`) and written into a scratch SQLite file and a scratch
//! PostgreSQL schema; then the annual report (reading the record and computing CH01, CH02
//! and the handling figures) and a month's report are timed several times each. Issue 13's
//! target: the annual report over 100,000 complaints in under 2 s.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;

use crate::core::generated::{PlanOptions, plan};
use crate::core::profile::LandlordProfile;
use crate::core::report::Period;
use crate::service;
use crate::staff::Role;
use crate::store::{Backend, Store, StoreOptions};

/// The year planned: fixed, so every run times the same record.
const YEAR: i32 = 2025;
const SEED: u64 = 13;
/// Times each report is built; the median and the slowest are printed.
const RUNS: usize = 7;
const TARGET: Duration = Duration::from_secs(2);

pub(super) async fn run(
    complaints: usize,
    postgres_url: Option<&str>,
    profile: &LandlordProfile,
    dir: &Path,
) -> anyhow::Result<()> {
    let calendar = profile.calendar();
    let planned = plan(
        &PlanOptions {
            seed: SEED,
            year: YEAR,
            complaints,
        },
        &calendar,
        &profile.categories,
    )?;
    let url = format!("sqlite://{}/report.db", dir.display());
    let store = Store::connect(&url).await?;
    measure("SQLite", &store, &planned, profile).await?;
    if let Some(pg) = postgres_url {
        let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
        match Store::connect_with(StoreOptions {
            url: pg.to_owned(),
            schema: Some(schema.clone()),
            max_connections: 4,
        })
        .await
        {
            Ok(store) => {
                let measured = measure("PostgreSQL", &store, &planned, profile).await;
                let dropped = Store::drop_scratch_schema(pg, &schema).await;
                measured?;
                dropped.context("dropping the benchmark schema")?;
            }
            Err(e) => println!(
                "PostgreSQL: not measured, cannot connect to {}: {e}",
                crate::config::redact_url_password(pg)
            ),
        }
    }
    Ok(())
}

async fn measure(
    backend: &str,
    store: &Store,
    planned: &crate::core::generated::Plan,
    profile: &LandlordProfile,
) -> anyhow::Result<()> {
    let calendar = profile.calendar();
    let staff = crate::staff::add(
        store,
        "Bench Officer",
        "bench@example.org",
        Role::ComplaintsOfficer,
        "a long enough bench password",
        Utc::now(),
    )
    .await
    .context("a staff account to work the complaints")?;
    let start = Instant::now();
    store.write_plan(planned, &calendar, staff.id).await?;
    let written = start.elapsed();
    // A deployment's planner has statistics; SQLite's default deployment runs no ANALYZE.
    if store.backend() == Backend::Postgres {
        store.analyze().await?;
    }
    println!(
        "{backend}: {} complaints written in {:.1} s",
        planned.complaints.len(),
        written.as_secs_f64()
    );
    let mut year = Vec::with_capacity(RUNS);
    let mut received = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let (handling, _tsm) = service::annual(store, profile, YEAR).await?;
        year.push(start.elapsed());
        received = handling.stage1.received.len();
    }
    let october = Period::month(YEAR, 10)?;
    let mut month = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        service::handling(store, profile, &october).await?;
        month.push(start.elapsed());
    }
    let (year_median, year_worst) = median_and_worst(&mut year);
    let (month_median, month_worst) = median_and_worst(&mut month);
    println!(
        "{backend} annual report {YEAR}/{:02} ({received} stage 1 complaints counted), {RUNS} runs: median {:.2} s, slowest {:.2} s (target under {} s: {})",
        (YEAR + 1) % 100,
        year_median.as_secs_f64(),
        year_worst.as_secs_f64(),
        TARGET.as_secs(),
        if year_worst < TARGET {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "{backend} month report ({}), {RUNS} runs: median {:.3} s, slowest {:.3} s",
        october.label,
        month_median.as_secs_f64(),
        month_worst.as_secs_f64()
    );
    Ok(())
}

fn median_and_worst(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[times.len() - 1])
}
