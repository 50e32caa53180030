//! `intake serve`: the bot. The web chat (always), Telegram and Discord (when their tokens are
//! set), a sender per channel delivering the outbox, the half-finished sweep, and a health
//! check, all on one record.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum_extra::extract::cookie::Key;
use chrono::Utc;
use sha2::Digest as _;
use tokio_util::sync::CancellationToken;

use crate::channels::telegram::Telegram;
use crate::channels::web::WebChat;
use crate::channels::{ChannelStates, Wakers, deliver_outbox, discord, telegram, web};
use crate::config::{Config, Secret, TelegramMode};
use crate::core::calendar::OfficeHours;
use crate::core::policy::Policy;
use crate::scheduler::{Run, Scheduler};
use crate::service::{Intake, Writer};
use crate::store::Store;

mod http;
#[cfg(target_os = "linux")]
mod systemd;

/// The shortest time between two full scheduler runs.
const FULL_RUN_GAP: chrono::Duration = chrono::Duration::seconds(15);

/// Messages arriving together share one commit (group commit), up to this many.
const GROUP_COMMIT: usize = 64;

/// After SIGTERM, how long requests in flight have to finish, and then the writer to commit
/// what it has taken: together well inside the 10 s an orchestrator waits before SIGKILL.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
const WRITER_GRACE: Duration = Duration::from_secs(3);

/// Runs the bot until Ctrl-C or SIGTERM.
pub async fn serve(config: Config, policy: Policy) -> anyhow::Result<()> {
    // The landlord's own standard messages are checked before anything starts.
    let standard =
        crate::console::load_standard_messages(config.console.standard_messages.as_deref())
            .map_err(anyhow::Error::msg)?;
    // Installed first, so nothing that happens is missed.
    let metrics = match config.metrics_listen()? {
        Some(address) => Some((address, crate::telemetry::install()?)),
        None => None,
    };
    let intake = Intake::from_config(&config, policy).await?;
    for promise in config.unkept_promises() {
        tracing::warn!("a promise the bot cannot keep: {promise}");
    }
    let writer = Writer::start(intake.clone(), GROUP_COMMIT);
    // On PostgreSQL, replicas tell each other of web chat replies (LISTEN/NOTIFY).
    let bus = crate::channels::bus::Bus::start(intake.store(), &config.database_url).await?;
    let wakers = Wakers::on(bus);
    let key = session_key(config.secrets.session_key.as_ref());
    // Cancelled on SIGTERM or Ctrl-C: event streams end and channels stop taking messages.
    let shutdown = CancellationToken::new();
    let channels = ChannelStates::default();
    channels.up(web::CHANNEL);

    let web = WebChat::new(
        intake.clone(),
        writer.clone(),
        wakers.clone(),
        key,
        config.secure_cookies(),
        shutdown.clone(),
    )
    .with_limits(&config.limits)
    // Each is checked to be a time at start-up; hours that close before they open read as
    // the default, 09:00 to 17:00.
    .with_office_hours(
        OfficeHours::parse(
            &config.alerts.working_hours_start,
            &config.alerts.working_hours_end,
        )
        .unwrap_or_default(),
    );
    tokio::spawn(deliver_outbox(
        intake.store().clone(),
        web::CHANNEL.to_owned(),
        web.sender(),
        wakers.of(web::CHANNEL),
    ));
    web.follow_other_replicas();
    // The governing body's monthly summary (9.7): sent by the scheduler and from the console.
    let summary = crate::scheduler::GoverningBodyMail::from_config(&config, intake.store())?;
    let store = intake.store().clone();
    let landlord = config.landlord.name.clone();
    let mut app = Router::new()
        .route("/", get(|| async { Redirect::to("/chat") }))
        .route(
            "/healthz",
            get(move || health(store.clone(), landlord.clone())),
        )
        .route(
            "/readyz",
            get({
                let store = intake.store().clone();
                let channels = channels.clone();
                let last = Arc::new(tokio::sync::Mutex::new(None));
                move || ready(store.clone(), channels.clone(), last.clone())
            }),
        )
        .merge(web.router())
        .merge(
            crate::console::Console::new(
                intake.clone(),
                wakers.clone(),
                config.secure_cookies(),
                standard,
                shutdown.clone(),
            )
            .with_limits(&config.limits)
            .with_teams(
                config
                    .console
                    .teams
                    .iter()
                    .map(|t| crate::staff::Team::new(&t.name, &t.members))
                    .collect(),
            )
            .with_summary(summary.clone())
            .router(),
        );

    let mut telegram_bot = None;
    let mut discord_http = None;
    if let Some(token) = config.secrets.telegram_token.clone() {
        let telegram = Telegram::new(
            token,
            &config.telegram.api_url,
            intake.clone(),
            writer.clone(),
            wakers.clone(),
        )?;
        telegram_bot = Some(telegram.bot());
        telegram.alert_chats(
            config
                .alerts
                .sinks
                .iter()
                .filter(|s| s.kind == crate::config::SinkKind::Telegram)
                .filter_map(|s| s.to.trim().parse::<i64>().ok()),
        );
        tokio::spawn(deliver_outbox(
            intake.store().clone(),
            telegram::CHANNEL.to_owned(),
            telegram.sender(),
            wakers.of(telegram::CHANNEL),
        ));
        let webhook = match (
            config.telegram.mode,
            &config.secrets.telegram_webhook_secret,
        ) {
            (TelegramMode::Webhook, Some(secret)) => {
                // Updates are taken as soon as the route is up; registering the webhook
                // with Telegram may take several tries if Telegram is away.
                app = app.merge(telegram.clone().webhook(secret.clone()));
                let url = config.telegram.webhook_url.clone().unwrap_or_default();
                Some((url, secret.clone()))
            }
            _ => None,
        };
        tokio::spawn(run_telegram(
            telegram,
            webhook,
            channels.clone(),
            shutdown.clone(),
        ));
    }

    if let Some(token) = config.secrets.discord_token.clone() {
        let api_url = config.discord.api_url.clone();
        let sender = discord::sender(&token, api_url.as_deref());
        discord_http = Some(sender.http());
        tokio::spawn(deliver_outbox(
            intake.store().clone(),
            discord::CHANNEL.to_owned(),
            sender,
            wakers.of(discord::CHANNEL),
        ));
        tokio::spawn(discord::run(discord::Gateway {
            token,
            api_url,
            intake: intake.clone(),
            writer: writer.clone(),
            wakers: wakers.clone(),
            alert_channels: config
                .alerts
                .sinks
                .iter()
                .filter(|s| s.kind == crate::config::SinkKind::Discord)
                .filter_map(|s| s.to.trim().parse::<u64>().ok())
                .collect(),
            states: channels.clone(),
            shutdown: shutdown.clone(),
        }));
    }

    let mut scheduler = Scheduler::new(
        intake.clone(),
        config.alerts.clone(),
        chrono::Duration::hours(i64::from(config.conversation.half_finished_after_hours)),
        config.secrets.alert_webhook_secret.clone(),
        config.secrets.smtp_password.clone(),
    );
    scheduler.erase_after = chrono::Duration::days(i64::from(config.alerts.retention_days));
    scheduler.sinks.telegram = telegram_bot;
    scheduler.sinks.discord = discord_http;
    scheduler.summary = summary;
    spawn_scheduler(scheduler, wakers.of(crate::channels::ANYTHING));

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr().context("reading the bound address")?;
    tracing::info!(
        %address,
        landlord = %config.landlord.name,
        database = %config.redacted_database_url(),
        web_chat = %format!("http://{address}/chat"),
        telegram = config.secrets.telegram_token.is_some(),
        discord = config.secrets.discord_token.is_some(),
        "intake listening"
    );
    if let Some((address, handle)) = metrics {
        tokio::spawn(crate::telemetry::serve(
            address,
            crate::telemetry::router(handle, intake.store().clone()),
            shutdown.clone(),
        ));
    }
    let app = app.layer(axum::middleware::from_fn(crate::telemetry::time_requests));
    let limits = http::Limits {
        trusted_proxies: Arc::new(config.trusted_proxies()?),
        max_connections: http::connection_cap(config.web.max_connections),
        header_timeout: Duration::from_secs(config.web.header_timeout_seconds.unwrap_or(10).max(1)),
    };
    // A request body trickled in slower than this is cut off too.
    let app = app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.header_timeout * 3,
    ));
    tracing::info!(
        max_connections = limits.max_connections,
        header_timeout_seconds = limits.header_timeout.as_secs(),
        "HTTP limits"
    );
    let signal = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        #[cfg(target_os = "linux")]
        systemd::stopping();
        // Event streams end, channels stop taking new messages, and the server finishes the
        // requests in flight.
        signal.cancel();
    });
    #[cfg(target_os = "linux")]
    systemd::ready();
    http::serve(listener, app, limits, shutdown.clone(), SHUTDOWN_GRACE).await;
    // Messages already taken are committed before the process ends.
    if !writer.drained(WRITER_GRACE).await {
        tracing::warn!(
            "the writer did not finish in time; uncommitted messages were not answered as received"
        );
    }
    tracing::info!("stopped");
    Ok(())
}

/// Starts Telegram, again and again with backoff while it cannot be reached or refuses, and
/// then receives by long polling (or by the webhook route, already serving) until shutdown.
/// The web chat and the console serve meanwhile.
async fn run_telegram(
    telegram: Telegram,
    webhook: Option<(String, Secret)>,
    channels: ChannelStates,
    shutdown: CancellationToken,
) {
    channels.starting(telegram::CHANNEL);
    let mut failures = 0u32;
    loop {
        let started = telegram
            .start(webhook.as_ref().map(|(url, secret)| (url.as_str(), secret)))
            .await;
        match started {
            Ok(()) => break,
            Err(e) => {
                failures += 1;
                let error = format!("{e:#}");
                tracing::error!(%error, failures, "Telegram: cannot start; trying again");
                channels.retrying(telegram::CHANNEL, error, failures);
                let wait = crate::channels::backoff(i64::from(failures.saturating_sub(1)));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = shutdown.cancelled() => return,
                }
            }
        }
    }
    channels.up(telegram::CHANNEL);
    if webhook.is_some() {
        tracing::info!(
            path = telegram::WEBHOOK_PATH,
            "Telegram: receiving by webhook"
        );
        return;
    }
    tracing::info!("Telegram: receiving by long polling");
    tokio::select! {
        () = telegram.poll(channels) => {}
        () = shutdown.cancelled() => {}
    }
}

/// Runs every scheduler job, then sleeps until the next one falls due. A commit wakes it
/// sooner (an alert may have just been raised): then only deliveries run, and the time of
/// the next full run can only move earlier, so a steady stream of commits never starves
/// the full runs. A failed run is logged and tried again a minute later.
fn spawn_scheduler(scheduler: Scheduler, wake: std::sync::Arc<tokio::sync::Notify>) {
    tokio::spawn(async move {
        let mut next_full = Utc::now();
        let mut last_full = Utc::now() - FULL_RUN_GAP;
        loop {
            let now = Utc::now();
            let full = now >= next_full;
            let result = if full {
                last_full = now;
                // Until the next-due query says otherwise.
                next_full = now + chrono::Duration::hours(1);
                scheduler.run_once(now).await
            } else {
                scheduler.deliver_now(now).await
            };
            let retry_at = Utc::now() + chrono::Duration::minutes(1);
            match result {
                Ok(run) if run != Run::default() => tracing::info!(?run, "scheduler"),
                Ok(_) => {}
                Err(e) => {
                    crate::telemetry::database_error("scheduler");
                    tracing::error!(error = %e, "a scheduler run failed; trying again in a minute");
                    next_full = next_full.min(retry_at);
                }
            }
            match scheduler.next_due(Utc::now()).await {
                // Full runs at most every few seconds, however many jobs fall due: each
                // looks over every job, so a busy record needs no more.
                Ok(at) => next_full = next_full.min(at.max(last_full + FULL_RUN_GAP)),
                Err(e) => {
                    tracing::error!(error = %e, "the scheduler cannot read when its next job is due");
                    next_full = next_full.min(retry_at);
                }
            }
            let sleep = (next_full - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                // A small margin, so the job is due when the run looks at it.
                + Duration::from_millis(50);
            tracing::debug!(next = %next_full, "scheduler sleeping");
            tokio::select! {
                () = tokio::time::sleep(sleep) => {}
                () = wake.notified() => {
                    // Let a burst of commits settle into one delivery.
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    });
}

/// The key that encrypts session cookies: from INTAKE_SESSION_KEY, or made at start-up (then
/// sessions end when the process restarts).
pub fn session_key(secret: Option<&Secret>) -> Key {
    match secret {
        Some(secret) => {
            let digest = sha2::Sha512::digest(secret.expose().as_bytes());
            Key::from(digest.as_slice())
        }
        None => {
            tracing::warn!(
                "INTAKE_SESSION_KEY is not set: web chat sessions will not survive a restart"
            );
            Key::generate()
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

/// Readiness: 200 when the record takes a real write (migrations applied, the tables there,
/// a commit that reaches the disk), 503 when it does not; with each channel's state. A
/// platform that is down leaves the bot ready, since the web chat and the other channels
/// still serve; its state says so.
///
/// The write is made at most once a second, however often probes come, and its error is
/// logged rather than shown: the endpoint is public.
async fn ready(
    store: Store,
    channels: ChannelStates,
    last: Arc<tokio::sync::Mutex<Option<(std::time::Instant, bool)>>>,
) -> impl IntoResponse {
    use axum::http::StatusCode;
    let writes = {
        let mut last = last.lock().await;
        match *last {
            Some((at, ok)) if at.elapsed() < Duration::from_secs(1) => ok,
            _ => {
                let ok = match store.ready(Utc::now()).await {
                    Ok(()) => true,
                    Err(e) => {
                        crate::telemetry::database_error("readiness");
                        tracing::error!(error = %e, "readiness: the record cannot take a write");
                        false
                    }
                };
                crate::telemetry::ready(ok);
                *last = Some((std::time::Instant::now(), ok));
                ok
            }
        }
    };
    let (status, database) = if writes {
        (StatusCode::OK, "ok")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the record cannot take a write (see the log)",
        )
    };
    (
        status,
        axum::Json(serde_json::json!({
            "status": if status == StatusCode::OK { "ready" } else { "not ready" },
            "database": database,
            "channels": channels.all(),
        })),
    )
}

/// Liveness, kept cheap: 200 when the database answers, 503 when it does not.
async fn health(store: Store, landlord: String) -> impl IntoResponse {
    use axum::http::StatusCode;
    match store.ping().await {
        Ok(_) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok", "landlord": landlord})),
        ),
        Err(e) => {
            crate::telemetry::database_error("health");
            tracing::error!(error = %e, "health check: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(
                    serde_json::json!({"status": "database unavailable", "landlord": landlord}),
                ),
            )
        }
    }
}
