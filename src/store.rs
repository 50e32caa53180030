//! The record (Code 5.12), in SQLite (the embedded default) or PostgreSQL, chosen by the URL.
//!
//! One code path serves both backends through sqlx's `Any` driver: queries use `$1`
//! placeholders and portable SQL, times are Unix milliseconds, JSON is text. Each backend has
//! its own migrations folder, embedded in the binary and applied at start-up.
//!
//! Everything one inbound message causes is written in one transaction (`Record`): the message
//! (recorded once per platform message id), its assessment, the conversation state, the
//! replies and their outbox rows. Nothing is sent before the commit.

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Row};

use crate::config::redact_url_password as redact;
use crate::core::dialog::NewCase;
use crate::core::policy::Assessment;
use crate::core::policy::train::{CorpusContext, Correction};

mod case_work;
pub use case_work::{CaseAction, ResidentEmail, email_address_in};

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
    #[error("a stored value is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
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

/// A conversation, keyed by channel and chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: i64,
    pub channel: String,
    pub chat: String,
    /// The dialog state as JSON.
    pub state: String,
    pub locale: String,
    /// The member of staff who has taken the conversation over: the bot is silent.
    pub claimed_by: Option<i64>,
}

/// A message as it arrived from a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbound {
    pub channel: String,
    pub chat: String,
    /// The platform's own id for the message, when it has one.
    pub platform_message_id: Option<String>,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub at: DateTime<Utc>,
}

/// A file, photo or voice note a resident sent, as the platform identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub kind: String,
    pub platform_file_id: String,
    pub name: Option<String>,
    pub size: Option<u64>,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: i64,
    pub direction: String,
    pub author: String,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub at: DateTime<Utc>,
}

/// A line of a conversation as a channel shows it: the message, and for a reply, what was
/// sent (text and choices) and whether it has been delivered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatLine {
    pub message: Message,
    pub outbox: Option<i64>,
    pub payload: Option<serde_json::Value>,
    pub sent: bool,
}

/// A resident message staff corrected the assessment of.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrectedMessage {
    pub message: i64,
    pub text: String,
    /// What was known of the case when the message was assessed.
    pub context: CorpusContext,
    pub assessed_risks: std::collections::BTreeSet<crate::core::policy::Risk>,
    pub corrections: Vec<Correction>,
}

/// A reply waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub message_id: i64,
    pub channel: String,
    pub chat: String,
    pub payload: String,
    pub attempts: i64,
}

/// Conversations the retention purge may erase (`$1` the cutoff): only closed complaints,
/// and only when every complaint of the conversation closed before the cutoff and nothing
/// was said since. With `$2`, one conversation.
pub const ERASABLE: &str = "SELECT DISTINCT c.conversation_id FROM cases c \
     WHERE c.erased_at IS NULL AND c.status = 'closed' \
     AND c.closed_at IS NOT NULL AND c.closed_at < $1 \
     AND ($2 IS NULL OR c.conversation_id = $2) \
     AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.conversation_id \
         AND m.at >= $1) \
     AND NOT EXISTS (SELECT 1 FROM cases o WHERE o.conversation_id = c.conversation_id \
         AND (o.status <> 'closed' OR o.closed_at IS NULL OR o.closed_at >= $1))";

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Store {
    /// Opens the database named by `url`, creating a SQLite file and its folder on first run,
    /// and applies the migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_with(StoreOptions::new(url)).await
    }

    pub async fn connect_with(options: StoreOptions) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(&options.url)?;
        if let Some(schema) = &options.schema
            && !(schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && schema.starts_with(|c: char| c.is_ascii_lowercase()))
        {
            return Err(StoreError::Schema(schema.clone()));
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
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for read-only reports and for tests.
    pub fn pool(&self) -> &AnyPool {
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
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
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

    /// Every message of a conversation, oldest first.
    pub async fn transcript(&self, conversation: i64) -> Result<Vec<Message>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, direction, author, body, attachments, at FROM messages \
             WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Message {
                    id: r.try_get("id")?,
                    direction: r.try_get("direction")?,
                    author: r.try_get("author")?,
                    body: r.try_get("body")?,
                    attachments: serde_json::from_str(&r.try_get::<String, _>("attachments")?)?,
                    at: from_millis(r.try_get("at")?),
                })
            })
            .collect()
    }

    /// The stored assessment of an inbound message, as JSON.
    pub async fn assessment_of(
        &self,
        message: i64,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let row = sqlx::query("SELECT assessment FROM assessments WHERE message_id = $1")
            .bind(message)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some(serde_json::from_str(
                &r.try_get::<String, _>("assessment")?,
            )?)),
            None => Ok(None),
        }
    }

    /// The stored assessment of the latest version of the inbound message a platform knows
    /// by `platform_id` (edits are kept as `<id>@<when>`).
    pub async fn assessment_of_platform_message(
        &self,
        channel: &str,
        platform_id: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let row = sqlx::query(
            "SELECT a.assessment FROM messages m JOIN assessments a ON a.message_id = m.id \
             WHERE m.channel = $1 AND m.direction = 'in' \
             AND (m.platform_message_id = $2 OR m.platform_message_id LIKE $3) \
             ORDER BY m.id DESC LIMIT 1",
        )
        .bind(channel)
        .bind(platform_id)
        .bind(format!("{platform_id}@%"))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(serde_json::from_str(
                &r.try_get::<String, _>("assessment")?,
            )?)),
            None => Ok(None),
        }
    }

    /// Conversations last active between `since` and `before`: (conversation, state).
    pub async fn idle_conversations(
        &self,
        since: DateTime<Utc>,
        before: DateTime<Utc>,
    ) -> Result<Vec<Conversation>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.channel, c.chat, c.state, c.locale, k.staff_id AS claimed_by \
             FROM conversations c LEFT JOIN claims k ON k.conversation_id = c.id \
             WHERE c.updated_at >= $1 AND c.updated_at < $2 ORDER BY c.id",
        )
        .bind(millis(since))
        .bind(millis(before))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Conversation {
                    id: r.try_get("id")?,
                    channel: r.try_get("channel")?,
                    chat: r.try_get("chat")?,
                    state: r.try_get("state")?,
                    locale: r.try_get("locale")?,
                    claimed_by: r.try_get("claimed_by")?,
                })
            })
            .collect()
    }

    /// Every message staff corrected, with its text, the risks it was assessed with and the
    /// corrections in the order they were made: the landlord's own labelled examples.
    pub async fn corrected_messages(&self) -> Result<Vec<CorrectedMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.message_id, m.body, a.assessment, c.field, c.value \
             FROM assessment_corrections c JOIN messages m ON m.id = c.message_id \
             JOIN assessments a ON a.message_id = c.message_id ORDER BY c.message_id, c.id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<CorrectedMessage> = Vec::new();
        for r in &rows {
            let message: i64 = r.try_get("message_id")?;
            let field: String = r.try_get("field")?;
            let value: String = r.try_get("value")?;
            let Some(correction) = Correction::parse(&field, &value) else {
                continue;
            };
            if out.last().is_none_or(|m| m.message != message) {
                let assessment: serde_json::Value =
                    serde_json::from_str(&r.try_get::<String, _>("assessment")?)?;
                let risks = assessment["risks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.as_str()?.parse().ok())
                    .collect();
                // Assessments recorded before the context was kept read as an empty case.
                let context = serde_json::from_value::<crate::core::policy::Context>(
                    assessment["context"].clone(),
                )
                .map(|c| CorpusContext::of(&c))
                .unwrap_or_default();
                out.push(CorrectedMessage {
                    message,
                    text: r.try_get("body")?,
                    context,
                    assessed_risks: risks,
                    corrections: Vec::new(),
                });
            }
            if let Some(last) = out.last_mut() {
                last.corrections.push(correction);
            }
        }
        Ok(out)
    }

    /// The full record of a complaint (Code 5.12): the case, every message both ways with the
    /// assessment of each inbound one, every event and alert of its conversation.
    pub async fn export_case(
        &self,
        reference: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let Some(case) = sqlx::query(
            "SELECT reference, conversation_id, stage, status, received_at, acknowledged_on, due_on, \
             definition, answers, suggested_route, created_at, updated_at FROM cases WHERE reference = $1",
        )
        .bind(reference)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let conversation: i64 = case.try_get("conversation_id")?;
        let conv = sqlx::query("SELECT channel, chat, locale FROM conversations WHERE id = $1")
            .bind(conversation)
            .fetch_one(&self.pool)
            .await?;
        let mut messages = Vec::new();
        for m in self.transcript(conversation).await? {
            let assessment = if m.direction == "in" {
                self.assessment_of(m.id).await?
            } else {
                None
            };
            let mut value = serde_json::to_value(&m)?;
            value["assessment"] = assessment.unwrap_or(serde_json::Value::Null);
            messages.push(value);
        }
        let events = sqlx::query(
            "SELECT kind, case_reference, detail, at FROM events WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(serde_json::json!({
                "kind": r.try_get::<String, _>("kind")?,
                "case_reference": r.try_get::<Option<String>, _>("case_reference")?,
                "detail": serde_json::from_str::<serde_json::Value>(&r.try_get::<String, _>("detail")?)?,
                "at": from_millis(r.try_get("at")?),
            }))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let alerts = sqlx::query(
            "SELECT kind, urgent, detail, at, acknowledged_at FROM alerts WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(serde_json::json!({
                "kind": r.try_get::<String, _>("kind")?,
                "urgent": r.try_get::<i64, _>("urgent")? != 0,
                "detail": r.try_get::<String, _>("detail")?,
                "at": from_millis(r.try_get("at")?),
                "acknowledged_at": r.try_get::<Option<i64>, _>("acknowledged_at")?.map(from_millis),
            }))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(serde_json::json!({
            "case": {
                "reference": case.try_get::<String, _>("reference")?,
                "stage": case.try_get::<i64, _>("stage")?,
                "status": case.try_get::<String, _>("status")?,
                "received_at": from_millis(case.try_get("received_at")?),
                "acknowledged_on": case.try_get::<String, _>("acknowledged_on")?,
                "due_on": case.try_get::<String, _>("due_on")?,
                "definition": case.try_get::<String, _>("definition")?,
                "answers": serde_json::from_str::<serde_json::Value>(&case.try_get::<String, _>("answers")?)?,
                "suggested_route": case.try_get::<Option<String>, _>("suggested_route")?,
                "created_at": from_millis(case.try_get("created_at")?),
                "updated_at": from_millis(case.try_get("updated_at")?),
            },
            "conversation": {
                "channel": conv.try_get::<String, _>("channel")?,
                "chat": conv.try_get::<String, _>("chat")?,
                "locale": conv.try_get::<String, _>("locale")?,
            },
            "messages": messages,
            "events": events,
            "alerts": alerts,
            "remedies_and_actions": self.case_actions(conversation).await?
                .into_iter().filter(|a| a.case_reference == reference).collect::<Vec<_>>(),
            "emails": self.resident_emails(conversation).await?,
        })))
    }

    /// The kinds of event recorded for a conversation, oldest first.
    pub async fn events(
        &self,
        conversation: i64,
    ) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        let rows =
            sqlx::query("SELECT kind, detail FROM events WHERE conversation_id = $1 ORDER BY id")
                .bind(conversation)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("kind")?,
                    serde_json::from_str(&r.try_get::<String, _>("detail")?)?,
                ))
            })
            .collect()
    }

    /// Alerts raised for a conversation: (kind, urgent).
    pub async fn alerts(&self, conversation: i64) -> Result<Vec<(String, bool)>, StoreError> {
        let rows =
            sqlx::query("SELECT kind, urgent FROM alerts WHERE conversation_id = $1 ORDER BY id")
                .bind(conversation)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get::<i64, _>("urgent")? != 0)))
            .collect()
    }

    /// A complaint: (stage, status, due date, definition).
    pub async fn case(
        &self,
        reference: &str,
    ) -> Result<Option<(i64, String, String, String)>, StoreError> {
        let row =
            sqlx::query("SELECT stage, status, due_on, definition FROM cases WHERE reference = $1")
                .bind(reference)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(r) => Ok(Some((
                r.try_get("stage")?,
                r.try_get("status")?,
                r.try_get("due_on")?,
                r.try_get("definition")?,
            ))),
            None => Ok(None),
        }
    }

    /// A complaint with its conversation: (conversation id, stage, status, due date).
    pub async fn case_of(
        &self,
        reference: &str,
    ) -> Result<Option<(i64, i64, String, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT conversation_id, stage, status, due_on FROM cases WHERE reference = $1",
        )
        .bind(reference)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some((
                r.try_get("conversation_id")?,
                r.try_get("stage")?,
                r.try_get("status")?,
                r.try_get("due_on")?,
            ))),
            None => Ok(None),
        }
    }

    /// Working days a complaint's stage has been extended by so far.
    pub async fn extended_days(&self, reference: &str, stage: u8) -> Result<u32, StoreError> {
        let rows = sqlx::query(
            "SELECT detail FROM events WHERE case_reference = $1 AND kind = 'extension'",
        )
        .bind(reference)
        .fetch_all(&self.pool)
        .await?;
        let mut total = 0u32;
        for r in rows {
            let detail: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>("detail")?)?;
            if detail["stage"].as_u64() == Some(u64::from(stage)) {
                let days = detail["working_days"].as_u64().unwrap_or(0);
                total = total.saturating_add(u32::try_from(days).unwrap_or(u32::MAX));
            }
        }
        Ok(total)
    }

    /// Replies due for delivery at `now`, oldest first.
    pub async fn due_outbox(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, message_id, channel, chat, payload, attempts FROM outbox \
             WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2",
        )
        .bind(millis(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(outbox_item).collect()
    }

    /// Replies due on `channel` at `now`, oldest first. A reply waiting behind an earlier one
    /// to the same chat that is not yet due (after a failure, or claimed by another replica)
    /// is held back, so replies reach a resident in the order they were written.
    ///
    /// Two single-table scans on partial indexes rather than one anti-join: first the chats
    /// held back and from which reply, then the due replies in order without those. Neither
    /// plan depends on the planner's statistics.
    pub async fn due_outbox_on(
        &self,
        channel: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        /// Held chats named in the query; the rest are filtered here.
        const NAMED: usize = 200;
        /// Waiting replies read at once; past this, each candidate is checked on its own.
        const HELD: i64 = 50_000;
        /// Pages of due replies read at most, so one call stays bounded.
        const PAGES: usize = 50;
        let wanted = usize::try_from(limit.max(0)).unwrap_or(usize::MAX);
        let mut record = self.begin().await?;
        if self.backend == Backend::Postgres {
            // Index scans only, in index order: with the statistics stale (a table that grew
            // fast, as under load), the planner otherwise sorts the whole backlog.
            sqlx::raw_sql(
                "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; \
                 SET LOCAL enable_sort = off",
            )
            .execute(record.conn().await?)
            .await?;
        }
        // The replies waiting to be tried again (a range scan on one index; grouped here, so
        // no plan can choose to walk every pending reply to group them), and from them the
        // chats held back and from which reply, those held longest first.
        // SQLite is told the index outright (it has no planner switches; after ANALYZE it
        // preferred walking the primary key through every sent reply).
        let sqlite = self.backend == Backend::Sqlite;
        let waiting_sql = format!(
            "SELECT chat, id FROM outbox {} \
             WHERE channel = $1 AND sent_at IS NULL AND next_attempt_at > $2 LIMIT $3",
            if sqlite {
                "INDEXED BY outbox_waiting"
            } else {
                ""
            }
        );
        let waiting = sqlx::query(sqlx::AssertSqlSafe(waiting_sql))
            .bind(channel)
            .bind(millis(now))
            .bind(HELD + 1)
            .fetch_all(record.conn().await?)
            .await?;
        let mut first: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        for row in &waiting {
            let chat: String = row.try_get("chat")?;
            let id: i64 = row.try_get("id")?;
            let from = first.entry(chat).or_insert(id);
            *from = (*from).min(id);
        }
        let mut held: Vec<(String, i64)> = first.into_iter().collect();
        held.sort_by_key(|(_, from)| *from);
        let complete = waiting.len() <= usize::try_from(HELD).unwrap_or(usize::MAX);
        let named = &held[..held.len().min(NAMED)];
        let rest: std::collections::HashMap<&str, i64> = held[named.len()..]
            .iter()
            .map(|(chat, from)| (chat.as_str(), *from))
            .collect();
        // `+next_attempt_at` keeps the planner off the index on that column: the scan walks
        // the pending replies in id order from `$3`, never sorting a backlog.
        let mut sql = format!(
            "SELECT id, message_id, channel, chat, payload, attempts FROM outbox {} \
             WHERE channel = $1 AND sent_at IS NULL AND +next_attempt_at <= $2 AND id > $3",
            if sqlite {
                "INDEXED BY outbox_pending_in_order"
            } else {
                ""
            }
        );
        for n in 0..named.len() {
            let at = 5 + 2 * n;
            sql.push_str(&format!(" AND NOT (chat = ${at} AND id > ${})", at + 1));
        }
        sql.push_str(" ORDER BY id LIMIT $4");
        let mut due = Vec::new();
        let mut after = 0_i64;
        for _ in 0..PAGES {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(channel)
                .bind(millis(now))
                .bind(after)
                .bind(limit.max(1));
            for (chat, from) in named {
                query = query.bind(chat.clone()).bind(*from);
            }
            let rows = query.fetch_all(record.conn().await?).await?;
            let full_page = rows.len() >= usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
            for row in rows {
                let item = outbox_item(&row)?;
                after = item.id;
                let held_back = match rest.get(item.chat.as_str()) {
                    Some(from) => item.id > *from,
                    // Too many chats held to list: ask about this one.
                    None if !complete => sqlx::query(
                        "SELECT 1 AS held FROM outbox WHERE channel = $1 AND chat = $2 \
                         AND sent_at IS NULL AND next_attempt_at > $3 AND id < $4 LIMIT 1",
                    )
                    .bind(channel)
                    .bind(&item.chat)
                    .bind(millis(now))
                    .bind(item.id)
                    .fetch_optional(record.conn().await?)
                    .await?
                    .is_some(),
                    None => false,
                };
                if !held_back {
                    due.push(item);
                    if due.len() >= wanted {
                        break;
                    }
                }
            }
            if due.len() >= wanted || !full_page {
                break;
            }
        }
        record.commit().await?;
        Ok(due)
    }

    /// Claims a due reply for `lease`, so that with several replicas only one sends it. A
    /// sender that dies holding a claim leaves the reply to be sent when the lease ends.
    pub async fn claim_outbox(
        &self,
        outbox: i64,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1 \
             WHERE id = $2 AND sent_at IS NULL AND next_attempt_at <= $3",
        )
        .bind(millis(now + lease))
        .bind(outbox)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The conversation on (channel, chat), if there is one.
    pub async fn find_conversation(
        &self,
        channel: &str,
        chat: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        let row = sqlx::query(CONVERSATION_BY_CHAT)
            .bind(channel)
            .bind(chat)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(conversation_row).transpose()
    }

    /// The conversation with this id, if there is one.
    pub async fn conversation_by_id(&self, id: i64) -> Result<Option<Conversation>, StoreError> {
        let row = sqlx::query(
            "SELECT c.id, c.channel, c.chat, c.state, c.locale, k.staff_id AS claimed_by \
             FROM conversations c LEFT JOIN claims k ON k.conversation_id = c.id WHERE c.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(conversation_row).transpose()
    }

    /// The lines of the conversation on (channel, chat) after message `after`, oldest first,
    /// each outbound one with what was sent (its text and choices) and its outbox row.
    pub async fn chat_lines(
        &self,
        channel: &str,
        chat: &str,
        after: i64,
    ) -> Result<Vec<ChatLine>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id, m.direction, m.author, m.body, m.attachments, m.at, \
                    o.id AS outbox_id, o.payload, o.sent_at \
             FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             LEFT JOIN outbox o ON o.message_id = m.id \
             WHERE c.channel = $1 AND c.chat = $2 AND m.id > $3 ORDER BY m.id",
        )
        .bind(channel)
        .bind(chat)
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let payload: Option<String> = r.try_get("payload")?;
                Ok(ChatLine {
                    message: Message {
                        id: r.try_get("id")?,
                        direction: r.try_get("direction")?,
                        author: r.try_get("author")?,
                        body: r.try_get("body")?,
                        attachments: serde_json::from_str(&r.try_get::<String, _>("attachments")?)?,
                        at: from_millis(r.try_get("at")?),
                    },
                    outbox: r.try_get("outbox_id")?,
                    payload: payload.map(|p| serde_json::from_str(&p)).transpose()?,
                    sent: r.try_get::<Option<i64>, _>("sent_at")?.is_some(),
                })
            })
            .collect()
    }

    /// The buttons the bot offered most recently in a conversation (its last few replies,
    /// newest first), as (key, label): a press is recorded with the label the bot showed,
    /// never one the client makes up.
    pub async fn offered_choices(
        &self,
        channel: &str,
        chat: &str,
    ) -> Result<Vec<crate::core::dialog::Choice>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.payload FROM outbox o \
             JOIN messages m ON m.id = o.message_id \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE c.channel = $1 AND c.chat = $2 ORDER BY o.id DESC LIMIT 5",
        )
        .bind(channel)
        .bind(chat)
        .fetch_all(&self.pool)
        .await?;
        let mut offered = Vec::new();
        for r in rows {
            let payload: String = r.try_get("payload")?;
            if let Ok(reply) = serde_json::from_str::<crate::core::dialog::Reply>(&payload) {
                offered.extend(reply.choices);
            }
        }
        Ok(offered)
    }

    /// The platform accepted the reply.
    pub async fn mark_sent(&self, outbox: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET sent_at = $1, attempts = attempts + 1 WHERE id = $2")
            .bind(millis(now))
            .bind(outbox)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Delivery failed; try again at `retry_at`. The reply is never dropped.
    pub async fn mark_failed(
        &self,
        outbox: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 \
             WHERE id = $3",
        )
        .bind(error)
        .bind(millis(retry_at))
        .bind(outbox)
        .execute(&self.pool)
        .await?;
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

    /// The conversation for (channel, chat), started with `initial_state` if it is new.
    pub async fn conversation(
        &mut self,
        channel: &str,
        chat: &str,
        initial_state: &str,
        locale: &str,
        now: DateTime<Utc>,
    ) -> Result<Conversation, StoreError> {
        let select = CONVERSATION_BY_CHAT;
        let mut found = sqlx::query(select)
            .bind(channel)
            .bind(chat)
            .fetch_optional(self.conn().await?)
            .await?;
        if found.is_none() {
            sqlx::query(
                "INSERT INTO conversations (channel, chat, state, locale, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (channel, chat) DO NOTHING",
            )
            .bind(channel)
            .bind(chat)
            .bind(initial_state)
            .bind(locale)
            .bind(millis(now))
            .execute(self.conn().await?)
            .await?;
            found = sqlx::query(select)
                .bind(channel)
                .bind(chat)
                .fetch_optional(self.conn().await?)
                .await?;
        }
        let row = found.ok_or(sqlx::Error::RowNotFound)?;
        conversation_row(&row)
    }

    /// Records an inbound message. `None` when the platform delivered it before: it was
    /// recorded then, and nothing more must happen now.
    pub async fn inbound(
        &mut self,
        conversation: &Conversation,
        message: &Inbound,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "INSERT INTO messages \
             (conversation_id, channel, direction, author, platform_message_id, body, attachments, at) \
             VALUES ($1, $2, 'in', 'resident', $3, $4, $5, $6) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(conversation.id)
        .bind(&message.channel)
        .bind(message.platform_message_id.as_deref())
        .bind(&message.body)
        .bind(serde_json::to_string(&message.attachments)?)
        .bind(millis(message.at))
        .fetch_optional(self.conn().await?)
        .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("id")?),
            None => None,
        })
    }

    /// Hands out the reference for a new complaint: `C<year>-<number>`, never the same twice.
    pub async fn allocate_reference(&mut self, year: i32) -> Result<String, StoreError> {
        let row = sqlx::query(
            "UPDATE counters SET value = value + 1 WHERE name = 'case_reference' RETURNING value",
        )
        .fetch_one(self.conn().await?)
        .await?;
        let n: i64 = row.try_get("value")?;
        Ok(format!("C{year}-{n:05}"))
    }

    /// Records the policy engine's assessment of an inbound message, with its reasons.
    pub fn assessment(
        &mut self,
        message: i64,
        assessment: &Assessment,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.queue(
            "INSERT INTO assessments (message_id, assessment, at) VALUES ($1, $2, $3)",
            vec![
                Value::Int(message),
                Value::Text(serde_json::to_string(assessment)?),
                Value::Int(millis(now)),
            ],
        );
        Ok(())
    }

    /// Records a reply (from the bot or a member of staff) and queues it for delivery.
    pub fn outbound(
        &mut self,
        conversation: &Conversation,
        author: &str,
        body: &str,
        payload: &serde_json::Value,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO messages \
             (conversation_id, channel, direction, author, platform_message_id, body, attachments, at) \
             VALUES ($1, $2, 'out', $3, NULL, $4, '[]', $5)",
            vec![
                Value::Int(conversation.id),
                Value::Text(conversation.channel.clone()),
                Value::Text(author.to_owned()),
                Value::Text(body.to_owned()),
                Value::Int(millis(now)),
            ],
        );
        // The outbox row points at the message just written, by this connection's last
        // inserted id (a single writer on SQLite; the session's sequence on PostgreSQL).
        let sql = match self.backend {
            Backend::Sqlite => {
                "INSERT INTO outbox (message_id, channel, chat, payload, attempts, next_attempt_at) \
                 VALUES (last_insert_rowid(), $1, $2, $3, 0, $4)"
            }
            Backend::Postgres => {
                "INSERT INTO outbox (message_id, channel, chat, payload, attempts, next_attempt_at) \
                 VALUES (currval(pg_get_serial_sequence('messages', 'id')), $1, $2, $3, 0, $4)"
            }
        };
        self.queue(
            sql,
            vec![
                Value::Text(conversation.channel.clone()),
                Value::Text(conversation.chat.clone()),
                Value::Text(payload.to_string()),
                Value::Int(millis(now)),
            ],
        );
    }

    /// Keeps the conversation's current dialog state.
    pub fn save_state(&mut self, conversation: &Conversation, state: &str, now: DateTime<Utc>) {
        self.queue(
            "UPDATE conversations SET state = $1, updated_at = $2 WHERE id = $3",
            vec![
                Value::Text(state.to_owned()),
                Value::Int(millis(now)),
                Value::Int(conversation.id),
            ],
        );
    }

    /// Marks the conversation active now, leaving its dialog state as it is (staff actions
    /// must not write back a copy of the state read before the transaction).
    pub fn touch(&mut self, conversation: &Conversation, now: DateTime<Utc>) {
        self.queue(
            "UPDATE conversations SET updated_at = $1 WHERE id = $2",
            vec![Value::Int(millis(now)), Value::Int(conversation.id)],
        );
    }

    /// Marks a complaint's stage responded, if it was awaiting its response: false when it
    /// was not (already responded, or at another stage), so a response is never sent twice.
    pub async fn case_responded(
        &mut self,
        reference: &str,
        stage: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let done = sqlx::query(
            "UPDATE cases SET status = 'responded', updated_at = $1 \
             WHERE reference = $2 AND stage = $3 AND status = 'acknowledged'",
        )
        .bind(millis(now))
        .bind(reference)
        .bind(stage)
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Opens a complaint at stage 1.
    pub fn open_case(
        &mut self,
        conversation: &Conversation,
        case: &NewCase,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.queue(
            "INSERT INTO cases (reference, conversation_id, stage, status, received_at, \
             acknowledged_on, due_on, definition, answers, suggested_route, created_at, updated_at) \
             VALUES ($1, $2, 1, 'acknowledged', $3, $4, $5, $6, $7, $8, $9, $9)",
            vec![
                Value::Text(case.reference.clone()),
                Value::Int(conversation.id),
                Value::Int(millis(case.received_at)),
                Value::Text(case.acknowledged_on.to_string()),
                Value::Text(case.due_on.to_string()),
                Value::Text(case.definition.clone()),
                Value::Text(serde_json::to_string(&case.answers)?),
                Value::MaybeText(case.suggested_route.map(|r| r.as_str().to_owned())),
                Value::Int(millis(now)),
            ],
        );
        Ok(())
    }

    /// Moves a complaint to stage 2 with its new dates (6.11, 6.14).
    pub fn escalate(
        &mut self,
        reference: &str,
        acknowledged_on: NaiveDate,
        due_on: NaiveDate,
        now: DateTime<Utc>,
    ) {
        self.queue(
            // Stage 2 starts with no handler: it must be someone other than the stage 1
            // handler (6.13), named by a manager or taken by whoever responds.
            // A closed stage 1 complaint is open again: the retention period (which runs from
            // closed_at) must not erase it while stage 2 is under way.
            "UPDATE cases SET stage = 2, status = 'acknowledged', acknowledged_on = $1, \
             due_on = $2, handler_id = NULL, closed_at = NULL, updated_at = $3 \
             WHERE reference = $4",
            vec![
                Value::Text(acknowledged_on.to_string()),
                Value::Text(due_on.to_string()),
                Value::Int(millis(now)),
                Value::Text(reference.to_owned()),
            ],
        );
    }

    /// Appends an event to the conversation's record.
    pub fn event(
        &mut self,
        conversation: &Conversation,
        case_reference: Option<&str>,
        kind: &str,
        detail: &serde_json::Value,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO events (conversation_id, case_reference, kind, detail, at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                Value::Int(conversation.id),
                Value::MaybeText(case_reference.map(str::to_owned)),
                Value::Text(kind.to_owned()),
                Value::Text(detail.to_string()),
                Value::Int(millis(now)),
            ],
        );
    }

    /// Raises an alert for managers.
    pub fn alert(
        &mut self,
        conversation: &Conversation,
        kind: &str,
        urgent: bool,
        detail: &str,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO alerts (conversation_id, kind, urgent, detail, at) VALUES ($1, $2, $3, $4, $5)",
            vec![
                Value::Int(conversation.id),
                Value::Text(kind.to_owned()),
                Value::Int(i64::from(urgent)),
                Value::Text(detail.to_owned()),
                Value::Int(millis(now)),
            ],
        );
    }

    /// Takes the conversation over for `staff`: `Some(true)` if they have just taken it,
    /// `Some(false)` if they already held it, `None` if someone else does.
    pub async fn claim(
        &mut self,
        conversation: &Conversation,
        staff: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<bool>, StoreError> {
        self.flush().await?;
        let inserted = sqlx::query(
            "INSERT INTO claims (conversation_id, staff_id, claimed_at, last_activity_at) \
             VALUES ($1, $2, $3, $3) ON CONFLICT (conversation_id) DO NOTHING",
        )
        .bind(conversation.id)
        .bind(staff)
        .bind(millis(now))
        .execute(self.conn().await?)
        .await?
        .rows_affected()
            == 1;
        let holder: i64 = sqlx::query("SELECT staff_id FROM claims WHERE conversation_id = $1")
            .bind(conversation.id)
            .fetch_one(self.conn().await?)
            .await?
            .try_get("staff_id")?;
        Ok((holder == staff).then_some(inserted))
    }

    /// Notes that the holder of a conversation has just acted in it (an idle claim raises an
    /// alert rather than leaving the resident unanswered).
    pub fn claim_active(&mut self, conversation: &Conversation, now: DateTime<Utc>) {
        self.queue(
            "UPDATE claims SET last_activity_at = $1 WHERE conversation_id = $2",
            vec![Value::Int(millis(now)), Value::Int(conversation.id)],
        );
    }

    /// Hands the conversation back to the bot.
    pub fn release(&mut self, conversation: &Conversation) {
        self.queue(
            "DELETE FROM claims WHERE conversation_id = $1",
            vec![Value::Int(conversation.id)],
        );
    }

    /// An internal note on a conversation, for staff only.
    pub fn note(&mut self, conversation: i64, staff: i64, body: &str, now: DateTime<Utc>) {
        self.queue(
            "INSERT INTO notes (conversation_id, staff_id, body, at) VALUES ($1, $2, $3, $4)",
            vec![
                Value::Int(conversation),
                Value::Int(staff),
                Value::Text(body.to_owned()),
                Value::Int(millis(now)),
            ],
        );
    }

    /// A member of staff marks one field of a message's assessment wrong.
    pub fn correction(
        &mut self,
        message: i64,
        staff: i64,
        correction: &Correction,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO assessment_corrections (message_id, staff_id, field, value, at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                Value::Int(message),
                Value::Int(staff),
                Value::Text(correction.field().to_owned()),
                Value::Text(correction.value()),
                Value::Int(millis(now)),
            ],
        );
    }

    /// Closes a complaint that has had its final word (a response or an exclusion decision);
    /// false if it was not in that state.
    pub async fn close_case(
        &mut self,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let done = sqlx::query(
            "UPDATE cases SET status = 'closed', closed_at = $1, updated_at = $1 \
             WHERE reference = $2 AND status IN ('responded', 'excluded')",
        )
        .bind(millis(now))
        .bind(reference)
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether a conversation may be erased now (checked inside the erasing transaction, so
    /// a message or an escalation committed since the purge looked cannot be erased with
    /// it): every complaint closed before `cutoff`, none open, nothing said since.
    pub async fn erasable(&mut self, conversation: i64, cutoff: i64) -> Result<bool, StoreError> {
        self.flush().await?;
        let found = sqlx::query(ERASABLE)
            .bind(cutoff)
            .bind(conversation)
            .fetch_optional(self.conn().await?)
            .await?;
        Ok(found.is_some())
    }

    /// The retention purge for one conversation: every message, assessment, reply, event,
    /// alert, note and claim is deleted, the complaints keep only their reference, stage and
    /// dates, the platform's chat id is replaced, and each complaint is added to the
    /// anonymised counts. The staff audit stays (it holds who did what, not what was said).
    pub fn erase_conversation(
        &mut self,
        conversation: i64,
        counts: &[(String, String, i64, String)],
        now: DateTime<Utc>,
    ) {
        const ERASE: &[&str] = &[
            "DELETE FROM alert_deliveries WHERE alert_id IN (SELECT id FROM alerts WHERE conversation_id = $1)",
            "DELETE FROM alerts WHERE conversation_id = $1",
            "DELETE FROM outbox WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = $1)",
            "DELETE FROM assessments WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = $1)",
            "DELETE FROM assessment_corrections WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = $1)",
            "DELETE FROM messages WHERE conversation_id = $1",
            "DELETE FROM events WHERE conversation_id = $1",
            "DELETE FROM notes WHERE conversation_id = $1",
            "DELETE FROM claims WHERE conversation_id = $1",
            "DELETE FROM resident_emails WHERE conversation_id = $1",
            "UPDATE case_actions SET description = '' WHERE case_reference IN (SELECT reference FROM cases WHERE conversation_id = $1)",
            "UPDATE conversations SET state = '{}', chat = 'erased:' || CAST(id AS TEXT) WHERE id = $1",
        ];
        for statement in ERASE {
            self.queue(statement, vec![Value::Int(conversation)]);
        }
        self.queue(
            "UPDATE cases SET definition = '', answers = '{}', suggested_route = NULL, erased_at = $1 \
             WHERE conversation_id = $2",
            vec![Value::Int(millis(now)), Value::Int(conversation)],
        );
        for (month, channel, stage, status) in counts {
            self.queue(
                "INSERT INTO retention_counts (month, channel, stage, status, complaints) \
                 VALUES ($1, $2, $3, $4, 1) ON CONFLICT (month, channel, stage, status) \
                 DO UPDATE SET complaints = retention_counts.complaints + 1",
                vec![
                    Value::Text(month.clone()),
                    Value::Text(channel.clone()),
                    Value::Int(*stage),
                    Value::Text(status.clone()),
                ],
            );
        }
    }

    /// Records a staff action: who, when, what.
    pub fn audit(
        &mut self,
        staff: i64,
        action: &str,
        conversation: Option<i64>,
        case: Option<&str>,
        detail: &serde_json::Value,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO audit (staff_id, action, conversation_id, case_reference, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                Value::Int(staff),
                Value::Text(action.to_owned()),
                Value::MaybeInt(conversation),
                Value::MaybeText(case.map(str::to_owned)),
                Value::Text(detail.to_string()),
                Value::Int(millis(now)),
            ],
        );
    }

    /// Claims a job that must happen once (a deadline warning, an escalation): true for the
    /// first caller; with several replicas, the others see false.
    pub async fn once(
        &mut self,
        job: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let done = sqlx::query(
            "INSERT INTO scheduled_once (job, key, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(job)
        .bind(key)
        .bind(millis(now))
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Where a complaint stands: `acknowledged` (awaiting a response) or `responded`.
    pub fn case_status(&mut self, reference: &str, status: &str, now: DateTime<Utc>) {
        self.queue(
            "UPDATE cases SET status = $1, updated_at = $2 WHERE reference = $3",
            vec![
                Value::Text(status.to_owned()),
                Value::Int(millis(now)),
                Value::Text(reference.to_owned()),
            ],
        );
    }

    /// Marks an alert acknowledged by `staff`; false if it already was.
    pub async fn acknowledge_alert(
        &mut self,
        alert: i64,
        staff: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let done = sqlx::query(
            "UPDATE alerts SET acknowledged_at = $1, acknowledged_by = $2 \
             WHERE id = $3 AND acknowledged_at IS NULL",
        )
        .bind(millis(now))
        .bind(staff)
        .bind(alert)
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A complaint's response date, moved by an extension.
    pub fn case_due(&mut self, reference: &str, due_on: NaiveDate, now: DateTime<Utc>) {
        self.queue(
            "UPDATE cases SET due_on = $1, updated_at = $2 WHERE reference = $3",
            vec![
                Value::Text(due_on.to_string()),
                Value::Int(millis(now)),
                Value::Text(reference.to_owned()),
            ],
        );
    }

    /// Decides the route the engine suggested (2.5): the complaint is excluded, or taken on
    /// as a complaint after all. False, with nothing changed, when no route was suggested or
    /// the complaint is no longer awaiting a response.
    pub async fn decide_route(
        &mut self,
        reference: &str,
        exclude: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let status = if exclude { "excluded" } else { "acknowledged" };
        let done = sqlx::query(
            "UPDATE cases SET suggested_route = NULL, status = $1, updated_at = $2 \
             WHERE reference = $3 AND suggested_route IS NOT NULL AND status = 'acknowledged'",
        )
        .bind(status)
        .bind(millis(now))
        .bind(reference)
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Raises an alert about a conversation known only by its id.
    pub fn alert_on(
        &mut self,
        conversation: i64,
        kind: &str,
        urgent: bool,
        detail: &str,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO alerts (conversation_id, kind, urgent, detail, at) VALUES ($1, $2, $3, $4, $5)",
            vec![
                Value::Int(conversation),
                Value::Text(kind.to_owned()),
                Value::Int(i64::from(urgent)),
                Value::Text(detail.to_owned()),
                Value::Int(millis(now)),
            ],
        );
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

/// `sqlite://data/intake.db` with its folder created and `mode=rwc`, so the file is made on
/// first run.
fn prepare_sqlite(url: &str) -> Result<String, StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
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

/// A conversation with who holds it, by (channel, chat).
const CONVERSATION_BY_CHAT: &str = "SELECT c.id, c.channel, c.chat, c.state, c.locale, k.staff_id AS claimed_by \
     FROM conversations c LEFT JOIN claims k ON k.conversation_id = c.id \
     WHERE c.channel = $1 AND c.chat = $2";

fn conversation_row(r: &sqlx::any::AnyRow) -> Result<Conversation, StoreError> {
    Ok(Conversation {
        id: r.try_get("id")?,
        channel: r.try_get("channel")?,
        chat: r.try_get("chat")?,
        state: r.try_get("state")?,
        locale: r.try_get("locale")?,
        claimed_by: r.try_get("claimed_by")?,
    })
}

fn outbox_item(r: &sqlx::any::AnyRow) -> Result<OutboxItem, StoreError> {
    Ok(OutboxItem {
        id: r.try_get("id")?,
        message_id: r.try_get("message_id")?,
        channel: r.try_get("channel")?,
        chat: r.try_get("chat")?,
        payload: r.try_get("payload")?,
        attempts: r.try_get("attempts")?,
    })
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
