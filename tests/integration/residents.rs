//! The resident record (issue 12) on both databases: staff link a web chat and a Telegram
//! conversation to one resident, whose page lists both and both complaints; support needs
//! shown to a manager and hidden from an agent (5.10); linking refused without a session,
//! without the form token and for an agent; unlinking; every change audited; and the
//! retention purge taking a conversation's link with it, then the resident left with none.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use intake::config::AlertsConfig;
use intake::core::dialog::NewCase;
use intake::core::ids::ConversationId;
use intake::core::policy::{Context, Policy};
use intake::scheduler::Scheduler;
use intake::service::Intake;
use intake::staff::{Linked, Role};
use intake::store::{Inbound, Store};
use sqlx::Row;

use crate::helpers::staff::{act, csrf_of, no_redirects, page, refusal, sign_in};
use crate::helpers::{PASSWORD, at, intake, on_both, staff_member};

/// What the resident says on the web chat, disclosing a disability.
const DISCLOSURE: &str = "I am deaf and I use a wheelchair so please only text me";
/// Their support answer on that complaint.
const SUPPORT: &str = "British Sign Language interpreter for any visit";

/// A conversation on `channel`, with one resident line (assessed by the shipped policy) and a
/// complaint `reference` with `answers`.
async fn complaint_on(
    store: &Store,
    channel: &str,
    chat: &str,
    said: &str,
    reference: &str,
    answers: &[(&str, &str)],
    now: DateTime<Utc>,
) -> ConversationId {
    let policy = Policy::shipped().expect("policy");
    let mut record = store.begin().await.expect("begin");
    let conversation = record
        .conversation(channel, chat, "{}", "en-GB", now)
        .await
        .expect("conversation");
    let message = record
        .inbound(
            &conversation,
            &Inbound {
                channel: channel.to_owned(),
                chat: chat.to_owned(),
                platform_message_id: None,
                body: said.to_owned(),
                attachments: Vec::new(),
                at: now,
            },
        )
        .await
        .expect("inbound")
        .expect("new");
    record
        .assessment(message, &policy.assess(said, &Context::default()), now)
        .expect("assessment");
    record
        .open_case(
            &conversation,
            &NewCase {
                reference: reference.to_owned(),
                received_at: now,
                acknowledged_on: now.date_naive(),
                due_on: (now.date_naive() + Duration::days(14)),
                definition: "The lift has been broken for a month.".to_owned(),
                answers: answers
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect::<BTreeMap<_, _>>(),
                suggested_route: None,
            },
            now,
        )
        .expect("case");
    record.commit().await.expect("commit");
    conversation.id
}

/// The console over HTTP on a port of its own, in this process, over `service`.
async fn console(service: Intake) -> String {
    crate::helpers::staff::console_in_process(service).await
}

/// The audit's actions about residents, oldest first, with their detail.
async fn audited(store: &Store) -> Vec<(String, serde_json::Value)> {
    sqlx::query("SELECT action, detail FROM audit WHERE action LIKE 'resident%' ORDER BY id")
        .fetch_all(store.pool_for_tests())
        .await
        .expect("audit")
        .iter()
        .map(|r| {
            let detail: String = r.try_get("detail").expect("detail");
            (
                r.try_get("action").expect("action"),
                serde_json::from_str(&detail).expect("json"),
            )
        })
        .collect()
}

async fn residents_left(store: &Store) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM residents")
        .fetch_one(store.pool_for_tests())
        .await
        .expect("count")
        .try_get("n")
        .expect("n")
}

#[test]
fn staff_link_conversations_on_two_channels_to_one_resident() {
    on_both(|store| async move {
        let now = Utc::now();
        let web = complaint_on(
            &store,
            "web",
            "w1",
            DISCLOSURE,
            "C2026-00071",
            &[
                ("name", "Zoë Okafor"),
                ("contact", "phone"),
                ("contact_detail", "07700 900123"),
                ("support", SUPPORT),
            ],
            now,
        )
        .await;
        let telegram = complaint_on(
            &store,
            "telegram",
            "5550001",
            "the lift is still broken and nobody has called back",
            "C2026-00072",
            &[
                ("name", "Zoe Okafor"),
                ("contact_detail", "zoe@example.org"),
            ],
            now,
        )
        .await;
        staff_member(
            &store,
            "Alex Officer",
            "alex@example.org",
            Role::ComplaintsOfficer,
            now,
        )
        .await;
        staff_member(&store, "Bea Agent", "bea@example.org", Role::Agent, now).await;
        staff_member(&store, "Mo Manager", "mo@example.org", Role::Manager, now).await;
        let base = console(intake(store.clone())).await;
        let create = format!("/console/conversations/{web}/resident/new");
        let link = format!("/console/conversations/{telegram}/resident");
        let unlink = format!("/console/conversations/{telegram}/resident/unlink");

        // Without a session: to the sign-in page, nothing done.
        for path in [&create, &link, &unlink] {
            let response = no_redirects()
                .post(format!("{base}{path}"))
                .form(&[("csrf", "x"), ("resident", "1"), ("name", "Zoë")])
                .send()
                .await
                .expect("post");
            assert_eq!(response.status(), 303, "{path}");
            assert_eq!(response.headers()["location"], "/console/login");
        }
        let response = no_redirects()
            .get(format!("{base}/console/residents?q=Zo"))
            .send()
            .await
            .expect("get");
        assert_eq!(response.headers()["location"], "/console/login");

        let alex = sign_in(&base, "alex@example.org", PASSWORD)
            .await
            .expect("sign in");
        let bea = sign_in(&base, "bea@example.org", PASSWORD)
            .await
            .expect("sign in");
        let mo = sign_in(&base, "mo@example.org", PASSWORD)
            .await
            .expect("sign in");

        // Not linked, never automatically, though both give the same name.
        let (_, web_page) = page(&base, &alex, &format!("/console/conversations/{web}")).await;
        assert!(web_page.contains("Not linked to a resident."), "{web_page}");
        assert!(
            web_page.contains("value=\"Zoë Okafor\""),
            "the name offered"
        );
        let alex_csrf = csrf_of(&web_page);
        let (_, agent_page) = page(&base, &bea, &format!("/console/conversations/{web}")).await;
        assert!(agent_page.contains("Not linked to a resident."));
        assert!(
            !agent_page.contains("Make resident"),
            "no form for an agent"
        );
        let bea_csrf = csrf_of(&agent_page);

        // Without the form token, with another session's, and for an agent: refused.
        assert_eq!(act(&base, &alex, &create, &[("name", "Zoë")]).await, 403);
        assert_eq!(
            act(
                &base,
                &alex,
                &create,
                &[("csrf", &bea_csrf), ("name", "Zoë")]
            )
            .await,
            403
        );
        let (status, why) = refusal(
            &base,
            &bea,
            &create,
            &[("csrf", &bea_csrf), ("name", "Zoë")],
        )
        .await;
        assert_eq!(status, 403);
        assert!(why.contains("complaints officers and managers"), "{why}");
        assert_eq!(residents_left(&store).await, 0);

        // The officer makes the resident from the web chat, named as the resident gave it.
        assert_eq!(
            act(&base, &alex, &create, &[("csrf", &alex_csrf), ("name", "")]).await,
            303
        );
        let resident = store.resident_of(web).await.expect("read").expect("linked");
        assert_eq!(resident.name, "Zoë Okafor");
        assert_eq!(resident.created_by, "Alex Officer");

        // Found by the web complaint's reference, and linked from the Telegram conversation.
        let (status, found) = page(
            &base,
            &alex,
            &format!("/console/residents?q=c2026-00071&conversation={telegram}"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            found.contains(&format!("/console/residents/{}", resident.id)),
            "{found}"
        );
        assert!(found.contains(&format!("Link conversation #{telegram} to Zoë Okafor")));
        let (_, by_name) = page(&base, &bea, "/console/residents?q=okaf").await;
        assert!(by_name.contains("Zoë Okafor") && !by_name.contains("class=\"link-resident\""));
        let (_, nobody) = page(&base, &alex, "/console/residents?q=%25").await;
        assert!(nobody.contains("No resident matches"), "{nobody}");
        assert_eq!(
            act(
                &base,
                &bea,
                &link,
                &[("csrf", &bea_csrf), ("resident", "R1")]
            )
            .await,
            403
        );
        let (status, _) = refusal(
            &base,
            &alex,
            &link,
            &[("csrf", &alex_csrf), ("resident", "R999")],
        )
        .await;
        assert_eq!(status, 404);
        let number = format!("R{}", resident.id);
        assert_eq!(
            act(
                &base,
                &alex,
                &link,
                &[("csrf", &alex_csrf), ("resident", &number)]
            )
            .await,
            303
        );

        // Each conversation's page links to the resident.
        for conversation in [web, telegram] {
            let (_, html) = page(
                &base,
                &bea,
                &format!("/console/conversations/{conversation}"),
            )
            .await;
            assert!(
                html.contains(&format!("href=\"/console/residents/{}\"", resident.id)),
                "{html}"
            );
            assert!(!html.contains("Not linked to a resident."));
        }

        // The page: both conversations, both complaints, the contact details; support needs
        // to the manager only.
        let path = format!("/console/residents/{}", resident.id);
        let (status, manager) = page(&base, &mo, &path).await;
        assert_eq!(status, 200);
        let (status, agent) = page(&base, &bea, &path).await;
        assert_eq!(status, 200);
        for html in [&manager, &agent] {
            for shown in [
                format!("conversation #{web}<"),
                format!("conversation #{telegram}<"),
                "Web chat".to_owned(),
                "Telegram".to_owned(),
                "C2026-00071".to_owned(),
                "C2026-00072".to_owned(),
                "07700 900123".to_owned(),
                "zoe@example.org".to_owned(),
                "<time datetime=".to_owned(),
            ] {
                assert!(html.contains(&shown), "{shown}: {html}");
            }
        }
        assert!(manager.contains(SUPPORT), "{manager}");
        assert!(
            manager.contains(DISCLOSURE),
            "the line disclosing: {manager}"
        );
        assert!(
            !agent.contains("Sign Language") && !agent.contains("deaf"),
            "{agent}"
        );
        assert!(agent.contains("support needs recorded; shown to complaints officers"));

        // Unlinking: not by an agent; by the officer, audited; the resident keeps the web chat.
        assert_eq!(act(&base, &bea, &unlink, &[("csrf", &bea_csrf)]).await, 403);
        assert_eq!(
            act(&base, &alex, &unlink, &[("csrf", &alex_csrf)]).await,
            303
        );
        assert_eq!(
            act(&base, &alex, &unlink, &[("csrf", &alex_csrf)]).await,
            409
        );
        assert_eq!(store.resident_of(telegram).await.expect("read"), None);
        let (_, after) = page(&base, &mo, &path).await;
        assert!(!after.contains("C2026-00072") && after.contains("C2026-00071"));
        let audit = audited(&store).await;
        let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            actions,
            ["resident_created", "resident_linked", "resident_unlinked"]
        );
        assert_eq!(audit[2].1["resident"], resident.id.0);
        assert_eq!(audit[2].1["resident_removed"], false);
        let (_, staff_actions) =
            page(&base, &alex, &format!("/console/conversations/{telegram}")).await;
        assert!(
            staff_actions.contains("resident unlinked"),
            "{staff_actions}"
        );
    });
}

#[test]
fn the_retention_purge_takes_the_link_and_then_the_resident_left_with_none() {
    on_both(|store| async move {
        let t0 = at("2026-03-02T10:00:00Z");
        let first = complaint_on(
            &store,
            "web",
            "w1",
            "the lift is broken",
            "C2026-00081",
            &[("name", "Sam Reid")],
            t0,
        )
        .await;
        let second = complaint_on(
            &store,
            "telegram",
            "5550002",
            "the lift is broken again",
            "C2026-00082",
            &[("name", "Sam Reid")],
            t0,
        )
        .await;
        let officer = staff_member(
            &store,
            "Alex Officer",
            "alex@example.org",
            Role::ComplaintsOfficer,
            t0,
        )
        .await;
        let Linked::Done(resident) = intake::staff::new_resident(&store, first, "", &officer, t0)
            .await
            .expect("new")
        else {
            panic!("not made");
        };
        assert_eq!(
            intake::staff::link_resident(&store, second, resident, &officer, t0)
                .await
                .expect("link"),
            Linked::Done(resident)
        );
        // The first complaint closes now, the second a month later.
        for (reference, closed) in [
            ("C2026-00081", t0 + Duration::days(1)),
            ("C2026-00082", t0 + Duration::days(35)),
        ] {
            sqlx::query("UPDATE cases SET status = 'closed', closed_at = $1 WHERE reference = $2")
                .bind(intake::store::millis(closed))
                .bind(reference)
                .execute(store.pool_for_tests())
                .await
                .expect("close");
        }
        let mut s = Scheduler::new(
            intake(store.clone()),
            AlertsConfig::default(),
            Duration::hours(24),
            None,
            None,
        );
        s.erase_after = Duration::days(30);
        let run = s.run_once(t0 + Duration::days(40)).await.expect("run");
        assert_eq!(run.erased, 1);
        assert_eq!(store.resident_of(first).await.expect("read"), None);
        let kept = store.resident_conversations(resident).await.expect("read");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].conversation, second);
        assert_eq!(kept[0].channel, "telegram");
        assert_eq!(residents_left(&store).await, 1);

        let run = s.run_once(t0 + Duration::days(70)).await.expect("run");
        assert_eq!(run.erased, 1);
        assert_eq!(store.resident_of(second).await.expect("read"), None);
        assert_eq!(store.resident(resident).await.expect("read"), None);
        assert_eq!(residents_left(&store).await, 0);
        // Who linked what stays in the audit (who did what, not what was said).
        assert_eq!(audited(&store).await.len(), 2);
    });
}
