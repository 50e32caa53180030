//! The record (Code 5.12), in SQLite (the embedded default) or PostgreSQL, chosen by the URL.
//!
//! One code path serves both backends through sqlx's `Any` driver: queries use `$1`
//! placeholders and portable SQL, times are Unix milliseconds, JSON is text. Each backend has
//! its own migrations folder, embedded in the binary and applied at start-up.
//!
//! Everything one inbound message causes is written in one transaction (`Record`): the message
//! (recorded once per platform message id), its assessment, the conversation state, the
//! replies and their outbox rows. Nothing is sent before the commit.
//!
//! This module is the only one that knows the schema: no table is named outside it. This file
//! holds the connection, the transaction (`Record`) and its plumbing; each aggregate has a
//! file of its own below, with its reads (on `Store`) and its writes (on `Record`):
//! conversations (and claims, notes), messages (both ways, assessments, corrections), cases,
//! case work, outbox, alerts (and their deliveries), audit (events, staff actions, jobs done
//! once), retention, staff (accounts, sessions, linked chat accounts), tracked requests
//! (privacy requests and interpreters), whether a manager is watching the console, inbox (what
//! the console reads across them), assignments (who a conversation is assigned to), search
//! (the console's full-text search), outcomes (categories, stage outcomes and compensation,
//! resident feedback), residents (one resident across conversations, as staff link them),
//! standard messages (the console's, versioned), learning (what each complaint taught and the
//! register of service improvements), the Ombudsman's cases and orders, the self-assessment's
//! answers (versioned), summaries (the governing body's monthly summary: months claimed and
//! sent, every send) and bench (the benchmark's baseline and the soak's checks).
//! Beside the record: migrations (applied, pending, `intake migrate`), backup (`intake backup`
//! of SQLite) and limits (rate-limit buckets shared by replicas on PostgreSQL).

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Row};

use crate::config::redact_url_password as redact;

mod alerts;
mod assignments;
mod attachments;
mod audit;
mod backup;
mod bench;
mod case_work;
mod cases;
mod conversations;
mod generated;
mod ids;
mod inbox;
mod learning;
mod limits;
mod messages;
mod migrations;
mod notify;
mod ombudsman;
mod outbox;
mod outcomes;
mod report;
mod requests;
mod residents;
mod retention;
mod search;
mod self_assessment;
mod staff;
mod standard_messages;
mod summaries;
mod watching;

pub use alerts::{AlertDelivery, OpenAlert, RecentAlert, UrgentAlert};
pub use assignments::{Assignee, Assignment};
pub use attachments::{FileContent, Staged, StoredFile, Upload};
pub use audit::{AuditLine, Event};
pub use backup::{Backup, BackupError};
pub use bench::RecordedCount;
pub use case_work::{ActionCase, CaseAction, OverdueAction, ResidentEmail, email_address_in};
pub use cases::{CaseDefinition, CaseStanding, OpenCase};
pub use conversations::{Conversation, IdleClaim};
pub use inbox::{
    AlertKind, CaseAnswers, CaseListing, CorrectionLine, Disclosure, InboxConversation, InboxOrder,
    InboxQuery, InboxStatus, Note, StaffLineRecord, resident_name,
};
pub use learning::{CaseLearning, Improvement, ImprovementFields, ImprovementId, RegisterChanged};
pub use limits::Taken;
pub use messages::{Attachment, ChatLine, CorrectedMessage, Inbound, Message};
pub use migrations::{MigrationState, MigrationStatus, Migrations};
pub use notify::Listener;
pub use ombudsman::{OmbudsmanCase, OmbudsmanChanged, OmbudsmanFields, OmbudsmanOrder};
pub use outbox::{Backlog, OutboxItem};
pub use outcomes::{CaseHandling, Feedback, StageOutcome};
pub use requests::{LoggedRequest, RequestId, TrackedRequest};
pub use residents::{LinkedConversation, Resident};
pub use retention::CaseCount;
pub use search::{Found, SearchHit, SearchScope};
pub use self_assessment::{AnswerChange, AnswerSaved, AnswerVersion};
pub use staff::{
    AccountChange, Changed, Platform, StaffAccount, StaffAuditLine, StaffCredentials, StaffListing,
    StaffName, StaffSession,
};
pub use standard_messages::{
    StandardAuditLine, StandardChange, StandardChanged, StandardMessageId, StandardVersion,
    StoredStandardMessage,
};
pub use summaries::{SummaryMonth, SummarySend};

/// Which database the URL chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Url(redact(url)))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL {0:?} must start with sqlite: or postgres:")]
    Url(String),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("schema name {0:?} must be lower-case letters, digits and _, starting with a letter")]
    Schema(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the messages committed together with this one could not be saved: {0}")]
    Group(String),
    #[error(
        "the database ended the transaction (a full disk, or the connection lost): nothing in it was saved"
    )]
    TransactionLost,
    #[error("not ready: {0}")]
    NotReady(String),
    #[error("the writer has stopped")]
    WriterStopped,
    /// A web chat upload named by its message was no longer waiting to be written (the
    /// upload was abandoned before its message was recorded): nothing is written, so the
    /// page's retry records the file and its message together.
    #[error("the uploaded file was no longer waiting to be recorded; send it again")]
    UploadGone,
    #[error("a stored value is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A complaint's stage in the database that the Code does not have: an error, never
    /// read as stage 1.
    #[error("a stored complaint is at an unknown stage: {0}")]
    Stage(#[from] crate::core::ids::UnknownStage),
    #[error("a stored complaint has an unknown status: {0}")]
    Status(#[from] crate::core::ids::UnknownStatus),
}

/// A complaint's stage as a row has it: 1 or 2, anything else an error (never stage 1).
fn stage(row: &sqlx::any::AnyRow) -> Result<crate::core::ids::Stage, StoreError> {
    Ok(crate::core::ids::Stage::try_from(
        row.try_get::<i64, _>("stage")?,
    )?)
}

/// A complaint's status as a row has it, one of the stored strings.
fn status(row: &sqlx::any::AnyRow) -> Result<crate::core::ids::CaseStatus, StoreError> {
    Ok(row.try_get::<String, _>("status")?.parse()?)
}

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub url: String,
    /// PostgreSQL schema to use (created if missing); each test uses its own.
    pub schema: Option<String>,
    pub max_connections: u32,
}

impl StoreOptions {
    pub fn new(url: impl Into<String>) -> StoreOptions {
        StoreOptions {
            url: url.into(),
            schema: None,
            max_connections: 8,
        }
    }
}

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Opens the database named by `url`, creating a SQLite file and its folder on first run,
    /// and applies the migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_with(StoreOptions::new(url)).await
    }

    pub async fn connect_with(options: StoreOptions) -> Result<Store, StoreError> {
        let store = Store::open_with(options).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the database without applying migrations: `intake migrate` and `intake backup`
    /// look at the schema as it is.
    pub async fn open_with(options: StoreOptions) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(&options.url)?;
        if let Some(schema) = &options.schema {
            check_schema(schema)?;
        }
        let url = match backend {
            Backend::Sqlite => prepare_sqlite(&options.url)?,
            Backend::Postgres => options.url.clone(),
        };
        let connect_options =
            AnyConnectOptions::from_str(&url).map_err(|source| StoreError::Connect {
                url: redact(&url),
                source,
            })?;
        let schema = options.schema.clone();
        let pool_options = AnyPoolOptions::new()
            // A broken connection shows up as an error on first use; pinging before every
            // transaction would cost a round trip per message.
            .test_before_acquire(false)
            // SQLite takes one writer at a time; one connection avoids lock upgrades failing.
            .max_connections(match backend {
                Backend::Sqlite => 1,
                Backend::Postgres => options.max_connections,
            })
            .after_connect(move |conn, _| -> BoxFuture<'_, Result<(), sqlx::Error>> {
                let schema = schema.clone();
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            // Durable by default: WAL with a full sync on every commit.
                            for pragma in [
                                "PRAGMA journal_mode = WAL",
                                "PRAGMA synchronous = FULL",
                                "PRAGMA foreign_keys = ON",
                                "PRAGMA busy_timeout = 5000",
                            ] {
                                sqlx::query(pragma).execute(&mut *conn).await?;
                            }
                        }
                        Backend::Postgres => {
                            if let Some(schema) = schema {
                                // The name was checked to be lower-case letters, digits and _.
                                let create = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
                                sqlx::query(sqlx::AssertSqlSafe(create))
                                    .execute(&mut *conn)
                                    .await?;
                                let path = format!("SET search_path TO {schema}");
                                sqlx::query(sqlx::AssertSqlSafe(path))
                                    .execute(&mut *conn)
                                    .await?;
                            }
                        }
                    }
                    Ok(())
                })
            });
        let pool = pool_options
            .connect_with(connect_options)
            .await
            .map_err(|source| StoreError::Connect {
                url: redact(&url),
                source,
            })?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, only for the integration tests' own assertions on the record
    /// (they read tables directly to check what was written). Everything else goes through
    /// the named reads and writes of this module, which alone knows the schema.
    #[doc(hidden)]
    pub fn pool_for_tests(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts the transaction for one inbound message (or one staff action).
    ///
    /// The transaction is ours, not sqlx's: sqlx counts transaction depth itself, and after a
    /// failed COMMIT (a full disk) SQLite may already have rolled back while the count says
    /// otherwise; later "commits" then only released savepoints inside a transaction that was
    /// never committed, and a resident was told "received" for a message that was lost. Here
    /// a connection whose transaction did not commit is closed, never returned to the pool,
    /// so every transaction starts on a connection in a known state.
    pub async fn begin(&self) -> Result<Record<'static>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        if let Err(e) = sqlx::raw_sql("BEGIN").execute(&mut *conn).await {
            conn.close_on_drop();
            return Err(e.into());
        }
        Ok(Record {
            conn: Connection::Own(conn),
            backend: self.backend,
            writes: Vec::new(),
            depth: 0,
            undo: None,
            broken: false,
            done: false,
        })
    }

    /// Proves the record can take a message now, for `/readyz`: every embedded migration is
    /// applied, the tables a message is written to are there, and a real write commits (a
    /// full disk, a read-only file or a renamed table all fail here, while `SELECT 1` in
    /// `/healthz` still answers).
    pub async fn ready(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let migrator = migrations::migrator(self.backend);
        let applied: Vec<i64> =
            sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = $1")
                .bind(true)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get("version"))
                .collect::<Result<_, _>>()?;
        if let Some(missing) = migrator.iter().find(|m| !applied.contains(&m.version)) {
            return Err(StoreError::NotReady(format!(
                "migration {} ({}) is not applied",
                missing.version, missing.description
            )));
        }
        let mut record = self.begin().await?;
        for table in [
            "conversations",
            "messages",
            "assessments",
            "outbox",
            "cases",
            "alerts",
        ] {
            let probe = format!("SELECT 1 FROM {table} LIMIT 1");
            sqlx::query(sqlx::AssertSqlSafe(probe))
                .fetch_optional(record.conn().await?)
                .await?;
        }
        record.queue(
            "INSERT INTO counters (name, value) VALUES ('readiness', $1) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            vec![Value::Int(millis(now))],
        );
        record.commit().await
    }

    /// Closes every connection: on SQLite the last close checkpoints the WAL into the file
    /// and removes it, so the file alone is the database.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether the database answers at all, for `/healthz`: cheap, and no write (readiness,
    /// with a real write, is [`Store::ready`]).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// The writes caused by one inbound message, committed together or not at all.
///
/// Reads (the conversation, whether a message is new, a new reference) go to the database at
/// once. Writes are queued and sent at `commit`: on SQLite as one multi-statement round trip,
/// on PostgreSQL one statement at a time, in the same transaction either way.
pub struct Record<'c> {
    conn: Connection<'c>,
    backend: Backend,
    writes: Vec<(&'static str, Vec<Value>)>,
    /// 0 for the transaction, n for the n-th savepoint nested in it.
    depth: u32,
    /// A record nested in this one was dropped without committing: its savepoint is undone
    /// here before anything else runs.
    undo: Option<u32>,
    /// A savepoint could not be undone: the database ended the whole transaction itself (as
    /// SQLite may on a full disk). Nothing more may run in it, and it must not commit.
    broken: bool,
    /// Committed: nothing to undo on drop.
    done: bool,
}

/// The connection a record writes on: its own (the transaction), or its parent's (a
/// savepoint).
enum Connection<'c> {
    Own(PoolConnection<Any>),
    Nested {
        conn: &'c mut AnyConnection,
        parent_undo: &'c mut Option<u32>,
    },
}

impl Drop for Record<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        match &mut self.conn {
            // Closing the connection rolls the transaction back on both databases, and
            // the pool opens a fresh one: a connection in an unknown state is never reused.
            Connection::Own(conn) => conn.close_on_drop(),
            Connection::Nested { parent_undo, .. } => **parent_undo = Some(self.depth),
        }
    }
}

/// A value bound to a queued statement.
#[derive(Debug, Clone)]
enum Value {
    Int(i64),
    MaybeInt(Option<i64>),
    Text(String),
    MaybeText(Option<String>),
}

impl Record<'_> {
    fn queue(&mut self, sql: &'static str, values: Vec<Value>) {
        self.writes.push((sql, values));
    }

    /// A record nested in this one (a savepoint): its writes are kept or undone together, and
    /// none is durable before the outer record commits. Used to commit several messages at
    /// once (group commit) while each stays all-or-nothing.
    pub async fn nested(&mut self) -> Result<Record<'_>, StoreError> {
        self.flush().await?;
        let depth = self.depth + 1;
        let savepoint = format!("SAVEPOINT intake_{depth}");
        if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(savepoint))
            .execute(self.conn().await?)
            .await
        {
            // The transaction is unusable (PostgreSQL aborts it): it must never commit,
            // or the messages before this one would be told "received" and be lost.
            self.broken = true;
            return Err(e.into());
        }
        let backend = self.backend;
        let Record { conn, undo, .. } = self;
        let conn: &mut AnyConnection = match conn {
            Connection::Own(conn) => conn,
            Connection::Nested { conn, .. } => conn,
        };
        Ok(Record {
            conn: Connection::Nested {
                conn,
                parent_undo: undo,
            },
            backend,
            writes: Vec::new(),
            depth,
            undo: None,
            broken: false,
            done: false,
        })
    }

    /// Sends the queued writes and commits (or, nested, releases the savepoint into the
    /// outer record). Only an `Ok` here means the writes are durable (or, nested, kept).
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.flush().await?;
        let end = match self.depth {
            0 => "COMMIT".to_owned(),
            n => format!("RELEASE SAVEPOINT intake_{n}"),
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(end))
            .execute(self.conn().await?)
            .await?;
        self.done = true;
        Ok(())
    }

    /// The connection, once any savepoint left by a dropped nested record is undone.
    async fn conn(&mut self) -> Result<&mut AnyConnection, StoreError> {
        if self.broken {
            return Err(StoreError::TransactionLost);
        }
        let conn: &mut AnyConnection = match &mut self.conn {
            Connection::Own(conn) => conn,
            Connection::Nested { conn, .. } => conn,
        };
        if let Some(depth) = self.undo.take() {
            let undo =
                format!("ROLLBACK TO SAVEPOINT intake_{depth}; RELEASE SAVEPOINT intake_{depth}");
            if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(undo))
                .execute(&mut *conn)
                .await
            {
                // The savepoint is gone: the database ended the transaction itself. Going
                // on would write outside any transaction.
                tracing::error!(error = %e, "a transaction was lost; nothing in it is kept");
                self.broken = true;
                return Err(StoreError::TransactionLost);
            }
        }
        Ok(conn)
    }

    /// Sends the queued writes.
    async fn flush(&mut self) -> Result<(), StoreError> {
        let flushed = self.send_writes().await;
        if flushed.is_err() {
            // A failed statement at this level leaves the transaction unusable (aborted on
            // PostgreSQL, perhaps rolled back on SQLite): nothing more runs, nothing commits.
            self.broken = true;
        }
        flushed
    }

    async fn send_writes(&mut self) -> Result<(), StoreError> {
        let writes = std::mem::take(&mut self.writes);
        match self.backend {
            // One round trip: SQLite runs the statements in order, each taking its own
            // placeholders, renumbered to follow on from the ones before.
            Backend::Sqlite if !writes.is_empty() => {
                let mut sql = String::new();
                let mut offset = 0;
                for (statement, values) in &writes {
                    sql.push_str(&renumber(statement, offset));
                    sql.push_str(";\n");
                    offset += values.len();
                }
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for value in writes.into_iter().flat_map(|(_, values)| values) {
                    query = bind(query, value);
                }
                query.execute(self.conn().await?).await?;
            }
            _ => {
                for (statement, values) in writes {
                    let mut query = sqlx::query(statement);
                    for value in values {
                        query = bind(query, value);
                    }
                    query.execute(self.conn().await?).await?;
                }
            }
        }
        Ok(())
    }
}

fn bind(
    query: sqlx::query::Query<'static, Any, sqlx::any::AnyArguments>,
    value: Value,
) -> sqlx::query::Query<'static, Any, sqlx::any::AnyArguments> {
    match value {
        Value::Int(v) => query.bind(v),
        Value::MaybeInt(v) => query.bind(v),
        Value::Text(v) => query.bind(v),
        Value::MaybeText(v) => query.bind(v),
    }
}

/// `$1`, `$2`... become `$(offset + 1)`... so several statements can share one argument list.
/// The statements are this module's own constants, so only placeholders are rewritten.
fn renumber(statement: &str, offset: usize) -> String {
    let mut out = String::with_capacity(statement.len() + 8);
    let mut chars = statement.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
            digits.push(d);
            chars.next();
        }
        match digits.parse::<usize>() {
            Ok(n) => out.push_str(&format!("${}", n + offset)),
            Err(_) => out.push('$'),
        }
    }
    out
}

/// Whether `schema` is safe to write into a statement: lower-case letters, digits and _,
/// starting with a letter.
fn check_schema(schema: &str) -> Result<(), StoreError> {
    if schema
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && schema.starts_with(|c: char| c.is_ascii_lowercase())
    {
        Ok(())
    } else {
        Err(StoreError::Schema(schema.to_owned()))
    }
}

/// `sqlite://data/intake.db` with its folder created and `mode=rwc`, so the file is made on
/// first run.
fn prepare_sqlite(url: &str) -> Result<String, StoreError> {
    let (path, query) = sqlite_path(url);
    if path != ":memory:"
        && let Some(folder) = Path::new(path).parent()
        && !folder.as_os_str().is_empty()
    {
        std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
            path: folder.display().to_string(),
            source,
        })?;
    }
    Ok(if query.contains("mode=") {
        url.to_owned()
    } else if query.is_empty() {
        format!("sqlite://{path}?mode=rwc")
    } else {
        format!("sqlite://{path}?{query}&mode=rwc")
    })
}

/// The file a `sqlite:` URL names, and the URL's query (after `?`).
fn sqlite_path(url: &str) -> (&str, &str) {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.split_once('?').unwrap_or((rest, ""))
}

pub fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_on_between_statements() {
        assert_eq!(
            renumber("INSERT INTO t (a, b) VALUES ($1, $2) -- $x", 3),
            "INSERT INTO t (a, b) VALUES ($4, $5) -- $x"
        );
    }

    #[test]
    fn sqlite_urls_get_their_folder_and_create_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/nested/intake.db", dir.path().display());
        let prepared = prepare_sqlite(&url).expect("prepare");
        assert!(prepared.ends_with("intake.db?mode=rwc"), "{prepared}");
        assert!(dir.path().join("nested").is_dir());
        assert_eq!(
            redact("postgres://intake:hunter2@db:5432/intake"),
            "postgres://intake:[redacted]@db:5432/intake"
        );
        assert!(Backend::of("mysql://x").is_err());
    }
}
