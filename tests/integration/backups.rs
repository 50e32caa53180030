//! Operating the bot (issue 15): `intake migrate` and `--status` on both databases, several
//! migrations at once on PostgreSQL, and `intake backup` taken while residents write, restored
//! into a bot that reads the conversation back.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::helpers::databases::Schema;
use crate::helpers::resident::{from, shown, text};
use crate::helpers::{Bot, Resident};

fn intake(database: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_intake"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("INTAKE_DATABASE_URL", database)
        .args(args);
    cmd
}

fn run(database: &str, args: &[&str]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = intake(database, args).output().expect("run intake");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// The migrations shipped for a backend, by file: `0001_record.sql` is version 1.
fn shipped(backend: &str) -> Vec<i64> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut versions: Vec<i64> = std::fs::read_dir(folder)
        .expect("migrations folder")
        .filter_map(|e| {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            name.split('_').next()?.parse().ok()
        })
        .collect();
    versions.sort();
    versions
}

/// The versions `intake migrate` said it applied.
fn applied_lines(stdout: &str) -> Vec<i64> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("Applied ")?.split(' ').next()?.parse().ok())
        .collect()
}

#[test]
fn migrate_applies_each_migration_once_and_status_says_what_is_pending() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}/intake.db", dir.path().display());
    let versions = shipped("sqlite");

    let (code, stdout, stderr) = run(&database, &["migrate", "--status"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.matches("  pending").count(),
        versions.len(),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("0 applied, {} pending", versions.len())),
        "{stdout}"
    );

    let (code, stdout, stderr) = run(&database, &["migrate"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(applied_lines(&stdout), versions, "{stdout}");
    assert!(stdout.contains("Applied 0001 record."), "{stdout}");

    let (code, stdout, _) = run(&database, &["migrate"]);
    assert_eq!(code, 0);
    assert!(applied_lines(&stdout).is_empty(), "{stdout}");
    assert!(stdout.contains("Nothing to apply"), "{stdout}");

    let (code, stdout, _) = run(&database, &["migrate", "--status"]);
    assert_eq!(code, 0);
    assert_eq!(stdout.matches(" UTC\n").count(), versions.len(), "{stdout}");
    assert!(
        stdout.contains(&format!("{} applied, 0 pending.", versions.len())),
        "{stdout}"
    );

    // A newer release ran on this database: status says so and exits 0; migrate refuses
    // and changes nothing.
    crate::helpers::databases::block_on(async {
        use sqlx::ConnectOptions as _;
        let mut conn = format!("{database}?mode=rw")
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .expect("url")
            .connect()
            .await
            .expect("open");
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'from a newer release', TRUE, X'00', 1)",
        )
        .execute(&mut conn)
        .await
        .expect("a newer migration");
    });
    let (code, stdout, _) = run(&database, &["migrate", "--status"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("9999 from a newer release") && stdout.contains("a newer release has run"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&database, &["migrate"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stderr.contains("9999") && stderr.contains("Nothing was changed"),
        "{stderr}"
    );
}

/// The claim in `store::migrations`: replicas (or a Job and replicas) migrating together on
/// PostgreSQL take turns under sqlx's advisory lock, so each step is applied once and every
/// process ends with the schema complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_started_together_on_postgres_apply_each_step_once() {
    let schema = Schema::create().await;
    let url = schema.url();
    let started: Vec<_> = (0..3)
        .map(|_| {
            intake(&url, &["migrate"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start intake migrate")
        })
        .collect();
    let mut said = Vec::new();
    for child in started {
        let out = child.wait_with_output().expect("wait");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        said.extend(applied_lines(&stdout));
    }
    said.sort();
    assert_eq!(said, shipped("postgres"), "each step reported once");
    let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {}._sqlx_migrations WHERE success",
        schema.name
    )))
    .fetch_one(&schema.admin)
    .await
    .expect("count");
    assert_eq!(rows as usize, shipped("postgres").len());
    let (code, stdout, _) = run(&url, &["migrate", "--status"]);
    assert_eq!(code, 0);
    assert!(stdout.contains(" applied, 0 pending."), "{stdout}");
    schema.drop().await;
}

#[test]
fn backup_refuses_postgres_and_never_replaces_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("intake.dump");
    let (code, _, stderr) = run(
        "postgres://postgres@127.0.0.1:5432/test",
        &["backup", "--out", &out.display().to_string()],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("pg_dump"), "{stderr}");
    assert!(!out.exists());

    let database = format!("sqlite://{}/intake.db", dir.path().display());
    let (code, _, stderr) = run(&database, &["backup", "--out", "elsewhere.db"]);
    assert_eq!(code, 1, "no database yet: {stderr}");
    assert!(stderr.contains("no SQLite database"), "{stderr}");
    assert!(
        !dir.path().join("intake.db").exists(),
        "not created by a backup"
    );

    run(&database, &["migrate"]);
    std::fs::write(&out, b"an older backup").expect("write");
    let (code, _, stderr) = run(&database, &["backup", "--out", &out.display().to_string()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read(&out).expect("read"), b"an older backup");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Backup and restore as README.md says: `intake backup` while the bot runs and a resident
/// keeps writing; the backup put in place of a database (here a new path) with no WAL beside
/// it; a bot started on it shows the resident their conversation, as it stood at one moment,
/// and goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_residents_write_restores_into_a_working_bot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let live = format!("sqlite://{}/live/intake.db", dir.path().display());
    // A resident typing faster than the default limit, so writes go on throughout.
    let fast = [("INTAKE_LIMITS_WEB_MESSAGES_BURST", "10000".to_owned())];
    let bot = Bot::start(&live, &dir.path().join("live.log"), &fast).await;
    let resident = Arc::new(Resident::open(&bot.base).await);
    resident
        .say("Hello, the boiler has broken again and nobody has come")
        .await;
    resident.hears(1, "bot", "").await;

    let backing_up = Arc::new(AtomicBool::new(true));
    let writer = tokio::spawn({
        let (resident, backing_up) = (resident.clone(), backing_up.clone());
        async move {
            let mut sent = 0;
            while backing_up.load(Ordering::SeqCst) || sent < 5 {
                resident
                    .say(&format!("Still no hot water, day {sent}"))
                    .await;
                sent += 1;
            }
            sent
        }
    });
    let out = dir.path().join("backups").join("intake-backup.db");
    std::fs::create_dir_all(out.parent().expect("folder")).expect("folder");
    let backup = tokio::task::spawn_blocking({
        let (live, out) = (live.clone(), out.display().to_string());
        move || run(&live, &["backup", "--out", &out])
    })
    .await
    .expect("backup ran");
    backing_up.store(false, Ordering::SeqCst);
    let sent = writer.await.expect("every message was received (202)");
    let (code, stdout, stderr) = backup;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("integrity checked"), "{stdout}");
    assert!(sent >= 5);

    // Restore: the file in place of the database, and no -wal or -shm beside it.
    let restored_dir = dir.path().join("restored");
    std::fs::create_dir_all(&restored_dir).expect("folder");
    std::fs::copy(&out, restored_dir.join("intake.db")).expect("restore");
    for suffix in ["-wal", "-shm"] {
        assert!(!restored_dir.join(format!("intake.db{suffix}")).exists());
    }
    let restored = Bot::start(
        &format!("sqlite://{}/intake.db", restored_dir.display()),
        &dir.path().join("restored.log"),
        &fast,
    )
    .await;
    let original = resident.history().await;
    let again = Resident::in_session(&restored.base, resident.cookie());
    let history = again.history().await;
    assert!(
        history.len() >= 2,
        "the restored conversation:\n{}",
        shown(&history)
    );
    assert!(
        history.len() <= original.len(),
        "more than was there:\n{}",
        shown(&history)
    );
    // One moment's state: the first lines of the conversation, each as it was.
    for (restored_line, line) in history.iter().zip(&original) {
        assert_eq!(
            (
                from(restored_line),
                text(restored_line),
                &restored_line["id"]
            ),
            (from(line), text(line), &line["id"]),
            "restored:\n{}\noriginal:\n{}",
            shown(&history),
            shown(&original)
        );
    }
    assert!(text(&history[0]).contains("boiler has broken"));

    let seen = history.len();
    again.say("Are you still there?").await;
    again.hears(seen, "bot", "").await;
}
