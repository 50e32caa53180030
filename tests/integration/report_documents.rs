//! The report as a document (issue 13): `intake report … --format text|json|csv|html` and
//! `--out DIR` on SQLite and PostgreSQL, the console's Reports page for managers (refused to
//! agents) with drill-down to the complaints behind each figure, CSV and HTML downloads and
//! bad periods. The annual report printed to A4 PDF by headless Chromium, its pages drawn
//! and checked not blank (`report_pdf`). The record is the one `reports::build_record` makes through the
//! real service, with figures worked out by hand there.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use intake::core::profile::LandlordProfile;
use intake::core::report::Finding;
use intake::staff::Role;
use intake::store::Store;
use serde_json::Value;

use crate::helpers::databases::{Schema, block_on};
use crate::helpers::staff::{console_in_process, no_redirects, page, sign_in};
use crate::helpers::{PASSWORD, at, on_both, staff_member};
use crate::reports::{build_record, refs, service};

pub(crate) const LANDLORD: &str = "Riverside Homes";

/// The record `build_record` makes, in a fresh SQLite file and then a fresh PostgreSQL
/// schema; `test` gets each database's URL, a directory of its own and the references.
pub(crate) fn on_both_urls(test: impl Fn(&str, &Path, &BTreeMap<char, String>)) {
    block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("intake.db").display());
        let store = Store::connect(&url).await.expect("SQLite");
        let r = build_record(&service(store.clone()), &store).await;
        learn_from(&store, &r[&'D'], &r[&'G']).await;
        test(&url, dir.path(), &r);

        let schema = Schema::create().await;
        let url = schema.url();
        let store = Store::connect(&url).await.expect("PostgreSQL");
        let r = build_record(&service(store.clone()), &store).await;
        learn_from(&store, &r[&'D'], &r[&'G']).await;
        let dir = tempfile::tempdir().expect("tempdir");
        test(&url, dir.path(), &r);
        drop(store);
        schema.drop().await;
    });
}

/// Learning recorded on 2 June 2025 (in the financial year 2025/26) for the complaint
/// `learned` (Code 9.1), and `referred` taken to the Housing Ombudsman on 1 September 2025 and
/// determined on 15 January 2026 with a finding of maladministration, through the services the
/// complaint's page uses.
pub(crate) async fn learn_from(store: &Store, learned: &str, referred: &str) {
    let when = at("2025-06-02T10:00:00Z");
    let lee = staff_member(
        store,
        "Lee Learning",
        "lee@example.org",
        Role::ComplaintsOfficer,
        when,
    )
    .await;
    intake::service::record_learning(
        store,
        learned,
        "The repair was booked but the response waited on the contractor's report.",
        "Responses no longer wait on a contractor's report; an extension is asked for instead.",
        &lee,
        when,
    )
    .await
    .expect("learning");
    intake::service::record_ombudsman_case(
        store,
        &LandlordProfile::default(),
        referred,
        &intake::service::OmbudsmanForm {
            referred_on: "2025-09-01",
            ombudsman_reference: "202512345",
            determined_on: "2026-01-15",
            findings: vec![Finding::Maladministration],
        },
        &lee,
        at("2026-02-02T10:00:00Z"),
    )
    .await
    .expect("the Ombudsman's case");
}

/// `intake` with a configuration naming the landlord and its 1,000 homes.
pub(crate) fn run(url: &str, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let config = dir.join("intake.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = \"{url}\"\n[landlord]\nname = \"{LANDLORD}\"\nhomes = 1000\nhomes_low_cost_rental = 800\nhomes_low_cost_home_ownership = 200\n"
        ),
    )
    .expect("config");
    let out = Command::new(env!("CARGO_BIN_EXE_intake"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
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
}

/// Every figure in the JSON (an object with a unit, numerator, denominator and value), with
/// where it is.
fn figures<'a>(json: &'a Value, at: &str, out: &mut Vec<(String, &'a Value)>) {
    match json {
        Value::Object(map) => {
            if map.contains_key("unit") && map.contains_key("numerator") {
                out.push((at.to_owned(), json));
            }
            for (key, value) in map {
                figures(value, &format!("{at}.{key}"), out);
            }
        }
        Value::Array(items) => {
            for (n, item) in items.iter().enumerate() {
                figures(item, &format!("{at}[{n}]"), out);
            }
        }
        _ => {}
    }
}

/// A figure as the report publishes it: "80.0%", "10.0", or "n/a".
pub(crate) fn published(figure: &Value) -> String {
    match figure["value"]["measured"]["tenths"].as_u64() {
        Some(tenths) if figure["unit"] == "percent" => format!("{}.{}%", tenths / 10, tenths % 10),
        Some(tenths) => format!("{}.{}", tenths / 10, tenths % 10),
        None => "n/a".to_owned(),
    }
}

/// The rows of a CSV whose fields are all quoted, without the header.
pub(crate) fn csv_rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .skip(1)
        .map(|line| {
            line.trim_matches('"')
                .split("\",\"")
                .map(|f| f.replace("\"\"", "\""))
                .collect()
        })
        .collect()
}

/// The value of the CSV row for `table` and `measure`, and its numerator and denominator.
pub(crate) fn csv_row<'a>(rows: &'a [Vec<String>], table: &str, measure: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r[0] == table && r[1] == measure)
        .unwrap_or_else(|| panic!("no {table} / {measure} in {rows:?}"))
}

/// HTML as a reader sees its text: the templates' escapes undone.
pub(crate) fn unescaped(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn len(json: &Value) -> usize {
    json.as_array().map(Vec::len).expect("a list")
}

#[test]
fn the_cli_prints_and_writes_every_format_on_both_databases() {
    on_both_urls(|url, dir, r| {
        let (code, json, err) = run(
            url,
            dir,
            &["report", "annual", "--year", "2025", "--format", "json"],
        );
        assert_eq!(code, 0, "{err}");
        let json: Value = serde_json::from_str(&json).expect("json");
        let (code, raw, err) = run(
            url,
            dir,
            &["report", "annual", "--year", "2025", "--format", "html"],
        );
        assert_eq!(code, 0, "{err}");
        let html = unescaped(&raw);

        // The HTML has every figure the JSON has, with the counts behind it.
        let mut all = Vec::new();
        figures(&json, "", &mut all);
        assert_eq!(
            all.len(),
            14,
            "{:?}",
            all.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        for (at, figure) in &all {
            let value = published(figure);
            assert!(
                html.contains(&format!("<td class=\"number\">{value}</td>")),
                "{at}: {value} is not in the HTML"
            );
            let (n, d) = (&figure["numerator"], &figure["denominator"]);
            let counted = if let Some(why) = figure["value"]["not_measurable"].as_str() {
                format!("not measurable: {why}")
            } else if figure["unit"] == "percent" {
                format!("{n} of {d}")
            } else {
                format!(" / {d} homes")
            };
            assert!(
                html.contains(&counted),
                "{at}: {counted:?} is not in the HTML"
            );
        }
        // One file, nothing fetched; the landlord, the period, the day made and the rules.
        assert!(html.starts_with("<!doctype html>"));
        for fetch in ["<link", " src=", "@import", "url("] {
            assert!(!html.contains(fetch), "{fetch} in the HTML");
        }
        for said in [
            LANDLORD,
            "2025/26 (1 April 2025 to 31 March 2026)",
            "Produced",
            "size: A4",
            "CH02 uses the Complaint Handling Code's timescales",
        ] {
            assert!(html.contains(said), "{said} is not in the HTML");
        }
        for chart in ["volumes", "timeliness", "categories"] {
            assert!(html.contains(&format!("id=\"chart-{chart}\"")), "{chart}");
        }
        assert_eq!(html.matches("<svg").count(), 3);

        // The CSV's counts are the JSON's.
        let (code, csv, err) = run(
            url,
            dir,
            &["report", "annual", "--year", "2025", "--format", "csv"],
        );
        assert_eq!(code, 0, "{err}");
        let rows = csv_rows(&csv);
        let handling = &json["handling"];
        let received = len(&handling["stage1"]["received"]);
        assert_eq!(received, 10);
        assert_eq!(
            csv_row(&rows, "Stage 1", "Received")[2],
            received.to_string()
        );
        assert_eq!(
            csv_row(&rows, "Stage 2", "Received")[2],
            len(&handling["stage2"]["received"]).to_string()
        );
        assert_eq!(
            csv_row(&rows, "Stage 1", "Responded late")[2],
            len(&handling["stage1"]["late"]).to_string()
        );
        let on_time = csv_row(
            &rows,
            "Stage 1",
            "Responded within the Code's timescale (10 working days, 6.3)",
        );
        assert_eq!(
            on_time[3],
            handling["stage1"]["on_time"]["numerator"].to_string()
        );
        assert_eq!(
            on_time[4],
            handling["stage1"]["on_time"]["denominator"].to_string()
        );
        let in_categories: usize = rows
            .iter()
            .filter(|r| r[0] == "Categories")
            .map(|r| r[2].parse::<usize>().expect("a count"))
            .sum();
        assert_eq!(in_categories, received);
        let month_stage1: usize = rows
            .iter()
            .filter(|r| r[0] == "Months")
            .map(|r| {
                r[2].split(' ')
                    .next()
                    .expect("a count")
                    .parse::<usize>()
                    .expect("a count")
            })
            .sum();
        assert_eq!(month_stage1, received);
        let tsm = &json["tenant_satisfaction_measures"];
        let ch02 = csv_row(
            &rows,
            "CH01 and CH02",
            "CH02 stage 1, within the Code's timescale",
        );
        assert_eq!(ch02[2], "90.0%");
        assert_eq!(
            ch02[3],
            tsm["ch02"]["stage1"]["on_time"]["numerator"].to_string()
        );
        assert_eq!(
            ch02[4],
            tsm["ch02"]["stage1"]["on_time"]["denominator"].to_string()
        );

        // --out: the HTML, the JSON and one CSV per table, and nothing else.
        let out = dir.join("published");
        let (code, said, err) = run(
            url,
            dir,
            &[
                "report",
                "annual",
                "--year",
                "2025",
                "--out",
                out.to_str().expect("path"),
            ],
        );
        assert_eq!(code, 0, "{err}");
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .expect("the directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let tables = [
            "categories",
            "escalation",
            "learning",
            "months",
            "ombudsman",
            "satisfaction",
            "self-assessment",
            "stage-1",
            "stage-2",
            "tsm",
        ];
        let mut expected: Vec<String> = tables
            .iter()
            .map(|t| format!("annual-2025-{t}.csv"))
            .collect();
        expected.extend(["annual-2025.html".to_owned(), "annual-2025.json".to_owned()]);
        expected.sort();
        assert_eq!(names, expected);
        for name in &names {
            assert!(
                said.contains(&format!("Wrote {}", out.join(name).display())),
                "{said}"
            );
        }
        let written: Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("annual-2025.json")).expect("json file"),
        )
        .expect("json");
        assert_eq!(written, json);
        assert_eq!(
            std::fs::read_to_string(out.join("annual-2025.html")).expect("html"),
            raw
        );
        let stage1 = std::fs::read_to_string(out.join("annual-2025-stage-1.csv")).expect("csv");
        let from_all: Vec<Vec<String>> =
            rows.iter().filter(|r| r[0] == "Stage 1").cloned().collect();
        assert_eq!(csv_rows(&stage1), from_all);

        // A directory that cannot be written: a clear refusal and no files.
        let file = dir.join("a-file");
        std::fs::write(&file, "not a directory").expect("file");
        for bad in [file.clone(), file.join("below")] {
            let (code, _, err) = run(
                url,
                dir,
                &[
                    "report",
                    "annual",
                    "--year",
                    "2025",
                    "--out",
                    bad.to_str().expect("path"),
                ],
            );
            assert_eq!(code, 1, "{}", bad.display());
            assert!(
                err.contains("cannot be written") && err.contains("nothing was written"),
                "{err}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(&file).expect("file"),
            "not a directory"
        );

        // A month and CH01/CH02 alone, in the same formats.
        let (code, july, err) = run(
            url,
            dir,
            &["report", "month", "2025-07", "--format", "html"],
        );
        assert_eq!(code, 0, "{err}");
        let july = unescaped(&july);
        assert!(
            july.contains("July 2025 (1 July 2025 to 31 July 2025)"),
            "{july}"
        );
        assert!(!july.contains("CH01"), "a month has no CH01");
        let (code, tsm_csv, err) = run(
            url,
            dir,
            &["report", "tsm", "--year", "2025", "--format", "csv"],
        );
        assert_eq!(code, 0, "{err}");
        let tsm_rows = csv_rows(&tsm_csv);
        assert_eq!(
            csv_row(&tsm_rows, "CH01 and CH02", "CH01 stage 2, all homes")[2],
            "3.0"
        );
        assert_eq!(tsm_rows.len(), 8);
        let (code, text, err) = run(url, dir, &["report", "tsm", "--year", "2025"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            text.contains(&format!("Late stage 1 responses: {}", r[&'D'])),
            "{text}"
        );
    });
}

/// The drill-down link of the row whose measure is `measure` in table `table` of a page.
fn drill_link(html: &str, table: &str, measure: &str) -> String {
    let start = html
        .find(&format!("id=\"table-{table}\""))
        .unwrap_or_else(|| panic!("no table {table}"));
    let rest = &html[start..];
    let row = rest
        .find(&format!("<th scope=\"row\">{measure}</th>"))
        .unwrap_or_else(|| panic!("no {measure} in {table}"));
    let rest = &rest[row..];
    let href = rest
        .find("class=\"drill\" href=\"")
        .expect("a drill-down link")
        + 20;
    rest[href..rest[href..].find('"').expect("end") + href].to_owned()
}

/// The references a drill-down page lists.
fn listed(html: &str) -> Vec<String> {
    html.split("<a href=\"/console/cases/")
        .skip(1)
        .map(|s| s.split('"').next().expect("reference").to_owned())
        .collect()
}

#[test]
fn managers_see_the_reports_page_drill_down_and_downloads_and_agents_do_not() {
    on_both(|store| async move {
        let intake = service(store.clone());
        let r = build_record(&intake, &store).await;
        learn_from(&store, &r[&'D'], &r[&'G']).await;
        let now = at("2025-01-01T09:00:00Z");
        staff_member(&store, "Ash Agent", "ash@example.org", Role::Agent, now).await;
        let base = console_in_process(intake).await;
        let manager = sign_in(&base, "mo@example.org", PASSWORD)
            .await
            .expect("manager");
        let agent = sign_in(&base, "ash@example.org", PASSWORD)
            .await
            .expect("agent");

        let (status, html) = page(&base, &manager, "/console/reports?period=2025").await;
        assert_eq!(status, 200, "{html}");
        let html = unescaped(&html);
        assert!(html.contains("<a href=\"/console/reports\">Reports</a>"));
        assert!(html.contains("2025/26 (1 April 2025 to 31 March 2026)"));
        assert!(html.contains("<td class=\"number\">80.0%</td>"));
        assert_eq!(html.matches("<svg").count(), 3);
        // Inline SVG passes the console's policy only without inline styles.
        assert!(
            !html.contains(" style=") && !html.contains("<style"),
            "inline style"
        );

        // Each figure with counts leads to exactly the complaints behind it.
        for (table, measure, letters) in [
            ("stage-1", "Received", "ACDEGHIJKL"),
            ("stage-1", "Responded late", "D"),
            (
                "stage-1",
                "Responded within an extension the Code allows",
                "E",
            ),
            ("stage-2", "Received", "GHN"),
            ("tsm", "CH01 stage 2, all homes", "GHN"),
            ("tsm", "CH02 stage 2, within the Code's timescale", "GN"),
            ("learning", "Complaints with learning recorded (9.1)", "D"),
            ("ombudsman", "Finding: Maladministration", "G"),
        ] {
            let link = drill_link(&html, table, measure);
            let (status, list) = page(&base, &manager, &link).await;
            assert_eq!(status, 200, "{link}: {list}");
            assert_eq!(listed(&list), refs(&r, letters), "{table} / {measure}");
        }
        let (status, _) = page(
            &base,
            &manager,
            "/console/reports/complaints?period=2025&table=stage-1&row=999",
        )
        .await;
        assert_eq!(status, 404);

        // Every table as CSV, and the whole report as one HTML file.
        let response = no_redirects()
            .get(format!(
                "{base}/console/reports/csv?period=2025&table=stage-1"
            ))
            .header("Cookie", &manager)
            .send()
            .await
            .expect("csv");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/csv; charset=utf-8"
        );
        assert_eq!(
            response.headers()["content-disposition"],
            "attachment; filename=\"annual-2025-stage-1.csv\""
        );
        let csv = response.text().await.expect("csv");
        assert!(
            csv.contains("\"Stage 1\",\"Received\",\"10\",\"\",\"\""),
            "{csv}"
        );
        assert_eq!(
            html.matches("/console/reports/csv?period=2025&table=")
                .count(),
            10
        );
        assert!(html.contains("<h2>Self-assessment against the Code</h2>"));
        assert!(html.contains("<td class=\"number\">for a person to answer</td>"));
        let (status, document) =
            page(&base, &manager, "/console/reports/document?period=2025").await;
        assert_eq!(status, 200);
        assert!(document.starts_with("<!doctype html>") && document.contains("<style>"));
        assert!(
            !document.contains("/console/reports/complaints"),
            "no console links"
        );

        // A month.
        let (status, july) = page(&base, &manager, "/console/reports?period=2025-07").await;
        assert_eq!(status, 200);
        let july = unescaped(&july);
        assert!(july.contains("July 2025 (1 July 2025 to 31 July 2025)"));
        let (status, _) = page(&base, &manager, "/console/reports").await;
        assert_eq!(status, 200, "this year's report by default");

        // Bad periods: a clear message, never a 500.
        for (period, says) in [
            ("2026-13", "YYYY-MM"),
            ("1999", "before 2000"),
            ("1999-05", "before 2000"),
            ("last%20year", "must be a number"),
            ("99999999999", "must be a number"),
        ] {
            let (status, html) = page(
                &base,
                &manager,
                &format!("/console/reports?period={period}"),
            )
            .await;
            assert_eq!(status, 400, "{period}");
            assert!(
                html.contains(says) && html.contains("id=\"period-error\""),
                "{period}: {html}"
            );
            let (status, _) = page(
                &base,
                &manager,
                &format!("/console/reports/csv?period={period}&table=stage-1"),
            )
            .await;
            assert_eq!(status, 400, "{period}");
        }

        // Agents are refused everything, and not offered the page.
        for path in [
            "/console/reports?period=2025",
            "/console/reports/csv?period=2025&table=stage-1",
            "/console/reports/complaints?period=2025&table=stage-1&row=0",
            "/console/reports/document?period=2025",
        ] {
            let (status, _) = page(&base, &agent, path).await;
            assert_eq!(status, 403, "{path}");
        }
        let (_, inbox) = page(&base, &agent, "/console").await;
        assert!(!inbox.contains("/console/reports"));
    });
}
