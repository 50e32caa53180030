//! A bad day in production, tried from outside against the real `intake serve` binary: a full
//! disk, a platform that is down at start, SIGTERM with pages open, many idle connections.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sqlx::Row;

use crate::helpers::resident::{session, session_cookie};
use crate::helpers::staff::{cookie_named, csrf_of, post_sign_in};
use crate::helpers::{
    Bot, PASSWORD, add_account, client, eventually, free_port, intake, on_both, open_case,
    postgres_url, sqlite_in, staff_member,
};

const WAIT: Duration = Duration::from_secs(30);

/// A small tmpfs mounted for one test (the test runs as root, as CI does), unmounted on drop.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(path: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(path).expect("mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs to fill the disk, which needs root (CI runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk {
            path: path.to_owned(),
        }
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).expect("filler");
        let chunk = vec![0u8; 4096];
        while file.write_all(&chunk).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// `intake serve` on a fresh SQLite file with `env` (INTAKE_* settings); the folder lasts as
/// long as the returned guard.
async fn bot_with(env: &[(&str, String)]) -> (tempfile::TempDir, String, Bot) {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), env).await;
    (dir, database, bot)
}

/// Opens a page's live event stream with `client`.
async fn live(client: &reqwest::Client, base: &str, cookie: &str) -> reqwest::Response {
    client
        .get(format!("{base}/chat/api/events"))
        .header("Cookie", cookie)
        .timeout(Duration::from_secs(600))
        .send()
        .await
        .expect("events")
}

/// Posts one message with the page's id; waits out a 429 as the page does. The status.
async fn post(base: &str, cookie: &str, id: &str, text: &str) -> u16 {
    loop {
        let response = client()
            .post(format!("{base}/chat/api/messages"))
            .header("Content-Type", "application/json")
            .header("Cookie", cookie)
            .body(serde_json::json!({ "text": text, "id": id }).to_string())
            .send()
            .await
            .expect("post");
        let status = response.status().as_u16();
        if status != 429 {
            return status;
        }
        let wait = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

/// Code 5.12 and the critical item: "received" (202) must mean durably committed. On
/// a full disk the bot answers 503 until a real commit succeeds; once space returns, each
/// message the page sends again is recorded once, and each one that was answered 202 is
/// "already received" (200), never recorded a second time and never lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_and_never_loses_a_received_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let disk = SmallDisk::mount(&dir.path().join("disk"), "6m");
    let database = format!("sqlite://{}/intake.db", disk.path.display());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;

    const SESSIONS: usize = 24;
    const EACH: usize = 8;
    let mut cookies = Vec::new();
    for _ in 0..SESSIONS {
        cookies.push(session(&bot.base).await);
    }
    let filler = disk.fill();

    // Every resident types while the disk is full.
    let send_all = |round: &'static str| {
        let tasks: Vec<_> = cookies
            .iter()
            .enumerate()
            .map(|(s, cookie)| {
                let base = bot.base.clone();
                let cookie = cookie.clone();
                tokio::spawn(async move {
                    let mut answers = Vec::new();
                    for n in 0..EACH {
                        let id = format!("m{n}");
                        let text = format!("resident {s} message {n}: the boiler is still broken");
                        answers.push(((s, id.clone()), post(&base, &cookie, &id, &text).await));
                    }
                    let _ = round;
                    answers
                })
            })
            .collect();
        async move {
            let mut answers = HashMap::new();
            for task in tasks {
                answers.extend(task.await.expect("task"));
            }
            answers
        }
    };
    let full = send_all("full").await;
    let failed = full.values().filter(|s| **s == 503).count();
    let received = full.values().filter(|s| **s == 202).count();
    assert!(
        full.values().all(|s| *s == 503 || *s == 202),
        "only 503 or 202: {full:?}"
    );
    assert!(
        failed >= SESSIONS,
        "the disk was full, yet only {failed} of {} posts were refused",
        full.len()
    );

    // Liveness stays cheap and says the process answers; readiness proves a write and
    // says the record cannot take one.
    let health = client()
        .get(format!("{}/healthz", bot.base))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let (status, body) = readiness(&bot.base).await;
    assert_eq!(status, 503, "not ready on a full disk: {body}");
    assert_eq!(body["status"], "not ready");

    // Space returns: every page sends again what it has not seen received.
    std::fs::remove_file(&filler).expect("free the disk");
    let base = bot.base.clone();
    eventually("ready once there is space", WAIT, async || {
        (readiness(&base).await.0 == 200).then_some(())
    })
    .await;
    let again = send_all("again").await;
    for (key, first) in &full {
        let second = again[key];
        match first {
            202 => assert_eq!(
                second, 200,
                "{key:?} was answered 202 on the full disk, so it must be 'already received' now"
            ),
            _ => assert_eq!(second, 202, "{key:?} is taken once there is space"),
        }
    }

    // Nothing answered 202 is lost, even to a kill at once.
    let mut bot = bot;
    bot.kill();
    let store = intake::store::Store::connect(&database)
        .await
        .expect("open the record");
    let rows = sqlx::query(
        "SELECT platform_message_id, COUNT(*) AS n FROM messages \
         WHERE direction = 'in' GROUP BY platform_message_id",
    )
    .fetch_all(store.pool_for_tests())
    .await
    .expect("messages");
    let counts: Vec<i64> = rows.iter().map(|r| r.try_get("n").expect("n")).collect();
    assert_eq!(
        counts.len(),
        SESSIONS * EACH,
        "every message recorded (received {received}, refused {failed} on the full disk)"
    );
    assert!(counts.iter().all(|n| *n == 1), "each recorded once");
    drop(disk);
}

/// `/readyz` as JSON, with its status.
async fn readiness(base: &str) -> (u16, serde_json::Value) {
    let response = client()
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    let status = response.status().as_u16();
    (status, response.json().await.expect("readyz JSON"))
}

/// Telegram and Discord unreachable at start: the web chat and the console serve at once,
/// `/readyz` says each channel is retrying, and each starts by itself once its platform is
/// there, with no restart: a resident's message on each then gets its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_down_at_start_is_retried_while_the_web_chat_serves() {
    use crate::helpers::fake_discord::{FakeDiscord, TOKEN as DISCORD_TOKEN};
    use crate::helpers::fake_telegram::{FakeTelegram, TOKEN as TELEGRAM_TOKEN};

    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    let (telegram_port, discord_port) = (free_port(), free_port());
    let bot = Bot::start(
        &database,
        &dir.path().join("bot.log"),
        &[
            ("INTAKE_TELEGRAM_TOKEN", TELEGRAM_TOKEN.to_owned()),
            (
                "INTAKE_TELEGRAM_API_URL",
                format!("http://127.0.0.1:{telegram_port}"),
            ),
            ("INTAKE_DISCORD_TOKEN", DISCORD_TOKEN.to_owned()),
            (
                "INTAKE_DISCORD_API_URL",
                format!("http://127.0.0.1:{discord_port}"),
            ),
        ],
    )
    .await;

    // The web chat serves while both platforms are away.
    let cookie = session(&bot.base).await;
    assert_eq!(
        post(&bot.base, &cookie, "w1", "hello, my boiler is broken").await,
        202
    );
    let base = bot.base.clone();
    let channels = eventually("both platforms reported retrying", WAIT, async || {
        let (status, body) = readiness(&base).await;
        let retrying = |c: &str| body["channels"][c]["state"] == "retrying";
        (status == 200 && retrying("telegram") && retrying("discord")).then_some(body)
    })
    .await;
    assert_eq!(channels["channels"]["web"]["state"], "up", "{channels}");
    let log = bot.log_text();
    assert!(
        !log.contains(TELEGRAM_TOKEN) && !log.contains(DISCORD_TOKEN),
        "no token in the log"
    );

    // The platforms come back; the bot connects by itself.
    let telegram = FakeTelegram::start_on(telegram_port).await;
    let discord = FakeDiscord::start_on(discord_port).await;
    eventually("both platforms up", Duration::from_secs(90), async || {
        let (_, body) = readiness(&base).await;
        let up = |c: &str| body["channels"][c]["state"] == "up";
        (up("telegram") && up("discord")).then_some(())
    })
    .await;
    discord.wait_connected().await;

    telegram
        .say(7001, "the lift has been broken for a week")
        .await;
    discord.say(8001, "the lift has been broken for a week");
    eventually("answers on both platforms", WAIT, async || {
        (!telegram.sent_to(7001).is_empty() && !discord.sent_to(8001).is_empty()).then_some(())
    })
    .await;
}

/// SIGTERM with chat pages open: the event streams end, a message taken just before is
/// committed, and the process exits promptly (orchestrators send SIGKILL after 10 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_chat_pages_open_stops_promptly_and_keeps_what_was_received() {
    let (_dir, database, mut bot) = bot_with(&[]).await;
    let mut streams = Vec::new();
    for _ in 0..5 {
        let cookie = session(&bot.base).await;
        let stream = live(&client(), &bot.base, &cookie).await;
        assert_eq!(stream.status(), 200);
        assert_eq!(
            post(&bot.base, &cookie, "m1", "there is mould in the bedroom").await,
            202
        );
        streams.push(stream);
    }
    let status = bot
        .terminate(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running 10 s after SIGTERM:\n{}", bot.log_text()));
    assert!(status.success(), "a clean exit: {status:?}");
    // Each open page sees its stream end (and would reconnect to the next process).
    for mut stream in streams {
        let ended = tokio::time::timeout(Duration::from_secs(5), async {
            while let Ok(Some(_)) = stream.chunk().await {}
        })
        .await;
        assert!(ended.is_ok(), "the event stream ended");
    }
    let store = intake::store::Store::connect(&database)
        .await
        .expect("open the record");
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM messages WHERE direction = 'in'")
        .fetch_one(store.pool_for_tests())
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
    assert_eq!(n, 5, "every message answered 202 is in the record");
}

/// A client on its own loopback address (127.0.0.0/8 is all loopback on Linux): several
/// "machines" in one test. Redirects are not followed.
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(address.parse::<std::net::IpAddr>().expect("address"))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

async fn sign_in_from(base: &str, address: &str, email: &str, password: &str) -> u16 {
    post_sign_in(&client_from(address), base, email, password)
        .await
        .status()
        .as_u16()
}

/// Items 8 and 9: a flood of failed sign-ins neither swells memory (password checks run a
/// few at a time, off the async workers, and the rest are refused) nor locks a member of
/// staff out: the limit is per address, and per email from that address, so the right
/// password from a clean address still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_neither_swell_memory_nor_lock_staff_out() {
    let (_dir, database, bot) = bot_with(&[]).await;
    add_account(
        &database,
        "Alex Officer",
        "alex@example.org",
        "complaints_officer",
    );
    let before = bot.rss_kib();

    // An attacker on one address guesses Alex's password until refused.
    let mut refused = false;
    for _ in 0..8 {
        match sign_in_from(&bot.base, "127.0.0.2", "alex@example.org", "guess").await {
            401 => {}
            429 => refused = true,
            other => panic!("a wrong password answers 401 or 429, not {other}"),
        }
    }
    assert!(refused, "guessing from one address is limited");
    assert_eq!(
        sign_in_from(&bot.base, "127.0.0.2", "alex@example.org", PASSWORD).await,
        429,
        "the guessing address stays refused for a while"
    );
    // Alex, at their own desk, signs in.
    assert_eq!(
        sign_in_from(&bot.base, "127.0.0.3", "alex@example.org", PASSWORD).await,
        303,
        "a correct password from a clean address is never locked out"
    );

    // 160 sign-ins at once with random emails, from 160 addresses.
    let tasks: Vec<_> = (0..160)
        .map(|n| {
            let base = bot.base.clone();
            tokio::spawn(async move {
                let address = format!("127.0.{}.{}", 10 + n / 200, 1 + n % 200);
                let email = format!("{}@example.org", uuid::Uuid::new_v4().simple());
                sign_in_from(&base, &address, &email, "whatever").await
            })
        })
        .collect();
    let mut answers = HashMap::new();
    for task in tasks {
        *answers.entry(task.await.expect("task")).or_insert(0) += 1;
    }
    assert!(
        answers.keys().all(|s| *s == 401 || *s == 503),
        "wrong passwords answer 401, or 503 while the checks are busy: {answers:?}"
    );
    assert!(
        answers.contains_key(&503),
        "checks beyond the few at once are refused, not queued: {answers:?}"
    );
    // One after another, each one checked: memory must not grow with each check (the
    // allocator kept every check's 19 MB when each allocated its own).
    for n in 0..12 {
        let address = format!("127.0.9.{}", n + 1);
        let email = format!("{}@example.org", uuid::Uuid::new_v4().simple());
        assert_eq!(
            sign_in_from(&bot.base, &address, &email, "whatever").await,
            401
        );
    }
    let after = bot.rss_kib();
    // Two checking threads keep 19 MB of working memory each, and nothing more.
    assert!(
        after < before + 80 * 1024,
        "memory grew from {before} KiB to {after} KiB"
    );
    let health = client()
        .get(format!("{}/healthz", bot.base))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
}

/// Item 10: one client opening chat after chat is refused new sessions, but a resident on
/// another address still gets the chat; and whoever is refused is shown the emergency
/// numbers, never a bare error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_keep_residents_out_of_the_web_chat() {
    let (_dir, _, bot) = bot_with(&[]).await;
    let flood = client_from("127.0.0.2");
    let mut refused = None;
    for _ in 0..300 {
        let page = flood
            .get(format!("{}/chat", bot.base))
            .send()
            .await
            .expect("page");
        if page.status() == 429 {
            refused = Some(page.text().await.expect("body"));
            break;
        }
    }
    let refused = refused.expect("a client opening hundreds of chats is limited");
    for number in ["999", "0800 111 999", "0300 123 4568"] {
        assert!(
            refused.contains(number),
            "the refusal gives {number}: {refused}"
        );
    }
    let resident = client_from("127.0.0.3")
        .get(format!("{}/chat", bot.base))
        .send()
        .await
        .expect("page");
    assert_eq!(resident.status(), 200, "a resident elsewhere gets the chat");
    // No inline script may run on the chat or the console: the scripts are files.
    for response in [
        &resident,
        &client()
            .get(format!("{}/console/login", bot.base))
            .send()
            .await
            .expect("sign-in page"),
    ] {
        let policy = response
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"),
            "{policy}"
        );
    }
    assert!(
        resident
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.starts_with("intake_chat="))),
        "with a session"
    );
}

/// Item 12: once a complaint has a handler, only they (or a manager) act on it: extend it,
/// decide an exclusion, redefine it, record remedies, mark actions done or close it (6.13).
/// An exclusion is decided only where the engine suggested a route, on a complaint still
/// awaiting its response (2.5).
#[test]
fn only_a_complaints_handler_or_a_manager_acts_on_it() {
    use intake::service::CaseError;
    use intake::staff::Role;

    on_both(|store| async move {
        let now: chrono::DateTime<chrono::Utc> = "2026-03-02T10:00:00Z".parse().expect("now");
        let service = intake(store.clone());
        open_case(&store, "C2026-00070", "2026-03-16", now).await;
        let add = |name: &'static str, role| {
            let store = store.clone();
            async move {
                staff_member(
                    &store,
                    name,
                    &format!("{}@example.org", name.to_lowercase()),
                    role,
                    now,
                )
                .await
            }
        };
        let alex = add("Alex", Role::ComplaintsOfficer).await;
        let cy = add("Cy", Role::ComplaintsOfficer).await;
        let mo = add("Mo", Role::Manager).await;
        service
            .assign_handler("C2026-00070", alex.id, &mo, now)
            .await
            .expect("a manager names Alex");
        let reference = "C2026-00070";
        let refused =
            |result: Result<intake::store::Conversation, CaseError>, what: &str| match result {
                Err(CaseError::Refused(why)) => why,
                other => panic!("{what}: refused expected, got {other:?}"),
            };
        let why = refused(
            service
                .extend_deadline(reference, 2, "waiting for a contractor", &cy, now)
                .await,
            "Cy extends",
        );
        assert!(why.contains("someone else"), "{why}");
        let why = refused(
            service
                .decide_exclusion(reference, true, "out of time", &cy, now)
                .await,
            "Cy decides an exclusion",
        );
        assert!(why.contains("someone else"), "{why}");
        refused(
            service
                .edit_definition(reference, "No heating since Monday.", &cy, now)
                .await,
            "Cy redefines",
        );
        refused(
            service
                .record_case_action(reference, "remedy", "an apology", None, &cy, now)
                .await,
            "Cy records a remedy",
        );
        refused(
            service.close_case(reference, "done", &cy, now).await,
            "Cy closes",
        );
        // The handler may not exclude a complaint no route was suggested for.
        let why = refused(
            service
                .decide_exclusion(reference, true, "out of time", &alex, now)
                .await,
            "an exclusion with no suggested route",
        );
        assert!(why.contains("no suggested route"), "{why}");
        // The handler and a manager may act.
        service
            .extend_deadline(reference, 2, "waiting for a contractor", &alex, now)
            .await
            .expect("Alex extends");
        service
            .record_case_action(reference, "remedy", "an apology", None, &mo, now)
            .await
            .expect("a manager records a remedy");
        let status: String = sqlx::query("SELECT status FROM cases WHERE reference = $1")
            .bind(reference)
            .fetch_one(store.pool_for_tests())
            .await
            .expect("case")
            .try_get("status")
            .expect("status");
        assert_eq!(status, "acknowledged", "nothing Cy tried took effect");
    });
}

/// Item 14: the inbox's live stream ends when its member of staff signs out; and a web chat
/// button press is recorded with the label the bot offered, never one the client sends,
/// while a choice the bot never offered is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_end_at_sign_out_and_presses_keep_the_offered_label() {
    let (_dir, database, bot) = bot_with(&[]).await;
    add_account(&database, "Bea Agent", "bea@example.org", "agent");

    let staff = client_from("127.0.0.5");
    let signed_in = post_sign_in(&staff, &bot.base, "bea@example.org", PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    let cookie = cookie_named(&signed_in, "intake_staff")
        .and_then(|v| v.split(';').next().map(str::to_owned))
        .expect("session");
    let mut stream = staff
        .get(format!("{}/console/events", bot.base))
        .header("Cookie", &cookie)
        .send()
        .await
        .expect("events");
    assert_eq!(stream.status(), 200);
    let inbox = staff
        .get(format!("{}/console", bot.base))
        .header("Cookie", &cookie)
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("html");
    let csrf = csrf_of(&inbox);
    let out = staff
        .post(format!("{}/console/logout", bot.base))
        .header("Cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), 303);
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the inbox stream ended with the session");

    // The web chat: an unhappy message, then the offered button, with a made-up label.
    let cookie = session(&bot.base).await;
    assert_eq!(
        post(
            &bot.base,
            &cookie,
            "c1",
            "third time the repair was missed, not happy"
        )
        .await,
        202
    );
    let offered = eventually("the offer's buttons", WAIT, async || {
        let history: serde_json::Value = client()
            .get(format!("{}/chat/api/messages", bot.base))
            .header("Cookie", &cookie)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        history["messages"]
            .as_array()?
            .iter()
            .rev()
            .find_map(|line| line["choices"].as_array().cloned())
    })
    .await;
    let key = offered[0]["key"].as_str().expect("key").to_owned();
    let label = offered[0]["label"].as_str().expect("label").to_owned();
    let press = |choice: &str, id: &str| {
        let body =
            serde_json::json!({"choice": choice, "text": "I withdraw all my complaints", "id": id});
        client()
            .post(format!("{}/chat/api/messages", bot.base))
            .header("Content-Type", "application/json")
            .header("Cookie", &cookie)
            .body(body.to_string())
            .send()
    };
    assert_eq!(
        press("never_offered", "c2").await.expect("post").status(),
        400
    );
    assert_eq!(press(&key, "c3").await.expect("post").status(), 202);
    let store = intake::store::Store::connect(&database)
        .await
        .expect("open the record");
    let bodies: Vec<String> = sqlx::query(
        "SELECT body FROM messages WHERE direction = 'in' AND platform_message_id LIKE '%:c_' ORDER BY id",
    )
    .fetch_all(store.pool_for_tests())
    .await
    .expect("messages")
    .iter()
    .map(|r| r.try_get("body").expect("body"))
    .collect();
    assert_eq!(
        bodies,
        vec![
            "third time the repair was missed, not happy".to_owned(),
            label
        ],
        "the press is recorded as the button the bot showed"
    );
}

/// Item 7: clients that open connections and send half a request cannot take the server
/// away: each is closed once its headers are overdue, the connection cap keeps file handles
/// for the database, and the health check answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_are_cut_off_and_the_service_answers() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let (_dir, _, bot) = bot_with(&[
        ("INTAKE_WEB_MAX_CONNECTIONS", "40".to_owned()),
        ("INTAKE_WEB_HEADER_TIMEOUT_SECONDS", "2".to_owned()),
    ])
    .await;
    let address = bot.base.trim_start_matches("http://").to_owned();
    // More half-sent requests than the cap allows connections.
    let mut slow = Vec::new();
    for _ in 0..60 {
        let mut stream = tokio::net::TcpStream::connect(&address)
            .await
            .expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: intake\r\nX-Slow: ")
            .await
            .expect("write");
        slow.push(stream);
    }
    // The health check gets through once the overdue ones are cut off.
    let health = tokio::time::timeout(
        Duration::from_secs(20),
        client().get(format!("{}/healthz", bot.base)).send(),
    )
    .await
    .expect("the health check answered while half-sent requests were open")
    .expect("healthz");
    assert_eq!(health.status(), 200);
    // And the server closed the half-sent requests (after a 408 or at once).
    let mut closed = 0;
    for stream in slow.iter_mut() {
        let mut buffer = Vec::new();
        if let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buffer)).await
        {
            closed += 1;
        }
    }
    assert_eq!(closed, slow.len(), "every half-sent request was closed");
}

/// The soak, short: residents through the web chat while the real process is killed and
/// restarted, on SQLite and on PostgreSQL; nothing received is lost or doubled.
#[test]
fn a_short_soak_with_kills_loses_and_doubles_nothing() {
    for postgres in [None, Some(postgres_url())] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_intake"));
        command.args([
            "soak",
            "--residents",
            "8",
            "--seconds",
            "12",
            "--kills",
            "2",
        ]);
        if let Some(url) = &postgres {
            command.args(["--postgres", url]);
        }
        let out = command.output().expect("intake soak");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{postgres:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("answered but not recorded 0, recorded twice 0"),
            "{stdout}"
        );
    }
}

/// Item 2: an idle connection costs kilobytes, not a copy of the service (17 MB each before
/// the state was shared): 200 idle connections and 50 open chat pages together stay well
/// under 64 KB each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_and_open_pages_cost_kilobytes_each() {
    let (_dir, _, bot) = bot_with(&[]).await;
    // A first page and stream, so start-up allocations are behind us.
    let warm = session(&bot.base).await;
    let _warm_stream = live(&client(), &bot.base, &warm).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = bot.rss_kib();
    let address = bot.base.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(
            tokio::net::TcpStream::connect(&address)
                .await
                .expect("connect"),
        );
    }
    let mut pages = Vec::new();
    for n in 0..50 {
        let tab = client_from(&format!("127.0.8.{}", n + 1));
        let page = tab
            .get(format!("{}/chat", bot.base))
            .send()
            .await
            .expect("page");
        let cookie = session_cookie(&page).expect("session");
        let stream = live(&tab, &bot.base, &cookie).await;
        assert_eq!(stream.status(), 200);
        pages.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = bot.rss_kib();
    let each = after.saturating_sub(before) / 250;
    assert!(
        each < 64,
        "{each} KiB per connection ({before} KiB before, {after} KiB after)"
    );
}

/// Behind a trusted reverse proxy, limits count the client the proxy names, not the proxy:
/// one client flooding through it is refused while another gets the chat; and a client that
/// is not a trusted proxy cannot dodge the limit by naming other addresses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_limits_count_each_client() {
    // The proxy named as a network (127.0.0.4 to 127.0.0.7), as for an ingress controller.
    let (_dir, _, bot) =
        bot_with(&[("INTAKE_WEB_TRUSTED_PROXIES", "127.0.0.4/30".to_owned())]).await;
    let open = |from: &'static str, forwarded: String| {
        let base = bot.base.clone();
        async move {
            client_from(from)
                .get(format!("{base}/chat"))
                .header("X-Forwarded-For", forwarded)
                .send()
                .await
                .expect("page")
                .status()
                .as_u16()
        }
    };
    // Through the proxy, one client opens chat after chat until refused.
    let mut refused = false;
    for _ in 0..100 {
        if open("127.0.0.7", "203.0.113.5".to_owned()).await == 429 {
            refused = true;
            break;
        }
    }
    assert!(refused, "one client behind the proxy is limited");
    assert_eq!(
        open("127.0.0.7", "198.51.100.9".to_owned()).await,
        200,
        "another client behind the same proxy is not"
    );
    // Not a trusted proxy: the header is ignored, so naming new addresses does not help.
    let mut refused = false;
    for n in 0..100 {
        if open("127.0.0.8", format!("192.0.2.{n}")).await == 429 {
            refused = true;
            break;
        }
    }
    assert!(refused, "X-Forwarded-For from an untrusted peer is ignored");
}

/// Review follow-up to item 7: one session cannot hold the server's connections open with
/// page after page; past its share it is told, and others still get theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_cannot_hold_every_connection_open() {
    let (_dir, _, bot) = bot_with(&[]).await;
    let cookie = session(&bot.base).await;
    let mut open = Vec::new();
    let mut refused = None;
    for _ in 0..20 {
        let stream = live(&client(), &bot.base, &cookie).await;
        if stream.status() == 429 {
            refused = Some(stream.text().await.expect("body"));
            break;
        }
        open.push(stream);
    }
    let refused = refused.expect("a session opening page after page is limited");
    assert!(refused.contains("too many windows"), "{refused}");
    assert_eq!(open.len(), 10);
    let other = session(&bot.base).await;
    let stream = client()
        .get(format!("{}/chat/api/events", bot.base))
        .header("Cookie", &other)
        .send()
        .await
        .expect("events");
    assert_eq!(stream.status(), 200, "another resident's page is served");
    // A page that closes gives its place back.
    drop(open.pop());
    eventually("a closed page's place to come back", WAIT, async || {
        let again = client()
            .get(format!("{}/chat/api/events", bot.base))
            .header("Cookie", &cookie)
            .timeout(Duration::from_secs(600))
            .send()
            .await
            .ok()?;
        (again.status() == 200).then_some(again)
    })
    .await;
}
