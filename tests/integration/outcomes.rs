//! Categories, outcomes and resident feedback (issue 12), on SQLite and PostgreSQL: a
//! complaint opened through the dialog gets a suggested category, which staff confirm; the
//! stage response records its outcome and compensation; closing asks the resident once how it
//! was handled; the answer is kept with the case, shown to managers, and read by the reports.
//! Over HTTP against the real `intake serve`: the new action refused without a session,
//! without the form token and for an agent; a response without an outcome refused, naming it.

use chrono::{DateTime, Duration, Utc};
use intake::core::case::StageResponse;
use intake::core::dialog::{Input, Reply};
use intake::core::outcome::{Outcome, Pence};
use intake::core::report::{Decided, Period};
use intake::service::{CaseError, Intake};
use intake::staff::Role;
use intake::store::{Inbound, Store};
use sqlx::Row;

use crate::helpers::databases::Schema;
use crate::helpers::staff::{act, csrf_of, no_redirects, page, refusal, sign_in};
use crate::helpers::{Bot, PASSWORD, Resident, Said, add_account, at, intake, on_both, sqlite_in};

/// One message from the resident in chat `chat`, through the service; the bot's replies.
async fn says(intake: &Intake, chat: &str, n: u32, input: Input, now: DateTime<Utc>) -> Vec<Reply> {
    let body = match &input {
        Input::Text(t) | Input::Choice(t) => t.clone(),
        _ => String::new(),
    };
    let inbound = Inbound {
        channel: "web".to_owned(),
        chat: chat.to_owned(),
        platform_message_id: Some(format!("{chat}-{n}")),
        body,
        attachments: Vec::new(),
        at: now,
    };
    intake
        .handle(&inbound, &input)
        .await
        .unwrap_or_else(|e| panic!("{chat} message {n}: {e}"))
        .replies
}

fn text(s: &str) -> Input {
    Input::Text(s.to_owned())
}

/// A damp and mould complaint made in chat `chat` through the dialog; its reference.
async fn damp_complaint(intake: &Intake, chat: &str, start: DateTime<Utc>) -> String {
    let steps = [
        "I want to make a complaint about the black mould in my bedroom",
        "yes",
        "Sam Jones",
        "myself",
        "treat the mould and check the ventilation",
        "since October",
        "no",
        "1",
    ];
    for (n, said) in steps.iter().enumerate() {
        let minute = i64::try_from(n).expect("few steps");
        says(
            intake,
            chat,
            u32::try_from(n).expect("few"),
            text(said),
            start + Duration::minutes(minute),
        )
        .await;
    }
    let replies = says(intake, chat, 99, text("yes"), start + Duration::minutes(10)).await;
    replies
        .iter()
        .find_map(|r| r.text.split("Reference: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no acknowledgement: {replies:?}"))
}

fn response(stage: u8, outcome: Option<Outcome>, compensation: Pence) -> StageResponse {
    StageResponse {
        stage,
        definition: "Black mould in the bedroom since October.".to_owned(),
        decision: "We should have treated the mould sooner.".to_owned(),
        reasons: "The first visit did not treat the cause.".to_owned(),
        remedy: "Mould treatment and a new extractor fan.".to_owned(),
        outstanding_actions: "None".to_owned(),
        outcome,
        compensation,
    }
}

/// The bot's lines in the conversation that ask for feedback.
async fn feedback_questions(store: &Store, reference: &str) -> usize {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM messages m JOIN cases c ON c.conversation_id = m.conversation_id \
         WHERE c.reference = $1 AND m.direction = 'out' AND m.body LIKE '%How satisfied are you%'",
    )
    .bind(reference)
    .fetch_one(store.pool_for_tests())
    .await
    .expect("count");
    usize::try_from(row.try_get::<i64, _>("n").expect("n")).expect("count")
}

#[test]
fn category_outcomes_and_feedback_are_kept_once_per_complaint_on_both_databases() {
    on_both(|store| async move {
        let intake = intake(store.clone());
        let start = at("2026-11-23T10:00:00Z");
        let officer = intake::staff::add(
            &store,
            "Alex Officer",
            "alex@example.org",
            Role::ComplaintsOfficer,
            PASSWORD,
            start,
        )
        .await
        .expect("officer");
        let manager = intake::staff::add(
            &store,
            "Mo Manager",
            "mo@example.org",
            Role::Manager,
            PASSWORD,
            start,
        )
        .await
        .expect("manager");
        let reference = damp_complaint(&intake, "mould", start).await;
        let conversation = store
            .case_of(&reference)
            .await
            .expect("read")
            .expect("case")
            .conversation;

        // Suggested from the complaint's words, for staff to confirm.
        let handling = store.case_handling(conversation).await.expect("handling");
        assert_eq!(handling.len(), 1);
        assert_eq!(
            handling[0].suggested_category.as_deref(),
            Some("damp_mould")
        );
        assert_eq!(handling[0].category, None);
        let refused = intake
            .confirm_category(&reference, "plumbing", &officer, start + Duration::hours(1))
            .await;
        assert!(matches!(refused, Err(CaseError::Refused(why)) if why.contains("plumbing")));
        intake
            .confirm_category(&reference, "repairs", &officer, start + Duration::hours(1))
            .await
            .expect("changed");
        intake
            .confirm_category(
                &reference,
                "damp_mould",
                &officer,
                start + Duration::hours(2),
            )
            .await
            .expect("confirmed");

        // The response needs its outcome; with it, the outcome and compensation are kept.
        let day = start + Duration::days(7);
        let refused = intake
            .send_stage_response(&reference, &response(1, None, Pence(0)), &officer, day)
            .await;
        assert!(
            matches!(&refused, Err(CaseError::Missing(m)) if m.iter().any(|m| m.part.contains("outcome"))),
            "{refused:?}"
        );
        intake
            .send_stage_response(
                &reference,
                &response(1, Some(Outcome::PartlyUpheld), Pence(12_550)),
                &officer,
                day,
            )
            .await
            .expect("response");
        let sent = store.transcript(conversation).await.expect("transcript");
        let told = &sent.last().expect("the response").body;
        assert!(
            told.contains("We have upheld your complaint in part.")
                && told.contains("Compensation offered: £125.50."),
            "{told}"
        );

        // Closed: asked once, through the chat, with a button per score and Skip.
        intake
            .close_case(&reference, "Resolved", &officer, day + Duration::hours(1))
            .await
            .expect("closed");
        assert_eq!(feedback_questions(&store, &reference).await, 1);
        let asked: String = sqlx::query(
            "SELECT o.payload FROM outbox o JOIN messages m ON m.id = o.message_id \
             WHERE m.body LIKE '%How satisfied are you%'",
        )
        .fetch_one(store.pool_for_tests())
        .await
        .expect("queued for the channel")
        .try_get("payload")
        .expect("payload");
        let payload: serde_json::Value = serde_json::from_str(&asked).expect("json");
        assert_eq!(
            payload["choices"].as_array().map(Vec::len),
            Some(6),
            "{payload}"
        );
        let later = day + Duration::hours(2);
        let replies = says(&intake, "mould", 100, Input::Choice("4".to_owned()), later).await;
        assert!(
            replies
                .iter()
                .any(|r| r.text.contains("anything you would like"))
        );
        says(
            &intake,
            "mould",
            101,
            text("Sorted in the end, but I had to chase twice"),
            later + Duration::minutes(1),
        )
        .await;

        // Not happy after all: stage 2, answered by someone else (6.13) and closed again.
        // The resident is not asked a second time about the same complaint.
        let replies = says(
            &intake,
            "mould",
            102,
            text("I'm still not happy with this"),
            later + Duration::days(1),
        )
        .await;
        assert!(
            replies.iter().any(|r| r.text.contains("stage 2")),
            "{replies:?}"
        );
        let day2 = later + Duration::days(10);
        intake
            .send_stage_response(
                &reference,
                &response(2, Some(Outcome::NotUpheld), Pence(0)),
                &manager,
                day2,
            )
            .await
            .expect("stage 2 response");
        intake
            .close_case(&reference, "Final", &manager, day2 + Duration::hours(1))
            .await
            .expect("closed again");
        assert_eq!(
            feedback_questions(&store, &reference).await,
            1,
            "asked once"
        );

        // Shown on the case: the category, each stage's outcome, the feedback.
        let handling = store.case_handling(conversation).await.expect("handling");
        let h = &handling[0];
        assert_eq!(h.category.as_deref(), Some("damp_mould"));
        assert_eq!(h.category_by.as_deref(), Some("Alex Officer"));
        let outcomes: Vec<(u8, Outcome, Pence, &str)> = h
            .outcomes
            .iter()
            .map(|o| {
                (
                    o.stage.number(),
                    o.outcome,
                    o.compensation,
                    o.recorded_by.as_str(),
                )
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                (1, Outcome::PartlyUpheld, Pence(12_550), "Alex Officer"),
                (2, Outcome::NotUpheld, Pence(0), "Mo Manager")
            ]
        );
        let feedback = h.feedback.as_ref().expect("feedback");
        assert_eq!(feedback.score, Some(4));
        assert_eq!(
            feedback.comment.as_deref(),
            Some("Sorted in the end, but I had to chase twice")
        );
        assert_eq!(feedback.skipped_at, None);

        // And the reports read them with the complaint's other facts.
        let period = Period::month(2026, 11).expect("month");
        let facts = store
            .complaint_facts(&period, intake.calendar())
            .await
            .expect("facts");
        let work = &facts
            .iter()
            .find(|f| f.reference == reference)
            .expect("the complaint")
            .work;
        assert_eq!(work.category.as_deref(), Some("damp_mould"));
        assert!(work.category_confirmed);
        assert_eq!(
            work.decided,
            [
                Some(Decided {
                    outcome: Outcome::PartlyUpheld,
                    compensation: Pence(12_550)
                }),
                Some(Decided {
                    outcome: Outcome::NotUpheld,
                    compensation: Pence(0)
                })
            ]
        );
        assert_eq!(work.compensation(), Pence(12_550));
        assert_eq!(work.feedback_score, Some(4));

        // Each step is in the record and the audit.
        let events = store.events(conversation).await.expect("events");
        for kind in [
            "category_confirmed",
            "feedback_asked",
            "feedback_score",
            "feedback_comment",
        ] {
            assert!(events.iter().any(|(k, _)| k == kind), "no {kind} event");
        }
        let audited: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM audit WHERE action = 'confirm_category' AND case_reference = $1",
        )
        .bind(&reference)
        .fetch_one(store.pool_for_tests())
        .await
        .expect("audit")
        .try_get("n")
        .expect("n");
        assert_eq!(audited, 2);

        // When the retention period erases the conversation, the resident's words go and the
        // figures stay.
        let mut record = store.begin().await.expect("begin");
        record.erase_conversation(conversation, &[], day2 + Duration::days(400));
        record.commit().await.expect("erased");
        let handling = store.case_handling(conversation).await.expect("handling");
        let feedback = handling[0].feedback.as_ref().expect("kept");
        assert_eq!(feedback.score, Some(4));
        assert_eq!(feedback.comment.as_deref(), Some(""));
        assert_eq!(handling[0].category.as_deref(), Some("damp_mould"));
        assert_eq!(handling[0].outcomes.len(), 2);
    });
}

#[test]
fn a_complaint_closed_mid_conversation_is_asked_about_later_and_a_skip_is_kept() {
    on_both(|store| async move {
        let intake = intake(store.clone());
        let start = at("2026-11-23T10:00:00Z");
        let officer = intake::staff::add(
            &store,
            "Alex Officer",
            "alex@example.org",
            Role::ComplaintsOfficer,
            PASSWORD,
            start,
        )
        .await
        .expect("officer");
        let reference = damp_complaint(&intake, "busy", start).await;
        let day = start + Duration::days(5);
        intake
            .send_stage_response(
                &reference,
                &response(1, Some(Outcome::Upheld), Pence(5_000)),
                &officer,
                day,
            )
            .await
            .expect("response");
        // The resident is part way through telling the bot something else (the offer).
        let replies = says(
            &intake,
            "busy",
            200,
            text("the bathroom extractor fan is still broken and nobody has come"),
            day + Duration::minutes(5),
        )
        .await;
        assert!(!replies.is_empty());
        intake
            .close_case(
                &reference,
                "Resolved",
                &officer,
                day + Duration::minutes(10),
            )
            .await
            .expect("closed");
        assert_eq!(
            feedback_questions(&store, &reference).await,
            0,
            "not asked over what the resident is doing"
        );
        // They finish what they were doing; then, at rest, the question comes.
        let replies = says(
            &intake,
            "busy",
            201,
            text("I only wanted to tell you"),
            day + Duration::minutes(11),
        )
        .await;
        assert!(
            replies
                .last()
                .is_some_and(|r| r.text.contains("How satisfied are you")),
            "{replies:?}"
        );
        assert_eq!(feedback_questions(&store, &reference).await, 1);
        let replies = says(
            &intake,
            "busy",
            202,
            Input::Choice("skip".to_owned()),
            day + Duration::minutes(12),
        )
        .await;
        assert!(replies.iter().any(|r| r.text.contains("No problem")));
        let conversation = store
            .case_of(&reference)
            .await
            .expect("read")
            .expect("case")
            .conversation;
        let handling = store.case_handling(conversation).await.expect("handling");
        let feedback = handling[0].feedback.as_ref().expect("asked");
        assert_eq!(feedback.score, None);
        assert!(feedback.skipped_at.is_some());
        // Asked once: the next thing they say is heard as usual.
        let replies = says(
            &intake,
            "busy",
            203,
            text("thanks"),
            day + Duration::minutes(13),
        )
        .await;
        assert!(!replies.iter().any(|r| r.text.contains("How satisfied")));
    });
}

/// The conversation page of the only complaint in the inbox: (path, reference, page).
async fn the_complaint(base: &str, cookie: &str) -> (String, String, String) {
    let (_, inbox) = page(base, cookie, "/console?status=complaint").await;
    let at = inbox
        .find("/console/conversations/")
        .expect("the complaint")
        + 23;
    let id: String = inbox[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let path = format!("/console/conversations/{id}");
    let (_, html) = page(base, cookie, &path).await;
    let at = html.find("<dd>C").expect("a reference") + 4;
    let reference = html[at..at + 11].to_owned();
    (path, reference, html)
}

/// The console over HTTP on the record at `database`: the category form refused without a
/// session, without the token and for an agent; confirmed by an officer; a response refused
/// without its outcome or with an amount that cannot be meant; the feedback asked in the web
/// chat, answered by buttons, and shown to the manager, not to the officer.
async fn console_round(database: &str, dir: &std::path::Path) {
    let bot = Bot::start(database, &dir.join("bot.log"), &[]).await;
    add_account(
        database,
        "Alex Officer",
        "alex@example.org",
        "complaints_officer",
    );
    add_account(database, "Bea Agent", "bea@example.org", "agent");
    add_account(database, "Mo Manager", "mo@example.org", "manager");
    let resident = Resident::open(&bot.base).await;
    resident
        .converse(&[
            (
                Said::Text("I want to make a complaint about the black mould in my bedroom"),
                "Do you agree?",
            ),
            (Said::Press("Yes, I agree"), "What is your name"),
            (Said::Text("Sam Jones"), "for yourself, or for someone else"),
            (Said::Press("For myself"), "What would you like us to do"),
            (Said::Text("treat the mould"), "When did this happen"),
            (Said::Text("since October"), "support or changes"),
            (Said::Text("no"), "How would you like us to reply?"),
            (Said::Press("Here in this chat"), "Here is your complaint"),
            (Said::Press("Yes, that's right"), "Reference: C"),
        ])
        .await;
    let alex = sign_in(&bot.base, "alex@example.org", PASSWORD)
        .await
        .expect("sign in");
    let bea = sign_in(&bot.base, "bea@example.org", PASSWORD)
        .await
        .expect("sign in");
    let mo = sign_in(&bot.base, "mo@example.org", PASSWORD)
        .await
        .expect("sign in");
    let (path, reference, officer) = the_complaint(&bot.base, &alex).await;
    assert!(
        officer.contains("Damp and mould <small>(suggested from the complaint"),
        "the suggestion is shown"
    );
    let csrf = csrf_of(&officer);
    let (_, agent) = page(&bot.base, &bea, &path).await;
    let bea_csrf = csrf_of(&agent);
    let category = format!("/console/cases/{reference}/category");

    // Refused without a session (to sign in), without the token, and for an agent.
    let anonymous = no_redirects()
        .post(format!("{}{category}", bot.base))
        .form(&[("csrf", csrf.as_str()), ("category", "repairs")])
        .send()
        .await
        .expect("post");
    assert_eq!(anonymous.status(), 303);
    assert_eq!(anonymous.headers()["location"], "/console/login");
    assert_eq!(
        act(
            &bot.base,
            &alex,
            &category,
            &[("csrf", ""), ("category", "repairs")]
        )
        .await,
        403,
        "no form token"
    );
    assert_eq!(
        act(
            &bot.base,
            &alex,
            &category,
            &[("csrf", &"0".repeat(64)), ("category", "repairs")]
        )
        .await,
        403,
        "a forged form token"
    );
    assert_eq!(
        act(
            &bot.base,
            &bea,
            &category,
            &[("csrf", &bea_csrf), ("category", "repairs")]
        )
        .await,
        403,
        "agents do no case work"
    );
    let (status, why) = refusal(
        &bot.base,
        &alex,
        &category,
        &[("csrf", &csrf), ("category", "plumbing")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(why.contains("plumbing"), "{why}");
    let (_, unchanged) = page(&bot.base, &alex, &path).await;
    assert!(
        unchanged.contains("not yet confirmed"),
        "nothing was changed"
    );
    assert_eq!(
        act(
            &bot.base,
            &alex,
            &category,
            &[("csrf", &csrf), ("category", "damp_mould")]
        )
        .await,
        303
    );
    let (_, confirmed) = page(&bot.base, &alex, &path).await;
    assert!(
        confirmed.contains("Damp and mould <small>(confirmed by Alex Officer)"),
        "confirmed"
    );
    assert!(
        confirmed.contains("Category confirmed"),
        "in the staff actions"
    );

    // A response without an outcome, or with compensation that cannot be meant, is refused.
    let respond = format!("/console/cases/{reference}/respond");
    let full = [
        ("csrf", csrf.as_str()),
        ("stage", "1"),
        ("definition", "Black mould in the bedroom since October."),
        ("decision", "We should have treated it sooner."),
        ("reasons", "The first visit did not treat the cause."),
        ("remedy", "Mould treatment."),
        ("outstanding_actions", "None"),
    ];
    let (status, why) = refusal(&bot.base, &alex, &respond, &full).await;
    assert_eq!(status, 422);
    assert!(why.contains("the outcome") && why.contains("6.9"), "{why}");
    let mut form = full.to_vec();
    form.extend([("outcome", "partly_upheld"), ("compensation", "12.345")]);
    let (status, why) = refusal(&bot.base, &alex, &respond, &form).await;
    assert_eq!(status, 422);
    assert!(why.contains("two decimal places"), "{why}");
    let mut form = full.to_vec();
    form.extend([("outcome", "partly_upheld"), ("compensation", "£125.50")]);
    let seen = resident.history().await.len();
    assert_eq!(act(&bot.base, &alex, &respond, &form).await, 303);
    resident
        .hears(seen, "staff", "Compensation offered: £125.50.")
        .await;
    let (_, responded) = page(&bot.base, &alex, &path).await;
    assert!(
        responded.contains("Partly upheld · compensation £125.50 · Alex Officer"),
        "the outcome is on the case"
    );

    // Closed: the bot asks in the chat, the resident answers with the buttons.
    let seen = resident.history().await.len();
    assert_eq!(
        act(
            &bot.base,
            &alex,
            &format!("/console/cases/{reference}/close"),
            &[("csrf", &csrf), ("reason", "")]
        )
        .await,
        303
    );
    resident.hears(seen, "bot", "How satisfied are you").await;
    resident
        .converse(&[
            (Said::Press("5 Very satisfied"), "anything you would like"),
            (
                Said::Text("Quick once it was escalated"),
                "Thank you for your feedback",
            ),
        ])
        .await;
    let (_, manager) = page(&bot.base, &mo, &path).await;
    assert!(
        manager.contains("5 out of 5: “Quick once it was escalated”"),
        "the manager sees the feedback"
    );
    // The officer whose handling it judges is not shown the feedback on the case panel
    // (the resident's lines stay in the transcript, as every line does).
    let (_, officer) = page(&bot.base, &alex, &path).await;
    assert!(
        !officer.contains("Resident's feedback") && !officer.contains("out of 5"),
        "the officer does not"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn category_outcome_and_feedback_through_the_console_on_both_databases() {
    let dir = tempfile::tempdir().expect("tempdir");
    console_round(&sqlite_in(dir.path()), dir.path()).await;
    let schema = Schema::create().await;
    let pg = tempfile::tempdir().expect("tempdir");
    console_round(&schema.url(), pg.path()).await;
    schema.drop().await;
}

#[test]
fn outcomes_the_table_refuses_are_never_stored() {
    on_both(|store| async move {
        // The schema itself refuses what the service never writes: a negative amount, an
        // outcome that is not one of the three, a score outside 1 to 5.
        let now = at("2026-11-23T10:00:00Z");
        crate::helpers::open_case(&store, "C2026-00900", "2026-12-07", now).await;
        let officer = intake::staff::add(
            &store,
            "Alex Officer",
            "alex@example.org",
            Role::ComplaintsOfficer,
            PASSWORD,
            now,
        )
        .await
        .expect("officer");
        for (outcome, pence) in [("upheld", -1_i64), ("sort_of", 0)] {
            let refused = sqlx::query(
                "INSERT INTO case_outcomes (case_reference, stage, outcome, compensation_pence, \
                 recorded_by, recorded_at) VALUES ('C2026-00900', 1, $1, $2, $3, 0)",
            )
            .bind(outcome)
            .bind(pence)
            .bind(officer.id.0)
            .execute(store.pool_for_tests())
            .await;
            assert!(refused.is_err(), "{outcome} {pence}");
        }
        let conversation: i64 = sqlx::query("SELECT conversation_id FROM cases")
            .fetch_one(store.pool_for_tests())
            .await
            .expect("case")
            .try_get("conversation_id")
            .expect("id");
        let refused = sqlx::query(
            "INSERT INTO case_feedback (case_reference, conversation_id, asked_at, score) \
             VALUES ('C2026-00900', $1, 0, 6)",
        )
        .bind(conversation)
        .execute(store.pool_for_tests())
        .await;
        assert!(refused.is_err());
    });
}
