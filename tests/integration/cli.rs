//! The `intake` binary as staff and operators use it: `assess`, `check-config`, `holidays`,
//! `deadlines` and `serve`, run as real processes.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use crate::helpers::databases::Schema;
use crate::helpers::fake_telegram::{FakeTelegram, TOKEN};

fn intake() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_intake"));
    // A clean environment: only what each test sets.
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

fn run(cmd: &mut Command, stdin: &str) -> (i32, String, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn intake");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn assess_reads_json_lines_and_names_bad_ones() {
    let input = concat!(
        "{\"id\": 1, \"text\": \"brilliant, another week with no hot water\"}\n",
        "this is not json\n",
        "\n",
        "{\"id\": \"b\", \"text\": \"still not fixed\", \"context\": {\"stage1_response_sent\": true}}\n",
        "{\"text\": 5}\n",
        "{\"id\": \"c\", \"text\": \"I can smell gas in the kitchen\"}\n",
    );
    let (code, stdout, stderr) = run(intake().arg("assess"), input);
    assert_eq!(code, 1, "bad lines make the exit code 1: {stderr}");
    assert!(stderr.contains("line 2:"), "{stderr}");
    assert!(stderr.contains("line 5:"), "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let first = &lines[0];
    assert_eq!(first["id"], 1);
    for field in [
        "dissatisfied",
        "intent",
        "route",
        "risks",
        "representative",
        "language",
        "provisions",
        "reasons",
    ] {
        assert!(first.get(field).is_some(), "missing {field}: {first}");
    }
    assert_eq!(first["dissatisfied"], true);
    assert_eq!(first["intent"], "complaint");
    assert_eq!(lines[1]["intent"], "escalation");
    assert_eq!(lines[2]["risks"], serde_json::json!(["emergency"]));
}

#[test]
fn assess_copes_with_odd_unicode_and_huge_lines() {
    let long = "the damp is back ".repeat(6_000);
    let input = format!(
        "{}\n{}\n",
        serde_json::json!({"id": "zw", "text": "comp\u{200b}laint ab\u{043e}ut the b\u{043e}iler"}),
        serde_json::json!({"id": "long", "text": long}),
    );
    let (code, stdout, stderr) = run(intake().arg("assess"), &input);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines[0]["dissatisfied"], true, "{}", lines[0]);
    assert_eq!(lines[1]["id"], "long");
}

#[test]
fn check_config_refuses_a_timescale_beyond_the_code_and_hides_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("intake.toml");
    std::fs::write(&path, "[landlord.timescales]\nstage2_response = 25\n").expect("write");
    let (code, _, stderr) = run(intake().arg("check-config").arg("--config").arg(&path), "");
    assert_eq!(code, 1);
    assert!(
        stderr.contains("timescales.stage2_response") && stderr.contains("6.14"),
        "{stderr}"
    );

    std::fs::write(
        &path,
        "[landlord]\nname = \"Riverside Homes\"\nhomes = 5200\n",
    )
    .expect("write");
    let (code, stdout, stderr) = run(
        intake()
            .arg("check-config")
            .env("INTAKE_CONFIG", &path)
            .env("INTAKE_TELEGRAM_TOKEN", "4242:very-secret-token")
            .env(
                "INTAKE_DATABASE_URL",
                "postgres://intake:hunter2@127.0.0.1/test",
            ),
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Riverside Homes"));
    assert!(stdout.contains("INTAKE_TELEGRAM_TOKEN: set"));
    assert!(!stdout.contains("very-secret-token") && !stderr.contains("very-secret-token"));
    assert!(!stdout.contains("hunter2"));

    // A password given as a query parameter is hidden too.
    let (code, stdout, stderr) = run(
        intake()
            .arg("check-config")
            .env("INTAKE_CONFIG", &path)
            .env(
                "INTAKE_DATABASE_URL",
                "postgres://intake@127.0.0.1/test?sslmode=disable&password=hunter3",
            ),
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("sslmode=disable"), "{stdout}");
    assert!(!stdout.contains("hunter3") && !stderr.contains("hunter3"));

    // Records must outlive the time a resident has to go to the Ombudsman.
    std::fs::write(&path, "[alerts]\nretention_days = 0\n").expect("write");
    let (code, _, stderr) = run(intake().arg("check-config").arg("--config").arg(&path), "");
    assert_eq!(code, 1);
    assert!(
        stderr.contains("alerts.retention_days") && stderr.contains("365"),
        "{stderr}"
    );
}

#[test]
fn a_landlord_lexicon_extends_the_engine_and_a_broken_one_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lexicon = dir.path().join("local.toml");
    std::fs::write(&lexicon, "[signals]\nemergency = [\"code zephyr\"]\n").expect("write");
    let config = dir.path().join("intake.toml");
    std::fs::write(&config, format!("[policy]\nlexicon = {:?}\n", lexicon)).expect("write");
    let (code, stdout, stderr) = run(
        intake().arg("assess").arg("--config").arg(&config),
        "{\"id\": 1, \"text\": \"code zephyr in the bin store\"}\n",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"risks\":[\"emergency\"]"), "{stdout}");
    // Without the landlord's lexicon, the shipped one does not know the phrase.
    let (_, stdout, _) = run(
        intake().arg("assess"),
        "{\"id\": 1, \"text\": \"code zephyr in the bin store\"}\n",
    );
    assert!(stdout.contains("\"risks\":[]"), "{stdout}");

    std::fs::write(&lexicon, "[signals]\nfailur = [\"x\"]\n").expect("write");
    let (code, _, stderr) = run(
        intake().arg("check-config").arg("--config").arg(&config),
        "",
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("local.toml") && stderr.contains("failur"),
        "{stderr}"
    );
}

#[test]
fn policy_evaluate_scores_a_landlords_own_messages_and_a_bad_model_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mine = dir.path().join("ours.jsonl");
    std::fs::write(
        &mine,
        concat!(
            "{\"id\": \"a\", \"text\": \"I can smell gas in the kitchen\", \"expect\": {\"risks\": [\"emergency\"]}}\n",
            "{\"id\": \"b\", \"text\": \"third time asking, the boiler is STILL broken\", \"expect\": {\"dissatisfied\": true}}\n",
            "{\"id\": \"c\", \"text\": \"when is my rent due\", \"expect\": {\"dissatisfied\": false, \"intent\": \"enquiry\"}}\n",
        ),
    )
    .expect("write");
    let version = intake::core::policy::shipped_model().version().to_owned();
    let (code, stdout, stderr) = run(
        intake().args(["policy", "evaluate", "--misses"]).arg(&mine),
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("Engine: rules and model {version}")),
        "{stdout}"
    );
    assert!(stdout.contains("3 messages"), "{stdout}");
    for field in ["dissatisfied", "emergency", "intent", "route"] {
        assert!(stdout.contains(field), "{field}: {stdout}");
    }
    let (code, stdout, _) = run(
        intake()
            .args(["policy", "evaluate", "--rules-only"])
            .arg(&mine),
        "",
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("Engine: the rules alone"), "{stdout}");

    // A bad line is named by file and line; a repeated id is named.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"id\": \"a\", \"text\": \"hi\", \"expect\": {}}\n{\"id\": 2}\n",
    )
    .expect("write");
    let (code, _, stderr) = run(intake().args(["policy", "evaluate"]).arg(&bad), "");
    assert_eq!(code, 1);
    assert!(stderr.contains("bad.jsonl:2"), "{stderr}");
    let (code, _, stderr) = run(
        intake().args(["policy", "evaluate"]).arg(&mine).arg(&mine),
        "",
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("the id a is used twice"), "{stderr}");

    // A landlord model is used when configured, and its version is on every assessment.
    let model = dir.path().join("landlord.model");
    std::fs::write(&model, intake::core::policy::learned::SHIPPED).expect("write");
    let (code, stdout, stderr) = run(
        intake().arg("assess").env("INTAKE_POLICY_MODEL", &model),
        "{\"id\": 1, \"text\": \"still no boiler\"}\n",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("\"model\":\"{version}\"")),
        "{stdout}"
    );
    // A damaged one stops the bot before it starts, saying which file and why.
    let mut damaged = intake::core::policy::learned::SHIPPED.to_vec();
    let last = damaged.len() - 1;
    damaged[last] ^= 0x55;
    std::fs::write(&model, damaged).expect("write");
    let (code, _, stderr) = run(
        intake()
            .arg("check-config")
            .env("INTAKE_POLICY_MODEL", &model),
        "",
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("policy.model")
            && stderr.contains("landlord.model")
            && stderr.contains("changed or damaged"),
        "{stderr}"
    );
}

#[test]
fn a_landlords_standard_messages_are_checked_before_the_bot_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let messages = dir.path().join("standard_messages.toml");
    std::fs::write(
        &messages,
        "[[message]]\nname = \"Holding reply\"\ntext = \"Thank you {tenant}, {staff} will reply.\"\n",
    )
    .expect("write");
    let config = dir.path().join("intake.toml");
    std::fs::write(
        &config,
        format!("[console]\nstandard_messages = {messages:?}\n"),
    )
    .expect("write");
    let (code, _, stderr) = run(
        intake().arg("check-config").arg("--config").arg(&config),
        "",
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("standard_messages.toml")
            && stderr.contains("Holding reply")
            && stderr.contains("{tenant}"),
        "{stderr}"
    );
    // `serve` refuses to start with it, saying why, before it opens anything.
    let (code, _, stderr) = run(
        intake().arg("serve").arg("--config").arg(&config).env(
            "INTAKE_DATABASE_URL",
            format!("sqlite://{}/never.db", dir.path().display()),
        ),
        "",
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("{tenant}"), "{stderr}");
    assert!(!dir.path().join("never.db").exists(), "nothing was created");

    std::fs::write(
        &messages,
        "[[message]]\nname = \"Holding reply\"\ntext = \"Thank you, {staff} from {landlord} will reply about {reference}.\"\n",
    )
    .expect("write");
    let (code, stdout, stderr) = run(
        intake().arg("check-config").arg("--config").arg(&config),
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("Standard messages for staff: 1."),
        "{stdout}"
    );
}

#[test]
fn holidays_and_deadlines_for_staff() {
    let (code, stdout, _) = run(intake().args(["holidays", "2022"]), "");
    assert_eq!(code, 0);
    assert!(
        stdout.contains("2022-09-19") && stdout.contains("State Funeral"),
        "{stdout}"
    );
    assert!(stdout.contains("2022-06-03"), "{stdout}");

    let (code, stdout, stderr) = run(
        intake().args(["deadlines", "--received", "2024-06-07T22:30:00Z"]),
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    // 23:30 on Friday 7 June 2024 in British Summer Time: received that Friday.
    assert_eq!(plan["received_on"], "2024-06-07");
    assert_eq!(plan["stage1"]["acknowledge_by"], "2024-06-14");
    assert_eq!(plan["stage1"]["respond_by"], "2024-06-28");
    assert_eq!(plan["stage2"]["respond_by"], "2024-07-12");

    let (code, _, stderr) = run(
        intake().args(["deadlines", "--received", "next tuesday"]),
        "",
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("RFC 3339"), "{stderr}");
}

#[test]
fn chat_continues_the_same_conversation_across_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = intake();
    first.current_dir(dir.path()).args(["chat", "--as", "sam"]);
    let (code, stdout, stderr) = run(
        &mut first,
        "the caretaker was rude to me today, not happy\n1\n",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("1. Make a complaint"), "{stdout}");
    assert!(stdout.contains("Do you agree?"), "{stdout}");
    // A second run as the same resident picks up at the privacy question.
    let mut second = intake();
    second.current_dir(dir.path()).args(["chat", "--as", "sam"]);
    let (code, stdout, stderr) = run(&mut second, "yes\n");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("What is your name"), "{stdout}");
    // Someone else starts afresh.
    let mut other = intake();
    other.current_dir(dir.path()).args(["chat", "--as", "alex"]);
    let (_, stdout, _) = run(&mut other, "yes\n");
    assert!(!stdout.contains("What is your name"), "{stdout}");
}

#[test]
fn a_complaint_made_in_chat_can_be_exported_in_full() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = "the repairs team never turned up for my boiler appointment, third time\n1\nyes\nSam Jones, 4 Rowan Close\n1\na new appointment\nlast Tuesday\nno\n1\nyes\n";
    let mut chat = intake();
    chat.current_dir(dir.path()).args(["chat", "--as", "sam"]);
    let (code, stdout, stderr) = run(&mut chat, script);
    assert_eq!(code, 0, "{stderr}");
    let reference = stdout
        .split("Reference: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no reference in:\n{stdout}"))
        .to_owned();

    let mut export = intake();
    export.current_dir(dir.path()).args(["export", &reference]);
    let (code, stdout, stderr) = run(&mut export, "");
    assert_eq!(code, 0, "{stderr}");
    let record: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(record["case"]["reference"], reference.as_str());
    assert_eq!(record["case"]["stage"], 1);
    let messages = record["messages"].as_array().expect("messages");
    assert_eq!(
        messages.iter().filter(|m| m["direction"] == "in").count(),
        10
    );
    assert_eq!(messages[0]["assessment"]["dissatisfied"], true);
    assert!(
        messages.iter().any(|m| m["direction"] == "out"
            && m["body"].as_str().is_some_and(|b| b.contains(&reference)))
    );
    let kinds: Vec<&str> = record["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    for kind in ["offered", "offer_answered", "consent", "open_case"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }

    let mut missing = intake();
    missing
        .current_dir(dir.path())
        .args(["export", "C1999-00001"]);
    let (code, _, stderr) = run(&mut missing, "");
    assert_eq!(code, 1);
    assert!(stderr.contains("no complaint"), "{stderr}");
}

/// A fake Bot API for the whole suite, on a runtime of its own that outlives each test.
fn fake_telegram() -> &'static FakeTelegram {
    static FAKE: std::sync::OnceLock<(tokio::runtime::Runtime, FakeTelegram)> =
        std::sync::OnceLock::new();
    let (_, fake) = FAKE.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let fake = runtime.block_on(FakeTelegram::start());
        (runtime, fake)
    });
    fake
}

/// The secret part of the fake's token, which must never be logged.
const TOKEN_SECRET: &str = "TEST-token-that-must-never-be-logged";

/// Starts `intake serve` on a free port in an empty folder; returns the process, its address
/// and what it logged up to the listening line.
fn start_serve(
    dir: &std::path::Path,
    log_format: &str,
    database_url: Option<&str>,
) -> (std::process::Child, String, String) {
    let mut cmd = intake();
    if let Some(url) = database_url {
        cmd.env("INTAKE_DATABASE_URL", url);
    }
    let mut child = cmd
        .current_dir(dir)
        .env("INTAKE_LISTEN", "127.0.0.1:0")
        .env("INTAKE_LOG", "trace")
        .env("INTAKE_LOG_FORMAT", log_format)
        // Telegram really starts, against the fake Bot API, so its traffic is in the log too.
        .env("INTAKE_TELEGRAM_TOKEN", TOKEN)
        .env("INTAKE_TELEGRAM_API_URL", &fake_telegram().url)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut log = String::new();
    let mut address = None;
    // Trace logging is chatty (TLS, SQL); the listening line comes once the database is open.
    for _ in 0..20_000 {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("read") == 0 {
            break;
        }
        log.push_str(&line);
        if !line.contains("intake listening") {
            continue;
        }
        address = if log_format == "json" {
            let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
            v["address"].as_str().map(str::to_owned)
        } else {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix("address="))
                .map(str::to_owned)
        };
        break;
    }
    let address = address.unwrap_or_else(|| panic!("no listening line in:\n{log}"));
    // Keep reading in the background so the process never blocks on a full pipe.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        let _ = tx.send(rest);
    });
    LOG_REST.with(|r| *r.borrow_mut() = Some(rx));
    (child, address, log)
}

thread_local! {
    static LOG_REST: std::cell::RefCell<Option<std::sync::mpsc::Receiver<String>>> =
        const { std::cell::RefCell::new(None) };
}

fn stop_serve(mut child: std::process::Child, mut log: String) -> String {
    child.kill().expect("kill");
    let _ = child.wait();
    if let Some(rx) = LOG_REST.with(|r| r.borrow_mut().take()) {
        log.push_str(&rx.recv().unwrap_or_default());
    }
    log
}

fn get(address: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response
}

#[test]
fn serve_creates_the_sqlite_record_on_first_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (child, address, log) = start_serve(dir.path(), "human", None);
    let response = get(&address, "/healthz");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("Example Homes"), "{response}");
    stop_serve(child, log);
    assert!(
        dir.path().join("data/intake.db").is_file(),
        "no ./data/intake.db"
    );
}

#[test]
fn serve_keeps_secrets_out_of_human_and_json_logs() {
    // PostgreSQL here trusts local connections, so the password is accepted and ignored:
    // what matters is that it never reaches the log.
    // A schema of its own, so the shared database's other tests and earlier runs do not
    // meet this one's migrations.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let schema = runtime.block_on(Schema::create());
    let url = schema.url_with_password("hunter2");
    for format in ["human", "json"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (child, address, log) = start_serve(dir.path(), format, Some(&url));
        let response = get(&address, "/healthz");
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        let log = stop_serve(child, log);
        assert!(
            !log.contains(TOKEN_SECRET),
            "the token reached the {format} log:\n{log}"
        );
        assert!(
            !log.contains("hunter2"),
            "the database password reached the {format} log:\n{log}"
        );
        assert!(log.contains("[redacted]"), "{log}");
    }
    runtime.block_on(schema.drop());
}

/// `check-config` names, in plain words, each promise the configuration cannot keep: with the
/// shipped example (no alert sink, no mail server) a manager told of an emergency or a
/// safeguarding concern, and replies by email; with sinks reaching managers and SMTP, none.
#[test]
fn check_config_warns_of_each_promise_the_configuration_cannot_keep() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/intake.example.toml");
    let (code, stdout, stderr) = run(
        intake().arg("check-config").arg("--config").arg(&example),
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let warnings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("a promise the bot cannot keep"))
        .collect();
    assert_eq!(warnings.len(), 3, "{stdout}");
    for needed in [
        "\"emergency\"",
        "\"safeguarding\"",
        "not offered replies by email",
    ] {
        assert!(
            warnings.iter().any(|w| w.contains(needed)),
            "{needed}: {stdout}"
        );
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("intake.toml");
    std::fs::write(
        &config,
        "[alerts.smtp]\nhost = \"smtp.example-homes.org.uk\"\n\n\
         [[alerts.sinks]]\nname = \"managers' chat\"\nkind = \"telegram\"\nto = \"-1001234567890\"\n\
         alerts = [\"emergency\", \"safeguarding\"]\n",
    )
    .expect("write");
    let (code, stdout, stderr) = run(
        intake()
            .arg("check-config")
            .arg("--config")
            .arg(&config)
            .env("INTAKE_TELEGRAM_TOKEN", "123456:abcdef"),
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stdout.contains("a promise the bot cannot keep"),
        "{stdout}"
    );

    // A sink for emergencies only still leaves safeguarding concerns unreached.
    std::fs::write(
        &config,
        "[alerts.smtp]\nhost = \"smtp.example-homes.org.uk\"\n\n\
         [[alerts.sinks]]\nname = \"duty manager\"\nkind = \"email\"\nto = \"role:manager\"\n\
         alerts = [\"emergency\"]\n",
    )
    .expect("write");
    let (_, stdout, _) = run(
        intake().arg("check-config").arg("--config").arg(&config),
        "",
    );
    let warnings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("a promise the bot cannot keep"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stdout}");
    assert!(warnings[0].contains("\"safeguarding\""), "{stdout}");
}
