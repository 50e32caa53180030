//! Search, the case page, and assignment with queues in the console (issue 12): the store's
//! one search on SQLite and PostgreSQL (matching, ranking, odd input, 5.10, erased
//! conversations); the routes over HTTP against the real `intake serve` (no session, no form
//! token, the wrong role, escaping, the reference going straight to its complaint, the audit,
//! the 6.13 rule untouched); and a member of staff in headless Chromium searching, opening a
//! result, assigning it to a colleague who sees it under "Mine" with the count.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use intake::core::ids::ConversationId;
use intake::core::policy::{Context, Policy};
use intake::core::search::SearchQuery;
use intake::store::{Found, Inbound, SearchHit, SearchScope, Store};
use serde_json::json;
use sqlx::Row;

use crate::browser::{Browser, ChromeDriver, path_of};
use crate::helpers::staff::{act, csrf_of, no_redirects, page, refusal, sign_in};
use crate::helpers::{
    Bot, PASSWORD, Resident, Said, TO_ACKNOWLEDGEMENT, add_account, at, on_both,
    open_case_answered, sqlite_in,
};

/// Records a resident's message in conversation `chat` (made if new), assessed by the shipped
/// policy as the service would; its conversation.
async fn resident_says(
    store: &Store,
    policy: &Policy,
    chat: &str,
    text: &str,
    now: DateTime<Utc>,
) -> ConversationId {
    let mut record = store.begin().await.expect("begin");
    let conversation = record
        .conversation("web", chat, "{}", "en-GB", now)
        .await
        .expect("conversation");
    let message = record
        .inbound(
            &conversation,
            &Inbound {
                channel: "web".to_owned(),
                chat: chat.to_owned(),
                platform_message_id: None,
                body: text.to_owned(),
                attachments: Vec::new(),
                at: now,
            },
        )
        .await
        .expect("inbound")
        .expect("new");
    record
        .assessment(message, &policy.assess(text, &Context::default()), now)
        .expect("assessment");
    record.commit().await.expect("commit");
    conversation.id
}

async fn found(store: &Store, typed: &str, scope: SearchScope) -> Vec<SearchHit> {
    store
        .search(&SearchQuery::parse(typed), scope, 50)
        .await
        .unwrap_or_else(|e| panic!("search {typed:?} on {:?}: {e}", store.backend()))
}

fn conversations(hits: &[SearchHit]) -> Vec<ConversationId> {
    hits.iter().map(|h| h.conversation).collect()
}

#[test]
fn one_search_finds_references_names_contacts_and_words_on_both_databases() {
    on_both(|store| async move {
        let policy = Policy::shipped().expect("policy");
        let now = at("2026-03-02T10:00:00Z");
        let leak = resident_says(
            &store,
            &policy,
            "leak",
            "The kitchen ceiling is leaking again, water everywhere",
            now,
        )
        .await;
        let boiler = resident_says(
            &store,
            &policy,
            "boiler",
            "Boiler broken. The boiler man never came, boiler still broken.",
            now,
        )
        .await;
        let once = resident_says(
            &store,
            &policy,
            "once",
            "We had many problems this winter with damp in the bedroom and also the boiler made noises",
            now,
        )
        .await;
        let answers = BTreeMap::from([
            ("name".to_owned(), "Zoë Okafor".to_owned()),
            ("contact_detail".to_owned(), "07700 900123".to_owned()),
            ("support".to_owned(), "I am hard of hearing".to_owned()),
        ]);
        open_case_answered(&store, "C2026-00042", "2026-03-30", now, answers).await;

        // Words, from their start, in any case; every word needed.
        assert_eq!(
            conversations(&found(&store, "LEAK", SearchScope::Everything).await),
            [leak]
        );
        assert_eq!(
            conversations(&found(&store, "kitch ceil", SearchScope::Everything).await),
            [leak]
        );
        assert!(
            found(&store, "kitchen boiler", SearchScope::Everything)
                .await
                .is_empty()
        );
        assert!(
            found(&store, "eaking", SearchScope::Everything)
                .await
                .is_empty()
        );
        // Ranked: the message all about the boiler before the one mentioning it once.
        assert_eq!(
            conversations(&found(&store, "boiler", SearchScope::Everything).await),
            [boiler, once]
        );
        let hits = found(&store, "boiler", SearchScope::Everything).await;
        assert!(
            matches!(&hits[0].found, Found::Line { direction, text, .. } if direction == "in" && text.starts_with("Boiler broken")),
            "{hits:?}"
        );
        // A complaint by its reference, part of it, the resident's name and their number
        // however it is spaced; never by the support answer (5.10).
        for typed in [
            "C2026-00042",
            "00042",
            "zoë",
            "Okafor",
            "07700900123",
            "07700 900 123",
        ] {
            let hits = found(&store, typed, SearchScope::Everything).await;
            assert_eq!(hits.len(), 1, "{typed:?}: {hits:?}");
            assert_eq!(
                hits[0].reference.as_deref(),
                Some("C2026-00042"),
                "{typed:?}"
            );
            assert!(matches!(hits[0].found, Found::Case { .. }), "{typed:?}");
        }
        assert!(
            found(&store, "hearing", SearchScope::Everything)
                .await
                .is_empty()
        );

        // Odd input never fails: nothing, or what its plain words find.
        let long = "boiler ".repeat(1500);
        for typed in [
            "",
            " ",
            "\"",
            "\"boiler",
            "*",
            "boiler*",
            "-boiler",
            "boiler OR",
            "OR",
            "AND NOT",
            "NEAR(boiler",
            "((",
            "boiler)",
            "'",
            "\\",
            "%",
            "_",
            "😡😡",
            "½ ²",
            "水漏れ",
            "a:b",
            "boiler & | !",
            long.as_str(),
        ] {
            found(&store, typed, SearchScope::Everything).await;
        }
        assert_eq!(
            conversations(&found(&store, "\"boiler*", SearchScope::Everything).await),
            [boiler, once]
        );
        assert!(
            found(&store, "😡", SearchScope::Everything)
                .await
                .is_empty()
        );
    });
}

#[test]
fn agents_do_not_find_disclosures_and_nobody_finds_erased_conversations() {
    on_both(|store| async move {
        let policy = Policy::shipped().expect("policy");
        let now = at("2026-03-02T10:00:00Z");
        let disclosed = resident_says(
            &store,
            &policy,
            "disclosed",
            "I am registered blind and use a wheelchair",
            now,
        )
        .await;
        assert!(
            policy
                .assess(
                    "I am registered blind and use a wheelchair",
                    &Context::default()
                )
                .risks
                .iter()
                .any(|r| format!("{r:?}").to_lowercase().contains("vulnerab")),
            "the engine reads it as a disclosure"
        );
        // 5.10: the line is found by those who may see it, not by those who may not.
        assert_eq!(
            conversations(&found(&store, "wheelchair", SearchScope::Everything).await),
            [disclosed]
        );
        assert!(
            found(&store, "wheelchair", SearchScope::WithoutDisclosures)
                .await
                .is_empty()
        );

        // Erased by the retention purge: not found by its words, name or reference.
        let answers = BTreeMap::from([("name".to_owned(), "Priya Gupta".to_owned())]);
        open_case_answered(&store, "C2025-00007", "2025-03-30", now, answers).await;
        let erased: ConversationId =
            sqlx::query("SELECT conversation_id FROM cases WHERE reference = 'C2025-00007'")
                .fetch_one(store.pool_for_tests())
                .await
                .expect("case")
                .try_get("conversation_id")
                .expect("id");
        let mut record = store.begin().await.expect("begin");
        let conversation = record
            .conversation("web", "C2025-00007", "{}", "en-GB", now)
            .await
            .expect("conversation");
        assert_eq!(conversation.id, erased);
        record.commit().await.expect("commit");
        resident_says(&store, &policy, "C2025-00007", "my radiator is cold", now).await;
        for typed in ["radiator", "Priya", "C2025-00007"] {
            assert_eq!(
                found(&store, typed, SearchScope::Everything).await.len(),
                1,
                "{typed:?}"
            );
        }
        let counts = store.case_counts(erased).await.expect("counts");
        let mut record = store.begin().await.expect("begin");
        record.erase_conversation(erased, &counts, now);
        record.commit().await.expect("commit");
        for typed in ["radiator", "Priya", "C2025-00007", "00007"] {
            assert!(
                found(&store, typed, SearchScope::Everything)
                    .await
                    .is_empty(),
                "{typed:?} on {:?}",
                store.backend()
            );
        }
    });
}

/// A configuration file with one team.
fn teams_config(dir: &std::path::Path) -> String {
    let path = dir.join("intake.toml");
    std::fs::write(
        &path,
        "[[console.teams]]\nname = \"Repairs\"\nmembers = [\"bea@example.org\"]\n",
    )
    .expect("config");
    path.display().to_string()
}

/// The conversation id in a redirect to `/console/conversations/{id}...`.
fn conversation_in(location: &str) -> String {
    location
        .trim_start_matches("/console/conversations/")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_case_page_and_assignment_over_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    let config = teams_config(dir.path());
    let bot = Bot::start(
        &database,
        &dir.path().join("bot.log"),
        &[("INTAKE_CONFIG", config)],
    )
    .await;
    let base = bot.base.clone();

    // Nothing without a session: pages and the form send staff to sign in, nothing done.
    for path in ["/console/search?q=boiler", "/console/cases/C2026-00001"] {
        let response = no_redirects()
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers()["location"], "/console/login", "{path}");
    }
    let response = no_redirects()
        .post(format!("{base}/console/conversations/1/assign"))
        .form(&[("csrf", "x"), ("to", "staff:1")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/console/login");

    add_account(
        &database,
        "Alex Officer",
        "alex@example.org",
        "complaints_officer",
    );
    add_account(&database, "Bea Agent", "bea@example.org", "agent");
    add_account(&database, "Cal Agent", "cal@example.org", "agent");

    // A resident complains, disclosing a disability as their support need, with markup.
    let resident = Resident::open(&base).await;
    let steps: Vec<(Said, &str)> = TO_ACKNOWLEDGEMENT
        .iter()
        .map(|s| match s.said {
            Said::Text("no") => (
                Said::Text("I use a wheelchair, please phone before visiting"),
                s.expect,
            ),
            other => (other, s.expect),
        })
        .collect();
    resident.converse(&steps).await;
    let seen = resident.history().await.len();
    resident
        .send(json!({ "text": "<script>alert(1)</script> the radiator & the boiler <b>both</b> cold" }))
        .await;
    resident.hears(seen, "bot", "").await;

    let alex = sign_in(&base, "alex@example.org", PASSWORD)
        .await
        .expect("sign in");
    let bea = sign_in(&base, "bea@example.org", PASSWORD)
        .await
        .expect("sign in");
    let cal = sign_in(&base, "cal@example.org", PASSWORD)
        .await
        .expect("sign in");

    // Results mark the match and escape what the resident wrote.
    let (status, results) = page(&base, &alex, "/console/search?q=radiator").await;
    assert_eq!(status, 200);
    assert!(results.contains("<mark>radiator</mark>"), "{results}");
    assert!(results.contains("&lt;script&gt;"), "escaped: {results}");
    assert!(!results.contains("<script>alert"), "{results}");
    let at = results
        .find("href=\"/console/conversations/")
        .expect("a result")
        + 6;
    let href: String = results[at..].chars().take_while(|c| *c != '"').collect();
    assert!(href.contains("#m"), "a result opens at its line: {href}");
    let id = conversation_in(&href);
    let (status, _) = page(&base, &alex, &href).await;
    assert_eq!(status, 200);

    // Odd input and nothing typed: results for its plain words or a page saying there are
    // none, never an error.
    for typed in [
        "",
        "%22%22",
        "*",
        "-",
        "OR",
        "((",
        "%F0%9F%98%A1",
        &"x".repeat(10_000),
        "zzzzqqq",
    ] {
        let (status, html) = page(&base, &alex, &format!("/console/search?q={typed}")).await;
        assert_eq!(status, 200, "{typed:?}");
        assert!(
            html.contains("id=\"search-message\"") || html.contains("id=\"results\""),
            "{typed:?}: {html}"
        );
    }
    let (_, nothing) = page(&base, &alex, "/console/search?q=").await;
    assert!(nothing.contains("Type a name"), "{nothing}");
    let (_, none) = page(&base, &alex, "/console/search?q=zzzzqqq").await;
    assert!(none.contains("No conversation matches"), "{none}");

    // 5.10: the officer finds the disclosure; an agent does not, by any of its words.
    let (_, officer) = page(&base, &alex, "/console/search?q=wheelchair").await;
    assert!(officer.contains("<mark>wheelchair</mark>"), "{officer}");
    for words in ["wheelchair", "phone before visiting"] {
        let (_, agent) = page(&base, &bea, &format!("/console/search?q={words}")).await;
        assert!(
            agent.contains("No conversation matches"),
            "{words}: {agent}"
        );
        assert!(!agent.contains("<mark>"), "{words}");
    }

    // The reference: typed in full it opens the complaint; the case page does too.
    let (_, conversation) = page(&base, &alex, &format!("/console/conversations/{id}")).await;
    let at = conversation.find("<dl id=\"case-").expect("a complaint") + 13;
    let reference = conversation[at..at + 11].to_owned();
    for path in [
        format!("/console/search?q={}", reference.to_lowercase()),
        format!("/console/cases/{reference}"),
    ] {
        let response = no_redirects()
            .get(format!("{base}{path}"))
            .header("Cookie", &alex)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(
            response.headers()["location"],
            format!("/console/conversations/{id}#case-{reference}").as_str()
        );
    }
    let (status, missing) = page(&base, &alex, "/console/cases/C1999-00001").await;
    assert_eq!(status, 404);
    assert!(missing.contains("No such complaint") && missing.contains("C1999-00001"));
    assert!(
        missing.contains("id=\"search-box\""),
        "in the console's layout"
    );
    let (_, odd) = page(&base, &alex, "/console/cases/%3Cb%3Ex").await;
    assert!(odd.contains("&lt;B&gt;X") && !odd.contains("<B>"), "{odd}");

    // Assignment: without the form token, refused; an agent may take it for themself or
    // their team, not give it to a colleague; the officer may assign to anyone.
    let assign = format!("/console/conversations/{id}/assign");
    let alex_csrf = csrf_of(&conversation);
    let (_, bea_page) = page(&base, &bea, &format!("/console/conversations/{id}")).await;
    let bea_csrf = csrf_of(&bea_page);
    let (_, cal_page) = page(&base, &cal, "/console").await;
    let cal_csrf = csrf_of(&cal_page);
    let ids = staff_ids(&database).await;
    let to_bea = format!("staff:{}", ids["bea@example.org"]);
    let to_cal = format!("staff:{}", ids["cal@example.org"]);
    assert_eq!(
        act(&base, &alex, &assign, &[("csrf", "wrong"), ("to", &to_bea)]).await,
        403
    );
    assert_eq!(act(&base, &alex, &assign, &[("to", &to_bea)]).await, 403);
    let (status, why) = refusal(
        &base,
        &bea,
        &assign,
        &[("csrf", &bea_csrf), ("to", &to_cal)],
    )
    .await;
    assert_eq!(status, 403, "{why}");
    assert!(why.contains("themself or to a team"), "{why}");
    assert_eq!(
        act(
            &base,
            &bea,
            &assign,
            &[("csrf", &bea_csrf), ("to", "team:Nobody")]
        )
        .await,
        400
    );
    assert_eq!(
        act(
            &base,
            &cal,
            &assign,
            &[("csrf", &cal_csrf), ("to", "team:Repairs")]
        )
        .await,
        403
    );
    assert_eq!(
        act(
            &base,
            &bea,
            &assign,
            &[("csrf", &bea_csrf), ("to", "team:Repairs")]
        )
        .await,
        303
    );
    let (status, why) = refusal(&base, &cal, &assign, &[("csrf", &cal_csrf), ("to", "")]).await;
    assert_eq!(status, 403, "{why}");
    assert_eq!(
        act(
            &base,
            &alex,
            &assign,
            &[("csrf", &alex_csrf), ("to", &to_cal)]
        )
        .await,
        303
    );

    // The queues and their counts: Cal's "mine", nobody's "unassigned"; Bea (in Repairs)
    // no longer has it now that it is Cal's.
    let count = |html: &str, queue: &str| -> String {
        let at = html.find(&format!("id=\"queue-{queue}\"")).expect("queue");
        let at = at + html[at..].find("class=\"count\">").expect("count") + 14;
        html[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect()
    };
    let (_, cal_inbox) = page(&base, &cal, "/console?status=mine").await;
    assert_eq!(count(&cal_inbox, "mine"), "1");
    let row = format!("class=\"conversation\" href=\"/console/conversations/{id}\"");
    assert!(cal_inbox.contains(&row));
    assert!(
        cal_inbox.contains("class=\"assigned-to\">Cal Agent<"),
        "assigned to, in the row"
    );
    let (_, unassigned) = page(&base, &alex, "/console?status=unassigned").await;
    assert!(!unassigned.contains(&row));
    let (_, everything) = page(&base, &alex, "/console").await;
    assert!(everything.contains(&row));
    let (_, bea_inbox) = page(&base, &bea, "/console?status=mine").await;
    assert_eq!(count(&bea_inbox, "mine"), "0");
    assert!(bea_inbox.contains("No conversation matches this filter"));

    // Every change audited, with to whom and from whom.
    let store = Store::connect(&database).await.expect("store");
    let audited: Vec<(String, String)> = sqlx::query(
        "SELECT action, detail FROM audit WHERE action IN ('assign', 'unassign') ORDER BY id",
    )
    .fetch_all(store.pool_for_tests())
    .await
    .expect("audit")
    .iter()
    .map(|r| (r.get("action"), r.get("detail")))
    .collect();
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert!(audited[0].1.contains("team:Repairs"));
    assert!(
        audited[1].1.contains(&to_cal) && audited[1].1.contains("team:Repairs"),
        "{audited:?}"
    );

    // Assignment names nobody as the complaint's handler (6.13 stays with the handler form).
    let handler: Option<i64> = sqlx::query("SELECT handler_id FROM cases WHERE reference = $1")
        .bind(&reference)
        .fetch_one(store.pool_for_tests())
        .await
        .expect("case")
        .get("handler_id");
    assert_eq!(handler, None);
}

/// Staff ids by email.
async fn staff_ids(database: &str) -> std::collections::HashMap<String, i64> {
    let store = Store::connect(database).await.expect("store");
    sqlx::query("SELECT id, email FROM staff")
        .fetch_all(store.pool_for_tests())
        .await
        .expect("staff")
        .iter()
        .map(|r| (r.get("email"), r.get("id")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_search_open_a_result_and_assign_it_to_a_colleague_who_sees_it_as_theirs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let driver = ChromeDriver::start(dir.path()).await;
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
    resident
        .say("the damp in the bathroom is getting worse")
        .await;
    resident.hears(0, "bot", "").await;

    let browser = Browser::open(&driver, dir.path()).await;
    browser.sign_in(&bot.base, "alex@example.org").await;
    let typed = browser.find_and_type("#search-box", "bathroom damp").await;
    browser.must("type in the search box", typed).await;
    let sent = browser.find_and_click("#search button[type=submit]").await;
    browser.must("press Search", sent).await;
    let marked = browser
        .until("the results, the words marked", async || {
            let marks = browser.texts("#results mark").await.ok()?;
            (!marks.is_empty()).then_some(marks)
        })
        .await;
    assert!(marked.iter().any(|m| m == "bathroom"), "{marked:?}");
    let opened = browser.find_and_click("#results a").await;
    browser.must("open the result", opened).await;
    let conversation = browser
        .until("the conversation page", async || {
            let url = browser.url().await.ok()?;
            let path = path_of(&url, &bot.base).to_owned();
            path.starts_with("/console/conversations/").then_some(path)
        })
        .await;

    // Assign it to Bea.
    let select = browser.find("#assign-to").await;
    let select = browser.must("the assignment list", select).await;
    let options = browser.find_all("#assign-to option").await;
    let options = browser.must("its options", options).await;
    let mut bea = None;
    for option in options {
        if browser
            .text(&option)
            .await
            .is_ok_and(|t| t.contains("Bea Agent"))
        {
            bea = Some(option);
        }
    }
    let clicked = browser.click(&select).await;
    browser.must("open the list", clicked).await;
    let chosen = browser.click(&bea.expect("Bea among the choices")).await;
    browser.must("choose Bea", chosen).await;
    let assigned = browser.find_and_click("#assign-button").await;
    browser.must("press Assign", assigned).await;
    browser
        .until("the page saying it is Bea's", async || {
            let text = browser.find("#assigned-to").await.ok()?;
            browser
                .text(&text)
                .await
                .ok()?
                .contains("Bea Agent")
                .then_some(())
        })
        .await;
    let out = browser
        .find_and_click("header form[action=\"/console/logout\"] button")
        .await;
    browser.must("sign out", out).await;

    // Bea sees it under "Mine", with the count.
    browser.sign_in(&bot.base, "bea@example.org").await;
    let mine = browser.find_and_click("#queue-mine").await;
    browser.must("open Mine", mine).await;
    let (count, links) = browser
        .until("Bea's queue", async || {
            let url = browser.url().await.ok()?;
            if !url.contains("status=mine") {
                return None;
            }
            let count = browser.texts("#queue-mine .count").await.ok()?;
            let links = browser.find_all("a.conversation").await.ok()?;
            let mut hrefs = Vec::new();
            for l in links {
                hrefs.push(browser.attribute(&l, "href").await.ok()??);
            }
            Some((count, hrefs))
        })
        .await;
    assert_eq!(count, ["1"]);
    assert_eq!(links, [conversation]);
    browser.close().await;
}
