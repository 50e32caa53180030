//! The annual report's learning from complaints (section 9) and self-assessment against the
//! Code (appendix A), the sections Code 8.1 asks of it, in the JSON, CSV, HTML and text of
//! `intake report annual`, and `intake report self-assessment` as text, JSON and CSV, on
//! SQLite and PostgreSQL, for the record `reports::build_record` makes with learning recorded
//! for D and G taken to the Housing Ombudsman (`report_documents::learn_from`).

use serde_json::Value;

use crate::report_documents::{LANDLORD, csv_row, csv_rows, on_both_urls, run, unescaped};
use crate::reports::refs;

#[test]
fn the_annual_report_has_learning_and_the_self_assessment_on_both_databases() {
    on_both_urls(|url, dir, r| {
        let annual = |format: &str| {
            let (code, out, err) = run(
                url,
                dir,
                &["report", "annual", "--year", "2025", "--format", format],
            );
            assert_eq!(code, 0, "{err}");
            out
        };
        let json: Value = serde_json::from_str(&annual("json")).expect("json");
        let rows = csv_rows(&annual("csv"));
        let html = unescaped(&annual("html"));
        assert!(html.contains(LANDLORD));

        // Learning from complaints and the self-assessment (8.1): in the JSON, the CSV, the
        // HTML and the text, the same figures.
        let learned = refs(r, "D");
        assert_eq!(
            json["learning"]["learning_recorded"],
            serde_json::json!(learned)
        );
        assert_eq!(
            csv_row(
                &rows,
                "Learning and service improvements",
                "Complaints with learning recorded (9.1)"
            )[2],
            "1"
        );
        let ombudsman = "The Housing Ombudsman: referrals, findings, orders and recommendations";
        for (measure, value) in [
            ("Complaints referred to the Housing Ombudsman", "1"),
            ("Complaints the Ombudsman determined", "1"),
            ("Finding: Maladministration", "1"),
            ("Finding: Service failure", "0"),
        ] {
            assert_eq!(csv_row(&rows, ombudsman, measure)[2], value, "{measure}");
        }
        assert_eq!(
            json["learning"]["referrals"],
            serde_json::json!(refs(r, "G"))
        );
        assert_eq!(csv_row(&rows, ombudsman, "Orders made")[2], "0");
        let provisions = json["self_assessment"]["provisions"]
            .as_array()
            .expect("provisions");
        let judged = provisions
            .iter()
            .find(|p| p["provision"]["number"] == "6.2")
            .expect("6.2");
        let requirement = judged["provision"]["requirement"].as_str().expect("text");
        let evidence = judged["from_record"]["evidence"]
            .as_str()
            .expect("the record judges 6.2");
        let complies = if judged["from_record"]["complies"] == true {
            "Yes"
        } else {
            "No"
        };
        let table = "Self-assessment against the Complaint Handling Code";
        assert_eq!(
            csv_row(&rows, table, &format!("6.2 {requirement}"))[2],
            complies
        );
        let first = &provisions[0]["provision"];
        assert_eq!(first["number"], "1.2");
        let person = format!("1.2 {}", first["requirement"].as_str().expect("text"));
        assert_eq!(csv_row(&rows, table, &person)[2], "for a person to answer");
        assert_eq!(
            rows.iter().filter(|r| r[0] == table).count(),
            provisions.len() + 1,
            "one row per provision and the governing body's response"
        );
        for said in [
            "<h2>Learning from complaints</h2>",
            "<h2>Self-assessment against the Code</h2>",
            "<th scope=\"row\">Complaints with learning recorded (9.1)</th>",
            &format!("From the record: {evidence}"),
            "<td class=\"number\">for a person to answer</td>",
        ] {
            assert!(html.contains(said), "{said} is not in the HTML");
        }
        let (code, text, err) = run(url, dir, &["report", "annual", "--year", "2025"]);
        assert_eq!(code, 0, "{err}");
        for said in [
            "Learning from complaints, Riverside Homes",
            "Self-assessment against the Code, Riverside Homes",
            &format!("From the record: {evidence}"),
            "The governing body's response to the self-assessment (8.2)",
        ] {
            assert!(text.contains(said), "{said} is not in the text: {text}");
        }

        // `intake report self-assessment`: the same judgement, as text, JSON and CSV.
        let (code, text, err) = run(url, dir, &["report", "self-assessment", "--year", "2025"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            text.contains(&format!("6.2   Complies: {complies}"))
                && text.contains(&format!("Evidence (from the record): {evidence}"))
                && text.contains("Not recorded yet."),
            "{text}"
        );
        let (code, alone, err) = run(
            url,
            dir,
            &[
                "report",
                "self-assessment",
                "--year",
                "2025",
                "--format",
                "json",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let alone: Value = serde_json::from_str(&alone).expect("json");
        assert_eq!(alone, json["self_assessment"]);
        let (code, appendix, err) = run(
            url,
            dir,
            &[
                "report",
                "self-assessment",
                "--year",
                "2025",
                "--format",
                "csv",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let appendix = csv_rows(&appendix);
        let row = appendix
            .iter()
            .find(|r| r[0] == "6.2")
            .expect("6.2 in the CSV");
        assert_eq!(row[2], complies);
        assert_eq!(appendix.len(), provisions.len() + 1);
        let (code, _, err) = run(url, dir, &["report", "self-assessment", "--year", "1999"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("1999 is not a year"), "{err}");
    });
}
