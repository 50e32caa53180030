//! Scripted conversations (`tests/conversations/*.txt`) held with the intake service, against
//! SQLite and PostgreSQL. Each line of a script:
//!
//! - `> text`: the resident sends `text` (`> [photo]` sends a photo, `> [sticker]` a sticker);
//! - `< words`: one of the bot's replies to the last message contains `words`; `{ref}` stands
//!   for the complaint reference, which `< Reference: {ref}` reads from an acknowledgement
//!   (a new one each time);
//! - `<! words`: no reply to the last message contains `words`;
//! - `= case stage N` / `= no case`: the conversation's complaint is at stage N, or there is none;
//! - `= alert KIND` / `= urgent KIND` / `= event KIND` / `= no event KIND`: the record holds it;
//! - `@ +N minutes|hours|days`: the clock moves on;
//! - `! stage 1 response sent`: staff send the stage 1 response (what the console will do);
//! - `~ sweep`: the half-finished sweep runs (48 hours);
//! - `% reach email` / `% reach manager`: a mail server / an alert sink reaching a manager is
//!   configured for this script (by default neither, so the bot promises neither);
//! - `! definition edited`: a complaints officer revises the complaint's definition;
//! - `! complaint closed`: a complaints officer closes the complaint (after its response); what
//!   the bot then sends (the feedback question) is read by the `<` lines that follow;
//! - `= request KIND`: a tracked request of that kind (access, erasure, interpreter...);
//! - `# ...`: a comment.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use intake::core::dialog::{Input, Reply, State};
use intake::service::Intake;
use intake::store::{Conversation, Inbound, Store, StoreError};
use serde_json::json;
use sqlx::Row;

use crate::helpers::{intake, on_both, staff_member};
use intake::staff::Role;

fn scripts() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conversations");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("tests/conversations")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .map(|p| {
            (
                p.file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                std::fs::read_to_string(&p).expect("script"),
            )
        })
        .collect();
    out.sort();
    out
}

/// Staff sent the stage 1 response (what the console records; 6.9): the resident can now
/// ask for stage 2. Only what the scripts need of it: the event, the case responded, and the
/// conversation's state knowing it.
async fn stage_one_response_sent(
    store: &Store,
    conversation: &Conversation,
    reference: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut record = store.begin().await?;
    let current = record
        .conversation_on(&conversation.channel, &conversation.chat, now)
        .await?;
    let mut state: State = serde_json::from_str(&current.state).unwrap_or_default();
    for case in state.cases.iter_mut().filter(|c| c.reference == reference) {
        case.responded = true;
    }
    record.event(
        &current,
        Some(reference),
        "stage1_response_sent",
        &json!({}),
        now,
    );
    record.case_status(reference, intake::core::ids::CaseStatus::Responded, now);
    record.save_state(&current, &serde_json::to_string(&state)?, now);
    record.commit().await
}

async fn run_script(name: &str, script: &str, intake: &Intake) {
    // `% reach email`, `% reach manager`: what this script's configuration lets the bot
    // promise (a mail server, an alert sink that reaches a manager); by default, nothing.
    let mut reach = intake::core::dialog::Reach::default();
    for line in script.lines().filter_map(|l| l.strip_prefix("% reach ")) {
        match line.trim() {
            "email" => reach.email = true,
            "manager" => reach.manager = true,
            other => panic!("{name}: unknown reach {other:?}"),
        }
    }
    let intake = &intake.clone().with_reach(reach);
    let mut now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().expect("start");
    let chat = name.trim_end_matches(".txt").to_owned();
    let mut last: Vec<Reply> = Vec::new();
    let mut conversation: Option<intake::core::ids::ConversationId> = None;
    let mut sent = 0;
    let mut reference: Option<String> = None;
    for (n, line) in script.lines().enumerate() {
        let at = format!("{name}:{}", n + 1);
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') || line.starts_with('%') {
            continue;
        }
        let (op, arg) = line.split_once(' ').unwrap_or((line, ""));
        let all = || {
            last.iter()
                .map(|r| format!("{}\n{:?}", r.text, r.choices))
                .collect::<Vec<_>>()
                .join("\n---\n")
        };
        match op {
            ">" => {
                sent += 1;
                now += Duration::minutes(1);
                let input = match arg {
                    "[photo]" => Input::Attachment,
                    "[sticker]" => Input::Unsupported,
                    text => Input::Text(text.to_owned()),
                };
                let inbound = Inbound {
                    channel: "script".to_owned(),
                    chat: chat.clone(),
                    platform_message_id: Some(format!("{chat}-{sent}")),
                    body: if matches!(input, Input::Text(_)) {
                        arg.to_owned()
                    } else {
                        String::new()
                    },
                    attachments: Vec::new(),
                    at: now,
                };
                let handled = intake
                    .handle(&inbound, &input)
                    .await
                    .unwrap_or_else(|e| panic!("{at}: {e}"));
                assert!(!handled.duplicate, "{at}: recorded as a duplicate");
                // No promise without its effect (the promise test, end to end).
                for reply in &handled.replies {
                    if let Some(promise) = reply.promise {
                        assert!(
                            handled.effects.iter().any(|e| promise.kept_by(e)),
                            "{at}: {:?} promises {promise:?} with no effect that keeps it: {:?}",
                            reply.text,
                            handled.effects
                        );
                    }
                }
                conversation = Some(handled.conversation);
                last = handled.replies;
            }
            "<" if arg == "Reference: {ref}" => {
                let found = last
                    .iter()
                    .find_map(|r| r.text.split("Reference: ").nth(1))
                    .and_then(|rest| rest.split_whitespace().next())
                    .map(str::to_owned)
                    .unwrap_or_else(|| panic!("{at}: no reference in:\n{}", all()));
                assert_ne!(
                    reference.as_deref(),
                    Some(found.as_str()),
                    "{at}: the same reference again"
                );
                reference = Some(found);
            }
            "<" => {
                let arg = arg.replace(
                    "{ref}",
                    reference.as_deref().unwrap_or("{no reference yet}"),
                );
                let arg = arg.as_str();
                assert!(
                    last.iter()
                        .any(|r| r.text.contains(arg)
                            || r.choices.iter().any(|c| c.label.contains(arg))),
                    "{at}: no reply contains {arg:?}; the replies were:\n{}",
                    all()
                );
            }
            "<!" => assert!(
                !last.iter().any(|r| r.text.contains(arg)),
                "{at}: a reply contains {arg:?}:\n{}",
                all()
            ),
            "@" => {
                let parts: Vec<&str> = arg.trim_start_matches('+').split_whitespace().collect();
                let n: i64 = parts[0].parse().expect("a number");
                now += match parts.get(1).copied() {
                    Some("minutes") => Duration::minutes(n),
                    Some("hours") => Duration::hours(n),
                    Some("days") => Duration::days(n),
                    other => panic!("{at}: unknown unit {other:?}"),
                };
            }
            "!" if arg == "definition edited" => {
                let reference = reference.clone().expect("a complaint first");
                now += Duration::minutes(1);
                let officer = staff_member(
                    intake.store(),
                    "Alex Officer",
                    &format!("alex-{chat}@example.org"),
                    Role::ComplaintsOfficer,
                    now,
                )
                .await;
                intake
                    .edit_definition(
                        &reference,
                        "- What went wrong: the bathroom ceiling repair on 10 November was not finished.",
                        &officer,
                        now,
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{at}: {e}"));
            }
            "!" if arg == "complaint closed" => {
                let reference = reference.clone().expect("a complaint first");
                now += Duration::minutes(1);
                let officer = staff_member(
                    intake.store(),
                    "Cy Officer",
                    &format!("cy-{chat}@example.org"),
                    Role::ComplaintsOfficer,
                    now,
                )
                .await;
                let closed = intake
                    .close_case(&reference, "Resolved", &officer, now)
                    .await
                    .unwrap_or_else(|e| panic!("{at}: {e}"));
                // What the bot sent on closing, as the resident's chat shows it.
                let transcript = intake
                    .store()
                    .transcript(closed.id)
                    .await
                    .expect("transcript");
                last = transcript
                    .iter()
                    .rev()
                    .take_while(|m| m.direction == "out" && m.at == now)
                    .map(|m| Reply {
                        text: m.body.clone(),
                        choices: Vec::new(),
                        promise: None,
                    })
                    .collect();
            }
            "!" => {
                assert_eq!(arg, "stage 1 response sent", "{at}");
                let id = conversation.expect("a conversation");
                let row = sqlx::query("SELECT reference FROM cases WHERE conversation_id = $1 ORDER BY created_at DESC")
                    .bind(id)
                    .fetch_one(intake.store().pool_for_tests())
                    .await
                    .unwrap_or_else(|e| panic!("{at}: no case: {e}"));
                let reference: String = row.try_get("reference").expect("reference");
                let mut record = intake.store().begin().await.expect("begin");
                let conv = record
                    .conversation("script", &chat, "{}", "en-GB", now)
                    .await
                    .expect("conversation");
                record.commit().await.expect("commit");
                now += Duration::minutes(1);
                stage_one_response_sent(intake.store(), &conv, &reference, now)
                    .await
                    .expect("response sent");
            }
            "~" => {
                assert_eq!(arg, "sweep", "{at}");
                intake
                    .sweep_half_finished(now, Duration::hours(48))
                    .await
                    .unwrap_or_else(|e| panic!("{at}: {e}"));
            }
            "=" => {
                let id = conversation.expect("a conversation");
                let words: Vec<&str> = arg.split_whitespace().collect();
                match words.as_slice() {
                    ["case", "stage", n] => {
                        let row = sqlx::query("SELECT stage FROM cases WHERE conversation_id = $1")
                            .bind(id)
                            .fetch_one(intake.store().pool_for_tests())
                            .await
                            .unwrap_or_else(|e| panic!("{at}: no case: {e}"));
                        let stage: i64 = row.try_get("stage").expect("stage");
                        assert_eq!(stage.to_string(), *n, "{at}");
                    }
                    ["no", "case"] => {
                        let n: i64 = sqlx::query(
                            "SELECT COUNT(*) AS n FROM cases WHERE conversation_id = $1",
                        )
                        .bind(id)
                        .fetch_one(intake.store().pool_for_tests())
                        .await
                        .expect("count")
                        .try_get("n")
                        .expect("n");
                        assert_eq!(n, 0, "{at}: a case was opened");
                    }
                    [kind @ ("alert" | "urgent"), what] => {
                        let alerts = intake.store().alerts(id).await.expect("alerts");
                        assert!(
                            alerts
                                .iter()
                                .any(|(k, urgent)| k == what && (*kind == "alert" || *urgent)),
                            "{at}: no {kind} {what}; alerts: {alerts:?}"
                        );
                    }
                    ["request", kind] => {
                        let events = intake.store().events(id).await.expect("events");
                        assert!(
                            events.iter().any(
                                |(k, detail)| k == "tracked_request" && detail["kind"] == *kind
                            ),
                            "{at}: no tracked {kind} request; events: {events:?}"
                        );
                    }
                    ["event", what] | ["no", "event", what] => {
                        let events = intake.store().events(id).await.expect("events");
                        let found = events.iter().any(|(k, _)| k == what);
                        assert_eq!(
                            found,
                            words[0] == "event",
                            "{at}: event {what}; events: {:?}",
                            events.iter().map(|e| &e.0).collect::<Vec<_>>()
                        );
                    }
                    _ => panic!("{at}: unknown check {arg:?}"),
                }
            }
            _ => panic!("{at}: unknown line {line:?}"),
        }
    }
    // Every reply went through the outbox in the same transaction as its message.
    let id = conversation.expect("a conversation");
    let transcript = intake.store().transcript(id).await.expect("transcript");
    assert_eq!(
        transcript.iter().filter(|m| m.direction == "in").count(),
        sent,
        "{name}: every resident message is in the record"
    );
}

#[test]
fn scripted_conversations_on_sqlite_and_postgresql() {
    let scripts = scripts();
    assert!(scripts.len() >= 5, "only {} scripts", scripts.len());
    on_both(|store| {
        let scripts = scripts.clone();
        async move {
            let intake = intake(store);
            for (name, script) in &scripts {
                run_script(name, script, &intake).await;
            }
        }
    });
}

/// Words a resident typed, as a channel hands them to the service.
fn typed(channel: &str, chat: &str, id: &str, words: &str, at: DateTime<Utc>) -> Inbound {
    Inbound {
        channel: channel.to_owned(),
        chat: chat.to_owned(),
        platform_message_id: Some(id.to_owned()),
        body: words.to_owned(),
        attachments: Vec::new(),
        at,
    }
}

/// The service handles `inbound` as typed words.
async fn says(intake: &Intake, inbound: &Inbound) -> intake::service::Handled {
    intake
        .handle(inbound, &Input::Text(inbound.body.clone()))
        .await
        .expect("handled")
}

/// A phrasing list from `tests/conversations/phrasings/`: (label, words).
fn phrasings(name: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conversations/phrasings")
        .join(name);
    std::fs::read_to_string(&path)
        .expect("phrasings")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(label, words)| (label.to_owned(), words.to_owned()))
        .collect()
}

/// Each everyday request for a person, each privacy request and each question a person must
/// answer, said first in a fresh conversation, leaves the record a person will see: the
/// conversation needs a person, or the request is tracked with its due date.
#[test]
fn every_request_for_a_person_privacy_or_answer_reaches_staff_on_both_databases() {
    let person = phrasings("person.txt");
    let privacy = phrasings("privacy.txt");
    let questions = phrasings("questions.txt");
    assert!(person.len() >= 30 && privacy.len() >= 15 && questions.len() >= 20);
    assert!(privacy.iter().filter(|(kind, _)| kind != "none").count() >= 15);
    on_both(|store| {
        let (person, privacy, questions) = (person.clone(), privacy.clone(), questions.clone());
        async move {
            let intake = intake(store);
            let at: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().expect("now");
            let mut n = 0;
            let mut say = async |words: &str| {
                n += 1;
                let chat = format!("resident-{n}");
                let handled = says(
                    &intake,
                    &typed("phrasing", &chat, &format!("m-{n}"), words, at),
                )
                .await;
                let alerts = intake
                    .store()
                    .alerts(handled.conversation)
                    .await
                    .expect("alerts");
                let events = intake
                    .store()
                    .events(handled.conversation)
                    .await
                    .expect("events");
                let said: Vec<String> = handled.replies.iter().map(|r| r.text.clone()).collect();
                (alerts, events, said.join("\n"))
            };
            let mut wrong = Vec::new();
            for (_, words) in &person {
                let (alerts, _, said) = say(words).await;
                if !alerts.iter().any(|(k, _)| k == "person_requested")
                    || !said.contains("asked a member of staff to join")
                {
                    wrong.push(format!("person\t{words}\t{alerts:?}\t{said}"));
                }
            }
            for (kind, words) in &privacy {
                let (alerts, events, said) = say(words).await;
                if kind == "none" {
                    // Not a request about their data: nothing tracked, nothing promised.
                    if events.iter().any(|(k, _)| k == "tracked_request") {
                        wrong.push(format!("taken for a request\t{words}"));
                    }
                    continue;
                }
                let tracked = events
                    .iter()
                    .any(|(k, d)| k == "tracked_request" && d["kind"] == kind.as_str());
                if !tracked
                    || !alerts.iter().any(|(k, _)| k == "privacy_request")
                    || !said.contains("by Wednesday 23 December 2026")
                {
                    wrong.push(format!("{kind}\t{words}\t{alerts:?}\t{said}"));
                }
            }
            for (_, words) in &questions {
                let (alerts, _, said) = say(words).await;
                let passed_on = alerts
                    .iter()
                    .any(|(k, _)| k == "question" || k == "person_requested");
                if !passed_on || !said.contains("member of staff") {
                    wrong.push(format!("question\t{words}\t{alerts:?}\t{said}"));
                }
            }
            assert!(wrong.is_empty(), "not passed on:\n{}", wrong.join("\n"));
        }
    });
}

/// With no alert sink that reaches a manager, the bot says a manager was told of an
/// emergency only while one is watching the console (signed in and active in the last few
/// minutes); otherwise it says what is true.
#[test]
fn a_manager_is_said_to_be_told_only_while_one_watches_the_console_on_both_databases() {
    on_both(|store| async move {
        let intake = intake(store.clone());
        let t0: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().expect("now");
        let gas = async |chat: &str, at: DateTime<Utc>| {
            let words = "I can smell gas really strongly in the hallway";
            let handled = says(
                &intake,
                &typed("script", chat, &format!("{chat}-1"), words, at),
            )
            .await;
            handled
                .replies
                .iter()
                .map(|r| r.text.clone())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let said = gas("nobody-watching", t0).await;
        assert!(
            said.contains("no one has been told yet") && !said.contains("told a manager"),
            "{said}"
        );
        let mo = staff_member(&store, "Mo Manager", "mo@example.org", Role::Manager, t0).await;
        store
            .open_session("mo-session", mo.id, "csrf", t0, t0 + Duration::hours(8))
            .await
            .expect("session");
        store.session_seen("mo-session", t0).await.expect("seen");
        let said = gas("manager-watching", t0 + Duration::minutes(2)).await;
        assert!(
            said.contains("I have told a manager straight away"),
            "{said}"
        );
        // An hour later, with the console left alone, it is no longer true.
        let said = gas("manager-gone", t0 + Duration::hours(1)).await;
        assert!(said.contains("no one has been told yet"), "{said}");
    });
}

/// Whether, how and when it is safe to contact a resident at risk stays marked for those
/// who may see it (5.10): answered while staff hold the conversation, or edited afterwards.
#[test]
fn an_answer_about_safe_contact_stays_marked_when_held_or_edited_on_both_databases() {
    on_both(|store| async move {
        let intake = intake(store.clone());
        let t0: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().expect("now");
        let message = |chat: &str, id: &str, words: &str, minutes: i64| {
            typed("telegram", chat, id, words, t0 + Duration::minutes(minutes))
        };
        let marked = async |id: &str| {
            store
                .assessment_of_platform_message("telegram", id)
                .await
                .expect("read")
                .expect("assessed")["reasons"]
                .as_array()
                .expect("reasons")
                .iter()
                .any(|r| r["rule"] == intake::service::SAFE_CONTACT_RULE)
        };
        let disclosure = "my partner hits me and I am scared to go home";
        let first = says(&intake, &message("kim", "1", disclosure, 0)).await;
        assert!(
            first
                .replies
                .iter()
                .any(|r| r.text.contains("safe for us to get in touch"))
        );

        // Edited: the new version is marked as the original was.
        let answer = "only here, after 9pm";
        says(&intake, &message("kim", "2", answer, 1)).await;
        assert!(marked("2").await);
        assert!(
            intake
                .record_edit(&message("kim", "2#edit", "only here, after 10pm", 2), "2")
                .await
                .expect("edit")
        );
        assert!(marked("2#edit").await, "the edited answer is marked too");

        // Held by staff before the answer came: still recorded as the answer, and marked.
        let other = says(&intake, &message("lee", "3", disclosure, 0)).await;
        let officer = staff_member(
            &store,
            "Alex Officer",
            "alex-held@example.org",
            Role::ComplaintsOfficer,
            t0,
        )
        .await;
        intake
            .take_over(other.conversation, &officer, t0 + Duration::minutes(1))
            .await
            .expect("take over");
        let held = says(&intake, &message("lee", "4", answer, 2)).await;
        assert!(
            held.replies.is_empty(),
            "the bot is silent while staff hold it"
        );
        assert!(marked("4").await, "the answer given while held is marked");
        let events = store.events(other.conversation).await.expect("events");
        assert!(events.iter().any(|(k, _)| k == "safe_contact"));
    });
}
