//! Tracked requests on both databases: a privacy request or another language in a resident's
//! words becomes a request with its statutory date (UK GDPR art. 12(3)) and an alert; staff
//! log one the bot missed, counted from the day it was received; the inbox filter and the page of open requests; answering and extending in the console, with
//! who may do which; the scheduler's reminders; the retention purge; whether a manager is
//! watching the console.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use intake::config::AlertsConfig;
use intake::core::dialog::{Input, RequestKind};
use intake::core::ids::ConversationId;
use intake::scheduler::Scheduler;
use intake::service::{Intake, LogRequest, RequestError};
use intake::staff::{InboxFilter, Role};
use intake::store::{Inbound, Store, TrackedRequest};
use sqlx::Row;

use crate::helpers::staff::{act, csrf_of, no_redirects, page, refusal, sign_in};
use crate::helpers::{PASSWORD, at, intake, on_both, open_case, staff_member};

const ERASURE: &str = "please delete all the data you hold about me";
/// A request to see their records in words the recogniser does not know.
const MISSED: &str = "can i see what the housing officers have written about me";
const POLISH: &str = "Dzień dobry, od trzech tygodni mam pleśń w sypialni i nikt nie przyszedł";

/// The resident on web chat `chat` says `text` at `now`; the conversation and the bot's words.
async fn say(
    service: &Intake,
    chat: &str,
    text: &str,
    now: DateTime<Utc>,
) -> (ConversationId, String) {
    let handled = service
        .handle(
            &Inbound {
                channel: "web".to_owned(),
                chat: chat.to_owned(),
                platform_message_id: None,
                body: text.to_owned(),
                attachments: Vec::new(),
                at: now,
            },
            &Input::Text(text.to_owned()),
        )
        .await
        .expect("handle");
    let said: Vec<String> = handled.replies.into_iter().map(|r| r.text).collect();
    (handled.conversation, said.join("\n"))
}

/// The conversation's only tracked request.
async fn only_request(store: &Store, conversation: ConversationId) -> TrackedRequest {
    let mut requests = store
        .conversation_requests(conversation)
        .await
        .expect("requests");
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests.remove(0)
}

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// Unacknowledged alerts of a conversation, by kind.
async fn open_alert_kinds(store: &Store, conversation: ConversationId) -> Vec<String> {
    store
        .open_alerts()
        .await
        .expect("alerts")
        .into_iter()
        .filter(|a| a.conversation == conversation)
        .map(|a| a.kind)
        .collect()
}

#[test]
fn a_privacy_request_in_the_residents_words_is_tracked_with_its_statutory_month() {
    on_both(|store| async move {
        let service = intake(store.clone());
        // 31 January: one calendar month later is 28 February (art. 12(3), as the ICO reads it).
        let (conversation, said) = say(&service, "r1", ERASURE, at("2027-01-31T10:00:00Z")).await;
        assert!(said.contains("28 February 2027"), "{said}");
        let request = only_request(&store, conversation).await;
        assert_eq!(request.kind, RequestKind::Erasure);
        assert_eq!(request.detail, ERASURE);
        assert_eq!(request.due_on, day("2027-02-28"));
        assert!(request.is_open() && request.extended_due_on.is_none());
        assert!(
            store
                .alerts(conversation)
                .await
                .expect("alerts")
                .contains(&("privacy_request".to_owned(), false))
        );
        // Mid-month: the same day a month later.
        let (later, _) = say(&service, "r2", ERASURE, at("2027-03-10T10:00:00Z")).await;
        assert_eq!(only_request(&store, later).await.due_on, day("2027-04-10"));

        // Another language: the interpreter offer, and a request naming the language.
        let (polish, said) = say(&service, "r3", POLISH, at("2027-03-10T10:00:00Z")).await;
        assert!(!said.is_empty());
        let interpreter = only_request(&store, polish).await;
        assert_eq!(interpreter.kind, RequestKind::Interpreter);
        assert_eq!(interpreter.detail, "Polish");

        // The inbox's filter: only conversations with an open request, the earliest due first.
        let filter = InboxFilter {
            status: Some("requests".to_owned()),
            ..InboxFilter::default()
        };
        let rows = intake::staff::inbox(&store, &filter).await.expect("inbox");
        let shown: Vec<(ConversationId, Option<String>)> =
            rows.iter().map(|r| (r.id, r.request_due.clone())).collect();
        assert_eq!(
            shown,
            vec![
                (conversation, Some("2027-02-28".to_owned())),
                (polish, Some(interpreter.due_on.to_string())),
                (later, Some("2027-04-10".to_owned())),
            ]
        );
        let everything = intake::staff::inbox(&store, &InboxFilter::default())
            .await
            .expect("inbox");
        assert_eq!(everything.len(), 3);
    });
}

/// The console over HTTP on a port of its own, in this process, over `service`.
async fn console(service: Intake) -> String {
    crate::helpers::staff::console_in_process(service).await
}

/// The path of a request's action.
fn action(request: &TrackedRequest, what: &str) -> String {
    format!(
        "/console/conversations/{}/requests/{}/{what}",
        request.conversation, request.id
    )
}

/// The last line the resident was sent in a conversation.
async fn last_sent(store: &Store, conversation: ConversationId) -> (String, String) {
    let row = sqlx::query(
        "SELECT author, body FROM messages WHERE conversation_id = $1 AND direction = 'out' \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(conversation.0)
    .fetch_one(store.pool_for_tests())
    .await
    .expect("a line sent");
    (
        row.try_get("author").expect("author"),
        row.try_get("body").expect("body"),
    )
}

async fn audited(store: &Store, action: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM audit WHERE action = $1")
        .bind(action)
        .fetch_one(store.pool_for_tests())
        .await
        .expect("audit")
        .try_get("n")
        .expect("n")
}

#[test]
fn staff_answer_and_extend_requests_in_the_console_as_their_role_allows() {
    on_both(|store| async move {
        let service = intake(store.clone());
        // The console acts at the real time, so these requests are made now.
        let now = Utc::now();
        let (erasure, _) = say(&service, "erase", ERASURE, now).await;
        let (polish, _) = say(&service, "polish", POLISH, now).await;
        let (late, _) = say(&service, "late", ERASURE, now - Duration::days(40)).await;
        let request = only_request(&store, erasure).await;
        let interpreter = only_request(&store, polish).await;
        let overdue = only_request(&store, late).await;
        let officer = staff_member(
            &store,
            "Alex Officer",
            "alex@example.org",
            Role::ComplaintsOfficer,
            now,
        )
        .await;
        staff_member(&store, "Bea Agent", "bea@example.org", Role::Agent, now).await;
        staff_member(&store, "Mo Manager", "mo@example.org", Role::Manager, now).await;
        let base = console(service).await;

        // Nothing without signing in.
        let anonymous = no_redirects()
            .get(format!("{base}/console/requests"))
            .send()
            .await
            .expect("get");
        assert_eq!(anonymous.status(), 303);
        assert_eq!(anonymous.headers()["location"], "/console/login");
        let path = action(&request, "answer");
        assert_eq!(
            act(&base, "", &path, &[("csrf", "x"), ("answer", "done")]).await,
            303
        );

        let alex = sign_in(&base, "alex@example.org", PASSWORD)
            .await
            .expect("sign in");
        let bea = sign_in(&base, "bea@example.org", PASSWORD)
            .await
            .expect("sign in");
        let mo = sign_in(&base, "mo@example.org", PASSWORD)
            .await
            .expect("sign in");

        // Every open request, the most overdue first, for the manager answering to the ICO.
        let (status, listed) = page(&base, &mo, "/console/requests").await;
        assert_eq!(status, 200);
        let first = listed
            .find(&format!("conversation #{late}<"))
            .expect("the late one");
        let second = listed
            .find(&format!("conversation #{erasure}<"))
            .expect("the new one");
        assert!(first < second, "{listed}");
        assert!(listed.contains("Delete their information"));
        assert!(listed.contains("An interpreter"));
        assert!(listed.contains("days overdue"));
        let (_, inbox) = page(&base, &mo, "/console?status=requests").await;
        assert!(
            inbox.contains(&format!(
                "Request due <time datetime=\"{}\">",
                request.due_on
            )),
            "{inbox}"
        );

        // The conversation page: the request, its dates, and the officer's actions.
        let conversation = format!("/console/conversations/{erasure}");
        let (_, html) = page(&base, &alex, &conversation).await;
        assert!(html.contains(&format!("{}", request.due_on)));
        assert!(html.contains("Record the answer") && html.contains("Extend"));
        let csrf = csrf_of(&html);
        // An agent sees it, but may not act on a privacy request.
        let (_, agent_page) = page(&base, &bea, &conversation).await;
        assert!(agent_page.contains("Delete their information"));
        assert!(!agent_page.contains("Record the answer"));
        let agent_csrf = csrf_of(&agent_page);
        assert_eq!(
            act(
                &base,
                &bea,
                &path,
                &[("csrf", &agent_csrf), ("answer", "done")]
            )
            .await,
            403
        );
        assert!(only_request(&store, erasure).await.is_open());
        // Any member of staff may arrange an interpreter.
        assert_eq!(
            act(
                &base,
                &bea,
                &action(&interpreter, "answer"),
                &[
                    ("csrf", &agent_csrf),
                    ("answer", "Language Line, Tuesday at 10")
                ]
            )
            .await,
            303
        );
        let arranged = only_request(&store, polish).await;
        assert_eq!(arranged.answered_by.as_deref(), Some("Bea Agent"));
        let (_, told) = last_sent(&store, polish).await;
        assert_eq!(
            told,
            "We have arranged an interpreter for you: Language Line, Tuesday at 10"
        );

        // A form from another session, and a request of another conversation.
        assert_eq!(
            act(
                &base,
                &alex,
                &path,
                &[("csrf", &agent_csrf), ("answer", "done")]
            )
            .await,
            403
        );
        let elsewhere = format!(
            "/console/conversations/{erasure}/requests/{}/answer",
            overdue.id
        );
        assert_eq!(
            act(
                &base,
                &alex,
                &elsewhere,
                &[("csrf", &csrf), ("answer", "done")]
            )
            .await,
            404
        );

        // Extending: a reason, once, and only within the first month (art. 12(3)).
        let extend = action(&request, "extend");
        assert_eq!(
            act(
                &base,
                &alex,
                &extend,
                &[("csrf", &csrf), ("months", "2"), ("reason", "  ")]
            )
            .await,
            422
        );
        assert_eq!(
            act(
                &base,
                &alex,
                &extend,
                &[
                    ("csrf", &csrf),
                    ("months", "3"),
                    ("reason", "many requests")
                ]
            )
            .await,
            422
        );
        assert!(
            only_request(&store, erasure)
                .await
                .extended_due_on
                .is_none()
        );
        assert_eq!(
            act(
                &base,
                &alex,
                &extend,
                &[
                    ("csrf", &csrf),
                    ("months", "2"),
                    ("reason", "you asked for ten years of repair records")
                ]
            )
            .await,
            303
        );
        let extended = only_request(&store, erasure).await;
        let received = service_local(extended.received_at);
        let to = received
            .checked_add_months(chrono::Months::new(3))
            .expect("date");
        assert_eq!(extended.extended_due_on, Some(to));
        let (author, told) = last_sent(&store, erasure).await;
        assert_eq!(author, format!("staff:{}", officer.id));
        assert!(told.starts_with("We need more time for your request to delete your information because you asked for ten years of repair records; we will answer by "), "{told}");
        assert!(told.contains(&to.format("%-d %B %Y").to_string()), "{told}");
        assert_eq!(
            act(
                &base,
                &alex,
                &extend,
                &[("csrf", &csrf), ("months", "1"), ("reason", "still more")]
            )
            .await,
            422
        );
        let (status, words) = refusal(
            &base,
            &alex,
            &action(&overdue, "extend"),
            &[("csrf", &csrf), ("months", "1"), ("reason", "complex")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(words.contains("within the first month"), "{words}");
        assert_eq!(audited(&store, "request_extended").await, 1);

        // The answer: required, then it closes the request, acknowledges its alert and tells
        // the resident.
        assert_eq!(
            act(&base, &alex, &path, &[("csrf", &csrf), ("answer", "")]).await,
            422
        );
        assert!(
            open_alert_kinds(&store, erasure)
                .await
                .contains(&"privacy_request".to_owned())
        );
        assert_eq!(
            act(
                &base,
                &alex,
                &path,
                &[
                    ("csrf", &csrf),
                    ("answer", "we have deleted everything we hold")
                ]
            )
            .await,
            303
        );
        let answered = only_request(&store, erasure).await;
        assert!(!answered.is_open());
        assert_eq!(answered.answered_by.as_deref(), Some("Alex Officer"));
        assert_eq!(
            answered.answer.as_deref(),
            Some("we have deleted everything we hold")
        );
        assert!(
            !open_alert_kinds(&store, erasure)
                .await
                .contains(&"privacy_request".to_owned())
        );
        let (_, told) = last_sent(&store, erasure).await;
        assert_eq!(
            told,
            "We have answered your request to delete your information: we have deleted everything we hold"
        );
        assert_eq!(audited(&store, "request_answered").await, 2);
        assert_eq!(
            act(&base, &alex, &path, &[("csrf", &csrf), ("answer", "again")]).await,
            422
        );
        let (_, html) = page(&base, &alex, &conversation).await;
        assert!(html.contains("answered on"), "{html}");
        assert!(html.contains("by Alex Officer"));
        // The filter no longer shows it; the overdue one is still there.
        let (_, inbox) = page(&base, &mo, "/console?status=requests").await;
        let (_, rows) = inbox.split_once("<tbody").expect("the list");
        assert!(
            !rows.contains(&format!("href=\"/console/conversations/{erasure}\"")),
            "{rows}"
        );
        assert!(rows.contains(&format!("href=\"/console/conversations/{late}\"")));
    });
}

/// The local date of `moment` in the default landlord's time zone (London).
fn service_local(moment: DateTime<Utc>) -> NaiveDate {
    intake::core::profile::LandlordProfile::default()
        .calendar()
        .local_date(moment)
}

#[test]
fn the_scheduler_reminds_once_near_the_date_and_once_past_it() {
    on_both(|store| async move {
        let service = intake(store.clone());
        let (conversation, _) = say(&service, "r1", ERASURE, at("2027-01-31T10:00:00Z")).await;
        let s = Scheduler::new(
            service.clone(),
            AlertsConfig::default(),
            Duration::hours(24),
            None,
            None,
        );
        let count = async |kind: &str| {
            store
                .alerts(conversation)
                .await
                .expect("alerts")
                .iter()
                .filter(|(k, _)| k == kind)
                .count()
        };
        // Due on 28 February: nothing eight days before, one reminder five days before.
        let run = s.run_once(at("2027-02-20T10:00:00Z")).await.expect("run");
        assert_eq!((run.requests_due, run.requests_overdue), (0, 0));
        let run = s.run_once(at("2027-02-23T10:00:00Z")).await.expect("run");
        assert_eq!((run.requests_due, run.requests_overdue), (1, 0));
        let run = s.run_once(at("2027-02-27T10:00:00Z")).await.expect("run");
        assert_eq!((run.requests_due, run.requests_overdue), (0, 0));
        let run = s.run_once(at("2027-03-01T10:00:00Z")).await.expect("run");
        assert_eq!((run.requests_due, run.requests_overdue), (0, 1));
        let run = s.run_once(at("2027-03-02T10:00:00Z")).await.expect("run");
        assert_eq!((run.requests_due, run.requests_overdue), (0, 0));
        assert_eq!(
            (count("request_due").await, count("request_overdue").await),
            (1, 1)
        );

        // Answering it acknowledges every alert about it, and nothing more is raised.
        let officer = staff_member(
            &store,
            "Alex Officer",
            "alex@example.org",
            Role::ComplaintsOfficer,
            at("2027-01-01T09:00:00Z"),
        )
        .await;
        let request = only_request(&store, conversation).await;
        service
            .answer_request(
                conversation,
                request.id,
                "deleted",
                &officer,
                at("2027-03-02T11:00:00Z"),
            )
            .await
            .expect("answer");
        let left = open_alert_kinds(&store, conversation).await;
        for kind in ["privacy_request", "request_due", "request_overdue"] {
            assert!(!left.iter().any(|k| k == kind), "{left:?}");
        }
        let run = s.run_once(at("2027-03-05T10:00:00Z")).await.expect("run");
        assert_eq!((run.requests_due, run.requests_overdue), (0, 0));
    });
}

#[test]
fn the_retention_purge_erases_a_requests_words_with_the_conversation() {
    on_both(|store| async move {
        let t0 = at("2026-03-02T10:00:00Z");
        let service = intake(store.clone());
        // The complaint's conversation is web chat "C2026-00060".
        open_case(&store, "C2026-00060", "2026-03-16", t0).await;
        let (conversation, _) = say(&service, "C2026-00060", ERASURE, t0).await;
        let officer = staff_member(
            &store,
            "Alex Officer",
            "alex@example.org",
            Role::ComplaintsOfficer,
            t0,
        )
        .await;
        let request = only_request(&store, conversation).await;
        service
            .answer_request(
                conversation,
                request.id,
                "deleted what the law allows",
                &officer,
                t0 + Duration::days(1),
            )
            .await
            .expect("answer");
        sqlx::query(
            "UPDATE cases SET status = 'closed', closed_at = $1 WHERE reference = 'C2026-00060'",
        )
        .bind(intake::store::millis(t0 + Duration::days(1)))
        .execute(store.pool_for_tests())
        .await
        .expect("close");
        let mut s = Scheduler::new(
            service,
            AlertsConfig::default(),
            Duration::hours(24),
            None,
            None,
        );
        s.erase_after = Duration::days(30);
        let run = s.run_once(t0 + Duration::days(40)).await.expect("run");
        assert_eq!(run.erased, 1);
        let erased = only_request(&store, conversation).await;
        assert_eq!(erased.detail, "");
        assert_eq!(erased.answer.as_deref(), Some(""));
        // The record of the request stays, for the ICO: its kind, dates and who answered.
        assert_eq!(erased.kind, RequestKind::Erasure);
        assert_eq!(erased.due_on, request.due_on);
        assert_eq!(erased.answered_by.as_deref(), Some("Alex Officer"));
    });
}

#[test]
fn a_manager_is_watching_only_with_a_session_used_lately() {
    on_both(|store| async move {
        let t0 = at("2027-03-01T09:00:00Z");
        let manager = staff_member(&store, "Mo Manager", "mo@example.org", Role::Manager, t0).await;
        let agent = staff_member(&store, "Bea Agent", "bea@example.org", Role::Agent, t0).await;
        assert!(
            !store
                .manager_watching(t0 - Duration::minutes(10))
                .await
                .expect("watching")
        );
        // An agent's session does not count.
        store
            .open_session("agent-hash", agent.id, "csrf", t0, t0 + Duration::hours(8))
            .await
            .expect("session");
        store.session_seen("agent-hash", t0).await.expect("seen");
        assert!(
            !store
                .manager_watching(t0 - Duration::minutes(10))
                .await
                .expect("watching")
        );
        // A manager's session, opened but never used since: not watching.
        store
            .open_session(
                "manager-hash",
                manager.id,
                "csrf",
                t0,
                t0 + Duration::hours(8),
            )
            .await
            .expect("session");
        assert!(
            !store
                .manager_watching(t0 - Duration::minutes(10))
                .await
                .expect("watching")
        );
        store.session_seen("manager-hash", t0).await.expect("seen");
        assert!(
            store
                .manager_watching(t0 - Duration::minutes(10))
                .await
                .expect("watching")
        );
        // Used again within the minute: not written again.
        store
            .session_seen("manager-hash", t0 + Duration::seconds(30))
            .await
            .expect("seen");
        let seen = async || -> i64 {
            sqlx::query("SELECT last_seen_at FROM staff_sessions WHERE token_hash = 'manager-hash'")
                .fetch_one(store.pool_for_tests())
                .await
                .expect("session")
                .try_get("last_seen_at")
                .expect("last seen")
        };
        assert_eq!(seen().await, intake::store::millis(t0));
        store
            .session_seen("manager-hash", t0 + Duration::minutes(2))
            .await
            .expect("seen");
        assert_eq!(
            seen().await,
            intake::store::millis(t0 + Duration::minutes(2))
        );
        // Twenty minutes later, nobody has looked in the last ten.
        let later = t0 + Duration::minutes(22);
        assert!(
            !store
                .manager_watching(later - Duration::minutes(10))
                .await
                .expect("watching")
        );
        // Looking through the console counts (staff::session notes the use).
        // A check is refused while no checking thread is free, and the one just started may
        // not be waiting for work yet: try again until it takes it.
        let checks = intake::staff::PasswordChecks::start(1);
        let mut tries = 0;
        let (token, _) = loop {
            match intake::staff::log_in(&store, &checks, "mo@example.org", PASSWORD, later).await {
                Err(intake::staff::LogInError::Busy) if tries < 100 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                other => match other.expect("log in") {
                    intake::staff::SignIn::SignedIn(token, session) => break (token, session),
                    refused => panic!("not signed in: {refused:?}"),
                },
            }
        };
        intake::staff::session(&store, &token, later + Duration::minutes(1))
            .await
            .expect("session")
            .expect("current");
        assert!(
            store
                .manager_watching(later - Duration::minutes(10))
                .await
                .expect("watching")
        );
        // A live page left open checks the session every second without counting as use:
        // half an hour on, the manager is no longer watching.
        let away = later + Duration::minutes(31);
        assert!(
            intake::staff::still_signed_in(&store, &token, away)
                .await
                .expect("checked")
        );
        assert!(
            !store
                .manager_watching(away - Duration::minutes(5))
                .await
                .expect("watching")
        );
        // Signed out, or expired: not watching.
        intake::staff::log_out(&store, &token)
            .await
            .expect("log out");
        store
            .session_seen("manager-hash", t0 + Duration::hours(9))
            .await
            .expect("seen");
        assert!(
            !store
                .manager_watching(t0 + Duration::hours(9))
                .await
                .expect("watching")
        );
    });
}

/// The `tracked_request` events of a conversation, as JSON.
async fn tracked_events(store: &Store, conversation: ConversationId) -> Vec<serde_json::Value> {
    sqlx::query("SELECT detail FROM events WHERE conversation_id = $1 AND kind = 'tracked_request'")
        .bind(conversation.0)
        .fetch_all(store.pool_for_tests())
        .await
        .expect("events")
        .iter()
        .map(|r| {
            let detail: String = r.try_get("detail").expect("detail");
            serde_json::from_str(&detail).expect("json")
        })
        .collect()
}

#[test]
fn staff_log_a_privacy_request_the_bot_missed_due_a_month_from_receipt() {
    on_both(|store| async move {
        let service = intake(store.clone());
        let (conversation, _) = say(&service, "missed", MISSED, at("2027-01-31T10:00:00Z")).await;
        // The bot did not recognise it: nothing is tracked yet.
        assert!(
            store
                .conversation_requests(conversation)
                .await
                .expect("requests")
                .is_empty()
        );
        let officer = staff_member(
            &store,
            "Alex Officer",
            "alex@example.org",
            Role::ComplaintsOfficer,
            at("2027-01-01T09:00:00Z"),
        )
        .await;
        let agent = staff_member(
            &store,
            "Bea Agent",
            "bea@example.org",
            Role::Agent,
            at("2027-01-01T09:00:00Z"),
        )
        .await;
        let now = at("2027-02-02T09:00:00Z");
        let log = |kind, received_on: &str, asked: &'static str| LogRequest {
            conversation,
            kind,
            received_on: day(received_on),
            asked,
        };
        let asked = "to see the notes officers keep about them";

        // Refusals write nothing: an agent and a privacy request (5.10), a day in the future
        // or before the conversation began, no words, a conversation that does not exist.
        let refused = [
            service
                .log_request(log(RequestKind::Access, "2027-01-31", asked), &agent, now)
                .await,
            service
                .log_request(log(RequestKind::Access, "2027-02-03", asked), &officer, now)
                .await,
            service
                .log_request(log(RequestKind::Access, "2027-01-30", asked), &officer, now)
                .await,
            service
                .log_request(log(RequestKind::Access, "2027-01-31", "  "), &officer, now)
                .await,
            service
                .log_request(
                    LogRequest {
                        conversation: ConversationId(conversation.0 + 1000),
                        ..log(RequestKind::Access, "2027-01-31", asked)
                    },
                    &officer,
                    now,
                )
                .await,
        ];
        assert!(matches!(refused[0], Err(RequestError::Forbidden(_))));
        assert!(
            matches!(&refused[1], Err(RequestError::Refused(why)) if why.contains("after today"))
        );
        assert!(
            matches!(&refused[2], Err(RequestError::Refused(why)) if why.contains("began on 2027-01-31"))
        );
        assert!(matches!(refused[3], Err(RequestError::Refused(_))));
        assert!(matches!(refused[4], Err(RequestError::NoConversation)));
        assert!(
            store
                .conversation_requests(conversation)
                .await
                .expect("requests")
                .is_empty()
        );
        assert!(
            store
                .alerts(conversation)
                .await
                .expect("alerts")
                .iter()
                .all(|(k, _)| k != "privacy_request")
        );
        assert!(tracked_events(&store, conversation).await.is_empty());
        assert_eq!(audited(&store, "request_logged").await, 0);

        // Received on 31 January, logged two days later: due 28 February (art. 12(3)).
        service
            .log_request(log(RequestKind::Access, "2027-01-31", asked), &officer, now)
            .await
            .expect("logged");
        let request = only_request(&store, conversation).await;
        assert_eq!(request.kind, RequestKind::Access);
        assert_eq!(request.detail, asked);
        assert_eq!(request.due_on, day("2027-02-28"));
        assert_eq!(service_local(request.received_at), day("2027-01-31"));
        assert_eq!(request.logged_by.as_deref(), Some("Alex Officer"));
        assert!(
            store
                .alerts(conversation)
                .await
                .expect("alerts")
                .contains(&("privacy_request".to_owned(), false))
        );
        let events = tracked_events(&store, conversation).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["logged_by"], serde_json::json!(officer.id));
        assert_eq!(events[0]["kind"], "access");
        assert_eq!(events[0]["due_on"], "2027-02-28");
        assert_eq!(audited(&store, "request_logged").await, 1);
        let (author, told) = last_sent(&store, conversation).await;
        assert_eq!(author, format!("staff:{}", officer.id));
        assert_eq!(
            told,
            "A member of our staff has recorded your request to see your information. We will answer it by Sunday 28 February 2027."
        );
        // The alert carries the kind and date, never the resident's words.
        let alert_words: Vec<String> = sqlx::query(
            "SELECT detail FROM alerts WHERE conversation_id = $1 AND kind = 'privacy_request'",
        )
        .bind(conversation.0)
        .fetch_all(store.pool_for_tests())
        .await
        .expect("alerts")
        .iter()
        .map(|r| r.try_get("detail").expect("detail"))
        .collect();
        assert_eq!(alert_words, vec!["access (due 2027-02-28)".to_owned()]);

        // Under status=requests in the inbox, with its date.
        let filter = InboxFilter {
            status: Some("requests".to_owned()),
            ..InboxFilter::default()
        };
        let rows = intake::staff::inbox(&store, &filter).await.expect("inbox");
        assert_eq!(
            rows.iter()
                .map(|r| (r.id, r.request_due.clone()))
                .collect::<Vec<_>>(),
            vec![(conversation, Some("2027-02-28".to_owned()))]
        );

        // An agent may log an interpreter: two working days from receipt (Monday 1 February
        // to Wednesday 3 February).
        service
            .log_request(
                log(
                    RequestKind::Interpreter,
                    "2027-02-01",
                    "Tigrinya, for a phone call",
                ),
                &agent,
                now,
            )
            .await
            .expect("interpreter logged");
        let requests = store
            .conversation_requests(conversation)
            .await
            .expect("requests");
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].kind, RequestKind::Interpreter);
        assert_eq!(requests[1].due_on, day("2027-02-03"));
        assert_eq!(requests[1].logged_by.as_deref(), Some("Bea Agent"));

        // Answering the logged request acknowledges the alert raised when it was logged.
        service
            .answer_request(
                conversation,
                request.id,
                "sent the notes by post",
                &officer,
                at("2027-02-10T09:00:00Z"),
            )
            .await
            .expect("answer");
        let left = open_alert_kinds(&store, conversation).await;
        assert!(!left.iter().any(|k| k == "privacy_request"), "{left:?}");
        assert!(left.iter().any(|k| k == "interpreter"), "{left:?}");
    });
}

#[test]
fn staff_log_a_request_in_the_console_as_their_role_allows() {
    on_both(|store| async move {
        let service = intake(store.clone());
        let now = Utc::now();
        let (conversation, _) = say(&service, "missed", MISSED, now).await;
        staff_member(
            &store,
            "Alex Officer",
            "alex@example.org",
            Role::ComplaintsOfficer,
            now,
        )
        .await;
        staff_member(&store, "Bea Agent", "bea@example.org", Role::Agent, now).await;
        let base = console(service).await;
        let path = format!("/console/conversations/{conversation}/requests");
        let today = service_local(now);
        let today_text = today.to_string();
        let asked = "to see what officers have written about them";

        // Nothing without signing in.
        let anonymous = no_redirects()
            .post(format!("{base}{path}"))
            .form(&[
                ("csrf", "x"),
                ("kind", "access"),
                ("received_on", today_text.as_str()),
                ("asked", asked),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(anonymous.status(), 303);
        assert_eq!(anonymous.headers()["location"], "/console/login");

        let alex = sign_in(&base, "alex@example.org", PASSWORD)
            .await
            .expect("sign in");
        let bea = sign_in(&base, "bea@example.org", PASSWORD)
            .await
            .expect("sign in");
        let page_path = format!("/console/conversations/{conversation}");
        let (_, html) = page(&base, &alex, &page_path).await;
        assert!(html.contains("Log a request"), "{html}");
        assert!(html.contains("value=\"access\"") && html.contains(&format!("value=\"{today}\"")));
        let csrf = csrf_of(&html);
        // An agent is offered only an interpreter.
        let (_, agent_page) = page(&base, &bea, &page_path).await;
        assert!(
            agent_page.contains("value=\"interpreter\"")
                && !agent_page.contains("value=\"access\"")
        );
        let agent_csrf = csrf_of(&agent_page);

        let yesterday = (today - Duration::days(1)).to_string();
        let tomorrow = (today + Duration::days(1)).to_string();
        let form = |csrf: &str, kind: &str, on: &str, asked: &str| -> Vec<(String, String)> {
            [
                ("csrf", csrf),
                ("kind", kind),
                ("received_on", on),
                ("asked", asked),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
        };
        let post = async |cookie: &str, path: &str, form: Vec<(String, String)>| {
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            refusal(&base, cookie, path, &pairs).await
        };
        let refusals = [
            (
                post(&bea, &path, form(&agent_csrf, "access", &today_text, asked)).await,
                403,
                "complaints officers",
            ),
            (
                post(
                    &alex,
                    &path,
                    form(&agent_csrf, "access", &today_text, asked),
                )
                .await,
                403,
                "",
            ),
            (
                post(&alex, &path, form(&csrf, "access", &tomorrow, asked)).await,
                422,
                "after today",
            ),
            (
                post(&alex, &path, form(&csrf, "access", &yesterday, asked)).await,
                422,
                "conversation began on",
            ),
            (
                post(&alex, &path, form(&csrf, "access", &today_text, " ")).await,
                422,
                "what the resident asked",
            ),
            (
                post(&alex, &path, form(&csrf, "access", "", asked)).await,
                422,
                "as a date",
            ),
            (
                post(
                    &alex,
                    "/console/conversations/999999/requests",
                    form(&csrf, "access", &today_text, asked),
                )
                .await,
                404,
                "no such conversation",
            ),
        ];
        for ((status, words), expected, says) in &refusals {
            assert_eq!(status, expected, "{words}");
            assert!(words.contains(says), "{words}");
        }
        assert!(
            store
                .conversation_requests(conversation)
                .await
                .expect("requests")
                .is_empty()
        );
        assert_eq!(audited(&store, "request_logged").await, 0);
        assert!(tracked_events(&store, conversation).await.is_empty());

        // The officer logs it: on the conversation, the page of open requests and the inbox.
        assert_eq!(
            post(&alex, &path, form(&csrf, "access", &today_text, asked))
                .await
                .0,
            303
        );
        let request = only_request(&store, conversation).await;
        assert_eq!(
            request.due_on,
            intake::core::calendar::calendar_months_after(today, 1)
        );
        let (_, html) = page(&base, &alex, &page_path).await;
        assert!(html.contains("logged by Alex Officer"), "{html}");
        let (_, listed) = page(&base, &alex, "/console/requests").await;
        assert!(
            listed.contains(&format!("conversation #{conversation}<")),
            "{listed}"
        );
        assert!(listed.contains("A copy of their information"));
        let (_, inbox) = page(&base, &alex, "/console?status=requests").await;
        assert!(
            inbox.contains(&format!(
                "Request due <time datetime=\"{}\">",
                request.due_on
            )),
            "{inbox}"
        );

        // An agent logs an interpreter.
        assert_eq!(
            post(
                &bea,
                &path,
                form(
                    &agent_csrf,
                    "interpreter",
                    &today_text,
                    "Arabic, for a visit"
                )
            )
            .await
            .0,
            303
        );
        assert_eq!(
            store
                .conversation_requests(conversation)
                .await
                .expect("requests")
                .len(),
            2
        );
        assert_eq!(audited(&store, "request_logged").await, 2);
    });
}
