//! The web chat end to end, over HTTP with a real client: the page, the session cookie, the
//! JSON API and the live event stream, and bad input refused with nothing half-written.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Row;
use tokio::sync::mpsc;

use crate::helpers::databases::Schema;
use crate::helpers::resident::{session, session_cookie};
use crate::helpers::{Bot, Resident, Said, TO_ACKNOWLEDGEMENT, WAIT, client, count, sqlite_in};

/// Opens the event stream and forwards each event's JSON.
pub(super) async fn listen(base: &str, cookie: &str) -> mpsc::UnboundedReceiver<Value> {
    let mut response = client()
        .get(format!("{base}/chat/api/events"))
        .header("Cookie", cookie)
        .timeout(Duration::from_secs(600))
        .send()
        .await
        .expect("events");
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"))
    );
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                for line in event.lines() {
                    if let Some(data) = line.strip_prefix("data:")
                        && let Ok(value) = serde_json::from_str::<Value>(data.trim())
                        && tx.send(value).is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// Waits for a reply containing `expect`; returns every reply seen meanwhile.
pub(super) async fn replies_until(
    events: &mut mpsc::UnboundedReceiver<Value>,
    expect: &str,
) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(WAIT, events.recv())
            .await
            .unwrap_or_else(|_| panic!("no reply containing {expect:?}; saw {seen:#?}"))
            .expect("the stream ended");
        let done = event["text"].as_str().is_some_and(|t| t.contains(expect));
        seen.push(event);
        if done {
            return seen;
        }
    }
}

async fn post(base: &str, cookie: Option<&str>, body: String) -> reqwest::Response {
    let mut request = client()
        .post(format!("{base}/chat/api/messages"))
        .header("Content-Type", "application/json")
        .body(body);
    if let Some(c) = cookie {
        request = request.header("Cookie", c);
    }
    request.send().await.expect("post")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complaint_in_the_web_chat_from_first_message_to_acknowledgement() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;

    // The embedded default: the root leads to the chat page, which is accessible and sets
    // the session cookie.
    let page = client().get(&bot.base).send().await.expect("page");
    assert_eq!(page.status(), 200);
    assert_eq!(page.url().path(), "/chat");
    let cookie_header = page
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/chat"] {
        assert!(cookie_header.contains(attribute), "{cookie_header}");
    }
    let cookie = session_cookie(&page).expect("a session cookie");
    let html = page.text().await.expect("html");
    for must in [
        "<label for=\"message\">",
        "role=\"log\"",
        "aria-live=\"polite\"",
        "name=\"viewport\"",
        "lang=\"en-GB\"",
    ] {
        assert!(html.contains(must), "the page lacks {must}");
    }

    let mut events = listen(&bot.base, &cookie).await;
    let mut last_choices: Vec<Value> = Vec::new();
    for (n, step) in TO_ACKNOWLEDGEMENT.iter().enumerate() {
        let body = match step.said {
            Said::Text(text) => json!({"text": text, "id": format!("m{n}")}),
            Said::Press(label) => {
                let key = last_choices
                    .iter()
                    .find(|c| c["label"] == label)
                    .unwrap_or_else(|| panic!("no choice {label:?} in {last_choices:?}"))["key"]
                    .clone();
                json!({"choice": key, "text": label, "id": format!("m{n}")})
            }
        };
        let response = post(&bot.base, Some(&cookie), body.to_string()).await;
        assert_eq!(response.status(), 202, "{:?}", response.text().await);
        let seen = replies_until(&mut events, step.expect).await;
        if let Some(with) = seen.iter().rev().find(|e| e["choices"].is_array()) {
            last_choices = with["choices"].as_array().cloned().unwrap_or_default();
        }
        // The page retries a post that may not have arrived: the same id is taken once.
        if n == 0 {
            let again = post(&bot.base, Some(&cookie), body.to_string()).await;
            assert_eq!(again.status(), 200);
            assert_eq!(
                again.json::<Value>().await.expect("json")["status"],
                "already received"
            );
        }
    }

    // The conversation so far, for this resident only.
    let lines = Resident::in_session(&bot.base, &cookie).history().await;
    let from = |who: &str| lines.iter().filter(|l| l["from"] == who).count();
    assert_eq!(from("resident"), TO_ACKNOWLEDGEMENT.len());
    assert!(
        lines.last().expect("last")["text"]
            .as_str()
            .expect("text")
            .contains("Reference: C")
    );

    let theirs = Resident::open(&bot.base).await.history().await;
    assert_eq!(
        theirs,
        Vec::<Value>::new(),
        "another resident sees nothing of this one"
    );

    let store = intake::store::Store::connect(&database)
        .await
        .expect("open");
    let cases = sqlx::query("SELECT c.stage FROM cases c JOIN conversations v ON v.id = c.conversation_id WHERE v.channel = 'web'")
        .fetch_all(store.pool_for_tests())
        .await
        .expect("cases");
    assert_eq!(cases.len(), 1);
    assert_eq!(
        count(&database, "outbox WHERE sent_at IS NULL").await,
        0,
        "every reply delivered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_message_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    let cookie = session(&bot.base).await;
    let messages_before = count(&database, "messages").await;

    let cases: Vec<(String, u16, &str)> = vec![
        (
            json!({"text": "x".repeat(20_000)}).to_string(),
            413,
            "too long",
        ),
        (
            "{\"text\": \"my boiler".to_owned(),
            400,
            "could not be read",
        ),
        ("[1, 2, 3]".to_owned(), 400, "could not be read"),
        (json!({"text": "   "}).to_string(), 400, "type a message"),
        (
            json!({"txt": "hello"}).to_string(),
            400,
            "could not be read",
        ),
        (
            json!({"choice": "<script>"}).to_string(),
            400,
            "not one the bot offered",
        ),
    ];
    for (body, status, words) in cases {
        let response = post(&bot.base, Some(&cookie), body.clone()).await;
        assert_eq!(response.status(), status, "{body:.60}");
        let error: Value = response.json().await.expect("a JSON error");
        let message = error["error"].as_str().expect("an error message");
        assert!(message.contains(words), "{body:.60}: {message}");
    }
    // Not JSON at all.
    let response = client()
        .post(format!("{}/chat/api/messages", bot.base))
        .header("Cookie", &cookie)
        .header("Content-Type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 415);
    // No session: reading is refused.
    let response = client()
        .get(format!("{}/chat/api/messages", bot.base))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 401);
    assert_eq!(
        count(&database, "messages").await,
        messages_before,
        "nothing half-written"
    );

    // Odd Unicode is kept, not refused: a NUL, right-to-left text, combining marks, emoji.
    let odd = "I\u{0}m upset 😡 \u{202E}tcartnoc\u{202C} ñ café 👨‍👩‍👧";
    let response = post(&bot.base, Some(&cookie), json!({"text": odd}).to_string()).await;
    assert_eq!(response.status(), 202);
    let store = intake::store::Store::connect(&database)
        .await
        .expect("open");
    let kept: String =
        sqlx::query("SELECT body FROM messages WHERE direction = 'in' ORDER BY id DESC LIMIT 1")
            .fetch_one(store.pool_for_tests())
            .await
            .expect("row")
            .try_get("body")
            .expect("body");
    assert_eq!(kept, odd.replace('\u{0}', "\u{FFFD}"));

    // Too many messages from one session: 429 with a time to wait, and the extra ones are not
    // recorded.
    let before = count(&database, "messages WHERE direction = 'in'").await;
    let mut accepted = 0;
    let mut limited = None;
    for n in 0..40 {
        let response = post(
            &bot.base,
            Some(&cookie),
            json!({"text": format!("hello {n}")}).to_string(),
        )
        .await;
        match response.status().as_u16() {
            202 => accepted += 1,
            429 => {
                let retry = response.headers().get("retry-after").cloned();
                limited = Some((retry, response.json::<Value>().await.expect("json")));
                break;
            }
            other => panic!("unexpected {other}"),
        }
    }
    let (retry, error) = limited.expect("a 429");
    assert!(retry.is_some(), "Retry-After is given");
    assert!(
        error["error"]
            .as_str()
            .expect("message")
            .contains("very quickly")
    );
    assert_eq!(
        count(&database, "messages WHERE direction = 'in'").await,
        before + accepted
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_goes_away_gets_a_clear_503_and_nothing_half_written() {
    // The bot on PostgreSQL, in a schema of its own that the test then takes away.
    let pg = Schema::create().await;
    let (schema, admin) = (&pg.name, &pg.admin);
    let dir = tempfile::tempdir().expect("tempdir");
    let bot = Bot::start(&pg.url(), &dir.path().join("bot.log"), &[]).await;
    let cookie = session(&bot.base).await;
    let response = post(
        &bot.base,
        Some(&cookie),
        json!({"text": "hello"}).to_string(),
    )
    .await;
    assert_eq!(response.status(), 202);

    // The tables disappear under the running bot (as when a database is lost).
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER SCHEMA {schema} RENAME TO {schema}_away"
    )))
    .execute(admin)
    .await
    .expect("take it away");
    let response = post(
        &bot.base,
        Some(&cookie),
        json!({"text": "my ceiling is leaking"}).to_string(),
    )
    .await;
    assert_eq!(response.status(), 503);
    let error: Value = response.json().await.expect("a JSON error");
    assert!(
        error["error"]
            .as_str()
            .expect("message")
            .contains("Nothing was half-saved"),
        "{error}"
    );

    // Back again: the resident's resend is taken, and the failed attempt left nothing behind.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER SCHEMA {schema}_away RENAME TO {schema}"
    )))
    .execute(admin)
    .await
    .expect("bring it back");
    let mut accepted = false;
    for _ in 0..50 {
        let response = post(
            &bot.base,
            Some(&cookie),
            json!({"text": "my ceiling is leaking"}).to_string(),
        )
        .await;
        if response.status() == 202 {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        accepted,
        "the resend was not taken once the database was back"
    );
    let inbound: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {schema}.messages WHERE direction = 'in'"
    )))
    .fetch_one(admin)
    .await
    .expect("count")
    .try_get("n")
    .expect("n");
    assert_eq!(
        inbound, 2,
        "hello and the resend; nothing from the failed attempt"
    );
    drop(bot);
    pg.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_opens_with_the_greeting_the_emergency_numbers_and_when_the_office_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    // Office hours of one minute a day: closed now, but for a minute after midnight on a
    // working day, which the assertions allow for.
    let config = dir.path().join("intake.toml");
    std::fs::write(
        &config,
        "[landlord]\nname = \"Rowan Homes\"\nout_of_hours_repairs_phone = \"0300 555 0199\"\n\
         [alerts]\nworking_hours_start = \"00:00\"\nworking_hours_end = \"00:01\"\n",
    )
    .expect("config");
    let env = [("INTAKE_CONFIG", config.display().to_string())];
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &env).await;
    let opening: Value = client()
        .get(format!("{}/chat/api/opening", bot.base))
        .send()
        .await
        .expect("opening")
        .json()
        .await
        .expect("json");
    assert_eq!(opening["landlord"], "Rowan Homes");
    assert!(
        opening["greeting"]
            .as_str()
            .is_some_and(|g| g.contains("this is Rowan Homes")),
        "{opening}"
    );
    let phones: Vec<&str> = opening["emergency"]
        .as_array()
        .expect("emergency numbers")
        .iter()
        .filter_map(|e| e["phone"].as_str())
        .collect();
    assert_eq!(phones, ["999", "0800 111 999", "0300 555 0199"]);
    if opening["open"] == false {
        let note = opening["out_of_hours"].as_str().expect("the note");
        assert!(
            note.starts_with("Our office is closed now. It opens again on ")
                && note.contains(" at 00:00. For an emergency repair call 0300 555 0199.")
                && note.ends_with("a member of staff will read it when we open."),
            "{note}"
        );
    } else {
        assert!(opening.get("out_of_hours").is_none(), "{opening}");
    }
    assert_eq!(
        count(&database, "messages").await,
        0,
        "opening writes nothing"
    );
}
