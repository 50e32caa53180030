//! The staff console over HTTP: nothing without signing in, forms protected against
//! cross-site requests, residents' words escaped, taking over, replying and handing back, the
//! audit, and adjustments shown only to the roles that need them (Code 5.10).

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Row;

use crate::helpers::staff::{act, csrf_of, login_form, no_redirects, page, sign_in};
use crate::helpers::{
    Bot, PASSWORD, Resident, Said, TO_ACKNOWLEDGEMENT, WAIT, add_account, add_staff, eventually,
    smtp_sink, sqlite_in,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_take_over_reply_and_hand_back_with_everything_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    let base = bot.base.clone();

    // Nothing without signing in.
    for path in ["/console", "/console/conversations/1", "/console/events"] {
        let response = no_redirects()
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers()["location"], "/console/login");
    }
    // Every action, with a complete form but no session: sent to sign in, nothing done.
    let case = "/console/cases/C2026-00001";
    let actions: &[(String, &[(&str, &str)])] = &[
        ("/console/conversations/1/claim".to_owned(), &[]),
        (
            "/console/conversations/1/reply".to_owned(),
            &[("text", "hello")],
        ),
        ("/console/conversations/1/release".to_owned(), &[]),
        (
            "/console/conversations/1/notes".to_owned(),
            &[("text", "a note")],
        ),
        ("/console/alerts/1/acknowledge".to_owned(), &[]),
        (
            format!("{case}/respond"),
            &[
                ("stage", "1"),
                ("definition", "d"),
                ("decision", "d"),
                ("reasons", "r"),
                ("remedy", "None"),
                ("outstanding_actions", "None"),
                ("outcome", "upheld"),
            ],
        ),
        (
            format!("{case}/extend"),
            &[("working_days", "2"), ("reason", "r")],
        ),
        (
            format!("{case}/exclusion"),
            &[("decision", "accept"), ("reasons", "r")],
        ),
        (format!("{case}/close"), &[("reason", "r")]),
        (format!("{case}/definition"), &[("definition", "d")]),
        (format!("{case}/handler"), &[("handler", "1")]),
        (
            format!("{case}/actions"),
            &[("kind", "remedy"), ("description", "d"), ("due_on", "")],
        ),
        ("/console/actions/1/done".to_owned(), &[]),
    ];
    for (path, fields) in actions {
        let mut form = vec![("csrf", "x")];
        form.extend(fields.iter().copied());
        let response = no_redirects()
            .post(format!("{base}{path}"))
            .form(&form)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers()["location"], "/console/login", "{path}");
    }

    // Accounts are made from the command line; bad ones are refused clearly.
    add_account(
        &database,
        "Alex Officer",
        "alex@example.org",
        "complaints_officer",
    );
    add_account(&database, "Bea Agent", "bea@example.org", "agent");
    let (code, err) = add_staff(&database, "Cy", "cy@example.org", "overlord", PASSWORD);
    assert_ne!(code, 0);
    assert!(err.contains("complaints_officer"), "{err}");
    let (code, err) = add_staff(&database, "Cy", "cy@example.org", "agent", "short");
    assert_ne!(code, 0);
    assert!(err.contains("at least 12"), "{err}");
    let (code, err) = add_staff(
        &database,
        "Alex Again",
        "ALEX@example.org",
        "agent",
        PASSWORD,
    );
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");

    // A resident writes, with HTML and script in their words.
    let resident = Resident::open(&base).await;
    let words = "<script>alert('x')</script> my boiler is broken & nobody came <b>again</b>";
    resident.send(json!({ "text": words })).await;
    resident.hears(0, "bot", "").await;

    // A sign-in posted from elsewhere (no form token, or another one) is refused, even with
    // the right password: no login CSRF.
    let forged = no_redirects()
        .post(format!("{base}/console/login"))
        .form(&[("email", "alex@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(forged.status(), 403);
    let (_, form_cookie) = login_form(&no_redirects(), &base).await;
    let forged = no_redirects()
        .post(format!("{base}/console/login"))
        .header("Cookie", form_cookie)
        .form(&[
            ("email", "alex@example.org"),
            ("password", PASSWORD),
            ("csrf", &"0".repeat(64)),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(forged.status(), 403);
    assert_eq!(
        sign_in(&base, "alex@example.org", "wrong password!!").await,
        Err(401)
    );
    assert_eq!(
        sign_in(&base, "nobody@example.org", PASSWORD).await,
        Err(401)
    );
    let alex = sign_in(&base, "alex@example.org", PASSWORD)
        .await
        .expect("sign in");
    let (status, inbox) = page(&base, &alex, "/console").await;
    assert_eq!(status, 200);
    assert!(inbox.contains("data-chat=\"web:"), "{inbox}");
    assert!(
        !inbox.contains("<script>alert"),
        "the inbox must escape residents' words"
    );
    assert!(inbox.contains("&lt;script&gt;"), "{inbox}");
    let at = inbox
        .find("/console/conversations/")
        .expect("a conversation link")
        + 23;
    let id: String = inbox[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let path = format!("/console/conversations/{id}");

    let (status, html) = page(&base, &alex, &path).await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("<script>alert") && !html.contains("<b>again</b>"),
        "escaped"
    );
    assert!(
        html.contains("&lt;b&gt;again&lt;&#x2f;b&gt;") || html.contains("&lt;b&gt;again&lt;/b&gt;"),
        "{html}"
    );
    assert!(
        html.contains("Assessment:") && html.contains("Code 1.2"),
        "reasons and provisions"
    );
    assert!(html.contains("id=\"claim\""));
    let csrf = csrf_of(&html);

    // A form without the session's token is refused and changes nothing.
    assert_eq!(
        act(
            &base,
            &alex,
            &format!("{path}/claim"),
            &[("csrf", "forged")]
        )
        .await,
        403
    );
    assert_eq!(act(&base, &alex, &format!("{path}/claim"), &[]).await, 422);
    let (_, html) = page(&base, &alex, &path).await;
    assert!(html.contains("With the bot."));

    let seen = resident.history().await.len();
    assert_eq!(
        act(&base, &alex, &format!("{path}/claim"), &[("csrf", &csrf)]).await,
        303
    );
    resident.hears(seen, "bot", "Alex Officer from").await;
    // The holder can start from a standard message, filled in for this landlord.
    let (_, held) = page(&base, &alex, &path).await;
    assert!(held.contains("Housing Ombudsman details") && held.contains("0300 111 3000"));
    assert!(
        held.contains("I&#x27;m Alex Officer from Example Homes")
            || held.contains("I&#39;m Alex Officer from Example Homes")
            || held.contains("I'm Alex Officer from Example Homes"),
        "{held}"
    );

    // The bot is silent while staff hold the conversation.
    let seen = resident.history().await.len();
    resident
        .send(json!({ "text": "hello? is anyone there" }))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = resident.history().await;
    assert_eq!(
        after.len(),
        seen + 1,
        "only the resident's line: {after:#?}"
    );

    // Another member of staff sees who holds it and cannot reply or hand it back.
    let bea = sign_in(&base, "bea@example.org", PASSWORD)
        .await
        .expect("sign in");
    let (_, html) = page(&base, &bea, &path).await;
    assert!(html.contains("Held by Alex Officer"), "{html}");
    assert!(!html.contains("id=\"claim\"") && !html.contains("id=\"reply-text\""));
    let bea_csrf = csrf_of(&html);
    assert_eq!(
        act(
            &base,
            &bea,
            &format!("{path}/claim"),
            &[("csrf", &bea_csrf)]
        )
        .await,
        403
    );
    assert_eq!(
        act(
            &base,
            &bea,
            &format!("{path}/reply"),
            &[("csrf", &bea_csrf), ("text", "hi")]
        )
        .await,
        403
    );
    assert_eq!(
        act(
            &base,
            &bea,
            &format!("{path}/release"),
            &[("csrf", &bea_csrf)]
        )
        .await,
        403
    );
    // Bea's token does not work in Alex's session.
    assert_eq!(
        act(
            &base,
            &alex,
            &format!("{path}/reply"),
            &[("csrf", &bea_csrf), ("text", "hi")]
        )
        .await,
        403
    );

    let seen = resident.history().await.len();
    let reply = "Hello, this is Alex. Can someone visit tomorrow morning?";
    assert_eq!(
        act(
            &base,
            &alex,
            &format!("{path}/reply"),
            &[("csrf", &csrf), ("text", reply)]
        )
        .await,
        303
    );
    resident.hears(seen, "staff", reply).await;

    let seen = resident.history().await.len();
    assert_eq!(
        act(&base, &alex, &format!("{path}/release"), &[("csrf", &csrf)]).await,
        303
    );
    resident.hears(seen, "bot", "handed you back").await;
    let seen = resident.history().await.len();
    resident.send(json!({ "text": "status" })).await;
    resident.hears(seen, "bot", "can't find a complaint").await;

    // An internal note: kept, escaped, and never shown to the resident.
    let note = "Resident <i>sounded</i> distressed; call back before noon";
    assert_eq!(
        act(
            &base,
            &alex,
            &format!("{path}/notes"),
            &[("csrf", &csrf), ("text", note)]
        )
        .await,
        303
    );
    let (_, html) = page(&base, &alex, &path).await;
    assert!(
        html.contains("&lt;i&gt;sounded&lt;"),
        "the note is shown, escaped"
    );
    assert!(
        !resident
            .history()
            .await
            .iter()
            .any(|l| l["text"].as_str().is_some_and(|t| t.contains("distressed"))),
        "the resident never sees a note"
    );

    // Who did what, when.
    let store = intake::store::Store::connect(&database)
        .await
        .expect("open");
    let actions: Vec<String> = sqlx::query(
        "SELECT a.action FROM audit a JOIN staff s ON s.id = a.staff_id WHERE s.email = 'alex@example.org' ORDER BY a.id",
    )
    .fetch_all(store.pool_for_tests())
    .await
    .expect("audit")
    .iter()
    .map(|r| r.try_get("action").expect("action"))
    .collect();
    assert_eq!(actions, ["take_over", "reply", "hand_back", "note"]);
    let edited = sqlx::query("UPDATE audit SET action = 'nothing'")
        .execute(store.pool_for_tests())
        .await;
    assert!(edited.is_err(), "the audit cannot be rewritten");

    // Signing out ends the session.
    let (_, html) = page(&base, &alex, "/console").await;
    let csrf = csrf_of(&html);
    assert_eq!(
        act(&base, &alex, "/console/logout", &[("csrf", &csrf)]).await,
        303
    );
    assert_eq!(page(&base, &alex, "/console").await.0, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adjustments_are_shown_only_to_the_roles_that_need_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    add_account(
        &database,
        "Alex Officer",
        "alex@example.org",
        "complaints_officer",
    );
    add_account(&database, "Bea Agent", "bea@example.org", "agent");

    let resident = Resident::open(&bot.base).await;
    let steps: Vec<(Said, &str)> = TO_ACKNOWLEDGEMENT
        .iter()
        .map(|s| match s.said {
            // The support question: a disclosed disability.
            Said::Text("no") => (
                Said::Text("I use a wheelchair, please phone before visiting"),
                s.expect,
            ),
            other => (other, s.expect),
        })
        .collect();
    resident.converse(&steps).await;
    // Said again in other words, later: no exact repeat of the support answer.
    let seen = resident.history().await.len();
    resident
        .send(json!({ "text": "as I said I am deaf and registered blind, please write" }))
        .await;
    resident.hears(seen, "bot", "").await;

    let alex = sign_in(&bot.base, "alex@example.org", PASSWORD)
        .await
        .expect("sign in");
    let bea = sign_in(&bot.base, "bea@example.org", PASSWORD)
        .await
        .expect("sign in");
    // Issue 14 item 11: nothing disclosed reaches an agent, in the inbox's alerts or rows
    // or on the conversation page, in any words; the officer sees it.
    let (_, officer_inbox) = page(&bot.base, &alex, "/console").await;
    assert!(
        officer_inbox.contains("deaf"),
        "the officer's inbox lists the vulnerability alert with what was said"
    );
    let (_, agent_inbox) = page(&bot.base, &bea, "/console").await;
    assert!(
        agent_inbox.contains("shown to complaints officers"),
        "the agent's inbox says an alert's details are withheld"
    );
    for words in ["deaf", "registered blind", "wheelchair"] {
        assert!(
            !agent_inbox.to_lowercase().contains(words),
            "the agent's inbox shows {words:?}"
        );
    }
    let (_, inbox) = page(&bot.base, &alex, "/console?status=complaint").await;
    let at = inbox
        .find("/console/conversations/")
        .expect("the complaint")
        + 23;
    let id: String = inbox[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let path = format!("/console/conversations/{id}");
    let (_, officer) = page(&bot.base, &alex, &path).await;
    let (_, agent) = page(&bot.base, &bea, &path).await;
    let aside = |html: &str| html[html.find("<h2>Complaints</h2>").expect("cases")..].to_owned();
    assert!(
        aside(&officer).contains("wheelchair"),
        "the officer sees the adjustment"
    );
    for words in ["wheelchair", "deaf", "registered blind"] {
        assert!(
            !agent.to_lowercase().contains(words),
            "the agent does not see {words:?}, anywhere on the page"
        );
    }
    assert!(officer.contains("registered blind"), "the officer does");
    assert!(aside(&agent).contains("shown to complaints officers"));

    // Case work: an agent may not; an extension needs a reason and keeps to the cap; a
    // response with a part missing is refused, naming it; a full one reaches the resident
    // with how to escalate.
    let reference = {
        let at = officer.find("<dd>C").expect("a reference") + 4;
        officer[at..at + 11].to_owned()
    };
    let csrf = csrf_of(&officer);
    let bea_csrf = csrf_of(&agent);
    let respond = format!("/console/cases/{reference}/respond");
    let extend = format!("/console/cases/{reference}/extend");
    let full = [
        ("stage", "1"),
        (
            "definition",
            "No hot water since last Monday; you want the boiler fixed and an apology.",
        ),
        ("decision", "Upheld."),
        ("reasons", "The first repair visit was missed."),
        ("remedy", "An apology and £50 for the inconvenience."),
        ("outstanding_actions", "None"),
        ("outcome", "upheld"),
        ("compensation", "50"),
    ];
    let mut with_token = vec![("csrf", bea_csrf.as_str())];
    with_token.extend(full);
    assert_eq!(
        act(&bot.base, &bea, &respond, &with_token).await,
        403,
        "agents do not respond"
    );
    let refused = no_redirects()
        .post(format!("{}{extend}", bot.base))
        .header("Cookie", &alex)
        .form(&[
            ("csrf", csrf.as_str()),
            ("working_days", "11"),
            ("reason", "contractor"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.expect("text").contains("6.4"));
    assert_eq!(
        act(
            &bot.base,
            &alex,
            &extend,
            &[("csrf", &csrf), ("working_days", "3"), ("reason", " ")]
        )
        .await,
        422
    );
    let seen = resident.history().await.len();
    assert_eq!(
        act(
            &bot.base,
            &alex,
            &extend,
            &[
                ("csrf", &csrf),
                ("working_days", "3"),
                ("reason", "We are waiting for the contractor's report.")
            ]
        )
        .await,
        303
    );
    resident
        .hears(seen, "staff", "We will now respond by")
        .await;
    // The cap is on the total: 3 days taken, 8 more would make 11.
    assert_eq!(
        act(
            &bot.base,
            &alex,
            &extend,
            &[
                ("csrf", &csrf),
                ("working_days", "8"),
                ("reason", "Still waiting.")
            ]
        )
        .await,
        422
    );
    let mut missing = vec![("csrf", csrf.as_str())];
    missing.extend(full.iter().filter(|(k, _)| *k != "reasons").copied());
    missing.push(("reasons", ""));
    let refused = no_redirects()
        .post(format!("{}{respond}", bot.base))
        .header("Cookie", &alex)
        .form(&missing)
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), 422);
    let why = refused.text().await.expect("text");
    assert!(why.contains("reasons") && why.contains("6.9"), "{why}");
    let mut complete = vec![("csrf", csrf.as_str())];
    complete.extend(full);
    let seen = resident.history().await.len();
    assert_eq!(act(&bot.base, &alex, &respond, &complete).await, 303);
    resident
        .hears(
            seen,
            "staff",
            "you can ask for your complaint to go to stage 2",
        )
        .await;
    // And the resident can now ask for stage 2 in the chat (6.12).
    let seen = resident.history().await.len();
    resident
        .send(json!({ "text": "I'm still not happy with this" }))
        .await;
    resident.hears(seen, "bot", "stage 2").await;

    // Closing: only once the case has had its final word.
    let close = format!("/console/cases/{reference}/close");
    assert_eq!(
        act(&bot.base, &alex, &close, &[("csrf", &csrf), ("reason", "")]).await,
        422,
        "stage 2 is open"
    );
    // Stage 2 is for someone other than the stage 1 handler (6.13).
    let mut stage2 = vec![("csrf", csrf.as_str())];
    stage2.extend(
        full.iter()
            .map(|(k, v)| if *k == "stage" { (*k, "2") } else { (*k, *v) }),
    );
    let refused = no_redirects()
        .post(format!("{}{respond}", bot.base))
        .header("Cookie", &alex)
        .form(&stage2)
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.expect("text").contains("6.13"));
    add_account(&database, "Mo Manager", "mo@example.org", "manager");
    let mo = sign_in(&bot.base, "mo@example.org", PASSWORD)
        .await
        .expect("sign in");
    let (_, mo_page) = page(&bot.base, &mo, &path).await;
    let mo_csrf = csrf_of(&mo_page);
    let mut stage2 = vec![("csrf", mo_csrf.as_str())];
    stage2.extend(
        full.iter()
            .map(|(k, v)| if *k == "stage" { (*k, "2") } else { (*k, *v) }),
    );
    let seen = resident.history().await.len();
    assert_eq!(act(&bot.base, &mo, &respond, &stage2).await, 303);
    resident.hears(seen, "staff", "final response").await;
    // Alex handled stage 1, so the stage 2 complaint is not theirs to close (6.13).
    assert_eq!(
        act(
            &bot.base,
            &alex,
            &close,
            &[("csrf", &csrf), ("reason", "Resolved")]
        )
        .await,
        422
    );
    assert_eq!(
        act(
            &bot.base,
            &mo,
            &close,
            &[("csrf", &mo_csrf), ("reason", "Resolved")]
        )
        .await,
        303
    );
    let (_, closed) = page(&bot.base, &alex, &path).await;
    assert!(closed.contains("stage 2, closed"), "closed");

    // The inbox filters.
    let (_, only_telegram) = page(&bot.base, &alex, "/console?channel=telegram").await;
    assert!(!only_telegram.contains("data-chat=\"web:"));
    let (_, due) = page(&bot.base, &alex, "/console?due_by=2099-12-31").await;
    assert!(due.contains("data-chat=\"web:"));
    let (_, due) = page(&bot.base, &alex, "/console?due_by=2000-01-01").await;
    assert!(!due.contains("data-chat=\"web:"));
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

/// The staff id of `email`.
async fn staff_id(database: &str, email: &str) -> String {
    let store = intake::store::Store::connect(database)
        .await
        .expect("store");
    let id: i64 = sqlx::query("SELECT id FROM staff WHERE email = $1")
        .bind(email)
        .fetch_one(store.pool_for_tests())
        .await
        .expect("staff")
        .try_get("id")
        .expect("id");
    id.to_string()
}

async fn refusal(base: &str, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = no_redirects()
        .post(format!("{base}{path}"))
        .header("Cookie", cookie)
        .form(form)
        .send()
        .await
        .expect("post");
    (
        response.status().as_u16(),
        response.text().await.expect("text"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_work_definition_handlers_remedies_and_copies_by_email() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    let (smtp_port, mails) = smtp_sink().await;
    // The landlord's own standard messages replace the shipped ones.
    let standard = dir.path().join("standard_messages.toml");
    std::fs::write(
        &standard,
        "[[message]]\nname = \"Rowan Homes holding reply\"\ntext = \"Thank you. {staff} is looking at complaint {reference}.\"\n",
    )
    .expect("standard messages");
    let config = dir.path().join("intake.toml");
    std::fs::write(
        &config,
        format!(
            "[console]\nstandard_messages = {standard:?}\n\n[alerts.smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\nfrom = \"complaints@example-homes.org.uk\"\n"
        ),
    )
    .expect("config");
    let bot = Bot::start(
        &database,
        &dir.path().join("bot.log"),
        &[("INTAKE_CONFIG", config.display().to_string())],
    )
    .await;
    for (name, email, role) in [
        ("Alex Officer", "alex@example.org", "complaints_officer"),
        ("Cy Officer", "cy@example.org", "complaints_officer"),
        ("Mo Manager", "mo@example.org", "manager"),
        ("Bea Agent", "bea@example.org", "agent"),
    ] {
        add_account(&database, name, email, role);
    }

    // The resident asks for replies by email, giving the address in a sentence.
    let resident = Resident::open(&bot.base).await;
    let mut steps: Vec<(Said, &str)> = TO_ACKNOWLEDGEMENT
        .iter()
        .filter(|s| !matches!(s.said, Said::Press("Here in this chat")))
        .map(|s| (s.said, s.expect))
        .collect();
    let at = steps.len() - 1;
    steps.insert(
        at,
        (
            Said::Press("By email"),
            "What email address should we write to",
        ),
    );
    steps.insert(
        at + 1,
        (
            Said::Text("it's sam.jones@example.org thanks"),
            "Here is your complaint as I understand it",
        ),
    );
    resident.converse(&steps).await;

    let alex = sign_in(&bot.base, "alex@example.org", PASSWORD)
        .await
        .expect("sign in");
    let cy = sign_in(&bot.base, "cy@example.org", PASSWORD)
        .await
        .expect("sign in");
    let mo = sign_in(&bot.base, "mo@example.org", PASSWORD)
        .await
        .expect("sign in");
    let bea = sign_in(&bot.base, "bea@example.org", PASSWORD)
        .await
        .expect("sign in");
    let (path, reference, officer) = the_complaint(&bot.base, &alex).await;
    assert!(officer.contains("nobody named yet"));
    // Taking it over shows the reply box with the landlord's own standard messages.
    let csrf = csrf_of(&officer);
    assert_eq!(
        act(
            &bot.base,
            &alex,
            &format!("{path}/claim"),
            &[("csrf", &csrf)]
        )
        .await,
        303
    );
    let (_, held) = page(&bot.base, &alex, &path).await;
    assert!(held.contains("Rowan Homes holding reply"));
    assert!(held.contains(&format!("Alex Officer is looking at complaint {reference}")));
    assert!(
        !held.contains("Apology for a missed appointment"),
        "the shipped messages are replaced"
    );
    assert_eq!(
        act(
            &bot.base,
            &alex,
            &format!("{path}/release"),
            &[("csrf", &csrf)]
        )
        .await,
        303
    );
    let csrf = csrf_of(&officer);
    let (_, cy_page) = page(&bot.base, &cy, &path).await;
    let cy_csrf = csrf_of(&cy_page);
    let (_, mo_page) = page(&bot.base, &mo, &path).await;
    let mo_csrf = csrf_of(&mo_page);
    let (_, bea_page) = page(&bot.base, &bea, &path).await;
    let bea_csrf = csrf_of(&bea_page);
    let (alex_id, cy_id, bea_id) = (
        staff_id(&database, "alex@example.org").await,
        staff_id(&database, "cy@example.org").await,
        staff_id(&database, "bea@example.org").await,
    );

    // Naming the stage 1 handler: not an agent, and not by an agent.
    let handler = format!("/console/cases/{reference}/handler");
    assert_eq!(
        act(
            &bot.base,
            &bea,
            &handler,
            &[("csrf", &bea_csrf), ("handler", &cy_id)]
        )
        .await,
        403
    );
    let (status, why) = refusal(
        &bot.base,
        &alex,
        &handler,
        &[("csrf", &csrf), ("handler", &bea_id)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(why.contains("agent"), "{why}");
    assert_eq!(
        act(
            &bot.base,
            &alex,
            &handler,
            &[("csrf", &csrf), ("handler", &cy_id)]
        )
        .await,
        303
    );
    let (_, named) = page(&bot.base, &alex, &path).await;
    assert!(named.contains("<dd class=\"handler\">Cy Officer</dd>"));
    // Taking it from its handler is a manager's decision.
    let (status, why) = refusal(
        &bot.base,
        &alex,
        &handler,
        &[("csrf", &csrf), ("handler", &alex_id)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(why.contains("a manager can reassign"), "{why}");
    // Cy finds it under "mine"; Alex, who neither handles nor holds it, does not.
    let rows =
        |html: &str| html[html.find("<tbody id=\"conversations\">").expect("rows")..].to_owned();
    let (_, cy_mine) = page(&bot.base, &cy, "/console?status=mine").await;
    assert!(
        rows(&cy_mine).contains(&format!("href=\"{path}\"")),
        "{cy_mine}"
    );
    assert!(cy_mine.contains("<td class=\"handled-by\">Cy Officer</td>"));
    let (_, alex_mine) = page(&bot.base, &alex, "/console?status=mine").await;
    assert!(!rows(&alex_mine).contains(&format!("href=\"{path}\"")));

    // Revising the definition: the resident is shown the new wording, in the chat and by
    // email; an empty one is refused.
    let definition = format!("/console/cases/{reference}/definition");
    assert_eq!(
        act(
            &bot.base,
            &alex,
            &definition,
            &[
                ("csrf", "forged"),
                ("definition", "Something else entirely.")
            ]
        )
        .await,
        403,
        "a forged form token"
    );
    assert_eq!(
        act(
            &bot.base,
            &cy,
            &definition,
            &[("csrf", &cy_csrf), ("definition", "  ")]
        )
        .await,
        422
    );
    let revised = "No hot water since last Monday, and the repair visit on Thursday was missed; you want the boiler fixed and an apology.";
    let seen = resident.history().await.len();
    assert_eq!(
        act(
            &bot.base,
            &cy,
            &definition,
            &[("csrf", &cy_csrf), ("definition", revised)]
        )
        .await,
        303
    );
    resident
        .hears(seen, "staff", "repair visit on Thursday")
        .await;
    eventually("the copy by email", WAIT, async || {
        mails
            .lock()
            .expect("lock")
            .iter()
            .find(|m| m.contains("sam.jones@example.org") && m.contains("repair visit on Thursday"))
            .cloned()
    })
    .await;
    let subject_ok = mails
        .lock()
        .expect("lock")
        .iter()
        .any(|m| m.contains("Subject:") && m.contains(&reference));
    assert!(subject_ok, "the subject names the reference");

    // Remedies and actions: recorded, prefilled into the response, an action marked done.
    let actions = format!("/console/cases/{reference}/actions");
    assert_eq!(
        act(
            &bot.base,
            &bea,
            &actions,
            &[
                ("csrf", &bea_csrf),
                ("kind", "remedy"),
                ("description", "£50")
            ]
        )
        .await,
        403
    );
    assert_eq!(
        act(
            &bot.base,
            &cy,
            &actions,
            &[
                ("csrf", &cy_csrf),
                ("kind", "action"),
                ("description", "Replace the boiler"),
                ("due_on", "next week")
            ]
        )
        .await,
        422,
        "a date that is not a date"
    );
    for (kind, text, due) in [
        ("remedy", "An apology and £50 for the inconvenience.", ""),
        ("action", "Replace the boiler", "2099-12-18"),
        ("action", "Check the radiators <b>upstairs</b>", ""),
    ] {
        assert_eq!(
            act(
                &bot.base,
                &cy,
                &actions,
                &[
                    ("csrf", &cy_csrf),
                    ("kind", kind),
                    ("description", text),
                    ("due_on", due)
                ]
            )
            .await,
            303
        );
    }
    let (_, with_actions) = page(&bot.base, &alex, &path).await;
    assert!(with_actions.contains("- An apology and £50 for the inconvenience.</textarea>"));
    assert!(with_actions.contains("- Replace the boiler (by 2099-12-18)"));
    assert!(
        with_actions.contains("&lt;b&gt;upstairs") && !with_actions.contains("<b>upstairs"),
        "staff text is escaped too"
    );
    let at = with_actions
        .find("/console/actions/")
        .expect("a Mark done button")
        + 17;
    let action_id: String = with_actions[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let done = format!("/console/actions/{action_id}/done");
    assert_eq!(
        act(&bot.base, &alex, &done, &[("csrf", &csrf)]).await,
        422,
        "only the handler (or a manager) marks it done"
    );
    assert_eq!(act(&bot.base, &cy, &done, &[("csrf", &cy_csrf)]).await, 303);
    assert_eq!(
        act(&bot.base, &cy, &done, &[("csrf", &cy_csrf)]).await,
        422,
        "done once"
    );

    // Only the named handler (or a manager) sends the response.
    let respond = format!("/console/cases/{reference}/respond");
    let full = [
        ("stage", "1"),
        ("definition", revised),
        ("decision", "Upheld."),
        ("reasons", "The repair visit was missed."),
        ("remedy", "An apology and £50 for the inconvenience."),
        ("outstanding_actions", "Check the radiators upstairs."),
        ("outcome", "partly_upheld"),
    ];
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(full);
    let (status, why) = refusal(&bot.base, &alex, &respond, &form).await;
    assert_eq!(status, 422);
    assert!(why.contains("assigned to someone else"), "{why}");
    let mut form = vec![("csrf", cy_csrf.as_str())];
    form.extend(full);
    let seen = resident.history().await.len();
    assert_eq!(act(&bot.base, &cy, &respond, &form).await, 303);
    resident
        .hears(seen, "staff", "Check the radiators upstairs")
        .await;
    // (Its body has a pound sign, so it goes encoded: the record says what it held.)
    eventually("the response by email", WAIT, async || {
        (mails
            .lock()
            .expect("lock")
            .iter()
            .filter(|m| m.contains("sam.jones@example.org"))
            .count()
            == 2)
            .then_some(())
    })
    .await;

    // Stage 2: nobody is named; the stage 1 handler cannot be (6.13), others can.
    let seen = resident.history().await.len();
    resident
        .send(json!({ "text": "I'm still not happy with this" }))
        .await;
    resident.hears(seen, "bot", "stage 2").await;
    let (_, stage2) = page(&bot.base, &mo, &path).await;
    assert!(
        stage2.contains("nobody named yet"),
        "stage 2 starts with no handler"
    );
    assert!(stage2.contains("Cy Officer (handled stage 1, Code 6.13)"));
    let (status, why) = refusal(
        &bot.base,
        &mo,
        &handler,
        &[("csrf", &mo_csrf), ("handler", &cy_id)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(why.contains("6.13"), "{why}");
    // Nor may Cy work on stage 2 in other ways (6.13).
    for (path, form) in [
        (
            format!("/console/cases/{reference}/extend"),
            vec![
                ("working_days", "2"),
                ("reason", "More time to investigate."),
            ],
        ),
        (
            definition.clone(),
            vec![("definition", "A different definition.")],
        ),
        (
            format!("/console/cases/{reference}/actions"),
            vec![("kind", "remedy"), ("description", "£20"), ("due_on", "")],
        ),
    ] {
        let mut with_token = vec![("csrf", cy_csrf.as_str())];
        with_token.extend(form);
        let (status, why) = refusal(&bot.base, &cy, &path, &with_token).await;
        assert_eq!(status, 422, "{path}");
        assert!(why.contains("6.13"), "{path}: {why}");
    }
    assert_eq!(
        act(
            &bot.base,
            &mo,
            &handler,
            &[("csrf", &mo_csrf), ("handler", &alex_id)]
        )
        .await,
        303
    );
    let stage2_form: Vec<(&str, &str)> = full
        .iter()
        .map(|(k, v)| if *k == "stage" { (*k, "2") } else { (*k, *v) })
        .collect();
    let mut form = vec![("csrf", cy_csrf.as_str())];
    form.extend(stage2_form.iter().copied());
    let (status, why) = refusal(&bot.base, &cy, &respond, &form).await;
    assert_eq!(status, 422);
    assert!(why.contains("6.13"), "{why}");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(stage2_form.iter().copied());
    let seen = resident.history().await.len();
    assert_eq!(act(&bot.base, &alex, &respond, &form).await, 303);
    resident.hears(seen, "staff", "final response").await;

    // The record and the audit hold all of it.
    let (_, done_page) = page(&bot.base, &mo, &path).await;
    // The audit in words (issue 12), not the record's keys.
    for action in [
        "assign handler",
        "edit definition",
        "remedy recorded",
        "action recorded",
        "action done",
        "stage 1 response sent",
        "stage 2 response sent",
    ] {
        assert!(done_page.contains(action), "the audit shows {action}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_intake"))
        .args(["export", &reference])
        .env_clear()
        .env("INTAKE_DATABASE_URL", &database)
        .output()
        .expect("export");
    let export: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(export["case"]["definition"], revised);
    assert_eq!(
        export["remedies_and_actions"].as_array().map(Vec::len),
        Some(3)
    );
    let edited = export["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "definition_edited")
        .expect("the edit is in the record");
    assert_eq!(edited["detail"]["to"], revised);
    assert!(
        edited["detail"]["from"]
            .as_str()
            .is_some_and(|f| f.contains("fix the boiler")),
        "the original wording is kept"
    );
    let emails = export["emails"].as_array().expect("emails");
    assert_eq!(
        emails.len(),
        3,
        "definition, stage 1 and stage 2: {emails:?}"
    );
    assert!(
        emails
            .iter()
            .all(|e| e["to_address"] == "sam.jones@example.org"),
        "{emails:?}"
    );
    assert!(
        emails[1]["body"]
            .as_str()
            .is_some_and(|b| b.contains("Check the radiators upstairs")),
        "{emails:?}"
    );
    eventually("every copy by email sent", WAIT, async || {
        let out = Command::new(env!("CARGO_BIN_EXE_intake"))
            .args(["export", &reference])
            .env_clear()
            .env("INTAKE_DATABASE_URL", &database)
            .output()
            .ok()?;
        let export: Value = serde_json::from_slice(&out.stdout).ok()?;
        export["emails"]
            .as_array()?
            .iter()
            .all(|e| !e["sent_at"].is_null())
            .then_some(())
    })
    .await;
}

/// Issue 10: staff mark an assessment wrong in the console; the page says which model assessed
/// each message and who corrected it; the correction is kept as a labelled example, and
/// `intake policy train --with-corrections` writes a landlord model only if it is no worse on
/// the blind set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_correct_an_assessment_and_a_worse_landlord_model_is_never_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    let base = bot.base.clone();
    add_account(
        &database,
        "Alex Officer",
        "alex@example.org",
        "complaints_officer",
    );
    let resident = Resident::open(&base).await;
    let words = "thanks for sending the plumber so quickly, all sorted now";
    resident.send(json!({ "text": words })).await;
    resident.hears(1, "bot", "").await;

    let cookie = sign_in(&base, "alex@example.org", PASSWORD)
        .await
        .expect("signed in");
    let (status, html) = page(&base, &cookie, "/console/conversations/1").await;
    assert_eq!(status, 200);
    let version = intake::core::policy::shipped_model().version().to_owned();
    assert!(
        html.contains(&format!("Assessed by: the rules and model {version}")),
        "{html}"
    );
    assert!(html.contains("Mark this assessment wrong"), "{html}");
    let csrf = csrf_of(&html);
    let pool = sqlx::SqlitePool::connect(&database).await.expect("db");
    let message: i64 =
        sqlx::query("SELECT id FROM messages WHERE direction = 'in' ORDER BY id LIMIT 1")
            .fetch_one(&pool)
            .await
            .expect("the resident's message")
            .get(0);
    let path = format!("/console/conversations/1/messages/{message}/correction");

    // Without a session, or with a made-up correction, nothing is kept.
    let anonymous = no_redirects()
        .post(format!("{base}{path}"))
        .form(&[("csrf", csrf.as_str()), ("correction", "dissatisfied:true")])
        .send()
        .await
        .expect("post");
    assert_eq!(anonymous.status(), 303);
    for bad in ["", "dissatisfied:maybe", "colour:blue", "intent:grumble"] {
        assert_eq!(
            act(
                &base,
                &cookie,
                &path,
                &[("csrf", &csrf), ("correction", bad)]
            )
            .await,
            400,
            "{bad:?}"
        );
    }
    // A bot's line, or another conversation's message, cannot be corrected.
    let bot_line: i64 =
        sqlx::query("SELECT id FROM messages WHERE direction = 'out' ORDER BY id LIMIT 1")
            .fetch_one(&pool)
            .await
            .expect("the bot's reply")
            .get(0);
    for path in [
        format!("/console/conversations/1/messages/{bot_line}/correction"),
        format!("/console/conversations/2/messages/{message}/correction"),
    ] {
        assert_eq!(
            act(
                &base,
                &cookie,
                &path,
                &[("csrf", &csrf), ("correction", "dissatisfied:true")]
            )
            .await,
            404,
            "{path}"
        );
    }
    let count = async || -> i64 {
        sqlx::query("SELECT COUNT(*) FROM assessment_corrections")
            .fetch_one(&pool)
            .await
            .expect("count")
            .get(0)
    };
    assert_eq!(count().await, 0);

    // Two corrections of the same message: both kept, both shown, both audited.
    for key in ["intent:compliment", "emergency:false"] {
        assert_eq!(
            act(
                &base,
                &cookie,
                &path,
                &[("csrf", &csrf), ("correction", key)]
            )
            .await,
            303
        );
    }
    assert_eq!(count().await, 2);
    let (_, html) = page(&base, &cookie, "/console/conversations/1").await;
    assert!(
        html.contains("Corrected by Alex Officer: Intent should be compliment"),
        "{html}"
    );
    assert!(
        html.contains("Corrected by Alex Officer: Not an emergency"),
        "{html}"
    );
    let audited: i64 =
        sqlx::query("SELECT COUNT(*) FROM audit WHERE action = 'assessment_corrected'")
            .fetch_one(&pool)
            .await
            .expect("audit")
            .get(0);
    assert_eq!(audited, 2);

    // Support needs (5.10): an agent may not mark them, and once an officer marks the message
    // as disclosing one, the agent no longer sees its words, in the conversation or the inbox.
    add_account(&database, "Bea Agent", "bea@example.org", "agent");
    let agent = sign_in(&base, "bea@example.org", PASSWORD)
        .await
        .expect("agent signed in");
    let (_, agent_html) = page(&base, &agent, "/console/conversations/1").await;
    assert!(agent_html.contains("plumber so quickly"), "{agent_html}");
    let agent_csrf = csrf_of(&agent_html);
    assert_eq!(
        act(
            &base,
            &agent,
            &path,
            &[("csrf", &agent_csrf), ("correction", "vulnerability:true")]
        )
        .await,
        403
    );
    assert_eq!(
        act(
            &base,
            &cookie,
            &path,
            &[("csrf", &csrf), ("correction", "vulnerability:true")]
        )
        .await,
        303
    );
    let (_, agent_html) = page(&base, &agent, "/console/conversations/1").await;
    assert!(!agent_html.contains("plumber so quickly"), "{agent_html}");
    assert!(!agent_html.contains("Was a vulnerability"), "{agent_html}");
    let (_, inbox) = page(&base, &agent, "/console").await;
    assert!(!inbox.contains("plumber so quickly"), "{inbox}");
    assert_eq!(
        act(
            &base,
            &agent,
            &path,
            &[("csrf", &agent_csrf), ("correction", "dissatisfied:true")]
        )
        .await,
        403,
        "a line restricted for agents cannot be corrected by one"
    );

    // A model fitted on a tiny corpus plus the correction is worse than the shipped engine on
    // the blind set, so it is not written.
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).expect("corpus dir");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let few: String = std::fs::read_to_string(root.join("tests/corpus/complaints.jsonl"))
        .expect("complaints")
        .lines()
        .take(40)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(corpus.join("few.jsonl"), few).expect("write");
    let out_file = dir.path().join("landlord.model");
    let train = Command::new(env!("CARGO_BIN_EXE_intake"))
        .args([
            "policy",
            "train",
            "--with-corrections",
            "--epochs",
            "2",
            "--bits",
            "10",
        ])
        .arg("--corpus")
        .arg(&corpus)
        .arg("--blind")
        .arg(root.join("tests/corpus/blind"))
        .arg("--out")
        .arg(&out_file)
        .env_clear()
        .env("INTAKE_DATABASE_URL", &database)
        .output()
        .expect("intake policy train");
    let stdout = String::from_utf8_lossy(&train.stdout);
    assert!(
        stdout.contains("Messages corrected by staff: 1, added to the 40 of the corpus"),
        "{stdout}{}",
        String::from_utf8_lossy(&train.stderr)
    );
    assert!(
        stdout.contains("Not written: the corrected model is worse"),
        "{stdout}"
    );
    assert_eq!(train.status.code(), Some(1));
    assert!(!out_file.exists(), "a worse model was written");

    // With corrections, the model goes to policy.model; without one configured, nothing is
    // guessed.
    let unconfigured = Command::new(env!("CARGO_BIN_EXE_intake"))
        .args(["policy", "train", "--with-corrections"])
        .arg("--corpus")
        .arg(&corpus)
        .env_clear()
        .env("INTAKE_DATABASE_URL", &database)
        .output()
        .expect("intake policy train");
    assert_eq!(unconfigured.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&unconfigured.stderr);
    assert!(stderr.contains("policy.model"), "{stderr}");
}
