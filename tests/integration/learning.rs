//! Learning from complaints (Code section 9), the improvement register and the Ombudsman's
//! cases, on SQLite and PostgreSQL, driven over HTTP as staff use the console: a complaints
//! officer records what was learned; a manager adds an improvement and completes it, and
//! records a referral to the Ombudsman with its determination, findings and orders; agents
//! and officers are refused where only managers may act; bad input (empty, too long, a date
//! that is not a date, a complaint that does not exist) is refused with the reason and
//! nothing is written; every change is audited. Then the period summary is checked against
//! counts worked out here. The self-assessment's suite (`self_assessment`) shares the helpers.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use intake::config::AlertsConfig;
use intake::core::dialog::NewCase;
use intake::core::ids::ConversationId;
use intake::core::report::{Finding, OrderCounts, Period};
use intake::scheduler::Scheduler;
use intake::staff::Role;
use intake::store::Store;
use sqlx::Row;

use crate::helpers::staff::{csrf_of, page, refusal, sign_in};
use crate::helpers::{PASSWORD, at, intake, on_both, staff_member};

pub(crate) async fn rows(store: &Store, rows: &str) -> i64 {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {rows}"
    )))
    .fetch_one(store.pool_for_tests())
    .await
    .expect("count")
    .try_get("n")
    .expect("n")
}

/// A complaint received at `received`, acknowledged on `acknowledged`, straight in the record;
/// its conversation.
pub(crate) async fn complaint(
    store: &Store,
    reference: &str,
    received: DateTime<Utc>,
    acknowledged: &str,
) -> ConversationId {
    let mut record = store.begin().await.expect("begin");
    let conversation = record
        .conversation("web", reference, "{}", "en-GB", received)
        .await
        .expect("conversation");
    let acknowledged_on: NaiveDate = acknowledged.parse().expect("day");
    record
        .open_case(
            &conversation,
            &NewCase {
                reference: reference.to_owned(),
                received_at: received,
                acknowledged_on,
                due_on: acknowledged_on + chrono::Duration::days(14),
                definition: "The boiler has not been fixed.".to_owned(),
                answers: BTreeMap::new(),
                suggested_route: None,
            },
            received,
        )
        .expect("case");
    record.commit().await.expect("commit");
    conversation.id
}

pub(crate) fn with_token<'a>(
    token: &'a str,
    fields: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("csrf", token)];
    form.extend(fields.iter().copied());
    form
}

/// Posts a form and expects the redirect that means it was done.
pub(crate) async fn done(base: &str, cookie: &str, path: &str, form: &[(&str, &str)]) {
    let (status, words) = refusal(base, cookie, path, form).await;
    assert_eq!(status, 303, "{path}: {words}");
}

/// Posts a form and expects it refused with `status`, saying `why`.
pub(crate) async fn refused(
    base: &str,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
    status: u16,
    why: &str,
) {
    let (got, words) = refusal(base, cookie, path, form).await;
    assert_eq!(got, status, "{path}: {words}");
    assert!(words.contains(why), "{path}: expected {why:?} in {words}");
}

#[test]
fn learning_improvements_and_the_ombudsman_are_kept_through_the_console_on_both_databases() {
    on_both(|store| async move {
        let now = Utc::now();
        staff_member(&store, "Mo Manager", "mo@example.org", Role::Manager, now).await;
        staff_member(
            &store,
            "Olly Officer",
            "olly@example.org",
            Role::ComplaintsOfficer,
            now,
        )
        .await;
        staff_member(&store, "Bea Agent", "bea@example.org", Role::Agent, now).await;
        let first = complaint(
            &store,
            "C2026-00001",
            at("2026-04-20T10:00:00Z"),
            "2026-04-20",
        )
        .await;
        complaint(
            &store,
            "C2026-00002",
            at("2026-05-04T10:00:00Z"),
            "2026-05-05",
        )
        .await;
        let service = intake(store.clone());
        let base = crate::helpers::staff::console_in_process(service.clone()).await;
        let mo = sign_in(&base, "mo@example.org", PASSWORD)
            .await
            .expect("mo");
        let olly = sign_in(&base, "olly@example.org", PASSWORD)
            .await
            .expect("olly");
        let bea = sign_in(&base, "bea@example.org", PASSWORD)
            .await
            .expect("bea");
        let case_page = format!("/console/conversations/{first}");
        let token_of = |html: &str| csrf_of(html);
        let (_, html) = page(&base, &mo, &case_page).await;
        let mo_token = token_of(&html);
        let (_, html) = page(&base, &olly, &case_page).await;
        let olly_token = token_of(&html);
        let (_, html) = page(&base, &bea, &case_page).await;
        let bea_token = token_of(&html);
        // Only managers and admins are offered the register and the self-assessment.
        assert!(
            !html.contains("/console/improvements") && !html.contains("/console/self-assessment")
        );
        let (_, html) = page(&base, &mo, &case_page).await;
        assert!(
            html.contains("href=\"/console/improvements\"")
                && html.contains("href=\"/console/self-assessment\"")
        );

        // Learning: a complaints officer records it; it is shown on the case and audited.
        let learning = "/console/cases/C2026-00001/learning";
        let learned = "Boiler repairs were booked without checking parts were in stock.";
        let changed = "Schedulers now confirm parts before booking a boiler repair.";
        done(
            &base,
            &olly,
            learning,
            &with_token(&olly_token, &[("learned", learned), ("changed", changed)]),
        )
        .await;
        let (_, html) = page(&base, &mo, &case_page).await;
        assert!(html.contains(learned) && html.contains(changed), "{html}");
        assert_eq!(
            rows(&store, "audit WHERE action = 'learning_recorded'").await,
            1
        );

        // An agent may not; empty, too long and unknown complaints are refused; nothing written.
        refused(
            &base,
            &bea,
            learning,
            &with_token(&bea_token, &[("learned", "x"), ("changed", "y")]),
            403,
            "Case work is for complaints officers and managers",
        )
        .await;
        refused(
            &base,
            &olly,
            learning,
            &with_token(&olly_token, &[("learned", "  "), ("changed", changed)]),
            422,
            "What we learned is empty",
        )
        .await;
        let long = "x".repeat(4001);
        refused(
            &base,
            &olly,
            learning,
            &with_token(&olly_token, &[("learned", learned), ("changed", &long)]),
            422,
            "What we changed is 4001 characters long; the most is 4000",
        )
        .await;
        refused(
            &base,
            &olly,
            "/console/cases/C2099-09999/learning",
            &with_token(&olly_token, &[("learned", learned), ("changed", changed)]),
            404,
            "there is no complaint &quot;C2099-09999&quot;",
        )
        .await;
        assert_eq!(rows(&store, "case_learning").await, 1);
        assert_eq!(
            rows(&store, "audit WHERE action = 'learning_recorded'").await,
            1
        );

        // The register: managers only.
        let (status, _) = page(&base, &bea, "/console/improvements").await;
        assert_eq!(status, 403);
        let improvement = [
            ("title", "Parts checked before boiler repairs"),
            ("what_changed", "Schedulers confirm stock before booking."),
            ("owner", "Repairs scheduling team"),
            ("agreed_on", "2026-05-20"),
            ("target_on", "2026-07-31"),
            ("completed_on", ""),
            ("complaints", "c2026-00001, C2026-00002"),
        ];
        refused(
            &base,
            &olly,
            "/console/improvements",
            &with_token(&olly_token, &improvement),
            403,
            "kept by managers and admins",
        )
        .await;
        let (status, html) = page(&base, &mo, "/console/improvements").await;
        assert_eq!(status, 200);
        assert!(html.contains("The register is empty."), "{html}");
        done(
            &base,
            &mo,
            "/console/improvements",
            &with_token(&mo_token, &improvement),
        )
        .await;
        let open = [
            ("title", "Damp surveys within 10 working days"),
            ("what_changed", "A surveyor slot is held each week."),
            ("owner", "Sam Patel"),
            ("agreed_on", "2026-06-01"),
            ("target_on", "2026-08-31"),
            ("completed_on", ""),
            ("complaints", "C2026-00002"),
        ];
        done(
            &base,
            &mo,
            "/console/improvements",
            &with_token(&mo_token, &open),
        )
        .await;
        let mut bad = improvement;
        bad[4] = ("target_on", "soon");
        refused(
            &base,
            &mo,
            "/console/improvements",
            &with_token(&mo_token, &bad),
            422,
            "The target date &quot;soon&quot; is not a date",
        )
        .await;
        let mut bad = improvement;
        bad[6] = ("complaints", "C2026-00001 C2099-00404");
        refused(
            &base,
            &mo,
            "/console/improvements",
            &with_token(&mo_token, &bad),
            422,
            "there is no complaint &quot;C2099-00404&quot; in the record",
        )
        .await;
        let mut bad = improvement;
        bad[0] = ("title", "");
        refused(
            &base,
            &mo,
            "/console/improvements",
            &with_token(&mo_token, &bad),
            422,
            "The title is empty",
        )
        .await;
        let mut bad = improvement;
        bad[4] = ("target_on", "2026-05-01");
        refused(
            &base,
            &mo,
            "/console/improvements",
            &with_token(&mo_token, &bad),
            422,
            "the target date 2026-05-01 is before the date agreed 2026-05-20",
        )
        .await;
        assert_eq!(rows(&store, "improvements").await, 2);
        assert_eq!(rows(&store, "improvement_sources").await, 3);
        let id: i64 =
            sqlx::query("SELECT id FROM improvements WHERE owner = 'Repairs scheduling team'")
                .fetch_one(store.pool_for_tests())
                .await
                .expect("improvement")
                .try_get("id")
                .expect("id");
        // Completed: the edit form with its completion date.
        let mut completed = improvement;
        completed[5] = ("completed_on", "2026-06-30");
        let edit = format!("/console/improvements/{id}");
        done(&base, &mo, &edit, &with_token(&mo_token, &completed)).await;
        refused(
            &base,
            &mo,
            "/console/improvements/999999",
            &with_token(&mo_token, &completed),
            404,
            "no such improvement",
        )
        .await;
        let (_, html) = page(&base, &mo, "/console/improvements").await;
        let open_at = html
            .find("Damp surveys within 10 working days")
            .expect("open one");
        let done_at = html
            .find("Parts checked before boiler repairs")
            .expect("completed one");
        assert!(open_at < done_at, "open improvements come first");
        assert!(html.contains("2026-06-30"));
        assert!(
            html.contains("(overdue)"),
            "the open one is past its target"
        );
        assert_eq!(
            rows(&store, "audit WHERE action = 'improvement_added'").await,
            2
        );
        assert_eq!(
            rows(&store, "audit WHERE action = 'improvement_completed'").await,
            1
        );
        let (_, html) = page(&base, &olly, &case_page).await;
        assert!(
            html.contains("Parts checked before boiler repairs"),
            "the case lists it"
        );

        // The Ombudsman: managers record the referral, determination and findings.
        let ombudsman = "/console/cases/C2026-00001/ombudsman";
        let referral = [
            ("referred_on", "2026-05-01"),
            ("ombudsman_reference", "202601234"),
            ("determined_on", "2026-09-15"),
            ("finding_maladministration", "yes"),
            ("finding_complaint_handling_failure_order", "yes"),
        ];
        refused(
            &base,
            &olly,
            ombudsman,
            &with_token(&olly_token, &referral),
            403,
            "kept by managers and admins",
        )
        .await;
        let mut bad = referral;
        bad[2] = ("determined_on", "2026-04-01");
        refused(
            &base,
            &mo,
            ombudsman,
            &with_token(&mo_token, &bad),
            422,
            "the determination date 2026-04-01 is before the date referred 2026-05-01",
        )
        .await;
        let mut bad = referral;
        bad[2] = ("determined_on", "");
        refused(
            &base,
            &mo,
            ombudsman,
            &with_token(&mo_token, &bad),
            422,
            "findings come with a determination",
        )
        .await;
        let mut bad = referral;
        bad[0] = ("referred_on", "2026-13-01");
        refused(
            &base,
            &mo,
            ombudsman,
            &with_token(&mo_token, &bad),
            422,
            "The date referred &quot;2026-13-01&quot; is not a date",
        )
        .await;
        assert_eq!(rows(&store, "ombudsman_cases").await, 0);
        done(&base, &mo, ombudsman, &with_token(&mo_token, &referral)).await;

        // Orders and recommendations, each with its due date; one completed.
        let orders = "/console/cases/C2026-00001/ombudsman/orders";
        done(
            &base,
            &mo,
            orders,
            &with_token(
                &mo_token,
                &[
                    ("kind", "order"),
                    ("description", "Apologise in writing."),
                    ("due_on", "2026-10-15"),
                ],
            ),
        )
        .await;
        done(
            &base,
            &mo,
            orders,
            &with_token(
                &mo_token,
                &[
                    ("kind", "recommendation"),
                    ("description", "Review how repairs are booked."),
                    ("due_on", "2027-06-30"),
                ],
            ),
        )
        .await;
        refused(
            &base,
            &mo,
            "/console/cases/C2026-00002/ombudsman/orders",
            &with_token(
                &mo_token,
                &[
                    ("kind", "order"),
                    ("description", "Pay £100."),
                    ("due_on", "2026-10-15"),
                ],
            ),
            422,
            "record the referral to the Ombudsman before its orders",
        )
        .await;
        refused(
            &base,
            &mo,
            orders,
            &with_token(
                &mo_token,
                &[
                    ("kind", "request"),
                    ("description", "Pay £100."),
                    ("due_on", "2026-10-15"),
                ],
            ),
            422,
            "is neither an order nor a recommendation",
        )
        .await;
        assert_eq!(rows(&store, "ombudsman_orders").await, 2);
        let order: i64 = sqlx::query("SELECT id FROM ombudsman_orders WHERE kind = 'order'")
            .fetch_one(store.pool_for_tests())
            .await
            .expect("order")
            .try_get("id")
            .expect("id");
        let complete = format!("/console/ombudsman-orders/{order}/complete");
        refused(
            &base,
            &mo,
            &complete,
            &with_token(&mo_token, &[("completed_on", "2026-09-01")]),
            422,
            "the date completed 2026-09-01 is before the determination 2026-09-15",
        )
        .await;
        done(
            &base,
            &mo,
            &complete,
            &with_token(&mo_token, &[("completed_on", "2026-10-10")]),
        )
        .await;
        refused(
            &base,
            &mo,
            &complete,
            &with_token(&mo_token, &[("completed_on", "2026-10-11")]),
            422,
            "already recorded as completed",
        )
        .await;
        // The determination cannot be taken away while it has orders.
        let mut undetermined = referral;
        undetermined[2] = ("determined_on", "");
        refused(
            &base,
            &mo,
            ombudsman,
            &with_token(&mo_token, &undetermined[..3]),
            422,
            "record the determination date first",
        )
        .await;
        let (_, html) = page(&base, &olly, &case_page).await;
        for shown in [
            "202601234",
            "Maladministration",
            "Complaint-handling failure order",
            "Apologise in writing.",
            "completed 2026-10-10 (Mo Manager)",
            "Review how repairs are booked.",
        ] {
            assert!(html.contains(shown), "{shown} on the case page");
        }
        assert_eq!(
            rows(&store, "audit WHERE action = 'ombudsman_case_recorded'").await,
            1
        );
        assert_eq!(
            rows(&store, "audit WHERE action = 'ombudsman_order_added'").await,
            2
        );
        assert_eq!(
            rows(&store, "audit WHERE action = 'ombudsman_order_completed'").await,
            1
        );
        // Nothing here holds the resident's words: the definition is not copied anywhere.
        assert_eq!(
            rows(
                &store,
                "case_learning WHERE learned LIKE '%boiler has not been fixed%'"
            )
            .await,
            0
        );

        // The summary for 2026/27, worked out from what was done above. Learning was recorded
        // today, so it counts in the year today falls in.
        let year = Period::financial_year(2026).expect("year");
        let summary = intake::service::learning(&store, service.profile(), &year, Utc::now())
            .await
            .expect("summary");
        let today = service.profile().calendar().local_date(Utc::now());
        let learning_counted: Vec<String> = if year.contains_day(today) {
            vec!["C2026-00001".to_owned()]
        } else {
            Vec::new()
        };
        assert_eq!(summary.learning_recorded, learning_counted);
        // In the order they were added.
        assert_eq!(
            summary.improvements_agreed,
            vec![
                "Parts checked before boiler repairs",
                "Damp surveys within 10 working days"
            ]
        );
        assert_eq!(
            summary.improvements_completed,
            vec!["Parts checked before boiler repairs"]
        );
        // Today is after 31 August 2026, the open one's target.
        assert_eq!(
            summary.improvements_overdue,
            vec!["Damp surveys within 10 working days"]
        );
        assert_eq!(summary.referrals, vec!["C2026-00001"]);
        assert_eq!(summary.determinations, vec!["C2026-00001"]);
        let found = |f: Finding| {
            summary
                .findings
                .iter()
                .find(|c| c.finding == f)
                .map(|c| c.complaints.len())
                .expect("kind")
        };
        assert_eq!(found(Finding::Maladministration), 1);
        assert_eq!(found(Finding::ComplaintHandlingFailureOrder), 1);
        assert_eq!(found(Finding::SevereMaladministration), 0);
        assert_eq!(
            summary.orders,
            OrderCounts {
                made: 1,
                completed: 1,
                overdue: 0
            }
        );
        assert_eq!(
            summary.recommendations,
            OrderCounts {
                made: 1,
                completed: 0,
                overdue: 0
            }
        );
        let tables = summary.tables();
        assert!(
            tables[0]
                .rows
                .contains(&vec!["Orders made".to_owned(), "1".to_owned()])
        );
    });
}

#[test]
fn the_retention_purge_leaves_learning_improvements_and_the_ombudsman_case() {
    on_both(|store| async move {
        let now = Utc::now();
        let mo = staff_member(&store, "Mo Manager", "mo@example.org", Role::Manager, now).await;
        let service = intake(store.clone());
        complaint(
            &store,
            "C2026-00070",
            at("2026-01-05T10:00:00Z"),
            "2026-01-05",
        )
        .await;
        intake::service::record_learning(
            &store,
            "C2026-00070",
            "Letters went to the wrong address after a transfer.",
            "Transfers now update the correspondence address the same day.",
            &mo,
            now,
        )
        .await
        .expect("learning");
        intake::service::save_improvement(
            &store,
            service.profile(),
            None,
            &intake::service::ImprovementForm {
                title: "Addresses updated on transfer",
                what_changed: "Same-day address updates.",
                owner: "Tenancy team",
                agreed_on: "2026-01-20",
                target_on: "2026-02-20",
                completed_on: "2026-02-10",
                complaints: "C2026-00070",
            },
            &mo,
            now,
        )
        .await
        .expect("improvement");
        intake::service::record_ombudsman_case(
            &store,
            service.profile(),
            "C2026-00070",
            &intake::service::OmbudsmanForm {
                referred_on: "2026-02-01",
                ombudsman_reference: "202600070",
                determined_on: "2026-03-01",
                findings: vec![Finding::ServiceFailure],
            },
            &mo,
            now,
        )
        .await
        .expect("ombudsman");
        sqlx::query(
            "UPDATE cases SET status = 'closed', closed_at = $1 WHERE reference = 'C2026-00070'",
        )
        .bind(intake::store::millis(at("2026-01-20T10:00:00Z")))
        .execute(store.pool_for_tests())
        .await
        .expect("close");
        let mut scheduler = Scheduler::new(
            service.clone(),
            AlertsConfig::default(),
            chrono::Duration::hours(24),
            None,
            None,
        );
        scheduler.erase_after = chrono::Duration::days(30);
        let run = scheduler.run_once(now).await.expect("run");
        assert_eq!(run.erased, 1);
        assert_eq!(
            rows(
                &store,
                "cases WHERE reference = 'C2026-00070' AND definition = ''"
            )
            .await,
            1,
            "the resident's words are gone"
        );
        assert_eq!(rows(&store, "case_learning").await, 1);
        assert_eq!(rows(&store, "improvement_sources").await, 1);
        assert_eq!(rows(&store, "ombudsman_cases").await, 1);
        let year = Period::financial_year(2025).expect("year");
        let summary = intake::service::learning(&store, service.profile(), &year, now)
            .await
            .expect("summary");
        assert_eq!(
            summary.improvements_completed,
            vec!["Addresses updated on transfer"]
        );
        assert_eq!(summary.determinations, vec!["C2026-00070"]);
    });
}
