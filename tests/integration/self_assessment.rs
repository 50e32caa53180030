//! The self-assessment against the Complaint Handling Code (appendix A), on SQLite and
//! PostgreSQL: the provisions the record judges (6.2, 6.3) checked against timings worked out
//! by hand; over HTTP, managers and admins answer the rest in versions (a save from an
//! out-of-date page refused, earlier versions kept and shown), record the governing body's
//! response, and bad input is refused with nothing written; agents are refused; and the
//! command line's text and CSV carry the same.

use chrono::Utc;
use intake::core::case::StageResponse;
use intake::service::Intake;
use intake::staff::{Role, StaffMember};

use crate::helpers::staff::{csrf_of, page, sign_in};
use crate::helpers::{PASSWORD, at, intake, on_both, staff_member};
use crate::learning::{complaint, done, refused, rows, with_token};

async fn respond(service: &Intake, reference: &str, staff: &StaffMember, now: &str) {
    let response = StageResponse {
        stage: 1,
        definition: "The boiler has not been fixed.".to_owned(),
        decision: "Upheld.".to_owned(),
        reasons: "The repair was booked without the part.".to_owned(),
        remedy: "None".to_owned(),
        outstanding_actions: "None".to_owned(),
        outcome: Some(intake::core::outcome::Outcome::Upheld),
        compensation: intake::core::outcome::Pence(0),
    };
    service
        .send_stage_response(reference, &response, staff, at(now))
        .await
        .unwrap_or_else(|e| panic!("{reference}: {e}"));
}

#[test]
fn the_self_assessment_is_judged_from_the_record_and_answered_in_versions_on_both_databases() {
    on_both(|store| async move {
        let now = Utc::now();
        let mo_member =
            staff_member(&store, "Mo Manager", "mo@example.org", Role::Manager, now).await;
        staff_member(&store, "Ada Admin", "ada@example.org", Role::Admin, now).await;
        staff_member(&store, "Bea Agent", "bea@example.org", Role::Agent, now).await;
        let service = intake(store.clone());
        // 2025/26, no bank holidays in June or July 2025. Working days counted by hand:
        // A: received and acknowledged Monday 2 June; answered 16 June, the 10th working day
        //    after: on time at both.
        complaint(
            &store,
            "C2025-00001",
            at("2025-06-02T10:00:00Z"),
            "2025-06-02",
        )
        .await;
        respond(&service, "C2025-00001", &mo_member, "2025-06-16T15:00:00Z").await;
        // B: received 2 June, acknowledged 10 June (the 6th working day: late); answered
        //    25 June, the 11th working day after the acknowledgement: late.
        complaint(
            &store,
            "C2025-00002",
            at("2025-06-02T11:00:00Z"),
            "2025-06-10",
        )
        .await;
        respond(&service, "C2025-00002", &mo_member, "2025-06-25T15:00:00Z").await;
        // C: received Tuesday 1 July, acknowledged 8 July (the 5th working day); answered
        //    21 July, the 9th working day after: on time at both.
        complaint(
            &store,
            "C2025-00003",
            at("2025-07-01T10:00:00Z"),
            "2025-07-08",
        )
        .await;
        respond(&service, "C2025-00003", &mo_member, "2025-07-21T15:00:00Z").await;

        let assessment = intake::service::self_assessment_for(&store, service.profile(), 2025)
            .await
            .expect("assessment");
        let item = |n: &str| {
            assessment
                .provisions
                .iter()
                .find(|a| a.provision.number == n)
                .expect("provision")
                .clone()
        };
        let acknowledged = item("6.2").from_record.expect("judged from the record");
        assert!(!acknowledged.complies);
        assert_eq!(
            acknowledged.evidence,
            "6.2: 2 of 3 stage 1 complaints acknowledged within 5 working days (66.7%)."
        );
        let answered = item("6.3").from_record.expect("judged from the record");
        assert!(!answered.complies);
        assert_eq!(
            answered.evidence,
            "6.3: 2 of 3 stage 1 responses sent within 10 working days or an extension the Code allows (2 within 10 working days, 0 within an extension); CH02 stage 1: 66.7%. Late: C2025-00002."
        );
        assert!(item("6.11").from_record.is_none(), "no stage 2 this year");
        assert!(item("9.1").for_a_person());

        // Over HTTP: the evidence on the page, answers saved as versions.
        let base = crate::helpers::staff::console_in_process(service.clone()).await;
        let mo = sign_in(&base, "mo@example.org", PASSWORD)
            .await
            .expect("mo");
        let ada = sign_in(&base, "ada@example.org", PASSWORD)
            .await
            .expect("ada");
        let bea = sign_in(&base, "bea@example.org", PASSWORD)
            .await
            .expect("bea");
        let (status, _) = page(&base, &bea, "/console/self-assessment?year=2025").await;
        assert_eq!(status, 403);
        let (status, words) = page(&base, &mo, "/console/self-assessment?year=twenty").await;
        assert_eq!(status, 400, "{words}");
        let (status, html) = page(&base, &mo, "/console/self-assessment?year=2025").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("2 of 3 stage 1 complaints acknowledged within 5 working days (66.7%)"),
            "{html}"
        );
        assert!(
            html.contains("Complies: 0 · does not comply: 2 · not answered yet:"),
            "{html}"
        );
        let token = csrf_of(&html);
        let (_, html) = page(&base, &ada, "/console/self-assessment?year=2025").await;
        let ada_token = csrf_of(&html);
        let (_, html) = page(&base, &bea, "/console").await;
        let bea_token = csrf_of(&html);
        let save = "/console/self-assessment";
        let first = [
            ("year", "2025"),
            ("item", "9.1"),
            ("version", "0"),
            ("complies", "yes"),
            (
                "commentary",
                "A learning panel reviews every upheld complaint monthly.",
            ),
        ];
        refused(
            &base,
            &bea,
            save,
            &with_token(&bea_token, &first),
            403,
            "kept by managers and admins",
        )
        .await;
        done(&base, &mo, save, &with_token(&token, &first)).await;
        // Ada's page was loaded before Mo saved: her save starts from version 0 and is refused.
        let mut stale = first;
        stale[4] = ("commentary", "The panel meets quarterly.");
        refused(
            &base,
            &ada,
            save,
            &with_token(&ada_token, &stale),
            409,
            "someone else saved version 1 of provision 9.1 while you were editing",
        )
        .await;
        let mut second = stale;
        second[2] = ("version", "1");
        second[3] = ("complies", "no");
        done(&base, &ada, save, &with_token(&ada_token, &second)).await;
        // Bad input: nothing written.
        let mut bad = first;
        bad[1] = ("item", "10.1");
        refused(
            &base,
            &mo,
            save,
            &with_token(&token, &bad),
            404,
            "&quot;10.1&quot; is not a provision of the Code",
        )
        .await;
        let mut bad = second;
        bad[2] = ("version", "2");
        bad[3] = ("complies", "maybe");
        refused(
            &base,
            &mo,
            save,
            &with_token(&token, &bad),
            422,
            "must be yes, no or not answered",
        )
        .await;
        let long = "x".repeat(8001);
        let mut bad = second;
        bad[2] = ("version", "2");
        bad[4] = ("commentary", &long);
        refused(
            &base,
            &mo,
            save,
            &with_token(&token, &bad),
            422,
            "8001 characters long; the most is 8000",
        )
        .await;
        let mut bad = second;
        bad[2] = ("version", "2");
        bad[3] = ("complies", "");
        bad[4] = ("commentary", " ");
        refused(
            &base,
            &mo,
            save,
            &with_token(&token, &bad),
            422,
            "nothing to save",
        )
        .await;
        assert_eq!(rows(&store, "self_assessment_versions").await, 2);
        assert_eq!(
            rows(&store, "audit WHERE action = 'self_assessment_saved'").await,
            2
        );

        // The governing body's response, and commentary beside a provision the record judges.
        done(
            &base,
            &mo,
            save,
            &with_token(
                &token,
                &[
                    ("year", "2025"),
                    ("item", "governing_body"),
                    ("version", "0"),
                    ("complies", ""),
                    (
                        "commentary",
                        "The board accepts the report and asks for quarterly updates.",
                    ),
                ],
            ),
        )
        .await;
        done(
            &base,
            &mo,
            save,
            &with_token(
                &token,
                &[
                    ("year", "2025"),
                    ("item", "6.2"),
                    ("version", "0"),
                    ("complies", ""),
                    (
                        "commentary",
                        "One acknowledgement was a day late during staff leave.",
                    ),
                ],
            ),
        )
        .await;
        let (_, html) = page(&base, &mo, "/console/self-assessment?year=2025").await;
        assert!(html.contains("The panel meets quarterly."));
        assert!(
            html.contains("Earlier versions"),
            "the first version is kept"
        );
        assert!(html.contains("A learning panel reviews every upheld complaint monthly."));
        assert!(html.contains("The board accepts the report and asks for quarterly updates."));
        assert!(
            html.contains("Complies: 0 · does not comply: 3 · not answered yet:"),
            "{html}"
        );

        let assessment = intake::service::self_assessment_for(&store, service.profile(), 2025)
            .await
            .expect("assessment");
        let one = assessment
            .provisions
            .iter()
            .find(|a| a.provision.number == "9.1")
            .expect("9.1");
        assert_eq!(one.complies(), Some(false));
        let answer = one.answer.as_ref().expect("answered");
        assert_eq!((answer.version, answer.by.as_str()), (2, "Ada Admin"));
        let versions = store
            .self_assessment_versions(2025)
            .await
            .expect("versions");
        let kept: Vec<(&str, i64, Option<bool>)> = versions
            .iter()
            .filter(|v| v.item == "9.1")
            .map(|v| (v.by.as_str(), v.version, v.complies))
            .collect();
        assert_eq!(
            kept,
            vec![("Ada Admin", 2, Some(false)), ("Mo Manager", 1, Some(true))]
        );
        // Versions are append-only: the database refuses an edit.
        assert!(
            sqlx::query("UPDATE self_assessment_versions SET commentary = 'changed'")
                .execute(store.pool_for_tests())
                .await
                .is_err()
        );

        // The command line's layouts carry the same.
        let text = intake::cli::report_learning::text(&assessment, "Riverside Homes");
        assert!(text.contains("6.2   Complies: No"), "{text}");
        assert!(
            text.contains("Evidence (from the record): 6.2: 2 of 3"),
            "{text}"
        );
        assert!(text.contains("The board accepts the report"), "{text}");
        let csv = intake::cli::report_learning::csv(&assessment);
        assert!(csv.starts_with(
            "\"Provision\",\"Requirement\",\"Complies\",\"Evidence\",\"Commentary\"\r\n"
        ));
        assert!(csv.contains("\"9.1\","), "{csv}");
        assert!(csv.contains(
            "\"The governing body's response (8.2)\",\"\",\"\",\"\",\"The board accepts"
        ));
        assert_eq!(
            csv.matches("\r\n").count(),
            1 + assessment.provisions.len() + 1
        );
    });
}
