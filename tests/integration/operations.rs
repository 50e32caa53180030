//! Issue 15, as an operator runs it: two `intake serve` processes on one PostgreSQL behaving
//! as one (live replies and console updates across replicas, each alert once), and
//! `/metrics` scraped while each event it counts happens.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;

use crate::helpers::databases::{Schema, block_on};
use crate::helpers::fake_telegram::FakeTelegram;
use crate::helpers::resident::Resident;
use crate::helpers::serve::{Bot, client, eventually, free_port};
use crate::helpers::staff::{act, add_staff, csrf_of, page, sign_in};
use crate::helpers::steps::{Said, TO_ACKNOWLEDGEMENT};

/// A manager's webhook sink: every alert posted to it, as its body.
#[derive(Clone, Default)]
struct Hook {
    posts: Arc<Mutex<Vec<String>>>,
}

impl Hook {
    /// Listens on a free loopback port; the URL to post to.
    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("addr");
        let posts = self.posts.clone();
        let app = Router::new().route(
            "/hook",
            post(move |body: String| {
                let posts = posts.clone();
                async move {
                    posts.lock().expect("posts").push(body);
                    "ok"
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}/hook")
    }

    fn posts(&self) -> Vec<String> {
        self.posts.lock().expect("posts").clone()
    }
}

/// A configuration file with one webhook sink taking every alert, at any hour.
fn config_with_sink(dir: &std::path::Path, url: &str) -> String {
    let path = dir.join("intake.toml");
    std::fs::write(
        &path,
        format!(
            "[alerts]\nworking_hours_start = \"00:00\"\nworking_hours_end = \"23:59\"\n\n\
             [[alerts.sinks]]\nname = \"duty manager\"\nkind = \"webhook\"\nto = \"{url}\"\n"
        ),
    )
    .expect("config");
    path.display().to_string()
}

/// An open event stream, read as text as it arrives.
struct Stream {
    response: reqwest::Response,
    seen: String,
}

impl Stream {
    async fn open(url: String, cookie: &str) -> Stream {
        let response = client()
            .get(url)
            .header("Cookie", cookie)
            .timeout(Duration::from_secs(600))
            .send()
            .await
            .expect("events");
        assert_eq!(response.status(), 200);
        Stream {
            response,
            seen: String::new(),
        }
    }

    /// Reads until `words` have arrived or `within` has passed; whether they did.
    async fn until(&mut self, words: &str, within: Duration) -> bool {
        let started = Instant::now();
        while !self.seen.contains(words) {
            let Some(left) = within.checked_sub(started.elapsed()) else {
                return false;
            };
            match tokio::time::timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return false,
            }
        }
        true
    }
}

/// The resident writes through replica A; staff, signed in on replica B, take the
/// conversation and reply there. Each reply reaches the resident's page, open on A, live
/// within a second (several replies, so a sender that only sometimes finds the page cannot
/// pass); the console open on A shows B's replies as they are sent; the resident's emergency
/// alerts the manager once, though both replicas run the scheduler.
#[test]
fn two_replicas_on_one_postgresql_behave_as_one() {
    block_on(async {
        let schema = Schema::create().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let hook = Hook::default();
        let config = config_with_sink(dir.path(), &hook.start().await);
        let env = [
            ("INTAKE_CONFIG", config),
            (
                "INTAKE_ALERT_WEBHOOK_SECRET",
                "a webhook secret for the test".to_owned(),
            ),
            ("INTAKE_METRICS_LISTEN", "off".to_owned()),
        ];
        let a = Bot::start(&schema.url(), &dir.path().join("a.log"), &env).await;
        let b = Bot::start(&schema.url(), &dir.path().join("b.log"), &env).await;

        let resident = Resident::open(&a.base).await;
        resident
            .say("Water is pouring through my ceiling light and it is sparking")
            .await;
        let mut page_on_a =
            Stream::open(format!("{}/chat/api/events", a.base), &resident.cookie).await;

        let password = "a long enough password for Sam";
        let (code, stderr) = add_staff(
            &schema.url(),
            "Sam Officer",
            "sam@example.org",
            "agent",
            password,
        );
        assert_eq!(code, 0, "{stderr}");
        let cookie = sign_in(&b.base, "sam@example.org", password)
            .await
            .expect("sign in on B");
        let conversation: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM {}.conversations",
            schema.name
        )))
        .fetch_one(&schema.admin)
        .await
        .expect("the conversation");
        let path = format!("/console/conversations/{conversation}");
        let (status, html) = page(&b.base, &cookie, &path).await;
        assert_eq!(status, 200);
        let csrf = csrf_of(&html);
        assert_eq!(
            act(
                &b.base,
                &cookie,
                &format!("{path}/claim"),
                &[("csrf", &csrf)]
            )
            .await,
            303
        );
        // The console open on A, for the same conversation.
        let mut console_on_a = Stream::open(format!("{}{path}/events", a.base), &cookie).await;

        let mut latencies = Vec::new();
        for n in 1..=5 {
            let words = format!("Reply number {n} from the repairs team on replica B");
            let sent = Instant::now();
            assert_eq!(
                act(
                    &b.base,
                    &cookie,
                    &format!("{path}/reply"),
                    &[("csrf", &csrf), ("text", &words)]
                )
                .await,
                303
            );
            assert!(
                page_on_a.until(&words, Duration::from_secs(1)).await,
                "reply {n} did not reach the page open on replica A within a second; it saw:\n{}",
                page_on_a.seen
            );
            latencies.push(sent.elapsed());
            assert!(
                console_on_a.until(&words, Duration::from_secs(1)).await,
                "the console on A did not show reply {n} within a second"
            );
        }
        println!("staff reply on B to the page on A: {latencies:?}");

        // The emergency alerted the manager once, with both schedulers running.
        eventually("the emergency alert", Duration::from_secs(20), async || {
            (!hook.posts().is_empty()).then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let posts = hook.posts();
        let emergencies = posts.iter().filter(|p| p.contains("emergency")).count();
        assert_eq!(emergencies, 1, "{posts:#?}");

        drop((a, b));
        schema.drop().await;
    });
}

/// The whole of `/metrics`.
async fn scrape(base: &str) -> String {
    client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text")
}

/// The sum of every series whose line starts with `prefix` (a name and some of its labels).
fn sum_of(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum()
}

/// Reads `/metrics` and the value of the series named `series` (with its labels as
/// Prometheus prints them), or 0 when it is not there yet.
async fn metric(base: &str, series: &str) -> f64 {
    let text = client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    value_of(&text, series)
}

fn value_of(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

/// `/metrics` on its own loopback listener: each metric the issue names moves when its event
/// happens in the real binary on PostgreSQL (a message, an assessment with a risk, a
/// complaint opened, a reply, an alert delivered and one failing, a request timed, the outbox
/// backlog, a database error and readiness lost).
#[test]
fn metrics_move_when_their_events_happen() {
    block_on(async {
        let schema = Schema::create().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let hook = Hook::default();
        let url = hook.start().await;
        // A second sink nobody listens on: its deliveries fail.
        let path = dir.path().join("intake.toml");
        let dead = format!("http://127.0.0.1:{}/hook", free_port());
        std::fs::write(
            &path,
            format!(
                "[alerts]\nworking_hours_start = \"00:00\"\nworking_hours_end = \"23:59\"\n\
                 escalate_after_minutes = 0\n\n\
                 [[alerts.sinks]]\nname = \"duty manager\"\nkind = \"webhook\"\nto = \"{url}\"\n\n\
                 [[alerts.sinks]]\nname = \"out of hours\"\nkind = \"webhook\"\nto = \"{dead}\"\n\n\
                 [[alerts.sinks]]\nname = \"director\"\nkind = \"webhook\"\nto = \"{url}\"\nlevel = 1\n"
            ),
        )
        .expect("config");
        let telegram = FakeTelegram::start().await;
        let metrics_port = free_port();
        let metrics = format!("http://127.0.0.1:{metrics_port}");
        let bot = Bot::start(
            &schema.url(),
            &dir.path().join("bot.log"),
            &[
                ("INTAKE_CONFIG", path.display().to_string()),
                (
                    "INTAKE_ALERT_WEBHOOK_SECRET",
                    "a webhook secret for the test".to_owned(),
                ),
                ("INTAKE_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}")),
                (
                    "INTAKE_TELEGRAM_TOKEN",
                    crate::helpers::fake_telegram::TOKEN.to_owned(),
                ),
                ("INTAKE_TELEGRAM_API_URL", telegram.url.clone()),
            ],
        )
        .await;
        // Not on the residents' listener.
        let on_chat = client()
            .get(format!("{}/metrics", bot.base))
            .send()
            .await
            .expect("get");
        assert_eq!(on_chat.status(), 404);

        let received = "intake_messages_received_total{channel=\"web\"}";
        let emergency = "intake_assessment_risks_total{risk=\"emergency\"}";
        let dissatisfied = "intake_assessments_total{dissatisfied=\"true\",";
        let opened = "intake_complaints_opened_total{stage=\"1\"}";
        let sent = "intake_replies_sent_total{channel=\"web\"}";
        let delivered = "intake_alert_deliveries_total{sink=\"webhook\",result=\"sent\"}";
        let failed = "intake_alert_deliveries_total{sink=\"webhook\",result=\"failed\"}";
        let backlog = "intake_outbox_backlog{channel=\"web\"}";
        let requests = "intake_http_request_duration_seconds_count{method=\"POST\",route=\"/chat/api/messages\",status=\"202\"}";
        let before: Vec<f64> = futures::future::join_all(
            [
                received, emergency, opened, sent, delivered, failed, requests,
            ]
            .map(|s| metric(&metrics, s)),
        )
        .await;
        assert!(before.iter().all(|v| *v == 0.0), "{before:?}");
        assert_eq!(metric(&metrics, "intake_ready").await, 1.0);

        // A resident: an emergency, then a complaint made with consent.
        let resident = Resident::open(&bot.base).await;
        resident
            .say("Water is pouring through my ceiling light and it is sparking")
            .await;
        assert_eq!(metric(&metrics, received).await, 1.0);
        assert_eq!(metric(&metrics, emergency).await, 1.0);
        assert!(metric(&metrics, requests).await >= 1.0);
        // No page is open: the replies wait in the outbox, and the backlog says so.
        assert!(metric(&metrics, backlog).await >= 1.0);
        let age = "intake_outbox_oldest_age_seconds{channel=\"web\"}";
        let text = client()
            .get(format!("{metrics}/metrics"))
            .send()
            .await
            .expect("scrape")
            .text()
            .await
            .expect("text");
        assert!(text.contains(age), "{text}");

        // Opening the page delivers them; a reply sent live counts as sent.
        let mut live =
            Stream::open(format!("{}/chat/api/events", bot.base), &resident.cookie).await;
        assert!(live.until("data:", Duration::from_secs(5)).await);
        assert_eq!(metric(&metrics, backlog).await, 0.0);
        resident.say("Is anyone coming about the leak?").await;
        eventually("a reply sent live", Duration::from_secs(5), async || {
            (metric(&metrics, sent).await >= 1.0).then_some(())
        })
        .await;

        // Another resident, unhappy, makes a complaint.
        let complainant = Resident::open(&bot.base).await;
        let steps: Vec<(Said, &str)> = TO_ACKNOWLEDGEMENT
            .iter()
            .map(|s| (s.said, s.expect))
            .collect();
        complainant.converse(&steps).await;
        assert_eq!(metric(&metrics, opened).await, 1.0);
        assert!(sum_of(&scrape(&metrics).await, dissatisfied) >= 1.0);

        // The emergency alert: delivered to one sink, failing at the other.
        eventually("alert deliveries", Duration::from_secs(30), async || {
            (metric(&metrics, delivered).await >= 1.0 && metric(&metrics, failed).await >= 1.0)
                .then_some(())
        })
        .await;
        assert!(
            value_of(
                &client()
                    .get(format!("{metrics}/metrics"))
                    .send()
                    .await
                    .expect("scrape")
                    .text()
                    .await
                    .expect("text"),
                "intake_scheduler_step_duration_seconds_count{step=\"deadlines\"}"
            ) >= 1.0
        );

        // Unacknowledged, the urgent alert moves up to the next level at once (the
        // escalation period is 0 here).
        eventually("an escalation", Duration::from_secs(40), async || {
            (metric(&metrics, "intake_alert_escalations_total").await >= 1.0).then_some(())
        })
        .await;

        // Telegram refuses a reply once (429): a failed attempt, then the reply is sent.
        let tg_sent = "intake_replies_sent_total{channel=\"telegram\"}";
        let tg_failed = "intake_replies_failed_total{channel=\"telegram\"}";
        telegram.refuse_next_sends(1);
        telegram
            .say(7001, "Hello, I need to ask about my rent")
            .await;
        eventually(
            "a Telegram reply failed, then sent",
            Duration::from_secs(30),
            async || {
                (metric(&metrics, tg_failed).await >= 1.0 && metric(&metrics, tg_sent).await >= 1.0)
                    .then_some(())
            },
        )
        .await;
        assert_eq!(
            metric(
                &metrics,
                "intake_messages_received_total{channel=\"telegram\"}"
            )
            .await,
            1.0
        );

        // The complaint's response date passes: a breach, counted once.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {}.cases SET due_on = '2020-01-06'",
            schema.name
        )))
        .execute(&schema.admin)
        .await
        .expect("a past due date");
        // A commit wakes the scheduler, which then sees the deadline is due.
        resident.say("Any news?").await;
        let breaches = "intake_deadline_breaches_total{kind=\"response\"}";
        eventually("a deadline breach", Duration::from_secs(40), async || {
            (metric(&metrics, breaches).await >= 1.0).then_some(())
        })
        .await;

        // The database loses a table the record needs: readiness fails, and says so.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP TABLE {}.alerts CASCADE",
            schema.name
        )))
        .execute(&schema.admin)
        .await
        .expect("drop a table");
        // The gauge follows without anything probing /readyz, and /readyz agrees.
        assert_eq!(metric(&metrics, "intake_ready").await, 0.0);
        let ready = client()
            .get(format!("{}/readyz", bot.base))
            .send()
            .await
            .expect("readyz");
        assert_eq!(ready.status(), 503);
        assert!(
            metric(
                &metrics,
                "intake_database_errors_total{operation=\"readiness\"}"
            )
            .await
                >= 1.0
        );

        drop(bot);
        schema.drop().await;
    });
}

/// With `INTAKE_LOG_FORMAT=json`, every line the bot writes is one JSON object with the fields
/// log shippers key on (`timestamp` in RFC 3339, `level`, `target`, `message`), the start-up
/// line names its `address`, and no secret appears.
#[test]
fn json_logs_keep_the_fields_log_shippers_rely_on() {
    block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let database = format!("sqlite://{}/intake.db", dir.path().display());
        let log = dir.path().join("bot.log");
        let secret = "a webhook secret that must never be logged";
        let mut bot = Bot::start(
            &database,
            &log,
            &[
                ("INTAKE_LOG_FORMAT", "json".to_owned()),
                ("INTAKE_ALERT_WEBHOOK_SECRET", secret.to_owned()),
                ("INTAKE_METRICS_LISTEN", "off".to_owned()),
            ],
        )
        .await;
        Resident::open(&bot.base)
            .await
            .say("My boiler has stopped working")
            .await;
        assert!(bot.terminate(Duration::from_secs(15)).is_some(), "stopped");
        let text = bot.log_text();
        assert!(!text.contains(secret), "a secret in the log");
        assert!(
            !text.contains("long enough to be a key"),
            "the session key in the log"
        );
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        assert!(lines.len() >= 3, "{text}");
        for line in &lines {
            for field in ["timestamp", "level", "target", "message"] {
                assert!(line[field].is_string(), "no {field}: {line}");
            }
            let at = line["timestamp"].as_str().unwrap_or_default();
            assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
            assert!(
                ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
                    .contains(&line["level"].as_str().unwrap_or_default()),
                "{line}"
            );
        }
        let listening = lines
            .iter()
            .find(|l| l["message"] == "intake listening")
            .expect("the start-up line");
        assert!(listening["address"].is_string(), "{listening}");
        assert!(lines.iter().any(|l| l["message"] == "stopped"), "{text}");
    });
}

/// Under systemd (`Type=notify`), the bot says READY=1 once it takes requests and STOPPING=1
/// on SIGTERM, to the socket systemd names in `NOTIFY_SOCKET`.
#[test]
fn systemd_is_told_when_the_bot_is_ready_and_when_it_stops() {
    block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket_path = dir.path().join("notify.sock");
        let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let database = format!("sqlite://{}/intake.db", dir.path().display());
        let mut bot = Bot::start(
            &database,
            &dir.path().join("bot.log"),
            &[
                ("NOTIFY_SOCKET", socket_path.display().to_string()),
                ("INTAKE_METRICS_LISTEN", "off".to_owned()),
            ],
        )
        .await;
        let mut buffer = [0u8; 512];
        let n = socket.recv(&mut buffer).expect("a notification");
        let ready = String::from_utf8_lossy(&buffer[..n]).into_owned();
        assert!(ready.lines().any(|l| l == "READY=1"), "{ready}");
        // Ready means ready: the web chat answers.
        let page = client()
            .get(format!("{}/chat", bot.base))
            .send()
            .await
            .expect("chat");
        assert_eq!(page.status(), 200);

        assert!(bot.terminate(Duration::from_secs(15)).is_some(), "stopped");
        let n = socket.recv(&mut buffer).expect("a notification");
        let stopping = String::from_utf8_lossy(&buffer[..n]).into_owned();
        assert!(stopping.lines().any(|l| l == "STOPPING=1"), "{stopping}");
    });
}
