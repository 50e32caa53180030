//! `intake bench`: simulated residents hold whole conversations through the full pipeline
//! (assess, dialog step, store, outbox) with no network, on SQLite and PostgreSQL (with
//! `--report`, instead, the annual report over a generated year: `bench/report.rs`). The
//! figures are compared with bare single-row durable inserts measured in the same run, on the
//! same SQLite settings (WAL, synchronous FULL), which bound any design that commits once per
//! message.

use std::time::{Duration, Instant};

mod connections;
mod report;

use anyhow::Context as _;
use chrono::Utc;

use crate::core::dialog::{Dialogs, Input};
use crate::core::policy::Policy;
use crate::core::profile::LandlordProfile;
use crate::service::{Intake, Writer};
use crate::store::{Inbound, Store, StoreOptions};

/// What one resident says, from first message to acknowledgement, then a question.
pub(crate) const CONVERSATION: &[&str] = &[
    "third time the repairs team has missed my boiler appointment, still no hot water",
    "1",
    "yes",
    "Sam Jones, 4 Rowan Close",
    "for myself",
    "a working boiler and an apology",
    "since Monday",
    "no",
    "1",
    "yes",
    "what is happening with my complaint?",
];

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub residents: usize,
    pub bare_inserts: usize,
    pub postgres_url: Option<String>,
    /// Measure the memory of `intake serve` with this many idle connections and open chat
    /// pages, instead of the pipeline.
    pub connections: Option<usize>,
    /// Time the annual report over this many generated complaints, instead of the pipeline.
    pub report: Option<usize>,
}

/// The web chat's session cookie (`name=value`) that opening the page set.
pub(crate) fn chat_cookie(page: &reqwest::Response) -> Option<String> {
    page.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("intake_chat="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// One backend's figures.
#[derive(Debug, Clone)]
pub struct PipelineFigures {
    pub backend: &'static str,
    pub messages: usize,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// Runs the benchmark and prints its report.
pub async fn run(
    options: &BenchOptions,
    policy: &Policy,
    dialogs: &Dialogs,
    profile: &LandlordProfile,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("intake-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).context("a scratch folder")?;
    let outcome = match (options.connections, options.report) {
        (Some(n), _) => connections::run(n, &dir).await,
        (None, Some(complaints)) => {
            report::run(complaints, options.postgres_url.as_deref(), profile, &dir).await
        }
        (None, None) => measure(options, policy, dialogs, profile, &dir).await,
    };
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn measure(
    options: &BenchOptions,
    policy: &Policy,
    dialogs: &Dialogs,
    profile: &LandlordProfile,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let bare = bare_inserts(dir, options.bare_inserts).await?;
    println!(
        "SQLite bare single-row durable inserts (WAL, synchronous FULL): {:.0} a second ({} rows)",
        bare, options.bare_inserts
    );

    let url = format!("sqlite://{}/pipeline.db", dir.display());
    let store = Store::connect(&url).await?;
    let (sqlite, intake) =
        pipeline("SQLite", store, options.residents, policy, dialogs, profile).await?;
    report(&sqlite);
    scheduler_step("SQLite", &intake).await?;
    due_outbox("SQLite", intake.store()).await?;
    let ratio = sqlite.per_second / bare;
    println!(
        "SQLite pipeline / bare inserts: {:.2} (target at least 0.50: {})",
        ratio,
        if ratio >= 0.5 { "met" } else { "NOT met" }
    );

    if let Some(pg) = &options.postgres_url {
        let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
        let store = Store::connect_with(StoreOptions {
            url: pg.clone(),
            schema: Some(schema.clone()),
            max_connections: 8,
        })
        .await;
        match store {
            Ok(store) => {
                let measured = async {
                    let (figures, intake) = pipeline(
                        "PostgreSQL",
                        store,
                        options.residents,
                        policy,
                        dialogs,
                        profile,
                    )
                    .await?;
                    report(&figures);
                    scheduler_step("PostgreSQL", &intake).await?;
                    due_outbox("PostgreSQL", intake.store()).await
                }
                .await;
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

fn report(f: &PipelineFigures) {
    println!(
        "{} full pipeline: {:.0} messages a second over {} messages; latency p50 {:.2} ms, p99 {:.2} ms",
        f.backend,
        f.per_second,
        f.messages,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3
    );
}

/// Rows inserted one per transaction, as fast as the disk allows (the store's baseline).
async fn bare_inserts(dir: &std::path::Path, rows: usize) -> anyhow::Result<f64> {
    let url = format!("sqlite://{}/bare.db", dir.display());
    let store = Store::connect(&url).await?;
    store.create_bare_rows().await?;
    let start = Instant::now();
    for i in 0..rows {
        store.insert_bare_row(&format!("message {i}")).await?;
    }
    Ok(rows as f64 / start.elapsed().as_secs_f64())
}

/// `residents` conversations at once, each message through `Intake::handle`.
async fn pipeline(
    backend: &'static str,
    store: Store,
    residents: usize,
    policy: &Policy,
    dialogs: &Dialogs,
    profile: &LandlordProfile,
) -> anyhow::Result<(PipelineFigures, Intake)> {
    let intake = Intake::new(
        store,
        policy.clone(),
        dialogs.clone(),
        profile.clone(),
        chrono::Duration::hours(12),
    );
    // Messages arriving together share a commit (group commit), as the channels use it.
    let writer = Writer::start(intake.clone(), 64);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(residents);
    for resident in 0..residents {
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(CONVERSATION.len());
            for (n, line) in CONVERSATION.iter().enumerate() {
                let inbound = Inbound {
                    channel: "bench".to_owned(),
                    chat: format!("resident-{resident}"),
                    platform_message_id: Some(format!("{resident}-{n}")),
                    body: (*line).to_owned(),
                    attachments: Vec::new(),
                    at: Utc::now(),
                };
                let begun = Instant::now();
                let handled = writer
                    .handle(inbound, Input::Text((*line).to_owned()))
                    .await?;
                latencies.push(begun.elapsed());
                anyhow::ensure!(!handled.replies.is_empty(), "no reply to {line:?}");
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.context("a simulated resident")??);
    }
    let elapsed = start.elapsed();
    // Every conversation ended with an acknowledged complaint.
    let cases = intake.store().count_cases().await?;
    anyhow::ensure!(
        cases == residents as i64,
        "{backend}: {cases} complaints for {residents} residents"
    );
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    let figures = PipelineFigures {
        backend,
        messages: latencies.len(),
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    };
    Ok((figures, intake))
}

/// The outbox query each sender runs, with 100,000 replies pending (one chat in a hundred
/// held back behind a reply waiting to be retried) and 200,000 sent: as soon as the rows are
/// written (statistics stale, as under load) and again after ANALYZE. The query it replaced,
/// one anti-join, is timed beside it.
async fn due_outbox(backend: &str, store: &Store) -> anyhow::Result<()> {
    const PENDING: i64 = 100_000;
    const SENT: i64 = 200_000;
    let now = Utc::now();
    let mut record = store.begin().await?;
    let conversation = record.conversation_on("bench-outbox", "one", now).await?;
    record.commit().await?;
    store
        .outbox_backlog(conversation.id, "bench-outbox", PENDING, SENT, now)
        .await?;
    for when in ["as written", "after ANALYZE"] {
        if when == "after ANALYZE" {
            store.analyze().await?;
        }
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..15 {
            let start = Instant::now();
            found = store.due_outbox_on("bench-outbox", now, 100).await?.len();
            times.push(start.elapsed());
        }
        times.sort();
        // Once: on SQLite it takes most of a minute.
        let start = Instant::now();
        store
            .due_outbox_by_anti_join("bench-outbox", now, 100)
            .await?;
        let replaced = start.elapsed();
        println!(
            "{backend} due-outbox query, {PENDING} pending and {SENT} sent, {when}: median {:.1} ms, slowest {:.1} ms ({found} due found); the anti-join it replaced: {:.1} ms",
            times[7].as_secs_f64() * 1e3,
            times[14].as_secs_f64() * 1e3,
            replaced.as_secs_f64() * 1e3,
        );
    }
    Ok(())
}

/// One scheduler step over the record the pipeline left (a conversation and a complaint per
/// resident): a quiet run, the next-due query, and a run a month on, when every response is
/// late and each resident is told (5.9).
async fn scheduler_step(backend: &str, intake: &Intake) -> anyhow::Result<()> {
    let scheduler = crate::scheduler::Scheduler::new(
        intake.clone(),
        crate::config::AlertsConfig::default(),
        chrono::Duration::hours(48),
        None,
        None,
    );
    let now = Utc::now();
    let start = Instant::now();
    scheduler.run_once(now).await?;
    let quiet = start.elapsed();
    let start = Instant::now();
    scheduler.next_due(now).await?;
    let next = start.elapsed();
    let start = Instant::now();
    let busy = scheduler.run_once(now + chrono::Duration::days(30)).await?;
    let late = start.elapsed();
    println!(
        "{backend} scheduler over {} complaints: a quiet run {:.1} ms, next-due {:.2} ms, a run raising {} breach alerts and {} late-response updates {:.0} ms",
        busy.deadline_breaches,
        quiet.as_secs_f64() * 1e3,
        next.as_secs_f64() * 1e3,
        busy.deadline_breaches,
        busy.late_updates,
        late.as_secs_f64() * 1e3
    );
    Ok(())
}
