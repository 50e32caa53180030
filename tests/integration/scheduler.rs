//! The scheduler with a fixed clock: deadline warnings across the Christmas bank holidays,
//! each alert once; non-urgent alerts held to working hours; and alerts delivered to a local
//! SMTP server and a webhook receiver that checks the signature, with an unacknowledged urgent
//! alert moving up the escalation chain.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use chrono::{Duration, Utc};
use hmac::{Hmac, Mac};
use intake::config::{AlertsConfig, Secret, SinkConfig, SinkKind, SmtpConfig};
use intake::core::dialog::Input;
use intake::scheduler::Scheduler;
use intake::service::Intake;
use intake::staff::Role;
use intake::store::{Inbound, Store};
use sha2::Sha256;
use sqlx::Row;

use crate::helpers::databases::{drop_schema, new_schema, postgres_options};
use crate::helpers::{
    at, free_port, intake, on_both, open_case, open_case_answered, smtp_sink, staff_member,
};

fn scheduler(intake: Intake, alerts: AlertsConfig, secret: Option<&str>) -> Scheduler {
    Scheduler::new(
        intake,
        alerts,
        Duration::hours(48),
        secret.map(Secret::new),
        None,
    )
}

async fn alerts_of_kind(store: &Store, kind: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM alerts WHERE kind = $1")
        .bind(kind)
        .fetch_one(store.pool_for_tests())
        .await
        .expect("count")
        .try_get("n")
        .expect("n")
}

#[test]
fn deadline_warnings_count_working_days_across_christmas_and_fire_once() {
    on_both(|store| async move {
        // Due Wednesday 30 December 2026. Christmas Day is a Friday and Boxing Day a
        // Saturday, so Monday 28th is the substitute bank holiday.
        open_case(
            &store,
            "C2026-00042",
            "2026-12-30",
            at("2026-12-14T10:00:00Z"),
        )
        .await;
        let s = scheduler(intake(store.clone()), AlertsConfig::default(), None);

        // Wednesday 23rd: a week of calendar days, but three working days (24th, 29th,
        // 30th) before the response is due: no warning yet.
        let run = s.run_once(at("2026-12-23T10:00:00Z")).await.expect("run");
        assert_eq!(run.deadline_warnings, 0);
        // Thursday 24th: two working days left: warned, once.
        let run = s.run_once(at("2026-12-24T10:00:00Z")).await.expect("run");
        assert_eq!(run.deadline_warnings, 1);
        let run = s.run_once(at("2026-12-24T15:00:00Z")).await.expect("run");
        assert_eq!(run.deadline_warnings, 0, "warned once only");
        // The day it is due is not a breach...
        let run = s.run_once(at("2026-12-30T16:59:00Z")).await.expect("run");
        assert_eq!(run.deadline_breaches, 0);
        // ...the day after is, once.
        let run = s.run_once(at("2026-12-31T09:00:00Z")).await.expect("run");
        assert_eq!(run.deadline_breaches, 1);
        // The resident is told it is late (5.9)...
        assert_eq!(run.late_updates, 1);
        let run = s.run_once(at("2027-01-04T09:00:00Z")).await.expect("run");
        assert_eq!((run.deadline_breaches, run.late_updates), (0, 0));
        // ...and again five working days later (4, 5, 6, 7 and 8 January), not before.
        let run = s.run_once(at("2027-01-07T09:00:00Z")).await.expect("run");
        assert_eq!(run.late_updates, 0);
        let run = s.run_once(at("2027-01-08T09:00:00Z")).await.expect("run");
        assert_eq!(run.late_updates, 1);
        let told: Vec<String> = sqlx::query("SELECT payload FROM outbox ORDER BY id")
            .fetch_all(store.pool_for_tests())
            .await
            .expect("outbox")
            .iter()
            .map(|r| r.try_get("payload").expect("payload"))
            .collect();
        assert_eq!(told.len(), 2);
        assert!(
            told[0].contains("was due on Wednesday 30 December 2026"),
            "{}",
            told[0]
        );
        assert!(told[0].contains("update you again by"), "{}", told[0]);
        assert_eq!(alerts_of_kind(&store, "deadline_near").await, 1);
        assert_eq!(alerts_of_kind(&store, "deadline_passed").await, 1);

        // A complaint already answered raises nothing.
        open_case(
            &store,
            "C2026-00043",
            "2026-12-30",
            at("2026-12-14T10:00:00Z"),
        )
        .await;
        sqlx::query("UPDATE cases SET status = 'responded' WHERE reference = 'C2026-00043'")
            .execute(store.pool_for_tests())
            .await
            .expect("respond");
        let run = s.run_once(at("2027-01-05T09:00:00Z")).await.expect("run");
        assert_eq!(run.deadline_breaches, 0);
    });
}

#[test]
fn a_complaint_with_a_stage_the_code_does_not_have_does_not_stop_the_others() {
    on_both(|store| async move {
        // A hand edit or an import leaves one complaint at "stage 3". The scheduler names it in
        // the log and goes on watching every other complaint's deadlines.
        open_case(
            &store,
            "C2026-00050",
            "2026-12-30",
            at("2026-12-14T10:00:00Z"),
        )
        .await;
        open_case(
            &store,
            "C2026-00051",
            "2026-12-30",
            at("2026-12-14T10:00:00Z"),
        )
        .await;
        sqlx::query("UPDATE cases SET stage = 3 WHERE reference = 'C2026-00050'")
            .execute(store.pool_for_tests())
            .await
            .expect("a stage the Code does not have");
        let s = scheduler(intake(store.clone()), AlertsConfig::default(), None);
        let run = s
            .run_once(at("2026-12-31T09:00:00Z"))
            .await
            .expect("the run goes on past the odd row");
        assert_eq!(
            run.deadline_breaches, 1,
            "the other complaint is still watched"
        );
    });
}

#[test]
fn non_urgent_alerts_wait_for_working_hours() {
    on_both(|store| async move {
        let s = scheduler(intake(store), AlertsConfig::default(), None);
        // Within hours: at once. (GMT in winter, so local time is UTC.)
        let t = at("2026-12-24T16:59:00Z");
        assert_eq!(s.next_working_moment(t), t);
        // Christmas afternoon waits for Tuesday 29th (the 28th is the substitute holiday).
        assert_eq!(
            s.next_working_moment(at("2026-12-25T14:00:00Z")),
            at("2026-12-29T09:00:00Z")
        );
        assert_eq!(
            s.next_working_moment(at("2026-12-24T17:00:00Z")),
            at("2026-12-29T09:00:00Z")
        );
        // Early on a working day: that morning. In summer time 09:00 is 08:00 UTC.
        assert_eq!(
            s.next_working_moment(at("2026-07-01T05:00:00Z")),
            at("2026-07-01T08:00:00Z")
        );
    });
}

/// A webhook receiver that keeps each body whose signature is right, and counts the others.
async fn webhook_receiver(
    secret: &'static str,
) -> (
    String,
    Arc<Mutex<Vec<serde_json::Value>>>,
    Arc<Mutex<usize>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let good = Arc::new(Mutex::new(Vec::new()));
    let bad = Arc::new(Mutex::new(0));
    let (g, b) = (good.clone(), bad.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (g, b) = (g.clone(), b.clone());
            async move {
                // As a receiver should: the signature covers the timestamp and the body,
                // and a timestamp more than five minutes off is a replay.
                let timestamp = headers
                    .get("x-intake-timestamp")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let fresh = timestamp
                    .parse::<i64>()
                    .is_ok_and(|t| (Utc::now().timestamp() - t).abs() <= 300);
                let mut mac =
                    <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("key");
                mac.update(timestamp.as_bytes());
                mac.update(b".");
                mac.update(&body);
                let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
                let given = headers
                    .get("x-intake-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if fresh && given == expected {
                    g.lock()
                        .expect("lock")
                        .push(serde_json::from_slice(&body).expect("json"));
                    axum::http::StatusCode::NO_CONTENT
                } else {
                    *b.lock().expect("lock") += 1;
                    axum::http::StatusCode::UNAUTHORIZED
                }
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, good, bad)
}

#[test]
fn alerts_go_to_email_and_a_signed_webhook_and_escalate_when_nobody_acknowledges() {
    on_both(|store| async move {
        let (smtp_port, mails) = smtp_sink().await;
        let (hook, hooks, bad_signatures) = webhook_receiver("hook-secret").await;
        let alerts = AlertsConfig {
            smtp: SmtpConfig {
                host: Some("127.0.0.1".to_owned()),
                port: smtp_port,
                username: None,
                from: "intake@example-homes.org.uk".to_owned(),
                tls: "none".to_owned(),
            },
            sinks: vec![
                SinkConfig {
                    name: "duty manager".to_owned(),
                    kind: SinkKind::Email,
                    to: "role:manager".to_owned(),
                    alerts: vec!["emergency".to_owned(), "safeguarding".to_owned()],
                    level: 0,
                },
                SinkConfig {
                    name: "case system".to_owned(),
                    kind: SinkKind::Webhook,
                    to: hook,
                    alerts: Vec::new(),
                    level: 0,
                },
                SinkConfig {
                    name: "head of service".to_owned(),
                    kind: SinkKind::Email,
                    to: "head@example-homes.org.uk".to_owned(),
                    alerts: vec!["emergency".to_owned()],
                    level: 1,
                },
            ],
            ..AlertsConfig::default()
        };
        let service = intake(store.clone());
        let manager = staff_member(
            &store,
            "Morgan Manager",
            "morgan@example-homes.org.uk",
            Role::Manager,
            at("2026-12-01T09:00:00Z"),
        )
        .await;
        let s = scheduler(service.clone(), alerts, Some("hook-secret"));

        // Saturday night: a gas leak (urgent) goes out at once.
        let night = at("2026-12-19T23:10:00Z");
        let text = "I can smell gas in the kitchen";
        service
            .handle(
                &Inbound {
                    channel: "web".to_owned(),
                    chat: "resident-1".to_owned(),
                    platform_message_id: None,
                    body: text.to_owned(),
                    attachments: Vec::new(),
                    at: night,
                },
                &Input::Text(text.to_owned()),
            )
            .await
            .expect("handle");
        let run = s.run_once(night).await.expect("run");
        assert_eq!(run.delivered, 2, "{run:?}");
        {
            let mails = mails.lock().expect("lock");
            assert_eq!(mails.len(), 1);
            assert!(
                mails[0].contains("morgan@example-homes.org.uk"),
                "{}",
                mails[0]
            );
            assert!(mails[0].contains("URGENT"), "{}", mails[0]);
            let hooks = hooks.lock().expect("lock");
            assert_eq!(hooks.len(), 1);
            assert_eq!(hooks[0]["alert"]["kind"], "emergency");
            assert_eq!(hooks[0]["alert"]["urgent"], true);
        }
        assert_eq!(*bad_signatures.lock().expect("lock"), 0);

        // Nobody acknowledges it: half an hour later it goes to the head of service.
        let run = s
            .run_once(night + Duration::minutes(20))
            .await
            .expect("run");
        assert_eq!((run.escalations, run.delivered), (0, 0));
        let run = s
            .run_once(night + Duration::minutes(31))
            .await
            .expect("run");
        assert_eq!((run.escalations, run.delivered), (1, 1), "{run:?}");
        assert!(mails.lock().expect("lock")[1].contains("head@example-homes.org.uk"));

        // A non-urgent alert raised on Saturday night waits for Monday morning.
        let mut record = store.begin().await.expect("begin");
        let conversation = record
            .conversation("web", "resident-1", "{}", "en-GB", night)
            .await
            .expect("conversation");
        record.alert(
            &conversation,
            "health_safety",
            false,
            "damp and mould",
            night,
        );
        record.alert(
            &conversation,
            "vulnerability",
            false,
            "I am registered blind and use a wheelchair",
            night,
        );
        record.commit().await.expect("commit");
        let run = s
            .run_once(night + Duration::minutes(40))
            .await
            .expect("run");
        assert_eq!(run.delivered, 0, "not at night: {run:?}");
        let run = s.run_once(at("2026-12-21T09:00:00Z")).await.expect("run");
        assert_eq!(run.delivered, 2, "Monday at nine: {run:?}");
        {
            let hooks = hooks.lock().expect("lock");
            assert_eq!(hooks.len(), 3);
            // A disclosed disability leaves the record as its kind and a link (5.10).
            let vulnerability = hooks
                .iter()
                .find(|h| h["alert"]["kind"] == "vulnerability")
                .expect("the vulnerability alert");
            let text = vulnerability.to_string();
            assert!(
                !text.contains("blind") && !text.contains("wheelchair"),
                "{text}"
            );
            assert!(
                vulnerability["alert"]["link"]
                    .as_str()
                    .is_some_and(|l| l.contains("/conversations/"))
            );
        }

        // Acknowledged: no further escalation, and nothing is sent twice.
        let emergency = intake::core::ids::AlertId(
            sqlx::query("SELECT id FROM alerts WHERE kind = 'emergency'")
                .fetch_one(store.pool_for_tests())
                .await
                .expect("alert")
                .try_get("id")
                .expect("id"),
        );
        assert!(
            intake::staff::acknowledge(&store, emergency, &manager, night + Duration::hours(2))
                .await
                .expect("ack")
        );
        assert!(
            !intake::staff::acknowledge(&store, emergency, &manager, night + Duration::hours(2))
                .await
                .expect("ack")
        );
        let run = s.run_once(night + Duration::hours(3)).await.expect("run");
        assert_eq!(run, intake::scheduler::Run::default());
    });
}

#[test]
fn personal_data_is_erased_after_the_retention_period_and_counts_are_kept() {
    on_both(|store| async move {
        let t0 = at("2026-03-02T10:00:00Z");
        let service = intake(store.clone());
        let text = "my name is Sam Jones, 4 Rowan Close, and the boiler is broken again";
        service
            .handle(
                &Inbound {
                    channel: "web".to_owned(),
                    chat: "C2026-00050".to_owned(),
                    platform_message_id: None,
                    body: text.to_owned(),
                    attachments: Vec::new(),
                    at: t0,
                },
                &Input::Text(text.to_owned()),
            )
            .await
            .expect("handle");
        open_case(&store, "C2026-00050", "2026-03-16", t0).await;
        // An open complaint next door is not touched.
        open_case(&store, "C2026-00051", "2026-03-16", t0).await;
        sqlx::query(
            "UPDATE cases SET status = 'closed', closed_at = $1 WHERE reference = 'C2026-00050'",
        )
        .bind(intake::store::millis(t0))
        .execute(store.pool_for_tests())
        .await
        .expect("close");
        let mut s = scheduler(service, AlertsConfig::default(), None);
        s.erase_after = Duration::days(30);
        let messages = async || -> i64 {
            sqlx::query("SELECT COUNT(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.id = (SELECT conversation_id FROM cases WHERE reference = 'C2026-00050')")
                .fetch_one(store.pool_for_tests())
                .await
                .expect("count")
                .try_get("n")
                .expect("n")
        };
        assert!(messages().await > 0);
        // Staff corrected the message's assessment: the correction holds the resident's words
        // for training, so it goes with them.
        sqlx::query(
            "INSERT INTO staff (name, email, role, password_hash, created_at) \
             VALUES ('Alex', 'alex@example.org', 'manager', 'x', 0)",
        )
        .execute(store.pool_for_tests())
        .await
        .expect("staff");
        let corrected = staff_correction(&store).await;
        assert_eq!(corrected, 1);

        let run = s.run_once(t0 + Duration::days(29)).await.expect("run");
        assert_eq!(run.erased, 0, "not yet");
        let run = s.run_once(t0 + Duration::days(31)).await.expect("run");
        assert_eq!(run.erased, 1);
        assert_eq!(messages().await, 0, "every message erased");
        let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM assessment_corrections")
            .fetch_one(store.pool_for_tests())
            .await
            .expect("count")
            .try_get("n")
            .expect("n");
        assert_eq!(left, 0, "corrections erased with the messages");
        let kept = sqlx::query(
            "SELECT definition, answers, erased_at FROM cases WHERE reference = 'C2026-00050'",
        )
        .fetch_one(store.pool_for_tests())
        .await
        .expect("case");
        assert_eq!(kept.try_get::<String, _>("definition").expect("d"), "");
        assert!(
            kept.try_get::<Option<i64>, _>("erased_at")
                .expect("e")
                .is_some()
        );
        let chat: String = sqlx::query("SELECT chat FROM conversations WHERE id = (SELECT conversation_id FROM cases WHERE reference = 'C2026-00050')")
            .fetch_one(store.pool_for_tests())
            .await
            .expect("conversation")
            .try_get("chat")
            .expect("chat");
        assert!(chat.starts_with("erased:"), "{chat}");
        let open: String =
            sqlx::query("SELECT definition FROM cases WHERE reference = 'C2026-00051'")
                .fetch_one(store.pool_for_tests())
                .await
                .expect("case")
                .try_get("definition")
                .expect("d");
        assert!(!open.is_empty(), "the open complaint keeps its record");
        let count = async || -> i64 {
            sqlx::query("SELECT complaints FROM retention_counts WHERE month = '2026-03' AND channel = 'web' AND status = 'closed'")
                .fetch_one(store.pool_for_tests())
                .await
                .expect("counts")
                .try_get("complaints")
                .expect("n")
        };
        assert_eq!(count().await, 1, "the anonymised count is kept");
        let run = s.run_once(t0 + Duration::days(40)).await.expect("run");
        assert_eq!(run.erased, 0);
        assert_eq!(count().await, 1, "counted once");
    });
}

/// Issue 14 item 13: a complaint closed at stage 1 and then escalated to stage 2 is open
/// again, so the retention period no longer runs; and a row left by the old escalation (open,
/// with its stage 1 closed_at still set) is not erased either.
#[test]
fn the_retention_purge_never_erases_an_open_complaint() {
    on_both(|store| async move {
        let t0 = at("2026-03-02T10:00:00Z");
        let service = intake(store.clone());
        open_case(&store, "C2026-00060", "2026-03-16", t0).await;
        open_case(&store, "C2026-00061", "2026-03-16", t0).await;
        sqlx::query(
            "UPDATE cases SET status = 'closed', closed_at = $1 \
             WHERE reference IN ('C2026-00060', 'C2026-00061')",
        )
        .bind(intake::store::millis(t0))
        .execute(store.pool_for_tests())
        .await
        .expect("close");
        // The resident asks for stage 2 ten days later.
        let mut record = store.begin().await.expect("begin");
        record.escalate(
            "C2026-00060",
            "2026-03-12".parse().expect("date"),
            "2026-04-09".parse().expect("date"),
            t0 + Duration::days(10),
        );
        record.commit().await.expect("commit");
        // The old escalation left closed_at behind on an open complaint.
        sqlx::query(
            "UPDATE cases SET status = 'acknowledged', stage = 2 WHERE reference = 'C2026-00061'",
        )
        .execute(store.pool_for_tests())
        .await
        .expect("legacy row");

        let mut s = scheduler(service, AlertsConfig::default(), None);
        s.erase_after = Duration::days(30);
        let run = s.run_once(t0 + Duration::days(31)).await.expect("run");
        assert_eq!(run.erased, 0, "open complaints are never erased");
        let rows = sqlx::query(
            "SELECT reference, definition, closed_at, erased_at FROM cases \
             WHERE reference IN ('C2026-00060', 'C2026-00061') ORDER BY reference",
        )
        .fetch_all(store.pool_for_tests())
        .await
        .expect("cases");
        for row in &rows {
            assert!(
                !row.try_get::<String, _>("definition")
                    .expect("d")
                    .is_empty()
            );
            assert!(
                row.try_get::<Option<i64>, _>("erased_at")
                    .expect("e")
                    .is_none()
            );
        }
        assert!(
            rows[0]
                .try_get::<Option<i64>, _>("closed_at")
                .expect("c")
                .is_none(),
            "escalation clears closed_at"
        );
    });
}

/// Two webhook sinks at `hook`: every alert at once to the case system, and unacknowledged
/// urgent ones of `escalated` kinds (all kinds if empty) to the head of service a level up.
fn escalation_chain(hook: &str, escalated: &[&str]) -> Vec<SinkConfig> {
    vec![
        SinkConfig {
            name: "case system".to_owned(),
            kind: SinkKind::Webhook,
            to: hook.to_owned(),
            alerts: Vec::new(),
            level: 0,
        },
        SinkConfig {
            name: "head of service".to_owned(),
            kind: SinkKind::Webhook,
            to: hook.to_owned(),
            alerts: escalated.iter().map(|k| (*k).to_owned()).collect(),
            level: 1,
        },
    ]
}

/// Two replicas on one PostgreSQL, each running every job at the same moments: every alert,
/// every late-response update and every delivery happens once.
#[test]
fn with_two_replicas_on_one_postgresql_every_alert_fires_once() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let schema = new_schema();
        let first = Store::connect_with(postgres_options(&schema))
            .await
            .expect("replica 1");
        let second = Store::connect_with(postgres_options(&schema))
            .await
            .expect("replica 2");
        let (hook, hooks, bad_signatures) = webhook_receiver("hook-secret").await;
        let alerts = AlertsConfig {
            sinks: escalation_chain(&hook, &["emergency"]),
            // Every alert at any hour, so the test is about replicas, not working hours.
            working_hours_start: "00:00".to_owned(),
            working_hours_end: "23:59".to_owned(),
            ..AlertsConfig::default()
        };
        let opened = at("2026-11-02T10:00:00Z");
        for i in 0..15 {
            // Due soon (a warning), or already past (a breach and an update to the resident).
            let due = if i % 2 == 0 {
                "2026-11-24"
            } else {
                "2026-11-20"
            };
            open_case(&first, &format!("C2026-{i:05}"), due, opened).await;
        }
        for i in 0..5 {
            let mut record = first.begin().await.expect("begin");
            let conversation = record
                .conversation("web", &format!("gas-{i}"), "{}", "en-GB", opened)
                .await
                .expect("conversation");
            record.alert(
                &conversation,
                "emergency",
                true,
                "gas",
                at("2026-11-23T10:00:00Z"),
            );
            record.commit().await.expect("commit");
        }
        let replicas = [
            scheduler(intake(first.clone()), alerts.clone(), Some("hook-secret")),
            scheduler(intake(second.clone()), alerts, Some("hook-secret")),
        ];
        let mut total = intake::scheduler::Run::default();
        for minutes in [0, 1, 2, 31, 32, 33] {
            let now = at("2026-11-23T10:00:00Z") + Duration::minutes(minutes);
            let (a, b) = tokio::join!(replicas[0].run_once(now), replicas[1].run_once(now));
            for run in [a.expect("replica 1 run"), b.expect("replica 2 run")] {
                total.deadline_warnings += run.deadline_warnings;
                total.deadline_breaches += run.deadline_breaches;
                total.late_updates += run.late_updates;
                total.escalations += run.escalations;
                total.delivered += run.delivered;
                total.failed += run.failed;
            }
        }
        assert_eq!(total.deadline_warnings, 8, "{total:?}");
        assert_eq!(total.deadline_breaches, 7, "{total:?}");
        assert_eq!(total.late_updates, 7, "{total:?}");
        assert_eq!(total.escalations, 5, "{total:?}");
        assert_eq!(alerts_of_kind(&first, "deadline_near").await, 8);
        assert_eq!(alerts_of_kind(&first, "deadline_passed").await, 7);
        // 20 alerts to the first sink, and the 5 escalated ones to the second.
        assert_eq!(total.delivered, 25, "{total:?}");
        assert_eq!(total.failed, 0);
        let bodies = hooks.lock().expect("lock").clone();
        assert_eq!(bodies.len(), 25);
        let mut seen = std::collections::BTreeMap::new();
        for body in &bodies {
            let key = (
                body["alert"]["id"].as_i64(),
                body["alert"]["level"].as_i64(),
            );
            *seen.entry(key).or_insert(0) += 1;
        }
        assert!(seen.values().all(|n| *n == 1), "each alert once: {seen:?}");
        assert_eq!(*bad_signatures.lock().expect("lock"), 0);
        let updates: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM outbox o JOIN messages m ON m.id = o.message_id \
             WHERE m.body LIKE '%is not ready yet%'",
        )
        .fetch_one(first.pool_for_tests())
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
        assert_eq!(updates, 7, "each late resident told once");
        let pool = first.pool_for_tests().clone();
        drop(replicas);
        drop(second);
        drop_schema(&pool, &schema).await;
    });
}

/// The scheduler sleeps until the next thing falls due: an escalation, a delivery held for
/// working hours, a claim going idle; with nothing pending, the next local midnight. An
/// outstanding action past its promised date is chased once.
#[test]
fn the_scheduler_knows_when_its_next_job_falls_due_and_chases_overdue_actions() {
    on_both(|store| async move {
        let (hook, _hooks, _bad) = webhook_receiver("hook-secret").await;
        let alerts = AlertsConfig {
            sinks: escalation_chain(&hook, &[]),
            ..AlertsConfig::default()
        };
        let service = intake(store.clone());
        let mut s = scheduler(service.clone(), alerts, Some("hook-secret"));
        s.half_finished_after = Duration::hours(48);
        // Nothing at all: the next local midnight (GMT in November).
        let evening = at("2026-11-23T18:30:00Z");
        assert_eq!(
            s.next_due(evening).await.expect("next"),
            at("2026-11-24T00:00:00Z")
        );
        // In summer time the local midnight is 23:00 UTC.
        assert_eq!(
            s.next_due(at("2026-07-01T12:00:00Z")).await.expect("next"),
            at("2026-07-01T23:00:00Z")
        );

        // An urgent alert at 18:30, unacknowledged: it escalates at 19:00.
        let mut record = store.begin().await.expect("begin");
        let conversation = record
            .conversation("web", "resident-9", "{}", "en-GB", evening)
            .await
            .expect("conversation");
        record.alert(&conversation, "emergency", true, "gas", evening);
        // A non-urgent one at the same time waits for 09:00 tomorrow.
        record.alert(&conversation, "health_safety", false, "damp", evening);
        record.commit().await.expect("commit");
        let run = s.run_once(evening).await.expect("run");
        assert_eq!(run.delivered, 1, "the urgent one at once: {run:?}");
        assert_eq!(
            s.next_due(evening).await.expect("next"),
            at("2026-11-23T19:00:00Z"),
            "the escalation"
        );
        let run = s.run_once(at("2026-11-23T19:00:00Z")).await.expect("run");
        assert_eq!(run.escalations, 1, "{run:?}");
        // The conversation goes quiet at 18:30 + 48 hours; before that, the held delivery at
        // nine tomorrow comes first, after the midnight when deadlines move on.
        assert_eq!(
            s.next_due(at("2026-11-24T00:00:01Z")).await.expect("next"),
            at("2026-11-24T09:00:00Z")
        );

        // An action promised for yesterday: chased once.
        let officer = staff_member(
            &store,
            "Alex Officer",
            "alex@example-homes.org.uk",
            Role::ComplaintsOfficer,
            evening,
        )
        .await;
        open_case(&store, "C2026-00077", "2026-12-04", evening).await;
        service
            .record_case_action(
                "C2026-00077",
                "action",
                "Replace the boiler",
                Some("2026-11-25".parse().expect("date")),
                &officer,
                evening,
            )
            .await
            .expect("action");
        let run = s.run_once(at("2026-11-25T12:00:00Z")).await.expect("run");
        assert_eq!(run.overdue_actions, 0, "due today is not overdue");
        let run = s.run_once(at("2026-11-26T09:30:00Z")).await.expect("run");
        assert_eq!(run.overdue_actions, 1, "{run:?}");
        let run = s.run_once(at("2026-11-26T10:30:00Z")).await.expect("run");
        assert_eq!(run.overdue_actions, 0, "chased once");
        assert_eq!(alerts_of_kind(&store, "action_overdue").await, 1);
    });
}

/// What staff send goes the way the resident asked: a copy by email, tried again after a
/// failure and never dropped; and when they asked for a letter or a phone call, or gave an
/// address that is not one, staff are alerted to reply that way.
#[test]
fn staff_messages_follow_the_residents_choice_of_reply() {
    on_both(|store| async move {
        let service = intake(store.clone());
        let now = at("2026-11-23T10:00:00Z");
        let officer = staff_member(
            &store,
            "Alex Officer",
            "alex@example-homes.org.uk",
            Role::ComplaintsOfficer,
            now,
        )
        .await;
        let answers = |how: &str, detail: &str| {
            BTreeMap::from([
                ("contact".to_owned(), how.to_owned()),
                ("contact_detail".to_owned(), detail.to_owned()),
            ])
        };
        for (reference, how, detail) in [
            ("C2026-00101", "email", "sam@example.org please"),
            ("C2026-00102", "letter", "4 Rowan Close, Leeds LS1 1AA"),
            ("C2026-00103", "email", "no email, sorry"),
            ("C2026-00104", "chat", ""),
        ] {
            open_case_answered(&store, reference, "2026-12-07", now, answers(how, detail)).await;
            service
                .extend_deadline(
                    reference,
                    3,
                    "We are waiting for a surveyor's report.",
                    &officer,
                    now,
                )
                .await
                .expect("extend");
        }
        assert_eq!(alerts_of_kind(&store, "reply_another_way").await, 1);
        assert_eq!(alerts_of_kind(&store, "email_unusable").await, 1);
        // Alerts can go to chats and mailboxes: they name the complaint, not the contact.
        let details: Vec<String> = sqlx::query("SELECT detail FROM alerts")
            .fetch_all(store.pool_for_tests())
            .await
            .expect("alerts")
            .iter()
            .map(|r| r.try_get("detail").expect("detail"))
            .collect();
        assert!(
            details
                .iter()
                .all(|d| !d.contains("Rowan Close") && !d.contains("no email")),
            "{details:?}"
        );
        assert!(
            details
                .iter()
                .any(|d| d.contains("C2026-00102") && d.contains("by post"))
        );
        let queued: Vec<(String, String)> =
            sqlx::query("SELECT case_reference, to_address FROM resident_emails ORDER BY id")
                .fetch_all(store.pool_for_tests())
                .await
                .expect("emails")
                .iter()
                .map(|r| {
                    (
                        r.try_get("case_reference").expect("ref"),
                        r.try_get("to_address").expect("to"),
                    )
                })
                .collect();
        assert_eq!(
            queued,
            [("C2026-00101".to_owned(), "sam@example.org".to_owned())]
        );

        // The mail server is down: kept, with the reason, and tried again later.
        let down = AlertsConfig {
            smtp: SmtpConfig {
                host: Some("127.0.0.1".to_owned()),
                port: free_port(),
                username: None,
                from: "complaints@example-homes.org.uk".to_owned(),
                tls: "none".to_owned(),
            },
            ..AlertsConfig::default()
        };
        let run = scheduler(service.clone(), down, None)
            .run_once(now)
            .await
            .expect("run");
        assert_eq!((run.emails_sent, run.failed), (0, 1), "{run:?}");
        let error: Option<String> = sqlx::query("SELECT last_error FROM resident_emails")
            .fetch_one(store.pool_for_tests())
            .await
            .expect("row")
            .try_get("last_error")
            .expect("column");
        assert!(error.is_some());
        let (port, mails) = smtp_sink().await;
        let up = AlertsConfig {
            smtp: SmtpConfig {
                host: Some("127.0.0.1".to_owned()),
                port,
                username: None,
                from: "complaints@example-homes.org.uk".to_owned(),
                tls: "none".to_owned(),
            },
            ..AlertsConfig::default()
        };
        let s = scheduler(service.clone(), up, None);
        let run = s.run_once(now + Duration::seconds(1)).await.expect("run");
        assert_eq!(run.emails_sent, 0, "not before its next try: {run:?}");
        let run = s.run_once(now + Duration::minutes(2)).await.expect("run");
        assert_eq!(run.emails_sent, 1, "{run:?}");
        let mails = mails.lock().expect("lock").clone();
        assert_eq!(mails.len(), 1);
        assert!(mails[0].contains("sam@example.org"), "{}", mails[0]);
        assert!(mails[0].contains("C2026-00101"), "{}", mails[0]);
        let run = s.run_once(now + Duration::minutes(10)).await.expect("run");
        assert_eq!(run.emails_sent, 0, "sent once");
    });
}

/// Marks the first resident message's assessment "not a complaint", as staff would; returns the
/// number of corrected messages the store then holds.
async fn staff_correction(store: &intake::store::Store) -> usize {
    let message = intake::core::ids::MessageId(
        sqlx::query("SELECT MIN(id) AS id FROM messages WHERE direction = 'in'")
            .fetch_one(store.pool_for_tests())
            .await
            .expect("message")
            .try_get("id")
            .expect("id"),
    );
    let staff = intake::core::ids::StaffId(
        sqlx::query("SELECT MIN(id) AS id FROM staff")
            .fetch_one(store.pool_for_tests())
            .await
            .expect("staff")
            .try_get("id")
            .expect("id"),
    );
    let mut record = store.begin().await.expect("begin");
    record.correction(
        message,
        staff,
        &intake::core::policy::train::Correction::Dissatisfied(false),
        chrono::Utc::now(),
    );
    record.commit().await.expect("commit");
    let corrected = store.corrected_messages().await.expect("corrected");
    if let Some(m) = corrected.first() {
        assert!(m.text.contains("boiler"), "{m:?}");
        assert_eq!(
            m.corrections,
            vec![intake::core::policy::train::Correction::Dissatisfied(false)]
        );
    }
    corrected.len()
}
