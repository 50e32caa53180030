//! Prometheus metrics (issue 15): what an operator watches, served on a listener of its own
//! (`metrics.listen`, loopback by default) so the figures never face the residents' network.
//!
//! Counters are per process, as Prometheus expects: with several replicas, sum them. Gauges
//! read from the record (the outbox backlog) are the record's, so take the max, not the sum.
//! Until [`install`] runs (tests in one process, the command-line tools) every call here is a
//! no-op: the `metrics` facade drops what no recorder takes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::config::SinkKind;
use crate::core::dialog::Effect;
use crate::core::policy::Assessment;
use crate::store::Store;

/// The longest a scrape waits for the record.
const SCRAPE_WAIT: Duration = Duration::from_secs(2);

/// Buckets for durations, in seconds: a web chat request takes milliseconds, a scheduler step
/// on a large record a few seconds.
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide recorder. Called once, by `intake serve`.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets(SECONDS)?
        .install_recorder()?;
    describe();
    start_at_zero();
    // Histograms keep their samples until upkeep folds them in: done here on a timer, not
    // only when Prometheus scrapes, so memory stays flat when nobody does.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// The series an alert rule watches with `increase()` are shown at 0 from the start: a series
/// that first appears at 1 has no increase, and its first event would alert nobody.
fn start_at_zero() {
    for kind in ["response", "request"] {
        counter!("intake_deadline_breaches_total", "kind" => kind).absolute(0);
    }
    counter!("intake_alert_escalations_total").absolute(0);
    for channel in ["web", "telegram", "discord"] {
        for name in [
            "intake_messages_received_total",
            "intake_replies_sent_total",
            "intake_replies_failed_total",
        ] {
            counter!(name, "channel" => channel).absolute(0);
        }
    }
    for sink in ["webhook", "email", "telegram", "discord"] {
        for result in ["sent", "failed"] {
            counter!("intake_alert_deliveries_total", "sink" => sink, "result" => result)
                .absolute(0);
        }
    }
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "intake_messages_received_total",
        "Resident messages committed to the record, by channel."
    );
    describe_counter!(
        "intake_assessments_total",
        "Messages assessed by the policy engine, by whether the resident was dissatisfied (Code 1.2) and by intent."
    );
    describe_counter!(
        "intake_assessment_risks_total",
        "Risks the policy engine found, by risk."
    );
    describe_counter!(
        "intake_complaints_opened_total",
        "Complaints opened (stage 1) and escalated (stage 2)."
    );
    describe_counter!(
        "intake_replies_sent_total",
        "Replies the platform accepted, by channel."
    );
    describe_counter!(
        "intake_replies_failed_total",
        "Reply attempts that failed and will be tried again, by channel."
    );
    describe_gauge!(
        "intake_outbox_backlog",
        "Replies not yet delivered, by channel (web: replies the resident has not yet seen)."
    );
    describe_gauge!(
        "intake_outbox_oldest_age_seconds",
        "Age of the oldest reply not yet delivered, by channel."
    );
    describe_counter!(
        "intake_alert_deliveries_total",
        "Alert deliveries to managers' sinks, by sink kind and result."
    );
    describe_counter!(
        "intake_alert_escalations_total",
        "Urgent alerts nobody acknowledged, moved up the escalation chain."
    );
    describe_histogram!(
        "intake_scheduler_step_duration_seconds",
        "How long each scheduler step took."
    );
    describe_histogram!(
        "intake_http_request_duration_seconds",
        "HTTP requests, by method, route and status."
    );
    describe_counter!(
        "intake_database_errors_total",
        "Operations that failed because the database did, by operation."
    );
    describe_counter!(
        "intake_deadline_breaches_total",
        "Deadlines passed without the response or answer (Code 5.8, 6.2, 6.14), by kind."
    );
    describe_gauge!(
        "intake_ready",
        "1 when the record takes a write (as /readyz), 0 when it does not."
    );
}

/// A resident's message, committed: its channel, what the engine made of it, and the
/// complaints it opened or escalated. Called after the commit, so a rolled-back message is
/// never counted.
pub fn message_recorded(channel: &str, assessment: Option<&Assessment>, effects: &[Effect]) {
    counter!("intake_messages_received_total", "channel" => channel.to_owned()).increment(1);
    if let Some(assessment) = assessment {
        counter!(
            "intake_assessments_total",
            "dissatisfied" => if assessment.dissatisfied { "true" } else { "false" },
            "intent" => assessment.intent.as_str(),
        )
        .increment(1);
        for risk in &assessment.risks {
            counter!("intake_assessment_risks_total", "risk" => risk.as_str()).increment(1);
        }
    }
    complaints_in(effects);
}

/// Complaints opened or escalated by these effects (the dialog's, or staff's).
pub fn complaints_in(effects: &[Effect]) {
    for effect in effects {
        match effect {
            Effect::OpenCase(_) => complaint_opened(1),
            Effect::Escalate { .. } => complaint_opened(2),
            _ => {}
        }
    }
}

/// A complaint opened at `stage`.
pub fn complaint_opened(stage: u8) {
    counter!("intake_complaints_opened_total", "stage" => stage.to_string()).increment(1);
}

/// A reply delivered, or an attempt that failed.
pub fn reply(channel: &str, sent: bool) {
    let name = if sent {
        "intake_replies_sent_total"
    } else {
        "intake_replies_failed_total"
    };
    counter!(name, "channel" => channel.to_owned()).increment(1);
}

/// An alert delivery to a sink of `kind`.
pub fn alert_delivery(kind: SinkKind, sent: bool) {
    let kind = match kind {
        SinkKind::Webhook => "webhook",
        SinkKind::Email => "email",
        SinkKind::Telegram => "telegram",
        SinkKind::Discord => "discord",
    };
    counter!(
        "intake_alert_deliveries_total",
        "sink" => kind,
        "result" => if sent { "sent" } else { "failed" },
    )
    .increment(1);
}

/// Urgent alerts escalated in one scheduler run.
pub fn escalations(count: usize) {
    counter!("intake_alert_escalations_total").increment(as_u64(count));
}

/// Deadlines found passed in one scheduler run: `response` for a complaint's stage
/// response, `request` for a tracked request's statutory date.
pub fn deadline_breaches(kind: &'static str, count: usize) {
    counter!("intake_deadline_breaches_total", "kind" => kind).increment(as_u64(count));
}

/// One scheduler step took `took`.
pub fn scheduler_step(step: &'static str, took: Duration) {
    histogram!("intake_scheduler_step_duration_seconds", "step" => step).record(took);
}

/// An operation failed because the database did.
pub fn database_error(operation: &'static str) {
    counter!("intake_database_errors_total", "operation" => operation).increment(1);
}

/// Whether the record takes a write, as `/readyz` last found.
pub fn ready(ready: bool) {
    gauge!("intake_ready").set(if ready { 1.0 } else { 0.0 });
}

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Times every request by method, route (the route's pattern, never the path, so a
/// reference or a token in a path cannot make a new series) and status.
pub async fn time_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Only the methods HTTP defines: any other word a client sends would make a new series.
    let method: &'static str = {
        use axum::http::Method;
        match *request.method() {
            Method::GET => "GET",
            Method::HEAD => "HEAD",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            Method::OPTIONS => "OPTIONS",
            _ => "other",
        }
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    histogram!(
        "intake_http_request_duration_seconds",
        "method" => method,
        "route" => route,
        "status" => response.status().as_u16().to_string(),
    )
    .record(started.elapsed());
    response
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    store: Store,
}

/// The metrics listener's router: `/metrics` in Prometheus's text format.
pub fn router(handle: PrometheusHandle, store: Store) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(Scrape { handle, store })
}

/// The outbox gauges and readiness are read from the record at each scrape, so they are
/// right however many replicas deliver.
async fn metrics(State(scrape): State<Scrape>) -> Response {
    // Bounded, so a database that hangs gives a scrape that says so, within Prometheus's own
    // scrape timeout, instead of no scrape at all.
    let waiting = tokio::time::timeout(SCRAPE_WAIT, scrape.store.outbox_waiting()).await;
    match waiting.unwrap_or_else(|_| Err(crate::store::StoreError::NotReady("timed out".into()))) {
        Ok(mut backlog) => {
            let now = Utc::now();
            // A channel with nothing waiting has no row: it is shown at 0, not at its last
            // value.
            for channel in ["web", "telegram", "discord"] {
                if !backlog.iter().any(|b| b.channel == channel) {
                    backlog.push(crate::store::Backlog {
                        channel: channel.to_owned(),
                        waiting: 0,
                        oldest: None,
                    });
                }
            }
            for channel in backlog {
                let age = channel.oldest.map_or(0.0, |at| {
                    (now - at).num_milliseconds().max(0) as f64 / 1000.0
                });
                gauge!("intake_outbox_backlog", "channel" => channel.channel.clone())
                    .set(channel.waiting as f64);
                gauge!("intake_outbox_oldest_age_seconds", "channel" => channel.channel).set(age);
            }
        }
        Err(e) => {
            database_error("metrics");
            tracing::warn!(error = %e, "metrics: cannot read the outbox backlog");
        }
    }
    // Readiness as `/readyz` proves it (a real write), so the gauge is current whether or
    // not anything probes `/readyz` (systemd and compose do not).
    let ready_now = tokio::time::timeout(SCRAPE_WAIT, scrape.store.ready(Utc::now())).await;
    match ready_now.unwrap_or_else(|_| Err(crate::store::StoreError::NotReady("timed out".into())))
    {
        Ok(()) => ready(true),
        Err(e) => {
            database_error("readiness");
            tracing::warn!(error = %e, "metrics: the record cannot take a write");
            ready(false);
        }
    }
    scrape.handle.run_upkeep();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scrape.handle.render(),
    )
        .into_response()
}

/// Serves `/metrics` on `address` until `shutdown`. A listener that cannot bind is logged, not
/// fatal: the residents' channels matter more than the figures about them.
pub async fn serve(
    address: SocketAddr,
    router: Router,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(%address, error = %e, "metrics: cannot listen; /metrics is not served");
            return;
        }
    };
    tracing::info!(%address, "metrics listening on /metrics");
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
    if let Err(e) = served {
        tracing::error!(error = %e, "metrics: the listener stopped");
    }
}
