//! A console staff can read (issue 12): the inbox a page at a time in the order asked for,
//! with the resident's name and own last line, and alerts grouped per conversation and kind
//! (the store on SQLite and PostgreSQL); the grouped acknowledgement over HTTP, refused
//! without a session, without the form token and for the wrong role; and in headless
//! Chromium, the tab's alert count kept current live, a compact transcript of 30 messages
//! at 1280x900, no horizontal scroll at 390 px, a standard message inserted at the cursor,
//! Ctrl+Enter sending without a reload, and a refused form keeping what was typed. The
//! browser test also saves the README's screenshots under `docs/`.

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use intake::core::ids::ConversationId;
use intake::staff::{InboxFilter, Role};
use intake::store::{Inbound, Store};
use reqwest::Method;
use serde_json::json;

use crate::browser::{Browser, ChromeDriver, path_of};
use crate::helpers::staff::{act, csrf_of, no_redirects, page, refusal, sign_in};
use crate::helpers::{
    Bot, PASSWORD, add_account, at, on_both, open_case_answered, sqlite_in, staff_member,
};

/// A conversation `chat` on the web chat made at `now`, with lines alternating from the
/// resident and the bot a minute apart (the resident's first); its id.
async fn talk(store: &Store, chat: &str, lines: &[&str], now: DateTime<Utc>) -> ConversationId {
    let mut id = None;
    // One commit a line, as the service writes them, so they keep their order.
    for (i, line) in lines.iter().enumerate() {
        let when = now + Duration::minutes(i64::try_from(i).expect("few lines"));
        let mut record = store.begin().await.expect("begin");
        let conversation = record
            .conversation("web", chat, "{}", "en-GB", now)
            .await
            .expect("conversation");
        if i % 2 == 0 {
            record
                .inbound(
                    &conversation,
                    &Inbound {
                        channel: "web".to_owned(),
                        chat: chat.to_owned(),
                        platform_message_id: None,
                        body: (*line).to_owned(),
                        attachments: Vec::new(),
                        at: when,
                    },
                )
                .await
                .expect("inbound");
        } else {
            record.outbound(&conversation, "bot", line, &json!({}), when);
        }
        record.commit().await.expect("commit");
        id = Some(conversation.id);
    }
    id.expect("at least one line")
}

/// Raises `count` alerts of `kind` on a conversation.
async fn raise(
    store: &Store,
    chat: &str,
    kind: &str,
    urgent: bool,
    count: usize,
    now: DateTime<Utc>,
) {
    let mut record = store.begin().await.expect("begin");
    let conversation = record
        .conversation("web", chat, "{}", "en-GB", now)
        .await
        .expect("conversation");
    for n in 0..count {
        record.alert(&conversation, kind, urgent, &format!("{kind} {n}"), now);
    }
    record.commit().await.expect("commit");
}

fn filter(query: &[(&str, &str)]) -> InboxFilter {
    let mut filter = InboxFilter::default();
    for (key, value) in query {
        let value = Some((*value).to_owned());
        match *key {
            "channel" => filter.channel = value,
            "status" => filter.status = value,
            "risk" => filter.risk = value,
            "due_by" => filter.due_by = value,
            "sort" => filter.sort = value,
            "page" => filter.page = value.and_then(|v| v.parse().ok()),
            other => panic!("no filter {other}"),
        }
    }
    filter
}

#[test]
fn the_inbox_pages_sorts_and_groups_on_both_databases() {
    on_both(|store| async move {
        let start = at("2026-03-02T09:00:00Z");
        // 55 conversations, an hour apart, each the resident's line and the bot's answer.
        let mut ids = Vec::new();
        for n in 0..55 {
            let mine = format!("my line {n}");
            let id = talk(
                &store,
                &format!("chat-{n:02}"),
                &[&mine, "the bot's answer"],
                start + Duration::hours(n),
            )
            .await;
            ids.push(id);
        }
        // One with a complaint that names the resident.
        let mut answers = BTreeMap::new();
        answers.insert("name".to_owned(), "Ada Lovelace".to_owned());
        open_case_answered(&store, "C2026-00001", "2026-03-20", start, answers).await;
        raise(&store, "chat-10", "health_safety", false, 3, start).await;
        raise(&store, "chat-20", "emergency", true, 1, start).await;

        let page = |q: &'static [(&'static str, &'static str)]| {
            let store = store.clone();
            async move {
                intake::staff::inbox(&store, &filter(q))
                    .await
                    .expect("inbox")
            }
        };
        let total = |q: &'static [(&'static str, &'static str)]| {
            let store = store.clone();
            async move {
                intake::staff::inbox_total(&store, &filter(q))
                    .await
                    .expect("total")
            }
        };
        assert_eq!(total(&[]).await, 56);
        let first = page(&[]).await;
        assert_eq!(first.len(), 50);
        // The urgent one first, then the newest activity.
        assert_eq!(first[0].id, ids[20]);
        assert_eq!(first[1].id, ids[54]);
        assert_eq!(first[2].id, ids[53]);
        // The resident's own line, not the bot's; a name only where they gave one.
        assert_eq!(first[1].last_message, "my line 54");
        assert_eq!(first[1].resident, None);
        let second = page(&[("page", "2")]).await;
        assert_eq!(second.len(), 6);
        assert!(
            second.iter().all(|r| first.iter().all(|f| f.id != r.id)),
            "a conversation on two pages"
        );
        let named = second
            .iter()
            .find(|r| r.case.as_deref() == Some("C2026-00001"))
            .expect("the complaint on the last page");
        assert_eq!(named.resident.as_deref(), Some("Ada Lovelace"));

        let oldest = page(&[("sort", "oldest")]).await;
        assert_eq!(oldest[0].id, ids[0], "the longest waiting first");
        let newest = page(&[("sort", "newest")]).await;
        assert_eq!(newest[0].id, ids[54], "newest first, whatever the alerts");

        let risky = page(&[("risk", "health_safety")]).await;
        assert_eq!(
            risky.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![ids[10]]
        );
        assert_eq!(total(&[("risk", "health_safety")]).await, 1);
        assert_eq!(total(&[("status", "needs_person")]).await, 1);
        assert_eq!(total(&[("status", "complaint")]).await, 1);
        assert_eq!(total(&[("due_by", "2026-03-19")]).await, 0);
        assert_eq!(total(&[("due_by", "2026-03-20")]).await, 1);
        assert_eq!(total(&[("channel", "telegram")]).await, 0);
        assert_eq!(total(&[("status", "mine")]).await, 0, "nobody looking");
        assert_eq!(total(&[("status", "unassigned")]).await, 56);
        assert!(page(&[("page", "3")]).await.is_empty());

        // The three health and safety alerts are acknowledged together, once.
        let mo = staff_member(&store, "Mo Manager", "mo@example.org", Role::Manager, start).await;
        let done = intake::staff::acknowledge_group(&store, ids[10], "health_safety", &mo, start)
            .await
            .expect("acknowledge");
        assert_eq!(done, 3);
        let again = intake::staff::acknowledge_group(&store, ids[10], "health_safety", &mo, start)
            .await
            .expect("acknowledge again");
        assert_eq!(again, 0);
        assert_eq!(
            store.open_alert_counts().await.expect("counts"),
            (1, 1),
            "the emergency is still open"
        );
        assert_eq!(total(&[("risk", "health_safety")]).await, 0);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_acknowledged_together_by_a_manager_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    let base = bot.base.clone();
    add_account(&database, "Mo Manager", "mo@example.org", "manager");
    add_account(
        &database,
        "Alex Officer",
        "alex@example.org",
        "complaints_officer",
    );
    add_account(&database, "Bea Agent", "bea@example.org", "agent");
    let store = Store::connect(&database).await.expect("store");
    let now = Utc::now();
    let leak = talk(
        &store,
        "leak",
        &["water is coming through the ceiling", "ok"],
        now,
    )
    .await;
    raise(&store, "leak", "health_safety", false, 3, now).await;
    let path = format!("/console/conversations/{leak}/alerts/acknowledge");
    let open = || async {
        crate::helpers::count(
            &database,
            &format!(
                "alerts WHERE conversation_id = {leak} AND kind = 'health_safety' AND acknowledged_at IS NULL"
            ),
        )
        .await
    };

    // No session: sent to sign in.
    let response = no_redirects()
        .post(format!("{base}{path}"))
        .form(&[("csrf", "x"), ("kind", "health_safety")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/console/login");

    let mo = sign_in(&base, "mo@example.org", PASSWORD)
        .await
        .expect("mo");
    let (status, inbox) = page(&base, &mo, "/console").await;
    assert_eq!(status, 200);
    assert!(inbox.contains("<title>(3) Inbox"), "{inbox}");
    assert!(inbox.contains("3 health and safety alerts"), "{inbox}");
    assert!(inbox.contains(">Anonymous</a>"), "{inbox}");
    assert!(
        inbox.contains("water is coming through the ceiling"),
        "{inbox}"
    );
    let csrf = csrf_of(&inbox);

    // The manager's own session, but another form token: refused, as a page that says so.
    let (status, words) = refusal(
        &base,
        &mo,
        &path,
        &[("csrf", &"0".repeat(64)), ("kind", "health_safety")],
    )
    .await;
    assert_eq!(status, 403);
    assert!(words.contains("class=\"refusal\""), "{words}");
    assert_eq!(open().await, 3);

    // A complaints officer and an agent, each with their own token: not a manager's to do.
    for email in ["alex@example.org", "bea@example.org"] {
        let cookie = sign_in(&base, email, PASSWORD).await.expect("sign in");
        let (_, html) = page(&base, &cookie, "/console").await;
        assert!(!html.contains("Acknowledge all"), "{email} is offered it");
        let (status, words) = refusal(
            &base,
            &cookie,
            &path,
            &[("csrf", &csrf_of(&html)), ("kind", "health_safety")],
        )
        .await;
        assert_eq!(status, 403, "{email}");
        assert!(words.contains("Only a manager"), "{words}");
        assert_eq!(open().await, 3);
    }

    // The manager: all three at once, audited once.
    let status = act(
        &base,
        &mo,
        &path,
        &[("csrf", &csrf), ("kind", "health_safety")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(open().await, 0);
    assert_eq!(
        crate::helpers::count(&database, "audit WHERE action = 'acknowledge_alerts'").await,
        1
    );
    let (_, inbox) = page(&base, &mo, "/console").await;
    assert!(inbox.contains("<title>Inbox"), "{inbox}");
    assert!(inbox.contains("No alert is waiting."), "{inbox}");
    // An empty filter says so in words.
    let (_, none) = page(&base, &mo, "/console?channel=discord").await;
    assert!(
        none.contains("No conversation matches this filter."),
        "{none}"
    );
}

/// Takes what the browser shows as a PNG; with `INTAKE_SCREENSHOTS=1`, saves it in the
/// repository's `docs/` (the README shows it), so a plain test run leaves the checkout as it
/// found it: `INTAKE_SCREENSHOTS=1 ./.ci/test console_readable` remakes the pictures.
async fn screenshot(browser: &Browser, name: &str) {
    let shot = browser.call(Method::GET, "/screenshot", None).await;
    let shot = browser.must("take a screenshot", shot).await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot.as_str().unwrap_or_default())
        .expect("a PNG in base64");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    if std::env::var("INTAKE_SCREENSHOTS").as_deref() != Ok("1") {
        return;
    }
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    std::fs::create_dir_all(&docs).expect("docs/");
    std::fs::write(docs.join(name), png).expect("write the screenshot");
}

async fn number(browser: &Browser, script: &str) -> f64 {
    let value = browser.execute(script).await;
    browser
        .must(script, value)
        .await
        .as_f64()
        .unwrap_or(f64::NAN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_staff_can_read_on_a_desk_and_on_a_phone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let driver = ChromeDriver::start(dir.path()).await;
    let database = sqlite_in(dir.path());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    add_account(&database, "Mo Manager", "mo@example.org", "manager");
    let store = Store::connect(&database).await.expect("store");

    // Priya's complaint, and 30 lines of conversation about it.
    let started = Utc::now() - Duration::hours(2);
    let mut answers = BTreeMap::new();
    answers.insert("name".to_owned(), "Priya Shah".to_owned());
    answers.insert("for_whom".to_owned(), "self".to_owned());
    answers.insert("contact_detail".to_owned(), "07700 900123".to_owned());
    let due = (started + Duration::days(14)).date_naive().to_string();
    open_case_answered(&store, "C2026-00001", &due, started, answers).await;
    let mut lines = Vec::new();
    for n in 1..=15 {
        lines.push(format!(
            "The mould in the back bedroom is back again, day {n}."
        ));
        lines.push(format!(
            "Thank you for telling us. I have added this to your complaint (note {n})."
        ));
    }
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let id = talk(&store, "C2026-00001", &lines, started).await;
    raise(&store, "C2026-00001", "health_safety", false, 3, started).await;
    talk(
        &store,
        "other",
        &["hello, is anyone there?", "Hello!"],
        started,
    )
    .await;

    let browser = Browser::open(&driver, dir.path()).await;
    let sized = browser
        .call(
            Method::POST,
            "/window/rect",
            Some(json!({"width": 1280, "height": 900})),
        )
        .await;
    browser.must("size the window", sized).await;
    browser.sign_in(&bot.base, "mo@example.org").await;

    // The inbox: the resident by name with her own last line, the alerts grouped, the count
    // in the tab's title.
    let names = browser.texts("#conversations a.conversation").await;
    let names = browser.must("the inbox's rows", names).await;
    assert!(names.contains(&"Priya Shah".to_owned()), "{names:?}");
    assert!(names.contains(&"Anonymous".to_owned()), "{names:?}");
    let rows = browser.texts("#conversations td.last").await;
    let rows = browser.must("the last lines", rows).await;
    assert!(
        rows.iter().any(|r| r.contains("day 15.")),
        "the resident's last line: {rows:?}"
    );
    let groups = browser.texts("#alerts .alert-group .tag").await;
    let groups = browser.must("the alert groups", groups).await;
    assert_eq!(groups, vec!["3 health and safety alerts".to_owned()]);
    let title = browser.execute("return document.title").await;
    let title = browser.must("the title", title).await;
    assert!(
        title.as_str().unwrap_or_default().starts_with("(3) Inbox"),
        "{title}"
    );
    screenshot(&browser, "console-inbox.png").await;

    // A new alert while staff are busy on the page (so it does not reload): the title
    // counts it from the live stream.
    let root = browser.find("html").await;
    let root = browser.must("the page", root).await;
    let focused = browser
        .execute("document.querySelector('select[name=channel]').focus(); return true")
        .await;
    browser.must("focus the filter", focused).await;
    raise(&store, "other", "person_requested", false, 1, Utc::now()).await;
    browser
        .until("the title to count the new alert", async || {
            let title = browser.execute("return document.title").await.ok()?;
            title.as_str()?.starts_with("(4) Inbox").then_some(())
        })
        .await;
    if let Err(e) = browser.tag_name(&root).await {
        panic!("the inbox reloaded instead ({e})\n{}", browser.page().await);
    }

    // The conversation: take it over without a reload.
    let opened = browser
        .go(&format!("{}/console/conversations/{id}", bot.base))
        .await;
    browser.must("open the conversation", opened).await;
    let root = browser.find("html").await;
    let root = browser.must("the page", root).await;
    let claimed = browser.find_and_click("#claim").await;
    browser.must("press #claim", claimed).await;
    browser
        .until("the reply box once held", async || {
            browser.find("#reply-text").await.ok()
        })
        .await;
    if let Err(e) = browser.tag_name(&root).await {
        panic!("taking over reloaded the page ({e})");
    }
    let shown = browser.texts("#transcript .line").await;
    let shown = browser.must("the transcript", shown).await;
    assert!(shown.len() >= 30, "{} lines", shown.len());
    // 30 messages in about two screens at 1280x900.
    let height = number(&browser, "return document.documentElement.scrollHeight").await;
    assert!(
        height < 2000.0,
        "the page is {height} px high with 30 messages"
    );
    // Times in plain English, the precise time in the title; labels, not keys.
    let consent = browser.source().await;
    let source = browser.must("the page's source", consent).await;
    assert!(!source.contains(">for_whom<") && source.contains(">On whose behalf<"));
    assert!(!source.contains(">contact_detail<") && source.contains(">Contact detail<"));
    let times = browser.find_all("#transcript time[datetime][title]").await;
    let times = browser.must("the transcript's times", times).await;
    assert!(times.len() >= 30);
    let when = browser.text(&times[0]).await;
    let when = browser.must("a time", when).await;
    assert!(
        when.contains(", ") && !when.contains('-') && !when.contains('Z'),
        "a time in words: {when}"
    );

    // A standard message goes in at the cursor, keeping what was typed; Ctrl+Enter sends
    // and the page is not reloaded.
    let typed = browser.find_and_type("#reply-text", "Dear Priya, ").await;
    browser.must("type", typed).await;
    let picked = browser
        .execute(
            "var s = document.getElementById('standard'); s.selectedIndex = 1; \
             s.dispatchEvent(new Event('change', {bubbles: true})); return s.options[1].value",
        )
        .await;
    let standard = browser.must("pick a standard message", picked).await;
    let standard = standard.as_str().unwrap_or_default().to_owned();
    assert!(!standard.is_empty());
    let value = browser
        .execute("return document.getElementById('reply-text').value")
        .await;
    let value = browser.must("the reply's text", value).await;
    assert_eq!(
        value.as_str(),
        Some(format!("Dear Priya, {standard}").as_str())
    );
    let sent = browser
        .find_and_type("#reply-text", "\u{E009}\u{E007}")
        .await;
    browser.must("press Ctrl+Enter", sent).await;
    browser
        .until("the reply in the transcript", async || {
            let staff = browser.texts("#transcript .line.staff").await.ok()?;
            staff
                .iter()
                .any(|t| t.contains("Dear Priya,"))
                .then_some(())
        })
        .await;
    if let Err(e) = browser.tag_name(&root).await {
        panic!("sending reloaded the page ({e})");
    }
    let cleared = browser
        .execute("return document.getElementById('reply-text').value")
        .await;
    assert_eq!(
        browser.must("the reply box", cleared).await.as_str(),
        Some("")
    );
    let height = number(&browser, "return document.documentElement.scrollHeight").await;
    assert!(
        height < 2000.0,
        "the page is {height} px high with 31 messages"
    );
    let top = browser.execute("window.scrollTo(0, 0); return true").await;
    browser.must("scroll to the top", top).await;
    screenshot(&browser, "console-conversation.png").await;

    // A refused response stays on the page, says why with the Code provision, and keeps
    // what was typed.
    let opened = browser
        .execute(
            "document.querySelector('form.respond').closest('details').open = true; return true",
        )
        .await;
    browser.must("open the response form", opened).await;
    let decision = "We will replace the extractor fan in the bathroom.";
    let typed = browser
        .find_and_type("form.respond textarea[name=decision]", decision)
        .await;
    browser.must("type the decision", typed).await;
    let typed = browser
        .find_and_type(
            "form.respond textarea[name=reasons]",
            "The fan was found broken on the visit.",
        )
        .await;
    browser.must("type the reasons", typed).await;
    // The outcome is chosen (the browser itself insists on it); the remedy is what is missing.
    let chosen = browser
        .find_and_click("form.respond input[name=outcome][value=upheld]")
        .await;
    browser.must("choose the outcome", chosen).await;
    let cleared = browser
        .execute(
            "document.querySelector('form.respond textarea[name=remedy]').value = ''; return true",
        )
        .await;
    browser.must("empty the remedy", cleared).await;
    let pressed = browser
        .find_and_click("form.respond button[type=submit]")
        .await;
    browser.must("send the response", pressed).await;
    let refused = browser
        .until("the refusal beside the form", async || {
            let text = browser.texts("form.respond .refusal").await.ok()?;
            text.into_iter().next().filter(|t| !t.is_empty())
        })
        .await;
    assert!(refused.contains("(Code "), "{refused}");
    // Beside the field it is about: the remedy, emptied above, is marked and described by it.
    let beside = browser
        .execute(
            "var f = document.querySelector('form.respond textarea[name=remedy]'); \
             var note = f.closest('p').nextElementSibling; \
             return !!note && note.classList.contains('refusal') \
               && f.getAttribute('aria-invalid') === 'true' \
               && f.getAttribute('aria-describedby') === note.id",
        )
        .await;
    assert_eq!(
        browser
            .must("the refusal beside the remedy", beside)
            .await
            .as_bool(),
        Some(true)
    );
    let kept = browser
        .execute("return document.querySelector('form.respond textarea[name=decision]').value")
        .await;
    assert_eq!(
        browser.must("the typed decision", kept).await.as_str(),
        Some(decision)
    );
    if let Err(e) = browser.tag_name(&root).await {
        panic!("the refusal left the page ({e})");
    }
    let url = browser.url().await;
    let url = browser.must("the address", url).await;
    assert_eq!(
        path_of(&url, &bot.base),
        format!("/console/conversations/{id}")
    );

    // On a phone: nothing wider than the screen.
    let phone = browser.phone(390, 844).await;
    browser.must("emulate a phone", phone).await;
    for path in [
        format!("/console/conversations/{id}"),
        "/console".to_owned(),
    ] {
        let opened = browser.go(&format!("{}{path}", bot.base)).await;
        browser.must("open the page on a phone", opened).await;
        let width = number(&browser, "return document.documentElement.scrollWidth").await;
        if width > 390.0 {
            let wide = browser
                .execute(
                    "return Array.from(document.querySelectorAll('body *')) \
                     .filter(function (e) { return e.getBoundingClientRect().right > 390; }) \
                     .slice(0, 8).map(function (e) { return e.outerHTML.slice(0, 120); })",
                )
                .await;
            panic!("{path} is {width} px wide at 390 px; too wide: {wide:?}");
        }
    }
    browser.close().await;
}
