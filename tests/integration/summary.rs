//! The governing body's monthly summary by email (Code 9.7): its figures are the month
//! report's (`intake report month`), its attachment is the month's CSV; the scheduler sends a
//! month once, on the first working day after it ends, across restarts and two replicas on one
//! PostgreSQL, and tries a failed send again later; `intake report send-summary` and a manager
//! in the console send one at once (an agent cannot); bad recipients stop the bot at start-up.

use std::future::Future;
use std::process::Command;

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use intake::config::{AlertsConfig, Config, ReportsConfig, SmtpConfig};
use intake::core::case::StageResponse;
use intake::core::dialog::Input;
use intake::core::outcome::{Outcome, Pence};
use intake::core::report::Period;
use intake::scheduler::{GoverningBodyMail, Scheduler, SentBy};
use intake::service::{Intake, handling};
use intake::staff::{Role, StaffMember};
use intake::store::{Inbound, Store};

use crate::helpers::databases::{Schema, block_on};
use crate::helpers::staff::{csrf_of, page, refusal, sign_in};
use crate::helpers::{PASSWORD, at, free_port, intake, on_both, smtp_sink, staff_member};

const CHAIR: &str = "chair@example-homes.org.uk";
const CLERK: &str = "clerk@example-homes.org.uk";

/// The configuration with the summary going to the chair and the clerk through the mail
/// server on `port`.
fn config(port: u16) -> Config {
    Config {
        reports: ReportsConfig {
            governing_body: vec![CHAIR.to_owned(), CLERK.to_owned()],
            send_summary_automatically: true,
        },
        alerts: AlertsConfig {
            smtp: SmtpConfig {
                host: Some("127.0.0.1".to_owned()),
                port,
                username: None,
                from: "complaints@example-homes.org.uk".to_owned(),
                tls: "none".to_owned(),
            },
            ..AlertsConfig::default()
        },
        ..Config::default()
    }
}

fn mail(port: u16, store: &Store) -> GoverningBodyMail {
    GoverningBodyMail::from_config(&config(port), store)
        .expect("valid")
        .expect("recipients are set")
}

fn scheduler(intake: Intake, mail: GoverningBodyMail) -> Scheduler {
    let mut s = Scheduler::new(
        intake,
        AlertsConfig::default(),
        Duration::hours(48),
        None,
        None,
    );
    s.summary = Some(mail);
    s
}

/// One resident message at `now`.
async fn say(intake: &Intake, chat: &str, n: usize, text: &str, now: DateTime<Utc>) -> String {
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
    handled
        .replies
        .into_iter()
        .map(|r| r.text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A complaint made through the dialog from `now`: its reference.
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
    let mut last = String::new();
    for (n, text) in script.iter().enumerate() {
        last = say(intake, chat, n, text, now + Duration::seconds(n as i64)).await;
    }
    last.split("Reference: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{chat}: no reference in {last}"))
        .to_owned()
}

async fn respond(
    intake: &Intake,
    reference: &str,
    staff: &StaffMember,
    outcome: Outcome,
    compensation: u64,
    when: &str,
) {
    let response = StageResponse {
        stage: 1,
        definition: "No hot water since Monday.".to_owned(),
        decision: "Decided on each part.".to_owned(),
        reasons: "The boiler repair was missed.".to_owned(),
        remedy: if compensation > 0 {
            "An apology and compensation for the time without hot water.".to_owned()
        } else {
            "None".to_owned()
        },
        outstanding_actions: "None".to_owned(),
        outcome: Some(outcome),
        compensation: Pence(compensation),
    };
    intake
        .send_stage_response(reference, &response, staff, at(when))
        .await
        .unwrap_or_else(|e| panic!("{reference}: {e}"));
}

/// November 2026 (London is on GMT, so local days are UTC days): A, B and C received in the
/// month, D in October; responses sent in November to A (on time, upheld, £50), B (late, due
/// 18 November, not upheld) and D (on time, partly upheld, £25); A asked for stage 2.
async fn build_november(intake: &Intake, store: &Store) {
    let officer = staff_member(
        store,
        "Alex Officer",
        "alex@example.org",
        Role::ComplaintsOfficer,
        at("2026-10-01T09:00:00Z"),
    )
    .await;
    let d = complain(intake, "d", at("2026-10-20T10:00:00Z")).await;
    let a = complain(intake, "a", at("2026-11-02T10:00:00Z")).await;
    let b = complain(intake, "b", at("2026-11-04T10:00:00Z")).await;
    complain(intake, "c", at("2026-11-20T10:00:00Z")).await;
    respond(
        intake,
        &d,
        &officer,
        Outcome::PartlyUpheld,
        2500,
        "2026-11-03T10:00:00Z",
    )
    .await;
    respond(
        intake,
        &a,
        &officer,
        Outcome::Upheld,
        5000,
        "2026-11-09T10:00:00Z",
    )
    .await;
    respond(
        intake,
        &b,
        &officer,
        Outcome::NotUpheld,
        0,
        "2026-11-27T10:00:00Z",
    )
    .await;
    let replies = say(
        intake,
        "a",
        100,
        "I'm still not happy with this",
        at("2026-11-16T10:00:00Z"),
    )
    .await;
    assert!(replies.contains("stage 2"), "{replies}");
}

/// A mail as the fake server kept it: its headers, its text and its attachment.
struct Mail {
    recipients: Vec<String>,
    subject: String,
    body: String,
    attachment_name: String,
    attachment: String,
}

/// Reads the one multipart mail the summary is: the plain-text part and the attached file,
/// each decoded from its transfer encoding.
fn read_mail(raw: &str) -> Mail {
    let recipients = raw
        .lines()
        .filter_map(|l| l.strip_prefix("RCPT TO:<"))
        .map(|l| l.trim_end_matches('>').to_owned())
        .collect();
    let (head, _) = raw.split_once("\n\n").expect("headers");
    let header = |text: &str, name: &str| -> String {
        // Headers may be folded onto several lines.
        let unfolded = text.replace("\n ", " ").replace("\n\t", " ");
        unfolded
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let subject = header(head, "Subject");
    let content_type = header(head, "Content-Type");
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("a multipart mail")
        .trim_matches('"')
        .to_owned();
    let parts: Vec<&str> = raw
        .split(&format!("--{boundary}"))
        .skip(1)
        .filter(|p| !p.starts_with("--"))
        .collect();
    assert_eq!(parts.len(), 2, "a text and a file: {raw}");
    let decode = |part: &str| -> (String, String) {
        let (headers, content) = part
            .trim_start_matches('\n')
            .split_once("\n\n")
            .expect("part");
        let encoding = header(headers, "Content-Transfer-Encoding").to_lowercase();
        let content = content.trim_end_matches('\n');
        let text = match encoding.as_str() {
            "base64" => String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(content.replace('\n', ""))
                    .expect("base64"),
            )
            .expect("utf-8"),
            "quoted-printable" => quoted_printable(content),
            _ => content.to_owned(),
        };
        (headers.to_owned(), text.replace("\r\n", "\n"))
    };
    let (_, body) = decode(parts[0]);
    let (file_headers, attachment) = decode(parts[1]);
    let disposition = header(&file_headers, "Content-Disposition");
    let attachment_name = disposition
        .split("filename=")
        .nth(1)
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned();
    assert!(
        header(&file_headers, "Content-Type").starts_with("text/csv"),
        "{file_headers}"
    );
    Mail {
        recipients,
        subject,
        body,
        attachment_name,
        attachment,
    }
}

/// Quoted-printable (RFC 2045): `=` at a line's end joins it to the next; `=XX` is a byte.
fn quoted_printable(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut bytes = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let (line, soft) = match line.strip_suffix('=') {
            Some(joined) => (joined, true),
            None => (*line, false),
        };
        let raw = line.as_bytes();
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'=' {
                let hex = std::str::from_utf8(&raw[i + 1..i + 3]).expect("hex");
                bytes.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            } else {
                bytes.push(raw[i]);
                i += 1;
            }
        }
        if !soft && n + 1 < lines.len() {
            bytes.extend_from_slice(b"\r\n");
        }
    }
    String::from_utf8(bytes).expect("utf-8")
}

/// The CSV's rows, each a list of fields (every field quoted, quotes doubled).
fn csv_rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .map(|line| {
            let mut fields = Vec::new();
            let mut field = String::new();
            let mut quoted = false;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        field.push('"');
                        chars.next();
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => fields.push(std::mem::take(&mut field)),
                    _ => field.push(c),
                }
            }
            fields.push(field);
            fields
        })
        .collect()
}

fn cli() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_intake"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

/// Runs `intake` with the configuration file `config`: exit code, standard output and error.
/// On a thread of its own, so the test's runtime keeps serving the mail server meanwhile.
async fn run(config: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let mut command = cli();
    command.arg("--config").arg(config).args(args);
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("run intake");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `test` with the URL of a fresh SQLite file, then of a fresh PostgreSQL schema, so the
/// binary can be run on the same record as the test.
fn on_both_urls<F, Fut>(test: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = ()>,
{
    block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        test(format!("sqlite://{}/intake.db", dir.path().display())).await;
        let schema = Schema::create().await;
        test(schema.url()).await;
        schema.drop().await;
    });
}

#[test]
fn the_summary_carries_the_month_report_figures_and_its_csv() {
    on_both_urls(|url| async move {
        let store = Store::connect(&url).await.expect("store");
        let service = intake(store.clone());
        build_november(&service, &store).await;
        let (port, mails) = smtp_sink().await;
        let sent = mail(port, &store)
            .send(
                &service,
                (2026, 11),
                &SentBy::CommandLine,
                at("2026-12-01T10:00:00Z"),
            )
            .await
            .expect("sent");
        assert_eq!(sent.label, "November 2026");

        // The month report, from the binary on the same record.
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("intake.toml");
        std::fs::write(
            &file,
            format!(
                "database_url = \"{url}\"\n[reports]\ngoverning_body = [\"{CHAIR}\", \"{CLERK}\"]\n\
                 [alerts.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\n"
            ),
        )
        .expect("config");
        let (code, report_csv, err) =
            run(&file, &["report", "month", "2026-11", "--format", "csv"]).await;
        assert_eq!(code, 0, "{err}");
        // And the same summary sent from the command line.
        let (code, said, err) = run(&file, &["report", "send-summary", "2026-11"]).await;
        assert_eq!(code, 0, "{err}");
        assert!(
            said.contains(&format!(
                "The summary for November 2026 was sent to {CHAIR}, {CLERK}."
            )),
            "{said}"
        );
        for (month, says) in [("2026-13", "YYYY-MM"), ("2999-01", "has not ended yet")] {
            let (code, _, err) = run(&file, &["report", "send-summary", month]).await;
            assert_eq!(code, 1, "{month}");
            assert!(err.contains(says), "{month}: {err}");
        }

        let raw = mails.lock().expect("lock").clone();
        assert_eq!(
            raw.len(),
            2,
            "one from the service, one from the command line"
        );
        let first = read_mail(&raw[0]);
        let second = read_mail(&raw[1]);
        assert_eq!(first.recipients, vec![CHAIR.to_owned(), CLERK.to_owned()]);
        assert_eq!(
            first.subject,
            "Example Homes: complaint handling summary for November 2026"
        );
        assert_eq!(first.attachment_name, "complaint-handling-2026-11.csv");
        // The attachment is the month report's CSV (the line break before the MIME boundary
        // belongs to the boundary, so the last line's end is not compared).
        assert_eq!(
            first.attachment.trim_end(),
            report_csv.replace("\r\n", "\n").trim_end()
        );
        assert_eq!(
            (&second.body, &second.attachment),
            (&first.body, &first.attachment)
        );

        // The figures, counted by hand, in the body.
        let body = &first.body;
        let section = |heading: &str| -> String {
            let start = body
                .find(&format!("\n{heading}\n"))
                .unwrap_or_else(|| panic!("{heading}: {body}"));
            let rest = &body[start + heading.len() + 2..];
            rest[..rest.find("\n\n").unwrap_or(rest.len())].to_owned()
        };
        let stage1 = section("Stage 1 complaints");
        for line in [
            "  Received: 3",
            "  Acknowledged within 5 working days (6.2): 100.0% (3 of 3)",
            "  Responses sent: 3",
            "  Responded within the Code's timescale (10 working days, 6.3): 66.7% (2 of 3)",
            "  Responded late: 1",
            "  Upheld: 1",
            "  Partly upheld: 1",
            "  Not upheld: 1",
            "  Compensation offered: £75.00 (2 of 3)",
            "  Not taken on (exclusions, 2.4): 0",
        ] {
            assert!(stage1.lines().any(|l| l == line), "{line:?} in {stage1}");
        }
        assert!(
            section("Stage 2 (escalated) complaints").contains("  Received: 1"),
            "{body}"
        );
        assert!(
            section("Escalation")
                .contains("  Stage 2 requests per stage 1 response: 33.3% (1 of 3)"),
            "{body}"
        );
        assert!(
            section("Residents' satisfaction with the handling")
                .contains("  Satisfied (4 or 5): n/a (0 of 0)"),
            "{body}"
        );

        // Every figure of the month report is in the body as the report gives it, but the
        // categories (the top ones only) and the month's volume (the same as received).
        let rows = csv_rows(&first.attachment);
        assert_eq!(
            rows[0],
            ["section", "measure", "value", "numerator", "denominator"]
        );
        let figures = handling(
            &store,
            service.profile(),
            &Period::month(2026, 11).expect("month"),
        )
        .await
        .expect("figures");
        for row in &rows[1..] {
            assert_eq!(row.len(), 5, "{row:?}");
            if row[0] == "Categories" || row[0] == "Months" {
                continue;
            }
            let line = format!("  {}: {}", row[1], row[2]);
            assert!(
                body.lines().any(|l| l.starts_with(&line)),
                "{line:?} in {body}"
            );
        }
        // The top category is the service's own count.
        let top = figures
            .categories
            .iter()
            .max_by_key(|c| c.complaints.len())
            .expect("a category");
        let categories = section("Top categories (complaints received at stage 1)");
        assert!(
            categories
                .lines()
                .next()
                .is_some_and(|l| l.starts_with(&format!(
                    "  {}: {}",
                    top.label,
                    top.complaints.len()
                ))),
            "{categories}"
        );
        assert_eq!(top.complaints.len(), 3);

        // Both sends are kept: who, which month, to whom.
        let sends = store.summary_sends(10).await.expect("sends");
        assert_eq!(sends.len(), 2);
        for s in &sends {
            assert_eq!(
                (
                    s.month.as_str(),
                    s.sent_by.as_str(),
                    s.recipients.as_str(),
                    s.error.as_deref()
                ),
                (
                    "2026-11",
                    "the command line",
                    "chair@example-homes.org.uk, clerk@example-homes.org.uk",
                    None
                )
            );
        }
        store.close().await;
    });
}

#[test]
fn the_scheduler_sends_a_month_once_on_the_first_working_day_and_tries_a_failure_again() {
    on_both(|store| async move {
        let service = intake(store.clone());
        // The mail server is down.
        let down = scheduler(service.clone(), mail(free_port(), &store));
        // 1 December 2026 is a Tuesday: November's summary is due at 09:00 (GMT) that day, and
        // the scheduler wakes for it.
        assert_eq!(
            down.next_due(at("2026-12-01T00:00:00Z"))
                .await
                .expect("next"),
            at("2026-12-01T09:00:00Z")
        );
        let run = down
            .run_once(at("2026-12-01T08:59:00Z"))
            .await
            .expect("run");
        assert_eq!((run.summaries_sent, run.failed), (0, 0), "not before hours");
        let run = down
            .run_once(at("2026-12-01T09:00:00Z"))
            .await
            .expect("run");
        assert_eq!((run.summaries_sent, run.failed), (0, 1), "{run:?}");
        let month = store
            .summary_month("2026-11")
            .await
            .expect("read")
            .expect("claimed");
        assert_eq!(month.sent_at, None);
        assert!(month.last_error.is_some(), "{month:?}");
        let sends = store.summary_sends(10).await.expect("sends");
        assert_eq!(sends.len(), 1);
        assert_eq!(sends[0].sent_by, "the scheduler");
        assert!(sends[0].error.is_some());

        // Restarted with the mail server up: sent at its next try, once.
        let (port, mails) = smtp_sink().await;
        let up = scheduler(service.clone(), mail(port, &store));
        assert_eq!(
            up.next_due(at("2026-12-01T09:00:01Z")).await.expect("next"),
            month.next_try_at,
            "it wakes for the next try"
        );
        let run = up.run_once(at("2026-12-01T09:00:01Z")).await.expect("run");
        assert_eq!(run.summaries_sent, 0, "not before its next try");
        let run = up.run_once(at("2026-12-01T09:10:00Z")).await.expect("run");
        assert_eq!(run.summaries_sent, 1, "{run:?}");
        for later in [
            "2026-12-01T09:20:00Z",
            "2026-12-02T09:00:00Z",
            "2026-12-31T16:00:00Z",
        ] {
            let again = scheduler(service.clone(), mail(port, &store));
            let run = again.run_once(at(later)).await.expect("run");
            assert_eq!(run.summaries_sent, 0, "{later}");
        }
        let month = store
            .summary_month("2026-11")
            .await
            .expect("read")
            .expect("sent");
        assert_eq!(month.sent_at, Some(at("2026-12-01T09:10:00Z")));
        assert_eq!(month.attempts, 2);

        // December ends on a Thursday; 1 January is a bank holiday and then a weekend, so its
        // summary is due on Monday 4 January 2027.
        let run = up.run_once(at("2027-01-01T10:00:00Z")).await.expect("run");
        assert_eq!(run.summaries_sent, 0, "not on New Year's Day");
        let run = up.run_once(at("2027-01-04T09:00:00Z")).await.expect("run");
        assert_eq!(run.summaries_sent, 1);
        let raw = mails.lock().expect("lock").clone();
        let subjects: Vec<String> = raw.iter().map(|m| read_mail(m).subject).collect();
        assert_eq!(
            subjects,
            [
                "Example Homes: complaint handling summary for November 2026",
                "Example Homes: complaint handling summary for December 2026"
            ]
        );
    });
}

#[test]
fn the_summary_is_not_sent_by_itself_when_it_is_asked_for_only() {
    on_both(|store| async move {
        let (port, mails) = smtp_sink().await;
        let mut config = config(port);
        config.reports.send_summary_automatically = false;
        let asked_for_only = GoverningBodyMail::from_config(&config, &store)
            .expect("valid")
            .expect("recipients");
        let s = scheduler(intake(store.clone()), asked_for_only);
        let run = s.run_once(at("2026-12-01T10:00:00Z")).await.expect("run");
        assert_eq!(run.summaries_sent, 0);
        assert!(mails.lock().expect("lock").is_empty());
        assert_eq!(store.summary_month("2026-11").await.expect("read"), None);
    });
}

#[test]
fn two_replicas_on_one_postgresql_send_each_month_once() {
    block_on(async {
        let schema = Schema::create().await;
        let one = Store::connect(&schema.url()).await.expect("store");
        let two = Store::connect(&schema.url()).await.expect("store");
        let (port, mails) = smtp_sink().await;
        let a = scheduler(intake(one.clone()), mail(port, &one));
        let b = scheduler(intake(two.clone()), mail(port, &two));
        let mut sent = 0;
        for due in [
            "2026-09-01T08:00:00Z",
            "2026-10-01T08:00:00Z",
            "2026-11-02T09:00:00Z",
            "2026-12-01T09:00:00Z",
        ] {
            let (ra, rb) = tokio::join!(a.run_once(at(due)), b.run_once(at(due)));
            let (ra, rb) = (ra.expect("run"), rb.expect("run"));
            assert_eq!(
                ra.summaries_sent + rb.summaries_sent,
                1,
                "{due}: {ra:?} {rb:?}"
            );
            sent += 1;
        }
        assert_eq!(mails.lock().expect("lock").len(), sent);
        let months: Vec<String> = one
            .summary_sends(10)
            .await
            .expect("sends")
            .into_iter()
            .map(|s| s.month)
            .rev()
            .collect();
        assert_eq!(months, ["2026-08", "2026-09", "2026-10", "2026-11"]);
        one.close().await;
        two.close().await;
        schema.drop().await;
    });
}

#[test]
fn managers_send_the_summary_from_the_console_and_agents_cannot() {
    on_both(|store| async move {
        let now = Utc::now();
        staff_member(&store, "Mo Manager", "mo@example.org", Role::Manager, now).await;
        staff_member(&store, "Ash Agent", "ash@example.org", Role::Agent, now).await;
        let (port, mails) = smtp_sink().await;
        let console = intake::console::Console::new(
            intake(store.clone()),
            intake::channels::Wakers::default(),
            false,
            intake::console::standard_messages(),
            tokio_util::sync::CancellationToken::new(),
        )
        .with_summary(Some(mail(port, &store)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            axum::serve(
                listener,
                console
                    .router()
                    .into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .expect("serve");
        });
        let path = "/console/reports/summary";
        let send = "/console/reports/summary/send";

        let agent = sign_in(&base, "ash@example.org", PASSWORD)
            .await
            .expect("agent");
        let (status, _) = page(&base, &agent, path).await;
        assert_eq!(status, 403);
        let (_, inbox) = page(&base, &agent, "/console").await;
        let (status, words) = refusal(
            &base,
            &agent,
            send,
            &[("csrf", &csrf_of(&inbox)), ("month", "2025-07")],
        )
        .await;
        assert_eq!(status, 403);
        assert!(words.contains("managers and admins"), "{words}");

        let manager = sign_in(&base, "mo@example.org", PASSWORD)
            .await
            .expect("manager");
        let (status, html) = page(&base, &manager, path).await;
        assert_eq!(status, 200);
        assert!(
            html.contains(CHAIR) && html.contains("No summary has been sent yet"),
            "{html}"
        );
        let csrf = csrf_of(&html);
        let (status, _) = refusal(
            &base,
            &manager,
            send,
            &[("csrf", "forged"), ("month", "2025-07")],
        )
        .await;
        assert_eq!(status, 403, "a form without the session's token");
        let (status, words) = refusal(
            &base,
            &manager,
            send,
            &[("csrf", &csrf), ("month", "2025-13")],
        )
        .await;
        assert_eq!(status, 400);
        assert!(words.contains("YYYY-MM"), "{words}");
        let (status, words) = refusal(
            &base,
            &manager,
            send,
            &[("csrf", &csrf), ("month", "2999-01")],
        )
        .await;
        assert_eq!(status, 400);
        assert!(words.contains("has not ended yet"), "{words}");
        assert!(
            mails.lock().expect("lock").is_empty(),
            "nothing sent so far"
        );

        let (status, words) = refusal(
            &base,
            &manager,
            send,
            &[("csrf", &csrf), ("month", "2025-07")],
        )
        .await;
        assert_eq!(status, 200, "{words}");
        assert!(
            words.contains(&format!(
                "The summary for July 2025 was sent to {CHAIR}, {CLERK}."
            )),
            "{words}"
        );
        let raw = mails.lock().expect("lock").clone();
        assert_eq!(raw.len(), 1);
        assert_eq!(
            read_mail(&raw[0]).subject,
            "Example Homes: complaint handling summary for July 2025"
        );
        let sends = store.summary_sends(10).await.expect("sends");
        assert_eq!(sends.len(), 1);
        assert_eq!(
            (
                sends[0].month.as_str(),
                sends[0].sent_by.as_str(),
                sends[0].error.as_deref()
            ),
            ("2025-07", "Mo Manager", None)
        );
        assert!(sends[0].staff.is_some());
        assert!(
            store
                .summary_month("2025-07")
                .await
                .expect("read")
                .is_some_and(|m| m.sent_at.is_some()),
            "the scheduler will not send it again"
        );
        // A second press straight after is a double submit: refused, nothing sent again.
        let (status, words) = refusal(
            &base,
            &manager,
            send,
            &[("csrf", &csrf), ("month", "2025-07")],
        )
        .await;
        assert_eq!(status, 409, "{words}");
        assert!(words.contains("it was not sent again"), "{words}");
        assert_eq!(mails.lock().expect("lock").len(), 1, "one email, not two");
        let (_, html) = page(&base, &manager, path).await;
        assert!(
            html.contains("Mo Manager") && html.contains("2025-07"),
            "{html}"
        );
    });
}

#[test]
fn bad_recipients_are_refused_at_start_up() {
    let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let config = Config::load(
        None,
        env(&[(
            "INTAKE_REPORTS_GOVERNING_BODY",
            "chair@example-homes.org.uk, the clerk",
        )]),
    )
    .expect("load");
    let refused = config.validate().expect_err("not an address").to_string();
    assert!(
        refused.contains("reports.governing_body") && refused.contains("\"the clerk\""),
        "{refused}"
    );
    let config =
        Config::load(None, env(&[("INTAKE_REPORTS_GOVERNING_BODY", CHAIR)])).expect("load");
    let refused = config.validate().expect_err("no mail server").to_string();
    assert!(refused.contains("alerts.smtp.host"), "{refused}");
    let mut fine = config.clone();
    fine.alerts.smtp.host = Some("127.0.0.1".to_owned());
    fine.validate().expect("valid");
    assert_eq!(fine.reports.recipients().expect("valid"), [CHAIR]);

    // The bot itself stops before it starts, naming the address.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = cli()
        .env(
            "INTAKE_DATABASE_URL",
            format!("sqlite://{}/intake.db", dir.path().display()),
        )
        .env("INTAKE_REPORTS_GOVERNING_BODY", "chair@@example")
        .arg("serve")
        .output()
        .expect("run intake");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("\"chair@@example\" is not an email address"),
        "{err}"
    );
    assert!(
        !dir.path().join("intake.db").exists(),
        "nothing was started"
    );
}
