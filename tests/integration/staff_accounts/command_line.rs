//! `intake staff list | disable | enable | passwd` on SQLite and PostgreSQL, each change in
//! the staff audit as made from the command line, the last admin kept; and passwords typed
//! at a terminal never echoed (through `script`, which gives the command a pseudo-terminal).

use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use intake::staff::{PasswordChecks, SignIn};
use intake::store::Store;

use crate::helpers::databases::Schema;
use crate::helpers::{PASSWORD, add_account, add_staff, sqlite_in};

/// `intake staff ARGS` on `database`, with `input` on standard input; exit code, stdout,
/// stderr.
pub(super) fn staff_command(
    database: &str,
    args: &[&str],
    input: Option<&str>,
) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_intake"))
        .arg("staff")
        .args(args)
        .env_clear()
        .env("INTAKE_DATABASE_URL", database)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("intake staff");
    if let Some(input) = input {
        let _ = writeln!(child.stdin.take().expect("stdin"), "{input}");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether `password` signs in to `email` in the record at `database`.
pub(super) async fn signs_in(database: &str, email: &str, password: &str) -> bool {
    let store = Store::connect(database).await.expect("store");
    let checks = PasswordChecks::start(1);
    for _ in 0..100 {
        match intake::staff::log_in(&store, &checks, email, password, Utc::now()).await {
            Ok(SignIn::SignedIn(..)) => return true,
            Ok(_) => return false,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    panic!("no password check ran");
}

/// The command-line suite on one database.
async fn staff_commands_on(database: &str) {
    add_account(database, "Ada Admin", "ada@example.org", "admin");
    add_account(database, "Bea Agent", "bea@example.org", "agent");

    let (code, listed, err) = staff_command(database, &["list"], None);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines[0].contains("Ada Admin\tada@example.org\tadmin\tenabled\tlast sign-in never"));
    assert!(lines[1].contains("Bea Agent\tbea@example.org\tagent\tenabled"));

    // Disabled: it cannot sign in, and the list says since when.
    let (code, out, err) =
        staff_command(database, &["disable", "--email", "BEA@example.org"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Disabled"), "{out}");
    assert!(!signs_in(database, "bea@example.org", PASSWORD).await);
    let (_, listed, _) = staff_command(database, &["list"], None);
    assert!(listed.contains("agent\tdisabled since "), "{listed}");
    let (code, out, _) = staff_command(database, &["disable", "--email", "bea@example.org"], None);
    assert_eq!(code, 0);
    assert!(out.contains("already disabled"));
    let (code, out, err) = staff_command(database, &["enable", "--email", "bea@example.org"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Enabled"));
    assert!(signs_in(database, "bea@example.org", PASSWORD).await);
    let (_, listed, _) = staff_command(database, &["list"], None);
    assert!(
        listed.contains("Bea Agent\tbea@example.org\tagent\tenabled\tlast sign-in 20"),
        "{listed}"
    );

    // A new password, by the rules of `staff add`.
    let (code, _, err) = staff_command(
        database,
        &["passwd", "--email", "bea@example.org"],
        Some("short"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("at least 12"), "{err}");
    let renewed = "a brand new long passphrase";
    let (code, _, err) = staff_command(
        database,
        &["passwd", "--email", "bea@example.org"],
        Some(renewed),
    );
    assert_eq!(code, 0, "{err}");
    assert!(!signs_in(database, "bea@example.org", PASSWORD).await);
    assert!(signs_in(database, "bea@example.org", renewed).await);

    // Unknown accounts and the last admin are refused.
    for command in ["disable", "enable", "passwd"] {
        let (code, _, err) = staff_command(
            database,
            &[command, "--email", "nobody@example.org"],
            Some(renewed),
        );
        assert_eq!(code, 1, "{command}");
        assert!(err.contains("no staff account"), "{err}");
    }
    let (code, _, err) = staff_command(database, &["disable", "--email", "ada@example.org"], None);
    assert_eq!(code, 1);
    assert!(err.contains("last admin"), "{err}");
    assert!(signs_in(database, "ada@example.org", PASSWORD).await);

    // Every change is in the staff audit, made from the command line.
    let store = Store::connect(database).await.expect("store");
    let changes = store.staff_audit_lines(50).await.expect("audit");
    let actions: Vec<&str> = changes.iter().rev().map(|c| c.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "account_added",
            "account_added",
            "disabled",
            "enabled",
            "password_set"
        ]
    );
    assert!(changes.iter().all(|c| c.actor.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_list_disable_enable_and_passwd_on_sqlite_and_postgres() {
    let dir = tempfile::tempdir().expect("tempdir");
    staff_commands_on(&sqlite_in(dir.path())).await;
    let schema = Schema::create().await;
    staff_commands_on(&schema.url()).await;
    schema.drop().await;
}

/// Runs `intake staff ARGS` on a terminal (through `script`, which gives it a pseudo-
/// terminal), typing `typed` line by line once each prompt has appeared; what the terminal
/// showed and the exit code.
fn on_a_terminal(database: &str, args: &str, typed: &[&str]) -> (String, Option<i32>) {
    let command = format!("{} staff {args}", env!("CARGO_BIN_EXE_intake"));
    let mut child = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("INTAKE_DATABASE_URL", database)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux)");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut shown = Vec::new();
    for line in typed {
        // Type only once the prompt is up, as a person does: what they would see is what is
        // tested.
        let prompts = shown.windows(2).filter(|w| w == b": ").count();
        let started = Instant::now();
        while shown.windows(2).filter(|w| w == b": ").count() == prompts {
            let mut buffer = [0u8; 256];
            let n = stdout.read(&mut buffer).expect("read");
            assert!(
                n > 0 && started.elapsed() < Duration::from_secs(30),
                "no prompt: {}",
                String::from_utf8_lossy(&shown)
            );
            shown.extend_from_slice(&buffer[..n]);
        }
        // rpassword writes its prompt and then turns echo off: a person takes longer than
        // that to start typing, and so does this.
        std::thread::sleep(Duration::from_millis(300));
        write!(stdin, "{line}\r").expect("type");
        stdin.flush().expect("flush");
    }
    drop(stdin);
    let mut rest = Vec::new();
    let _ = stdout.read_to_end(&mut rest);
    shown.extend_from_slice(&rest);
    let status = child.wait().expect("wait");
    (String::from_utf8_lossy(&shown).into_owned(), status.code())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_typed_at_a_terminal_are_not_echoed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    let typed = "a password nobody should see";
    let (shown, code) = on_a_terminal(
        &database,
        "add --name Ada --email ada@example.org --role admin",
        &[typed, typed],
    );
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("Password for ada@example.org"), "{shown}");
    assert!(!shown.contains(typed), "the password was echoed: {shown}");
    assert!(signs_in(&database, "ada@example.org", typed).await);

    let renewed = "another password nobody sees";
    let (shown, code) = on_a_terminal(
        &database,
        "passwd --email ada@example.org",
        &[renewed, renewed],
    );
    assert_eq!(code, Some(0), "{shown}");
    assert!(!shown.contains(renewed), "the password was echoed: {shown}");
    assert!(signs_in(&database, "ada@example.org", renewed).await);

    // Two different passwords: nothing changes.
    let (shown, code) = on_a_terminal(
        &database,
        "passwd --email ada@example.org",
        &[typed, "a slip of the finger"],
    );
    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains("differ"), "{shown}");
    assert!(signs_in(&database, "ada@example.org", renewed).await);
    let (code, _) = add_staff(&database, "Bo", "bo@example.org", "agent", PASSWORD);
    assert_eq!(code, 0, "from a pipe, as before");
}
