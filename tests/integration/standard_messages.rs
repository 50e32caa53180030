//! Standard messages kept in the record and edited by managers in the console (issue 12), on
//! SQLite and PostgreSQL: the shipped file seeds the record once; an edit is version 2 and the
//! reply box offers it; an unknown placeholder, an empty or too long text is refused with the
//! reason and what was typed kept, and nothing is written; retiring hides a message from the
//! reply box and restoring brings it back; the history lists every version; two editors
//! cannot overwrite each other unseen; every change is audited; and the pages are refused
//! without a session, without the form token and to agents and complaints officers.

use chrono::Utc;
use intake::console::{StandardMessage, standard_messages};
use intake::core::ids::ConversationId;
use intake::service::Intake;
use intake::staff::Role;
use intake::store::{StandardChange, StandardChanged, StandardMessageId, Store};
use sqlx::Row;

use crate::helpers::staff::{csrf_of, no_redirects, page, refusal, sign_in};
use crate::helpers::{PASSWORD, at, intake, on_both, staff_member};

fn shipped() -> Vec<(String, String)> {
    standard_messages()
        .into_iter()
        .map(|StandardMessage { name, text }| (name, text))
        .collect()
}

async fn rows(store: &Store, rows: &str) -> i64 {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {rows}"
    )))
    .fetch_one(store.pool_for_tests())
    .await
    .expect("count")
    .try_get("n")
    .expect("n")
}

/// How many changes to standard messages the console's audit holds.
async fn audited(store: &Store) -> i64 {
    rows(store, "audit WHERE action LIKE 'standard%'").await
}

#[test]
fn the_file_seeds_the_record_once_and_each_edit_is_a_version_on_both_databases() {
    on_both(|store| async move {
        let now = at("2027-01-05T10:00:00Z");
        let file = shipped();
        assert!(
            store
                .seed_standard_messages(&file, now)
                .await
                .expect("seed")
        );
        // A second start (or another replica) does not seed again.
        assert!(
            !store
                .seed_standard_messages(&file, now)
                .await
                .expect("seed")
        );
        let seeded = store.standard_messages(false).await.expect("messages");
        assert_eq!(seeded.len(), file.len());
        assert_eq!(
            (seeded[0].name.as_str(), seeded[0].text.as_str()),
            (file[0].0.as_str(), file[0].1.as_str())
        );
        assert_eq!(
            (seeded[0].version, seeded[0].updated_by.as_deref()),
            (1, None)
        );
        let first = seeded[0].id;

        let mo = staff_member(&store, "Mo Manager", "mo@example.org", Role::Manager, now).await;
        let edit = StandardChange::Edit {
            based_on: 1,
            name: "Introduce yourself",
            text: "Hello, I'm {staff} from {landlord}.",
        };
        assert_eq!(
            store
                .change_standard_message(mo.id, first, edit, now)
                .await
                .expect("edit"),
            StandardChanged::Done(first, 2)
        );
        // Someone who opened version 1 cannot write over version 2 unseen.
        let late = StandardChange::Edit {
            based_on: 1,
            name: "Introduce yourself",
            text: "Hi.",
        };
        assert_eq!(
            store
                .change_standard_message(mo.id, first, late, now)
                .await
                .expect("edit"),
            StandardChanged::Stale { current: 2 }
        );
        let versions = store
            .standard_message_versions(first)
            .await
            .expect("versions");
        let seen: Vec<(i64, Option<&str>, &str)> = versions
            .iter()
            .map(|v| (v.version, v.by.as_deref(), v.text.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (2, Some("Mo Manager"), "Hello, I'm {staff} from {landlord}."),
                (1, None, file[0].1.as_str()),
            ]
        );

        // Retired: out of the picker, still in the record; a name in the picker is refused.
        assert_eq!(
            store
                .change_standard_message(mo.id, first, StandardChange::Retire, now)
                .await
                .expect("retire"),
            StandardChanged::Done(first, 2)
        );
        assert_eq!(
            store
                .change_standard_message(mo.id, first, StandardChange::Retire, now)
                .await
                .expect("retire"),
            StandardChanged::Unchanged
        );
        let picker = store.standard_messages(false).await.expect("messages");
        assert!(picker.iter().all(|m| m.id != first));
        assert_eq!(
            store.standard_messages(true).await.expect("all").len(),
            file.len()
        );
        let second = &file[1].0;
        assert_eq!(
            store
                .add_standard_message(mo.id, &second.to_uppercase(), "Hello.", now)
                .await
                .expect("add"),
            StandardChanged::NameTaken
        );
        assert_eq!(
            store
                .change_standard_message(mo.id, first, StandardChange::Restore, now)
                .await
                .expect("restore"),
            StandardChanged::Done(first, 2)
        );
        assert_eq!(
            store
                .change_standard_message(
                    mo.id,
                    StandardMessageId(9999),
                    StandardChange::Retire,
                    now
                )
                .await
                .expect("retire"),
            StandardChanged::NoSuchMessage
        );
        let audit = store
            .standard_message_audit(Some(first), 0)
            .await
            .expect("audit");
        let actions: Vec<&str> = audit.iter().map(|l| l.action.as_str()).collect();
        assert_eq!(
            actions,
            vec![
                "standard_message_restored",
                "standard_message_retired",
                "standard_message_edited"
            ]
        );
        // The versions are append-only.
        assert!(
            sqlx::query("DELETE FROM standard_message_versions")
                .execute(store.pool_for_tests())
                .await
                .is_err()
        );
    });
}

/// The console over HTTP on a port of its own, in this process, over `service`.
async fn console(service: Intake) -> String {
    crate::helpers::staff::console_in_process(service).await
}

/// A web chat conversation with nothing in it yet, for its reply box.
async fn conversation(store: &Store) -> ConversationId {
    let mut record = store.begin().await.expect("begin");
    let made = record
        .conversation("web", "standard", "{}", "en-GB", Utc::now())
        .await
        .expect("conversation");
    record.commit().await.expect("commit");
    made.id
}

/// The names the reply box's picker offers on a conversation page, and its whole HTML.
fn picker(html: &str) -> Vec<String> {
    let start = html.find("<select id=\"standard\">").expect("the picker");
    let end = start + html[start..].find("</select>").expect("its end");
    html[start..end]
        .split("</option>")
        .filter_map(|o| o.rsplit_once('>').map(|(_, name)| name.to_owned()))
        .filter(|name| !name.is_empty() && !name.starts_with('('))
        .collect()
}

fn with_token<'a>(token: &'a str, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("csrf", token)];
    form.extend(fields.iter().copied());
    form
}

#[test]
fn managers_edit_retire_and_restore_and_the_reply_box_offers_the_current_version() {
    on_both(|store| async move {
        let now = Utc::now();
        staff_member(&store, "Mo Manager", "mo@example.org", Role::Manager, now).await;
        staff_member(&store, "Bea Agent", "bea@example.org", Role::Agent, now).await;
        let chat = conversation(&store).await;
        let base = console(intake(store.clone())).await;
        let mo = sign_in(&base, "mo@example.org", PASSWORD)
            .await
            .expect("mo");
        let bea = sign_in(&base, "bea@example.org", PASSWORD)
            .await
            .expect("bea");
        let file = shipped();
        let on_page = format!("/console/conversations/{chat}");

        // The agent's reply box: the shipped messages, copied into the record once.
        let (status, html) = page(&base, &bea, &on_page).await;
        assert_eq!(status, 200);
        let (status, _) = refusal(
            &base,
            &bea,
            &format!("{on_page}/claim"),
            &[("csrf", &csrf_of(&html))],
        )
        .await;
        assert_eq!(status, 303, "taken over, so the reply box shows");
        let (_, html) = page(&base, &bea, &on_page).await;
        assert!(html.contains("read what you told us about complaint"));
        let names: Vec<String> = file.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(picker(&html), names);
        assert_eq!(rows(&store, "standard_messages").await, file.len() as i64);
        page(&base, &mo, "/console/standard-messages").await;
        assert_eq!(
            rows(&store, "standard_message_versions").await,
            file.len() as i64
        );

        // The manager's list: each message with who changed it last.
        let (status, list) = page(&base, &mo, "/console/standard-messages").await;
        assert_eq!(status, 200);
        assert!(list.contains("From the standard messages file"), "{list}");
        let first = store.standard_messages(false).await.expect("messages")[0].id;
        let path = format!("/console/standard-messages/{first}");
        let (status, own) = page(&base, &mo, &path).await;
        assert_eq!(status, 200);
        let token = csrf_of(&own);

        // An edit is version 2, and the reply box offers it, filled in.
        let wording = "Hello, this is {staff} at {landlord}, looking after your complaint now.";
        let (status, _) = refusal(
            &base,
            &mo,
            &path,
            &with_token(
                &token,
                &[
                    ("name", "Introduce yourself"),
                    ("text", wording),
                    ("version", "1"),
                ],
            ),
        )
        .await;
        assert_eq!(status, 303);
        let (_, html) = page(&base, &bea, &on_page).await;
        assert!(
            html.contains("Hello, this is Bea Agent at "),
            "the new version, filled in: {html}"
        );
        assert!(!html.contains("read what you told us about complaint"));
        let (_, list) = page(&base, &mo, "/console/standard-messages").await;
        assert!(list.contains("Mo Manager"), "the last editor: {list}");
        assert!(list.contains("<time"), "when, through `when`: {list}");

        // Refused with the reason, what was typed kept, nothing written.
        let versions = rows(&store, "standard_message_versions").await;
        let changes = audited(&store).await;
        let typed = "Dear {tenant_name}, about your complaint";
        let (status, words) = refusal(
            &base,
            &mo,
            &path,
            &with_token(
                &token,
                &[
                    ("name", "Introduce yourself"),
                    ("text", typed),
                    ("version", "2"),
                ],
            ),
        )
        .await;
        assert_eq!(status, 422);
        assert!(words.contains("uses {tenant_name}"), "{words}");
        assert!(words.contains(&format!(">{typed}</textarea>")), "{words}");
        let long = "a".repeat(4001);
        let (status, words) = refusal(
            &base,
            &mo,
            &path,
            &with_token(
                &token,
                &[("name", "Long"), ("text", &long), ("version", "2")],
            ),
        )
        .await;
        assert_eq!(status, 422);
        assert!(words.contains("at most 4,000 characters"), "{words}");
        let (status, words) = refusal(
            &base,
            &mo,
            "/console/standard-messages",
            &with_token(&token, &[("name", "Blank"), ("text", "   ")]),
        )
        .await;
        assert_eq!(status, 422);
        assert!(words.contains("the text is empty") && words.contains("value=\"Blank\""));
        // Saved from version 1 after version 2: refused, the typed text kept.
        let (status, words) = refusal(
            &base,
            &mo,
            &path,
            &with_token(
                &token,
                &[
                    ("name", "Introduce yourself"),
                    ("text", "Stale words"),
                    ("version", "1"),
                ],
            ),
        )
        .await;
        assert_eq!(status, 409);
        assert!(words.contains("someone else saved version 2") && words.contains("Stale words"));
        assert_eq!(rows(&store, "standard_message_versions").await, versions);
        assert_eq!(audited(&store).await, changes);

        // The history lists both versions, with who and when.
        let (_, history) = page(&base, &mo, &path).await;
        assert!(history.contains("Version 2</strong>: Introduce yourself · Mo Manager"));
        assert!(
            history.contains(
                "Version 1</strong>: Introduce yourself · From the standard messages file"
            )
        );
        assert!(history.contains("looking after your complaint now"));

        // Retired: gone from the reply box, kept in the record; restored: back.
        let retire = format!("{path}/retire");
        let (status, _) = refusal(&base, &mo, &retire, &with_token(&token, &[])).await;
        assert_eq!(status, 303);
        let (_, html) = page(&base, &bea, &on_page).await;
        assert!(!picker(&html).contains(&"Introduce yourself".to_owned()));
        assert_eq!(picker(&html).len(), file.len() - 1);
        let (_, history) = page(&base, &mo, &path).await;
        assert!(history.contains("retired <time"), "{history}");
        let (status, _) = refusal(
            &base,
            &mo,
            &format!("{path}/restore"),
            &with_token(&token, &[]),
        )
        .await;
        assert_eq!(status, 303);
        let (_, html) = page(&base, &bea, &on_page).await;
        assert_eq!(picker(&html)[0], "Introduce yourself");

        // A new one is offered at the end.
        let (status, _) = refusal(
            &base,
            &mo,
            "/console/standard-messages",
            &with_token(
                &token,
                &[
                    ("name", "Repair booked"),
                    ("text", "Your repair for {reference} is booked."),
                ],
            ),
        )
        .await;
        assert_eq!(status, 303);
        let (_, html) = page(&base, &bea, &on_page).await;
        assert_eq!(
            picker(&html).last().map(String::as_str),
            Some("Repair booked")
        );
        assert!(html.contains("Your repair for (no reference yet) is booked."));

        // Each change audited: edited, retired, restored, added.
        assert_eq!(audited(&store).await, 4);
        let (_, list) = page(&base, &mo, "/console/standard-messages").await;
        for said in ["edited", "retired", "restored", "added"] {
            assert!(
                list.contains(&format!("Mo Manager {said} ")),
                "{said}: {list}"
            );
        }
    });
}

#[test]
fn standard_message_pages_are_refused_without_a_session_a_form_token_or_a_managers_role() {
    on_both(|store| async move {
        let now = Utc::now();
        store
            .seed_standard_messages(&shipped(), now)
            .await
            .expect("seed");
        let id = store.standard_messages(false).await.expect("messages")[0].id;
        staff_member(&store, "Mo Manager", "mo@example.org", Role::Manager, now).await;
        staff_member(&store, "Ada Admin", "ada@example.org", Role::Admin, now).await;
        staff_member(
            &store,
            "Al Officer",
            "al@example.org",
            Role::ComplaintsOfficer,
            now,
        )
        .await;
        staff_member(&store, "Bea Agent", "bea@example.org", Role::Agent, now).await;
        let base = console(intake(store.clone())).await;
        let pages = [
            "/console/standard-messages".to_owned(),
            format!("/console/standard-messages/{id}"),
        ];
        let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
            (
                "/console/standard-messages".to_owned(),
                vec![("name", "Sneaky"), ("text", "Hello {landlord}")],
            ),
            (
                format!("/console/standard-messages/{id}"),
                vec![
                    ("name", "Sneaky"),
                    ("text", "Hello {landlord}"),
                    ("version", "1"),
                ],
            ),
            (format!("/console/standard-messages/{id}/retire"), vec![]),
            (format!("/console/standard-messages/{id}/restore"), vec![]),
        ];

        // No session: sent to sign in.
        for path in &pages {
            let (status, _) = page(&base, "", path).await;
            assert_eq!(status, 303, "{path}");
        }
        for (path, fields) in &forms {
            let response = no_redirects()
                .post(format!("{base}{path}"))
                .form(&with_token("x", fields))
                .send()
                .await
                .expect("post");
            assert_eq!(response.status(), 303, "{path}");
            assert_eq!(response.headers()["location"], "/console/login", "{path}");
        }

        // A manager without the session's form token, or with a forged one: 403.
        let mo = sign_in(&base, "mo@example.org", PASSWORD)
            .await
            .expect("mo");
        for (path, fields) in &forms {
            let (status, _) = refusal(&base, &mo, path, &with_token(&"0".repeat(64), fields)).await;
            assert_eq!(status, 403, "{path}");
            let (status, _) = refusal(&base, &mo, path, fields).await;
            assert!(status == 403 || status == 422, "{path}: {status}");
        }

        // Agents and complaints officers, with their own form token: 403, and no menu link.
        for email in ["bea@example.org", "al@example.org"] {
            let cookie = sign_in(&base, email, PASSWORD).await.expect("signed in");
            let (_, inbox) = page(&base, &cookie, "/console").await;
            assert!(!inbox.contains("/console/standard-messages"), "{email}");
            let token = csrf_of(&inbox);
            for path in &pages {
                let (status, words) = page(&base, &cookie, path).await;
                assert_eq!(status, 403, "{email} {path}");
                assert!(words.contains("edited by managers and admins"), "{words}");
            }
            for (path, fields) in &forms {
                let (status, _) = refusal(&base, &cookie, path, &with_token(&token, fields)).await;
                assert_eq!(status, 403, "{email} {path}");
            }
        }
        // Managers and admins have the link and the page.
        for (email, cookie) in [
            ("mo@example.org", mo.clone()),
            (
                "ada@example.org",
                sign_in(&base, "ada@example.org", PASSWORD)
                    .await
                    .expect("ada"),
            ),
        ] {
            let (_, inbox) = page(&base, &cookie, "/console").await;
            assert!(
                inbox.contains("href=\"/console/standard-messages\""),
                "{email}"
            );
            let (status, _) = page(&base, &cookie, &pages[1]).await;
            assert_eq!(status, 200, "{email}");
        }

        // Nothing was changed by any of it.
        assert_eq!(audited(&store).await, 0);
        assert_eq!(
            rows(&store, "standard_message_versions").await,
            shipped().len() as i64
        );
        assert_eq!(
            rows(
                &store,
                "standard_messages WHERE retired_at IS NOT NULL OR version <> 1"
            )
            .await,
            0
        );
    });
}
