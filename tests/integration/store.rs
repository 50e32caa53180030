//! The store suite, run against SQLite (a real file) and PostgreSQL (127.0.0.1:5432, database
//! `test`, each run in its own schema). PostgreSQL must be running: `./.ci/test` starts it.

use chrono::Duration;
use intake::core::policy::{Context, Policy};
use intake::store::{Attachment, Inbound, Store};

use crate::helpers::databases::block_on;
use crate::helpers::{at, intake, on_both};

fn message(id: &str, body: &str, when: &str) -> Inbound {
    Inbound {
        channel: "telegram".to_owned(),
        chat: "4242".to_owned(),
        platform_message_id: Some(id.to_owned()),
        body: body.to_owned(),
        attachments: Vec::new(),
        at: at(when),
    }
}

#[test]
fn a_redelivered_message_is_recorded_once() {
    on_both(|store| async move {
        let now = at("2026-11-23T10:00:00Z");
        for _ in 0..2 {
            let mut record = store.begin().await.expect("begin");
            let conv = record
                .conversation("telegram", "4242", "{}", "en-GB", now)
                .await
                .expect("conversation");
            let first = record
                .inbound(
                    &conv,
                    &message("m1", "still no boiler", "2026-11-23T10:00:00Z"),
                )
                .await
                .expect("inbound");
            record.commit().await.expect("commit");
            let transcript = store.transcript(conv.id).await.expect("transcript");
            assert_eq!(transcript.len(), 1, "{transcript:?}");
            assert_eq!(transcript[0].body, "still no boiler");
            // The second delivery finds the first.
            if first.is_none() {
                return;
            }
        }
        panic!("the second delivery was recorded again");
    });
}

#[test]
fn everything_one_message_causes_commits_together_or_not_at_all() {
    on_both(|store| async move {
        let now = at("2026-11-23T10:00:00Z");
        let policy = Policy::shipped().expect("policy");
        let text = "brilliant, another week with no hot water 😡";
        {
            let mut record = store.begin().await.expect("begin");
            let conv = record
                .conversation("web", "s1", "{\"step\":\"listen\"}", "en-GB", now)
                .await
                .expect("conversation");
            let id = record
                .inbound(
                    &conv,
                    &Inbound {
                        channel: "web".to_owned(),
                        chat: "s1".to_owned(),
                        ..message("w1", text, "2026-11-23T10:00:00Z")
                    },
                )
                .await
                .expect("inbound")
                .expect("new");
            record
                .assessment(id, &policy.assess(text, &Context::default()), now)
                .expect("assessment");
            record.outbound(
                &conv,
                "bot",
                "I'm sorry.",
                &serde_json::json!({"text": "I'm sorry."}),
                now,
            );
            // Dropped without commit: as if the process died here.
        }
        let mut record = store.begin().await.expect("begin");
        let conv = record
            .conversation("web", "s1", "{\"step\":\"listen\"}", "en-GB", now)
            .await
            .expect("conversation");
        record.commit().await.expect("commit");
        assert!(
            store
                .transcript(conv.id)
                .await
                .expect("transcript")
                .is_empty()
        );
        assert!(store.due_outbox(now, 10).await.expect("outbox").is_empty());

        // Now the whole of it, committed.
        let mut record = store.begin().await.expect("begin");
        let conv = record
            .conversation("web", "s1", "{}", "en-GB", now)
            .await
            .expect("conversation");
        let id = record
            .inbound(
                &conv,
                &Inbound {
                    channel: "web".to_owned(),
                    chat: "s1".to_owned(),
                    ..message("w1", text, "2026-11-23T10:00:00Z")
                },
            )
            .await
            .expect("inbound")
            .expect("new");
        record
            .assessment(id, &policy.assess(text, &Context::default()), now)
            .expect("assessment");
        record.outbound(
            &conv,
            "bot",
            "I'm sorry.",
            &serde_json::json!({"text": "I'm sorry."}),
            now,
        );
        record.save_state(&conv, "{\"step\":\"offer\"}", now);
        record.commit().await.expect("commit");

        let transcript = store.transcript(conv.id).await.expect("transcript");
        assert_eq!(
            transcript
                .iter()
                .map(|m| (m.direction.as_str(), m.author.as_str()))
                .collect::<Vec<_>>(),
            vec![("in", "resident"), ("out", "bot")]
        );
        let stored = store
            .assessment_of(id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(stored["dissatisfied"], true);
        assert_eq!(stored["intent"], "complaint");
        assert!(stored["reasons"].as_array().is_some_and(|r| !r.is_empty()));
        let mut record = store.begin().await.expect("begin");
        let again = record
            .conversation("web", "s1", "{}", "en-GB", now)
            .await
            .expect("conversation");
        record.commit().await.expect("commit");
        assert_eq!(again.state, "{\"step\":\"offer\"}");
    });
}

#[test]
fn messages_are_never_edited() {
    on_both(|store| async move {
        let now = at("2026-11-23T10:00:00Z");
        let mut record = store.begin().await.expect("begin");
        let conv = record
            .conversation("discord", "99", "{}", "en-GB", now)
            .await
            .expect("conversation");
        let mut inbound = message("d1", "the damp is back", "2026-11-23T10:00:00Z");
        inbound.channel = "discord".to_owned();
        inbound.attachments.push(Attachment {
            kind: "photo".to_owned(),
            platform_file_id: "AgACAgQAAxkBAAIB".to_owned(),
            name: Some("damp.jpg".to_owned()),
            size: Some(182_044),
        });
        record.inbound(&conv, &inbound).await.expect("inbound");
        record.commit().await.expect("commit");
        let edit =
            sqlx::query("UPDATE messages SET body = 'nothing to see' WHERE conversation_id = $1")
                .bind(conv.id)
                .execute(store.pool_for_tests())
                .await;
        let err = edit.expect_err("an edit must be refused").to_string();
        assert!(err.contains("append-only"), "{err}");
        let transcript = store.transcript(conv.id).await.expect("transcript");
        assert_eq!(transcript[0].body, "the damp is back");
        assert_eq!(
            transcript[0].attachments[0].name.as_deref(),
            Some("damp.jpg")
        );
    });
}

#[test]
fn the_outbox_keeps_a_reply_until_it_is_delivered() {
    on_both(|store| async move {
        let now = at("2026-11-23T10:00:00Z");
        let mut record = store.begin().await.expect("begin");
        let conv = record
            .conversation("telegram", "7", "{}", "en-GB", now)
            .await
            .expect("conversation");
        record.outbound(
            &conv,
            "bot",
            "Your reference is C-0001.",
            &serde_json::json!({"text": "Your reference is C-0001."}),
            now,
        );
        record.commit().await.expect("commit");

        let due = store.due_outbox(now, 10).await.expect("due");
        assert_eq!(due.len(), 1);
        // The outbox row points at the reply it delivers.
        let transcript = store.transcript(conv.id).await.expect("transcript");
        let reply = transcript
            .iter()
            .find(|m| m.id == due[0].message_id)
            .expect("the reply");
        assert_eq!(
            (reply.direction.as_str(), reply.body.as_str()),
            ("out", "Your reference is C-0001.")
        );
        assert_eq!(
            (due[0].channel.as_str(), due[0].chat.as_str()),
            ("telegram", "7")
        );
        // The platform answered 429: try again in 30 seconds, not before.
        store
            .mark_failed(
                due[0].id,
                "429 Too Many Requests",
                now + Duration::seconds(30),
            )
            .await
            .expect("failed");
        assert!(
            store
                .due_outbox(now + Duration::seconds(10), 10)
                .await
                .expect("due")
                .is_empty()
        );
        let retry = store
            .due_outbox(now + Duration::seconds(30), 10)
            .await
            .expect("due");
        assert_eq!(retry.len(), 1);
        assert_eq!(retry[0].attempts, 1);
        store
            .mark_sent(retry[0].id, now + Duration::seconds(31))
            .await
            .expect("sent");
        assert!(
            store
                .due_outbox(now + Duration::days(1), 10)
                .await
                .expect("due")
                .is_empty()
        );
    });
}

#[test]
fn the_sqlite_file_is_created_durable_on_first_run() {
    block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data/intake.db");
        let store = Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("store");
        assert!(path.is_file());
        let row: (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(store.pool_for_tests())
            .await
            .expect("pragma");
        assert_eq!(row.0, "wal");
        let row: (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(store.pool_for_tests())
            .await
            .expect("pragma");
        assert_eq!(row.0, 2, "synchronous = FULL");
    });
}

#[test]
fn messages_committed_together_each_stay_whole() {
    use intake::core::dialog::Input;
    use intake::service::Writer;
    on_both(|store| async move {
        let writer = Writer::start(intake(store.clone()), 16);
        let lines = ["the caretaker was rude to me, not happy", "1", "yes"];
        let mut tasks = Vec::new();
        for resident in 0..12 {
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                let mut conversation = intake::core::ids::ConversationId(0);
                for (n, line) in lines.iter().enumerate() {
                    // Every message is delivered twice, as a platform may.
                    for _ in 0..2 {
                        let inbound = Inbound {
                            channel: "group".to_owned(),
                            chat: format!("r{resident}"),
                            platform_message_id: Some(format!("r{resident}-{n}")),
                            body: (*line).to_owned(),
                            attachments: Vec::new(),
                            at: at("2026-11-23T10:00:00Z") + Duration::seconds(n as i64),
                        };
                        let handled = writer
                            .handle(inbound, Input::Text((*line).to_owned()))
                            .await
                            .expect("handled");
                        conversation = handled.conversation;
                    }
                }
                conversation
            }));
        }
        for task in tasks {
            let conversation = task.await.expect("task");
            let transcript = store.transcript(conversation).await.expect("transcript");
            let inbound = transcript.iter().filter(|m| m.direction == "in").count();
            assert_eq!(inbound, 3, "each message once: {transcript:?}");
            assert!(
                transcript
                    .iter()
                    .any(|m| m.body.contains("What is your name"))
            );
        }
    });
}

/// Issue 14 item 5: readiness proves a write: it fails while a table a message is written to
/// is missing (a renamed schema), and passes again once it is back.
#[test]
fn readiness_fails_while_the_record_cannot_take_a_message() {
    on_both(|store| async move {
        let now = at("2026-11-23T10:00:00Z");
        store.ready(now).await.expect("ready");
        sqlx::query("ALTER TABLE outbox RENAME TO outbox_moved")
            .execute(store.pool_for_tests())
            .await
            .expect("rename");
        let refused = store.ready(now).await;
        assert!(refused.is_err(), "not ready without the outbox");
        sqlx::query("ALTER TABLE outbox_moved RENAME TO outbox")
            .execute(store.pool_for_tests())
            .await
            .expect("rename back");
        store.ready(now).await.expect("ready again");
    });
}

/// Group commit's savepoints on both databases: a message whose writes fail is undone alone,
/// the next one in the same transaction is kept, and the commit reports what really happened.
#[test]
fn a_failed_message_in_a_group_is_undone_alone() {
    on_both(|store| async move {
        let now = at("2026-11-23T10:00:00Z");
        let mut outer = store.begin().await.expect("begin");
        let good = outer
            .conversation("web", "good", "{}", "en-GB", now)
            .await
            .expect("conversation");
        {
            let mut failing = outer.nested().await.expect("savepoint");
            // A conversation that does not exist: the database refuses the message.
            let ghost = intake::store::Conversation {
                id: intake::core::ids::ConversationId(999_999),
                ..good.clone()
            };
            assert!(
                failing
                    .inbound(&ghost, &message("g1", "lost", "2026-11-23T10:00:00Z"))
                    .await
                    .is_err()
            );
            // Dropped without committing: undone when the outer record goes on.
        }
        let mut kept = outer.nested().await.expect("the transaction goes on");
        kept.inbound(&good, &message("k1", "kept", "2026-11-23T10:00:01Z"))
            .await
            .expect("inbound")
            .expect("new");
        kept.commit().await.expect("release");
        outer.commit().await.expect("commit");
        let bodies: Vec<String> = store
            .transcript(good.id)
            .await
            .expect("transcript")
            .into_iter()
            .map(|m| m.body)
            .collect();
        assert_eq!(bodies, vec!["kept".to_owned()]);
    });
}
