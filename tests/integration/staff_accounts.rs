//! Staff accounts (issue 12): the admins' console pages refused without a session, without
//! the form token and to every other role; an account added, promoted, disabled (its
//! sessions and live stream end at once), re-enabled and its password reset, each audited;
//! the last admin kept, also against two admins demoting each other at once; two-step
//! sign-in (RFC 6238). The command line is in `command_line`.

mod command_line;

use command_line::{signs_in, staff_command};

use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt as _;
use intake::staff::Role;
use intake::store::{AccountChange, Changed};

use crate::helpers::staff::{
    act, cookie_named, csrf_of, login_form, no_redirects, page, refusal, sign_in,
};
use crate::helpers::{Bot, PASSWORD, add_account, count, sqlite_in, staff_member};

/// The new routes that only admins may use: pages, then forms with their fields.
const ADMIN_PAGES: &[&str] = &["/console/accounts"];

fn admin_forms() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "/console/accounts",
            vec![
                ("name", "Dee"),
                ("email", "dee@example.org"),
                ("role", "agent"),
            ],
        ),
        ("/console/accounts/1/role", vec![("role", "agent")]),
        ("/console/accounts/1/disable", vec![]),
        ("/console/accounts/1/enable", vec![]),
        ("/console/accounts/1/password", vec![]),
        ("/console/accounts/1/two-step/off", vec![]),
    ]
}

/// The new forms every member of staff may post about their own account.
fn own_forms() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        ("/console/account/two-step", vec![]),
        (
            "/console/account/two-step/confirm",
            vec![("code", "123456")],
        ),
        ("/console/account/two-step/off", vec![]),
    ]
}

fn with_token<'a>(token: &'a str, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("csrf", token)];
    form.extend(fields.iter().copied());
    form
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_routes_are_refused_without_a_session_a_form_token_or_the_admin_role() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    add_account(&database, "Ada Admin", "ada@example.org", "admin");
    add_account(&database, "Mo Manager", "mo@example.org", "manager");
    add_account(
        &database,
        "Al Officer",
        "al@example.org",
        "complaints_officer",
    );
    add_account(&database, "Bea Agent", "bea@example.org", "agent");
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    let base = bot.base.clone();

    // Without a session: sent to sign in, nothing done.
    for path in ADMIN_PAGES.iter().chain(&["/console/account"]) {
        let (status, _) = page(&base, "", path).await;
        assert_eq!(status, 303, "{path}");
    }
    for (path, fields) in admin_forms().iter().chain(&own_forms()) {
        let response = no_redirects()
            .post(format!("{base}{path}"))
            .form(&with_token("x", fields))
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers()["location"], "/console/login", "{path}");
    }

    // Signed in, without the session's form token: 403, even for the admin.
    let admin = sign_in(&base, "ada@example.org", PASSWORD)
        .await
        .expect("admin");
    for (path, fields) in admin_forms().iter().chain(&own_forms()) {
        let (status, _) = refusal(&base, &admin, path, &with_token(&"0".repeat(64), fields)).await;
        assert_eq!(status, 403, "{path}");
    }

    // Every other role: 403 on the admins' pages and forms, with their own form token; the
    // menu does not offer the page either.
    for email in ["mo@example.org", "al@example.org", "bea@example.org"] {
        let cookie = sign_in(&base, email, PASSWORD).await.expect("signed in");
        let (status, inbox) = page(&base, &cookie, "/console").await;
        assert_eq!(status, 200);
        assert!(!inbox.contains("/console/accounts"), "{email}");
        let token = csrf_of(&inbox);
        for path in ADMIN_PAGES {
            let (status, words) = page(&base, &cookie, path).await;
            assert_eq!(status, 403, "{email} {path}");
            assert!(words.contains("managed by admins"), "{words}");
        }
        for (path, fields) in admin_forms() {
            let (status, _) = refusal(&base, &cookie, path, &with_token(&token, &fields)).await;
            assert_eq!(status, 403, "{email} {path}");
        }
        // Their own account page is theirs.
        let (status, own) = page(&base, &cookie, "/console/account").await;
        assert_eq!(status, 200, "{email}");
        assert!(own.contains("Two-step sign-in"));
    }
    // Nothing was changed by any of it: four accounts, all enabled, no audit but the adds.
    assert_eq!(count(&database, "staff").await, 4);
    assert_eq!(
        count(&database, "staff WHERE disabled_at IS NOT NULL").await,
        0
    );
    assert_eq!(
        count(&database, "staff WHERE totp_secret IS NOT NULL").await,
        0
    );
    assert_eq!(
        count(&database, "staff_audit WHERE action <> 'account_added'").await,
        0
    );
    let (status, html) = page(&base, &admin, "/console/accounts").await;
    assert_eq!(status, 200);
    assert!(html.contains("Bea Agent") && html.contains("Staff accounts"));
}

/// The value after `marker` in `html`, up to the next `<`.
fn text_after<'a>(html: &'a str, marker: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"))
        + marker.len();
    html[at..].split('<').next().unwrap_or_default()
}

/// The id of the account whose row in the accounts page shows `email`.
fn account_id(html: &str, email: &str) -> i64 {
    let row = html.find(email).expect("the account's row");
    let marker = "<tr id=\"account-";
    let start = html[..row].rfind(marker).expect("a row") + marker.len();
    html[start..]
        .split('"')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("an id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_promotes_disables_enables_and_resets_with_each_change_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    add_account(&database, "Ada Admin", "ada@example.org", "admin");
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    let base = bot.base.clone();
    let admin = sign_in(&base, "ada@example.org", PASSWORD)
        .await
        .expect("admin");
    let (_, html) = page(&base, &admin, "/console/accounts").await;
    let token = csrf_of(&html);

    // Added with a generated password, shown once.
    let (status, shown) = refusal(
        &base,
        &admin,
        "/console/accounts",
        &with_token(
            &token,
            &[
                ("name", "Dee Officer"),
                ("email", "Dee@Example.org"),
                ("role", "complaints_officer"),
            ],
        ),
    )
    .await;
    assert_eq!(status, 200, "{shown}");
    let password = text_after(&shown, "<output id=\"new-password\" class=\"password\">").to_owned();
    assert_eq!(password.len(), 24, "{password}");
    let dee = sign_in(&base, "dee@example.org", &password)
        .await
        .expect("the new account signs in with the password shown");
    let (_, listed) = page(&base, &admin, "/console/accounts").await;
    assert!(!listed.contains(&password), "shown once only");
    assert!(listed.contains("dee@example.org") && listed.contains("Complaints officer"));

    // The same email again: refused beside the form, what was typed kept.
    let (status, again) = refusal(
        &base,
        &admin,
        "/console/accounts",
        &with_token(
            &token,
            &[
                ("name", "Dee Twice"),
                ("email", "dee@example.org"),
                ("role", "agent"),
            ],
        ),
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        again.contains("already an account for dee@example.org"),
        "{again}"
    );
    assert!(again.contains("value=\"Dee Twice\""), "{again}");
    let (status, again) = refusal(
        &base,
        &admin,
        "/console/accounts",
        &with_token(
            &token,
            &[
                ("name", "Eve"),
                ("email", "not an email"),
                ("role", "agent"),
            ],
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert!(again.contains("is not an email address"), "{again}");
    assert_eq!(count(&database, "staff").await, 2);

    let dee_id = account_id(&listed, "dee@example.org");
    let path = |what: &str| format!("/console/accounts/{dee_id}/{what}");

    // Promoted: the next page already has the new role.
    let status = act(
        &base,
        &admin,
        &path("role"),
        &with_token(&token, &[("role", "admin")]),
    )
    .await;
    assert_eq!(status, 303);
    let (status, html) = page(&base, &dee, "/console/accounts").await;
    assert_eq!(status, 200, "an admin now");
    assert!(html.contains("Dee Officer</a> (admin)"), "{html}");

    // Reset: the old password no longer works, the account's session has ended, the new
    // one signs in.
    let (status, shown) = refusal(&base, &admin, &path("password"), &with_token(&token, &[])).await;
    assert_eq!(status, 200);
    assert!(shown.contains("Password reset"));
    let renewed = text_after(&shown, "<output id=\"new-password\" class=\"password\">").to_owned();
    assert_ne!(renewed, password);
    assert_eq!(page(&base, &dee, "/console").await.0, 303);
    assert_eq!(sign_in(&base, "dee@example.org", &password).await, Err(401));
    let dee = sign_in(&base, "dee@example.org", &renewed)
        .await
        .expect("the reset password signs in");

    // Disabled: refused at once, cannot sign in; enabled again: can.
    assert_eq!(
        act(&base, &admin, &path("disable"), &with_token(&token, &[])).await,
        303
    );
    assert_eq!(page(&base, &dee, "/console").await.0, 303);
    assert_eq!(sign_in(&base, "dee@example.org", &renewed).await, Err(401));
    let (_, listed) = page(&base, &admin, "/console/accounts?done=disabled").await;
    assert!(listed.contains("Disabled since"), "{listed}");
    assert!(listed.contains("sessions ended"));
    assert_eq!(
        act(&base, &admin, &path("enable"), &with_token(&token, &[])).await,
        303
    );
    sign_in(&base, "dee@example.org", &renewed)
        .await
        .expect("enabled again");

    // Every change audited with who made it, the password never.
    let (_, listed) = page(&base, &admin, "/console/accounts").await;
    for line in [
        "Ada Admin added Dee Officer&#x27;s account as Complaints officer.",
        "Ada Admin made Dee Officer Admin (was Complaints officer).",
        "Ada Admin reset Dee Officer&#x27;s password.",
        "Ada Admin disabled Dee Officer&#x27;s account.",
        "Ada Admin enabled Dee Officer&#x27;s account.",
        "the command line added Ada Admin&#x27;s account as Admin.",
    ] {
        assert!(listed.contains(line), "{line} in {listed}");
    }
    for file in ["intake.db", "intake.db-wal"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        for secret in [&password, &renewed] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a password in {file}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_admin_cannot_disable_or_demote_themselves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    add_account(&database, "Ada Admin", "ada@example.org", "admin");
    add_account(&database, "Mo Manager", "mo@example.org", "manager");
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    let base = bot.base.clone();
    let admin = sign_in(&base, "ada@example.org", PASSWORD)
        .await
        .expect("admin");
    let (_, html) = page(&base, &admin, "/console/accounts").await;
    let token = csrf_of(&html);

    for (path, fields) in [
        ("/console/accounts/1/disable", vec![]),
        ("/console/accounts/1/role", vec![("role", "manager")]),
    ] {
        let (status, words) = refusal(&base, &admin, path, &with_token(&token, &fields)).await;
        assert_eq!(status, 409, "{path}");
        assert!(words.contains("last admin who can sign in"), "{words}");
    }
    assert_eq!(page(&base, &admin, "/console/accounts").await.0, 200);

    // A disabled admin does not count: promoting Mo and disabling him leaves Ada the last.
    let to_admin = with_token(&token, &[("role", "admin")]);
    assert_eq!(
        act(&base, &admin, "/console/accounts/2/role", &to_admin).await,
        303
    );
    assert_eq!(
        act(
            &base,
            &admin,
            "/console/accounts/2/disable",
            &with_token(&token, &[])
        )
        .await,
        303
    );
    let (status, _) = refusal(
        &base,
        &admin,
        "/console/accounts/1/disable",
        &with_token(&token, &[]),
    )
    .await;
    assert_eq!(status, 409);

    // With another admin who can sign in, Ada may step down.
    assert_eq!(
        act(
            &base,
            &admin,
            "/console/accounts/2/enable",
            &with_token(&token, &[])
        )
        .await,
        303
    );
    let to_manager = with_token(&token, &[("role", "manager")]);
    assert_eq!(
        act(&base, &admin, "/console/accounts/1/role", &to_manager).await,
        303
    );
    assert_eq!(page(&base, &admin, "/console/accounts").await.0, 403);
    // And Mo, now the last admin, is kept one from the command line too.
    let out = staff_command(&database, &["disable", "--email", "mo@example.org"], None);
    assert_eq!(out.0, 1, "{}", out.2);
    assert!(out.2.contains("last admin"), "{}", out.2);
    assert_eq!(
        count(
            &database,
            "staff WHERE role = 'admin' AND disabled_at IS NULL"
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_an_account_ends_its_sessions_and_its_open_event_stream() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    add_account(&database, "Ada Admin", "ada@example.org", "admin");
    add_account(&database, "Bea Agent", "bea@example.org", "agent");
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    let base = bot.base.clone();
    let admin = sign_in(&base, "ada@example.org", PASSWORD)
        .await
        .expect("admin");
    let agent = sign_in(&base, "bea@example.org", PASSWORD)
        .await
        .expect("agent");
    let other_agent_session = sign_in(&base, "bea@example.org", PASSWORD)
        .await
        .expect("a second session");

    let stream = no_redirects()
        .get(format!("{base}/console/events"))
        .header("Cookie", &agent)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("events");
    assert_eq!(stream.status(), 200);
    let mut body = stream.bytes_stream();
    // The stream stays open while the account is enabled (longer than the 3 s backstop).
    let early = tokio::time::timeout(Duration::from_secs(4), async {
        while let Some(Ok(_)) = body.next().await {}
    })
    .await;
    assert!(
        early.is_err(),
        "the stream ended while the account was enabled"
    );

    let (_, html) = page(&base, &admin, "/console/accounts").await;
    let token = csrf_of(&html);
    let disabled_at = Instant::now();
    assert_eq!(
        act(
            &base,
            &admin,
            "/console/accounts/2/disable",
            &with_token(&token, &[])
        )
        .await,
        303
    );
    // The stream ends within a few seconds (the live pages' backstop is 3 s).
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = body.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the event stream was still open 10 s after disabling"
    );
    let took = disabled_at.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
    // Every session of the account is gone, and the next page is the way to sign in.
    for cookie in [&agent, &other_agent_session] {
        let response = no_redirects()
            .get(format!("{base}/console"))
            .header("Cookie", cookie.as_str())
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], "/console/login");
    }
    assert_eq!(
        count(&database, "staff_sessions WHERE staff_id = 2").await,
        0
    );
    // A new stream is refused too.
    let (status, _) = page(&base, &agent, "/console/events").await;
    assert_eq!(status, 303);
}

/// Text as the browser reads it from the page's HTML (the entities minijinja writes).
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A sign-in that waits for its code: the password step, for an account with two-step
/// sign-in. The cookies the code step must send, and its form token.
async fn password_step(base: &str, email: &str) -> (String, String) {
    let client = no_redirects();
    let (csrf, form_cookie) = login_form(&client, base).await;
    let first = client
        .post(format!("{base}/console/login"))
        .header("Cookie", &form_cookie)
        .form(&[("email", email), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .expect("login");
    assert_eq!(first.status(), 200, "the password step asks for the code");
    assert!(
        cookie_named(&first, "intake_staff").is_none(),
        "no session yet"
    );
    let challenge = cookie_named(&first, "intake_code").expect("a challenge cookie");
    assert!(challenge.contains("HttpOnly") && challenge.contains("Path=/console/login"));
    let challenge = challenge.split(';').next().unwrap_or_default().to_owned();
    let html = first.text().await.expect("html");
    assert!(html.contains("authenticator app"));
    (format!("{form_cookie}; {challenge}"), csrf_of(&html))
}

/// The code step: its status and, when signed in, the session cookie.
async fn code_step(base: &str, cookies: &str, csrf: &str, code: &str) -> (u16, Option<String>) {
    let second = no_redirects()
        .post(format!("{base}/console/login/code"))
        .header("Cookie", cookies)
        .form(&[("code", code), ("csrf", csrf)])
        .send()
        .await
        .expect("code");
    let status = second.status().as_u16();
    let session = cookie_named(&second, "intake_staff")
        .map(|c| c.split(';').next().unwrap_or_default().to_owned());
    (status, session)
}

/// Signs in to an account with two-step sign-in: the password, then `code`.
async fn sign_in_with_code(base: &str, email: &str, code: &str) -> (u16, Option<String>) {
    let (cookies, csrf) = password_step(base, email).await;
    code_step(base, &cookies, &csrf, code).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_sign_in_asks_for_the_authenticator_code_after_the_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    add_account(&database, "Ada Admin", "ada@example.org", "admin");
    add_account(&database, "Bea Agent", "bea@example.org", "agent");
    // Sixteen tries per email from one address, passwords and codes together: the test
    // makes eleven before it guesses codes.
    let limits = [
        ("INTAKE_LIMITS_SIGN_IN_EMAIL_BURST", "16".to_owned()),
        ("INTAKE_LIMITS_SIGN_IN_BURST", "100".to_owned()),
    ];
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &limits).await;
    let base = bot.base.clone();
    let bea = sign_in(&base, "bea@example.org", PASSWORD)
        .await
        .expect("agent");
    let (_, own) = page(&base, &bea, "/console/account").await;
    let token = csrf_of(&own);
    assert!(own.contains("Off: signing in needs only your password"));

    // Enrolment: the secret as base32 and an otpauth:// URI, on only once a code confirms it.
    assert_eq!(
        act(
            &base,
            &bea,
            "/console/account/two-step",
            &with_token(&token, &[])
        )
        .await,
        303
    );
    let (_, own) = page(&base, &bea, "/console/account").await;
    let secret = text_after(&own, "<code id=\"totp-secret\">").to_owned();
    assert_eq!(secret.len(), 32);
    let uri = unescape(text_after(&own, "<code id=\"totp-uri\">"));
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")) && uri.contains("bea%40example%2Eorg"));
    // Not on yet: the password alone still signs in.
    sign_in(&base, "bea@example.org", PASSWORD)
        .await
        .expect("password only while unconfirmed");
    let now = Utc::now();
    let code = intake::staff::totp::code_at(&secret, now).expect("code");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, words) = refusal(
        &base,
        &bea,
        "/console/account/two-step/confirm",
        &with_token(&token, &[("code", wrong)]),
    )
    .await;
    assert_eq!(status, 422);
    assert!(words.contains("does not match"));
    let confirm = with_token(&token, &[("code", &code)]);
    assert_eq!(
        act(&base, &bea, "/console/account/two-step/confirm", &confirm).await,
        303
    );
    let (_, own) = page(&base, &bea, "/console/account").await;
    assert!(own.contains("On: signing in asks for the code"), "{own}");

    // The password alone no longer signs in; a wrong code is refused like a wrong password.
    assert_eq!(sign_in(&base, "bea@example.org", PASSWORD).await, Err(200));
    let (status, session) = sign_in_with_code(&base, "bea@example.org", wrong).await;
    assert_eq!((status, session.is_none()), (401, true));
    // The code used to confirm cannot be used again; the next step's code signs in, once.
    let (status, _) = sign_in_with_code(&base, "bea@example.org", &code).await;
    assert_eq!(status, 401, "a code is accepted once");
    let next =
        intake::staff::totp::code_at(&secret, now + chrono::Duration::seconds(30)).expect("code");
    let (status, session) = sign_in_with_code(&base, "bea@example.org", &next).await;
    assert_eq!(status, 303);
    let session = session.expect("a session");
    assert_eq!(page(&base, &session, "/console").await.0, 200);
    let (status, _) = sign_in_with_code(&base, "bea@example.org", &next).await;
    assert_eq!(status, 401, "replayed");

    // Guessing codes is limited as guessing passwords is, on the same budget: past the
    // burst, 429 before any code is checked, and never a session.
    let (cookies, csrf) = password_step(&base, "bea@example.org").await;
    let guesses = (0..12).map(|_| code_step(&base, &cookies, &csrf, wrong));
    let answers: Vec<u16> = futures::future::join_all(guesses)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    assert!(
        answers.iter().all(|s| [401, 429].contains(s)),
        "{answers:?}"
    );
    assert!(answers.contains(&429), "{answers:?}");

    // An admin turns it off for someone who lost their phone.
    let admin = sign_in(&base, "ada@example.org", PASSWORD)
        .await
        .expect("admin");
    let (_, html) = page(&base, &admin, "/console/accounts").await;
    assert!(html.contains("two-step sign-in"));
    let admin_token = csrf_of(&html);
    let off = with_token(&admin_token, &[]);
    assert_eq!(
        act(&base, &admin, "/console/accounts/2/two-step/off", &off).await,
        303
    );
    // (Checked in the record: from this address, Bea's tries are used up for now.)
    assert_eq!(sign_in(&base, "bea@example.org", PASSWORD).await, Err(429));
    assert!(
        signs_in(&database, "bea@example.org", PASSWORD).await,
        "password only again"
    );
    assert_eq!(
        count(
            &database,
            "staff_audit WHERE action IN ('two_step_started', 'two_step_on', 'two_step_off')"
        )
        .await,
        3
    );
}

#[test]
fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    crate::helpers::on_both(|store| async move {
        let now = Utc::now();
        let ada = staff_member(&store, "Ada", "ada@example.org", Role::Admin, now).await;
        let bo = staff_member(&store, "Bo", "bo@example.org", Role::Admin, now).await;
        for _ in 0..10 {
            let (a, b) = tokio::join!(
                store.change_staff(Some(ada.id), bo.id, AccountChange::Role("manager"), now),
                store.change_staff(Some(bo.id), ada.id, AccountChange::Role("manager"), now),
            );
            // Either may lose the race outright (SQLite refuses a second writer whose
            // snapshot is stale); never may both go through.
            let done = [&a, &b]
                .iter()
                .filter(|r| matches!(r, Ok(Changed::Done)))
                .count();
            assert!(done <= 1, "{a:?} {b:?}");
            let admins = store
                .staff_list()
                .await
                .expect("list")
                .into_iter()
                .filter(|l| l.account.role == "admin" && l.disabled_at.is_none())
                .count();
            assert_eq!(admins, 1, "{a:?} {b:?}");
            // Both admins again for the next round.
            for id in [ada.id, bo.id] {
                let promoted = store
                    .change_staff(None, id, AccountChange::Role("admin"), now)
                    .await
                    .expect("promote");
                assert!(matches!(promoted, Changed::Done | Changed::Unchanged));
            }
        }
    });
}
