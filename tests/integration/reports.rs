//! Reports from the record: CH01 and CH02 for a financial year from complaints made through
//! the dialog and worked through the real case-work service (stage responses, extensions,
//! stage 2 requests, exclusions), compared with figures worked out by hand; and
//! `intake report tsm --year` on a SQLite file; and the handling figures (`report month`,
//! `report annual`) from the same record.

use std::collections::BTreeMap;
use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use intake::core::case::StageResponse;
use intake::core::dialog::{Dialogs, Input, NewCase};
use intake::core::policy::{Policy, Route};
use intake::core::profile::LandlordProfile;
use intake::core::report::{Performance, Period, TsmReport, Value};
use intake::service::{Intake, handling};
use intake::staff::{Role, StaffMember};
use intake::store::{Inbound, Store};

use crate::helpers::databases::block_on;
use crate::helpers::{at, on_both, staff_member};

/// 1,000 homes: 800 at low-cost rent, 200 in shared ownership.
pub(crate) fn profile() -> LandlordProfile {
    LandlordProfile {
        homes: 1000,
        homes_low_cost_rental: Some(800),
        homes_low_cost_home_ownership: Some(200),
        ..LandlordProfile::default()
    }
}

pub(crate) fn service(store: Store) -> Intake {
    Intake::new(
        store,
        Policy::shipped().expect("policy"),
        Dialogs::shipped().expect("dialogs"),
        profile(),
        Duration::hours(12),
    )
}

/// One resident message at `now` in chat `chat`; the bot's replies.
async fn say(intake: &Intake, chat: &str, n: usize, text: &str, now: DateTime<Utc>) -> Vec<String> {
    let inbound = Inbound {
        channel: "web".to_owned(),
        chat: chat.to_owned(),
        platform_message_id: Some(format!("{chat}-{n}")),
        body: text.to_owned(),
        attachments: Vec::new(),
        at: now,
    };
    let handled = intake
        .handle(&inbound, &Input::Text(text.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{chat}: {e}"));
    handled.replies.into_iter().map(|r| r.text).collect()
}

/// A complaint made through the dialog, the first message at `now` (each later one a second
/// after): its reference.
async fn complain(intake: &Intake, chat: &str, now: DateTime<Utc>) -> String {
    let script = [
        "brilliant, another week with no hot water",
        "1",
        "yes",
        "Sam Jones, 4 Rowan Close",
        "myself",
        "fix the boiler and an apology",
        "since last Monday",
        "no",
        "1",
        "yes",
    ];
    let mut last = Vec::new();
    for (n, text) in script.iter().enumerate() {
        last = say(intake, chat, n, text, now + Duration::seconds(n as i64)).await;
    }
    let all = last.join("\n");
    let reference = all
        .split("Reference: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{chat}: no reference in {all}"));
    reference.to_owned()
}

/// Stage 2 asked for in the chat (6.11).
async fn ask_stage_two(intake: &Intake, chat: &str, now: DateTime<Utc>) {
    let replies = say(intake, chat, 100, "I'm still not happy with this", now).await;
    assert!(
        replies.iter().any(|r| r.contains("stage 2")),
        "{chat}: {replies:?}"
    );
}

async fn respond(intake: &Intake, reference: &str, stage: u8, staff: &StaffMember, now: &str) {
    let response = StageResponse {
        stage,
        definition: "No hot water since Monday.".to_owned(),
        decision: "Upheld.".to_owned(),
        reasons: "The boiler repair was missed.".to_owned(),
        remedy: "None".to_owned(),
        outstanding_actions: "None".to_owned(),
        outcome: Some(intake::core::outcome::Outcome::Upheld),
        compensation: intake::core::outcome::Pence(0),
    };
    intake
        .send_stage_response(reference, &response, staff, at(now))
        .await
        .unwrap_or_else(|e| panic!("{reference} stage {stage}: {e}"));
}

/// The references, by letter, of the record the tests build; the expectations are worked
/// out by hand for the financial year 2025/26 (1 April 2025 to 31 March 2026).
pub(crate) async fn build_record(intake: &Intake, store: &Store) -> BTreeMap<char, String> {
    let first = at("2025-01-01T09:00:00Z");
    let officer = staff_member(
        store,
        "Alex Officer",
        "alex@example.org",
        Role::ComplaintsOfficer,
        first,
    )
    .await;
    let manager = staff_member(store, "Mo Manager", "mo@example.org", Role::Manager, first).await;
    let mut r = BTreeMap::new();
    // N: received in 2024/25, stage 2 asked for in 2025/26 and answered in time.
    r.insert('N', complain(intake, "n", at("2025-02-03T10:00:00Z")).await);
    respond(intake, &r[&'N'], 1, &officer, "2025-02-10T10:00:00Z").await;
    ask_stage_two(intake, "n", at("2025-04-07T10:00:00Z")).await;
    respond(intake, &r[&'N'], 2, &manager, "2025-04-28T10:00:00Z").await;
    // A: 00:30 BST on 1 April 2025 (23:30 UTC on 31 March): the new year.
    r.insert('A', complain(intake, "a", at("2025-03-31T23:30:00Z")).await);
    respond(intake, &r[&'A'], 1, &officer, "2025-04-08T10:00:00Z").await;
    // B: 23:30 BST on 31 March 2025: the old year for CH01, answered in the new one.
    r.insert('B', complain(intake, "b", at("2025-03-31T22:30:00Z")).await);
    respond(intake, &r[&'B'], 1, &officer, "2025-04-02T10:00:00Z").await;
    r.insert('C', complain(intake, "c", at("2025-05-06T10:00:00Z")).await);
    respond(intake, &r[&'C'], 1, &officer, "2025-05-13T10:00:00Z").await;
    // D: due 16 June (10 working days from 2 June), answered 30 June: late.
    r.insert('D', complain(intake, "d", at("2025-06-02T10:00:00Z")).await);
    respond(intake, &r[&'D'], 1, &officer, "2025-06-30T10:00:00Z").await;
    // E: due 15 July, extended by 5 working days to 22 July, answered 18 July: on time.
    r.insert('E', complain(intake, "e", at("2025-07-01T10:00:00Z")).await);
    intake
        .extend_deadline(
            &r[&'E'],
            5,
            "We need the contractor's report on the boiler.",
            &officer,
            at("2025-07-10T10:00:00Z"),
        )
        .await
        .expect("extend");
    respond(intake, &r[&'E'], 1, &officer, "2025-07-18T10:00:00Z").await;
    // F: a matter for the anti-social behaviour team, excluded by staff (2.4): in no figure.
    let f = "C2025-90001".to_owned();
    let mut record = store.begin().await.expect("begin");
    let received = at("2025-08-04T10:00:00Z");
    let conversation = record
        .conversation("web", "f", "{}", "en-GB", received)
        .await
        .expect("conversation");
    record
        .open_case(
            &conversation,
            &NewCase {
                reference: f.clone(),
                received_at: received,
                acknowledged_on: received.date_naive(),
                due_on: "2025-08-18".parse().expect("date"),
                definition: "Noise from next door every night.".to_owned(),
                answers: BTreeMap::new(),
                suggested_route: Some(Route::Asb),
            },
            received,
        )
        .expect("case");
    record.commit().await.expect("commit");
    intake
        .decide_exclusion(
            &f,
            true,
            "This is anti-social behaviour, which our ASB team handles.",
            &officer,
            at("2025-08-05T10:00:00Z"),
        )
        .await
        .expect("exclusion");
    r.insert('F', f);
    // G: stage 2 asked for on 15 September and answered on 6 October: in time.
    r.insert('G', complain(intake, "g", at("2025-09-01T10:00:00Z")).await);
    respond(intake, &r[&'G'], 1, &officer, "2025-09-10T10:00:00Z").await;
    ask_stage_two(intake, "g", at("2025-09-15T10:00:00Z")).await;
    respond(intake, &r[&'G'], 2, &manager, "2025-10-06T10:00:00Z").await;
    // H: stage 2 asked for on 20 October, due 17 November, answered 15 December: late.
    r.insert('H', complain(intake, "h", at("2025-10-01T10:00:00Z")).await);
    respond(intake, &r[&'H'], 1, &officer, "2025-10-08T10:00:00Z").await;
    ask_stage_two(intake, "h", at("2025-10-20T10:00:00Z")).await;
    respond(intake, &r[&'H'], 2, &manager, "2025-12-15T10:00:00Z").await;
    r.insert('K', complain(intake, "k", at("2025-11-10T10:00:00Z")).await);
    respond(intake, &r[&'K'], 1, &officer, "2025-11-20T10:00:00Z").await;
    r.insert('L', complain(intake, "l", at("2025-12-01T10:00:00Z")).await);
    respond(intake, &r[&'L'], 1, &officer, "2025-12-05T10:00:00Z").await;
    // I: stage 2 asked for in the next year (2 April 2026).
    r.insert('I', complain(intake, "i", at("2026-03-02T10:00:00Z")).await);
    respond(intake, &r[&'I'], 1, &officer, "2026-03-10T10:00:00Z").await;
    ask_stage_two(intake, "i", at("2026-04-02T09:00:00Z")).await;
    // J: still awaiting its response at the end of the year.
    r.insert('J', complain(intake, "j", at("2026-03-25T10:00:00Z")).await);
    r
}

pub(crate) fn refs(r: &BTreeMap<char, String>, letters: &str) -> Vec<String> {
    let mut out: Vec<String> = letters.chars().map(|c| r[&c].clone()).collect();
    out.sort();
    out
}

fn published(value: &Value) -> String {
    match value {
        Value::Measured(v) => v.to_string(),
        Value::NotMeasurable(why) => format!("not measurable: {why}"),
    }
}

/// The figures for 2025/26 as worked out by hand from the record `build_record` makes.
fn check(report: &TsmReport, r: &BTreeMap<char, String>) {
    assert_eq!(report.period.label, "2025/26");
    // CH01 stage 1: received from 1 April 2025 to 31 March 2026, F excluded, B and N in
    // 2024/25: A C D E G H I J K L = 10 of 1,000 homes, 10.0 per 1,000.
    let s1 = &report.ch01.stage1;
    assert_eq!(s1.all_homes.complaints, refs(r, "ACDEGHIJKL"));
    assert_eq!(
        (s1.all_homes.numerator, s1.all_homes.denominator),
        (10, 1000)
    );
    assert_eq!(published(&s1.all_homes.value), "10.0");
    // The record gives no tenure: nothing counts by tenure, and all ten are listed.
    assert_eq!(s1.low_cost_rental.numerator, 0);
    assert_eq!(s1.low_cost_rental.denominator, 800);
    assert_eq!(s1.low_cost_home_ownership.denominator, 200);
    assert_eq!(s1.tenure_not_recorded, refs(r, "ACDEGHIJKL"));
    // CH01 stage 2: asked for in the year: N (April 2025), G, H; not I (April 2026).
    let s2 = &report.ch01.stage2;
    assert_eq!(s2.all_homes.complaints, refs(r, "GHN"));
    assert_eq!(published(&s2.all_homes.value), "3.0");
    // CH02 stage 1: answered in the year: A B C D E G H I K L (N answered in 2024/25, J
    // not yet); D late, E on time thanks to its extension: 9 of 10, 90.0%.
    let c1 = &report.ch02.stage1;
    let mut answered = c1.on_time.complaints.clone();
    answered.extend(c1.late.clone());
    answered.sort();
    assert_eq!(answered, refs(r, "ABCDEGHIKL"));
    assert_eq!(c1.late, refs(r, "D"));
    assert_eq!((c1.on_time.numerator, c1.on_time.denominator), (9, 10));
    assert_eq!(published(&c1.on_time.value), "90.0");
    // CH02 stage 2: G, H, N answered in the year, H late: 2 of 3, 66.7%.
    let c2 = &report.ch02.stage2;
    assert_eq!(c2.on_time.complaints, refs(r, "GN"));
    assert_eq!(c2.late, refs(r, "H"));
    assert_eq!(published(&c2.on_time.value), "66.7");
}

#[test]
fn ch01_and_ch02_for_a_year_match_the_record_counted_by_hand() {
    on_both(|store| async move {
        let intake = service(store.clone());
        let r = build_record(&intake, &store).await;
        let report = intake.tsm(2025).await.expect("report");
        check(&report, &r);
        // The year before: only B and N were received in it (A is 00:30 BST on 1 April).
        let before = intake.tsm(2024).await.expect("report");
        assert_eq!(before.ch01.stage1.all_homes.complaints, refs(&r, "BN"));
        // The year after: I asked for stage 2 on 2 April 2026.
        let after = intake.tsm(2026).await.expect("report");
        assert_eq!(after.ch01.stage2.all_homes.complaints, refs(&r, "I"));
        assert_eq!(after.ch01.stage1.all_homes.numerator, 0);
    });
}

fn cli() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_intake"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

#[test]
fn report_tsm_prints_the_table_and_the_json_for_a_year() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("intake.db");
    let url = format!("sqlite://{}", db.display());
    let r = block_on(async {
        let store = Store::connect(&url).await.expect("store");
        let intake = service(store.clone());
        build_record(&intake, &store).await
    });
    let config = dir.path().join("intake.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = \"{url}\"\n[landlord]\nhomes = 1000\nhomes_low_cost_rental = 800\nhomes_low_cost_home_ownership = 200\n"
        ),
    )
    .expect("config");
    let run = |args: &[&str]| {
        let out = cli()
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .expect("run intake");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (code, text, err) = run(&["report", "tsm", "--year", "2025"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("2025/26 (1 April 2025 to 31 March 2026)"),
        "{text}"
    );
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(line("CH01 stage 1, all homes").ends_with("10.0 10 complaints / 1000 homes"));
    assert!(line("CH01 stage 2, all homes").ends_with("3.0 3 complaints / 1000 homes"));
    assert!(line("CH01 stage 1, low-cost rental").ends_with("0.0 0 complaints / 800 homes"));
    assert!(line("CH02 stage 1").ends_with("90.0% 9 of 10 responses on time"));
    assert!(line("CH02 stage 2").ends_with("66.7% 2 of 3 responses on time"));
    assert!(text.contains(&format!("Late stage 1 responses: {}", r[&'D'])));
    assert!(text.contains(" 1. Periods are whole days"), "{text}");
    assert!(
        text.contains("11. Figures are given to one decimal place"),
        "{text}"
    );

    let (code, json, err) = run(&["report", "tsm", "--year", "2025", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&json).expect("json");
    let s1 = &report["ch01"]["stage1"]["all_homes"];
    assert_eq!(s1["numerator"], 10);
    assert_eq!(s1["denominator"], 1000);
    assert_eq!(s1["value"]["measured"]["tenths"], 100);
    assert_eq!(s1["complaints"].as_array().map(Vec::len), Some(10));
    let c2 = &report["ch02"]["stage2"];
    assert_eq!(c2["on_time"]["numerator"], 2);
    assert_eq!(c2["on_time"]["denominator"], 3);
    assert_eq!(c2["late"], serde_json::json!([r[&'H']]));
    assert_eq!(report["rules"].as_array().map(Vec::len), Some(11));

    for (year, says) in [("twenty", "must be a number"), ("1999", "before 2000")] {
        let (code, out, err) = run(&["report", "tsm", "--year", year]);
        assert_eq!(code, 2, "{year}: {out}");
        assert!(err.contains(says), "{year}: {err}");
    }
}

/// The handling figures for 2025/26 as worked out by hand from the record `build_record`
/// makes (the comments there give each complaint's dates).
fn check_handling(p: &Performance, r: &BTreeMap<char, String>) {
    let s1 = &p.stage1;
    // Received in the year, F excluded (2.4) and counted only as such.
    assert_eq!(s1.received, refs(r, "ACDEGHIJKL"));
    assert_eq!(s1.excluded, refs(r, "F"));
    // The dialog acknowledges each complaint the day it is made.
    assert_eq!(s1.acknowledged_on_time.published(), "100.0%");
    assert!(s1.not_acknowledged.is_empty());
    // Answered in the year: A B C D E G H I K L. Within 10 working days without an extension:
    // all but D (late) and E (on time only thanks to its extension): 8 of 10.
    assert_eq!(s1.responded, refs(r, "ABCDEGHIKL"));
    assert_eq!(s1.on_time.published(), "80.0%");
    assert_eq!(s1.within_extension, refs(r, "E"));
    assert_eq!(s1.late, refs(r, "D"));
    assert_eq!(s1.extended, refs(r, "E"));
    assert_eq!(s1.outcomes.upheld, refs(r, "ABCDEGHIKL"));
    assert_eq!(s1.compensation.0, 0);
    // Stage 2: asked for in the year by N, G and H; H answered late.
    let s2 = &p.stage2;
    assert_eq!(s2.received, refs(r, "GHN"));
    assert_eq!(s2.acknowledged_on_time.published(), "100.0%");
    assert_eq!(s2.responded, refs(r, "GHN"));
    assert_eq!(s2.on_time.published(), "66.7%");
    assert_eq!(s2.late, refs(r, "H"));
    // Three stage 2 requests over ten stage 1 responses.
    assert_eq!(p.escalation_rate.published(), "30.0%");
    let categorised: usize = p.categories.iter().map(|c| c.complaints.len()).sum();
    assert_eq!(
        categorised, 10,
        "each complaint received once, in one category"
    );
    assert_eq!(p.feedback.by_score, [0; 5]);
    let months: Vec<(&str, u64, u64)> = p
        .months
        .iter()
        .map(|m| (m.month.as_str(), m.stage1, m.stage2))
        .collect();
    assert_eq!(
        months,
        vec![
            ("2025-04", 1, 1),
            ("2025-05", 1, 0),
            ("2025-06", 1, 0),
            ("2025-07", 1, 0),
            ("2025-08", 0, 0),
            ("2025-09", 1, 1),
            ("2025-10", 1, 1),
            ("2025-11", 1, 0),
            ("2025-12", 1, 0),
            ("2026-01", 0, 0),
            ("2026-02", 0, 0),
            ("2026-03", 2, 0),
        ]
    );
}

#[test]
fn handling_figures_for_a_year_and_a_month_match_the_record_counted_by_hand() {
    on_both(|store| async move {
        let intake = service(store.clone());
        let r = build_record(&intake, &store).await;
        let year = Period::financial_year(2025).expect("year");
        let p = handling(&store, &profile(), &year).await.expect("report");
        check_handling(&p, &r);
        // July 2025: E received and answered within its extension.
        let july = Period::month(2025, 7).expect("month");
        let p = handling(&store, &profile(), &july).await.expect("report");
        assert_eq!(p.stage1.received, refs(&r, "E"));
        assert_eq!(p.stage1.within_extension, refs(&r, "E"));
        assert!(p.stage1.on_time.published().starts_with("0.0"));
    });
}

#[test]
fn report_month_and_annual_print_the_handling_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("intake.db").display());
    let r = block_on(async {
        let store = Store::connect(&url).await.expect("store");
        let intake = service(store.clone());
        build_record(&intake, &store).await
    });
    let run = |args: &[&str]| {
        let out = cli()
            .env("INTAKE_DATABASE_URL", &url)
            .args(args)
            .output()
            .expect("run intake");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, json, err) = run(&["report", "annual", "--year", "2025", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&json).expect("json");
    let s1 = &report["handling"]["stage1"];
    assert_eq!(s1["on_time"]["numerator"], 8);
    assert_eq!(s1["on_time"]["denominator"], 10);
    assert_eq!(s1["late"], serde_json::json!([r[&'D']]));
    assert_eq!(report["handling"]["escalation_rate"]["numerator"], 3);
    // CH01 and CH02 come with the year's figures.
    assert_eq!(
        report["tenant_satisfaction_measures"]["ch02"]["stage1"]["on_time"]["numerator"],
        9
    );

    let (code, csv, err) = run(&["report", "annual", "--year", "2025", "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("section,measure,value,numerator,denominator")
    );
    assert!(
        csv.contains("\"Stage 1\",\"Responded within the Code's timescale (10 working days, 6.3)\",\"80.0%\",\"8\",\"10\""),
        "{csv}"
    );
    assert!(
        csv.contains("\"Months\",\"2026-03\",\"2 stage 1, 0 stage 2\""),
        "{csv}"
    );

    let (code, text, err) = run(&["report", "month", "2025-07"]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("July 2025"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("Responded within an extension the Code allows"))
        .expect("the extension line");
    assert!(line.trim_end().ends_with(" 1"), "{line}");

    for (month, says) in [("2025-13", "YYYY-MM"), ("July", "YYYY-MM")] {
        let (code, _, err) = run(&["report", "month", month]);
        assert_eq!(code, 2, "{month}");
        assert!(err.contains(says), "{month}: {err}");
    }
}
