//! Standard messages kept in the record (issue 12): each message's current name and text
//! (what the reply box offers, unless it is retired), every version it has had with who wrote
//! it and when, and each change in the console's audit in the same transaction. The shipped or
//! landlord file seeds the record once; from then on managers edit the messages in the console.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Record, Store, StoreError, Value, from_millis, millis};
use crate::core::ids::StaffId;

/// The job `scheduled_once` records when the file has seeded the record: only one replica, and
/// only the first start, seeds it.
const SEEDED: &str = "standard_messages_seeded";

/// A standard message's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StandardMessageId(pub i64);

impl fmt::Display for StandardMessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for StandardMessageId {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<StandardMessageId, Self::Err> {
        s.parse().map(StandardMessageId)
    }
}

/// A standard message as it stands: its current version, and whether it is retired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredStandardMessage {
    pub id: StandardMessageId,
    pub name: String,
    pub text: String,
    pub version: i64,
    pub retired_at: Option<DateTime<Utc>>,
    /// Who made the last change (`None`: seeded from the file).
    pub updated_by: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// One version of a standard message: its name and text, who wrote it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandardVersion {
    pub version: i64,
    pub name: String,
    pub text: String,
    /// `None`: seeded from the shipped or landlord file.
    pub by: Option<String>,
    pub at: DateTime<Utc>,
}

/// A change to a standard message, as the audit holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandardAuditLine {
    pub staff: String,
    /// `standard_message_added`, `_edited`, `_retired` or `_restored`.
    pub action: String,
    pub message: Option<StandardMessageId>,
    /// The message's name as the change left it.
    pub name: String,
    pub version: Option<i64>,
    pub at: DateTime<Utc>,
}

/// A change to an existing standard message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandardChange<'a> {
    /// A new version, written over `based_on`, the version the editor started from.
    Edit {
        based_on: i64,
        name: &'a str,
        text: &'a str,
    },
    Retire,
    Restore,
}

/// What became of an addition or a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandardChanged {
    /// Done: the message and its version now.
    Done(StandardMessageId, i64),
    /// It is already so: nothing written, nothing audited.
    Unchanged,
    NoSuchMessage,
    /// Someone saved another version since the editor's: nothing written.
    Stale {
        current: i64,
    },
    /// Another message in the picker has this name: nothing written.
    NameTaken,
}

impl Store {
    /// Seeds the record with `messages` (name, text) unless it was seeded before, by this
    /// process or another replica; true when this call seeded it.
    pub async fn seed_standard_messages(
        &self,
        messages: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // A read first: the console asks on every conversation page, and a write transaction
        // each time would queue behind the bot's on SQLite.
        let seeded = sqlx::query("SELECT COUNT(*) AS n FROM scheduled_once WHERE job = $1")
            .bind(SEEDED)
            .fetch_one(&self.pool)
            .await?
            .try_get::<i64, _>("n")?;
        if seeded > 0 {
            return Ok(false);
        }
        let mut record = self.begin().await?;
        // Claimed in the same transaction as the rows: a second replica waits on the claim,
        // then sees it taken and writes nothing.
        if !record.once(SEEDED, "", now).await? {
            return Ok(false);
        }
        for (name, text) in messages {
            let id = insert_message(&mut record, None, name, text, now).await?;
            insert_version(&mut record, id, 1, None, name, text, now);
        }
        record.commit().await?;
        Ok(true)
    }

    /// Every standard message, in the order they were added; retired ones only if asked.
    pub async fn standard_messages(
        &self,
        with_retired: bool,
    ) -> Result<Vec<StoredStandardMessage>, StoreError> {
        let sql = if with_retired {
            "SELECT m.id, m.name, m.text, m.version, m.retired_at, m.updated_at, s.name AS by \
             FROM standard_messages m LEFT JOIN staff s ON s.id = m.updated_by ORDER BY m.id"
        } else {
            "SELECT m.id, m.name, m.text, m.version, m.retired_at, m.updated_at, s.name AS by \
             FROM standard_messages m LEFT JOIN staff s ON s.id = m.updated_by \
             WHERE m.retired_at IS NULL ORDER BY m.id"
        };
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter().map(stored).collect()
    }

    /// One standard message as it stands.
    pub async fn standard_message(
        &self,
        id: StandardMessageId,
    ) -> Result<Option<StoredStandardMessage>, StoreError> {
        let row = sqlx::query(
            "SELECT m.id, m.name, m.text, m.version, m.retired_at, m.updated_at, s.name AS by \
             FROM standard_messages m LEFT JOIN staff s ON s.id = m.updated_by WHERE m.id = $1",
        )
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(stored).transpose()
    }

    /// Every version of a standard message, newest first.
    pub async fn standard_message_versions(
        &self,
        id: StandardMessageId,
    ) -> Result<Vec<StandardVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.version, v.name, v.text, v.at, s.name AS by FROM standard_message_versions v \
             LEFT JOIN staff s ON s.id = v.staff_id WHERE v.message_id = $1 ORDER BY v.version DESC",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StandardVersion {
                    version: r.try_get("version")?,
                    name: r.try_get("name")?,
                    text: r.try_get("text")?,
                    by: r.try_get("by")?,
                    at: from_millis(r.try_get("at")?),
                })
            })
            .collect()
    }

    /// The audit of changes to standard messages, newest first: the latest `limit`, or, for
    /// one message, all of its own.
    pub async fn standard_message_audit(
        &self,
        message: Option<StandardMessageId>,
        limit: i64,
    ) -> Result<Vec<StandardAuditLine>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.name, a.action, a.detail, a.at FROM audit a JOIN staff s ON s.id = a.staff_id \
             WHERE a.action IN ('standard_message_added', 'standard_message_edited', \
             'standard_message_retired', 'standard_message_restored') ORDER BY a.id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut lines = Vec::new();
        for r in &rows {
            let detail: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>("detail")?)?;
            let line = StandardAuditLine {
                staff: r.try_get("name")?,
                action: r.try_get("action")?,
                message: detail["message"].as_i64().map(StandardMessageId),
                name: detail["name"].as_str().unwrap_or_default().to_owned(),
                version: detail["version"].as_i64(),
                at: from_millis(r.try_get("at")?),
            };
            if message.is_none_or(|m| line.message == Some(m)) {
                lines.push(line);
            }
            if message.is_none() && lines.len() as i64 >= limit {
                break;
            }
        }
        Ok(lines)
    }

    /// Adds a standard message as `by`'s version 1, audited; refused if a message in the
    /// picker has the name.
    pub async fn add_standard_message(
        &self,
        by: StaffId,
        name: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<StandardChanged, StoreError> {
        let mut record = self.begin().await?;
        if name_taken(&mut record, name, None).await? {
            return Ok(StandardChanged::NameTaken);
        }
        let id = insert_message(&mut record, Some(by), name, text, now).await?;
        insert_version(&mut record, id, 1, Some(by), name, text, now);
        audit(&mut record, by, "standard_message_added", id, name, 1, now);
        record.commit().await?;
        Ok(StandardChanged::Done(id, 1))
    }

    /// Changes a standard message as `by`, audited, in one transaction. An edit is a new
    /// version only if it starts from the current one, so two managers editing at once
    /// cannot overwrite each other unseen.
    pub async fn change_standard_message(
        &self,
        by: StaffId,
        id: StandardMessageId,
        change: StandardChange<'_>,
        now: DateTime<Utc>,
    ) -> Result<StandardChanged, StoreError> {
        let mut record = self.begin().await?;
        let Some(Current {
            name,
            text: old_text,
            version,
            retired,
        }) = current_of(&mut record, id).await?
        else {
            return Ok(StandardChanged::NoSuchMessage);
        };
        match change {
            StandardChange::Edit {
                based_on,
                name: new_name,
                text,
            } => {
                if based_on != version {
                    return Ok(StandardChanged::Stale { current: version });
                }
                if new_name == name && text == old_text {
                    return Ok(StandardChanged::Unchanged);
                }
                if !retired && name_taken(&mut record, new_name, Some(id)).await? {
                    return Ok(StandardChanged::NameTaken);
                }
                let next = version + 1;
                // The version in the WHERE clause is the guard on PostgreSQL, where another
                // transaction may have moved it on since it was read.
                let moved = sqlx::query(
                    "UPDATE standard_messages SET name = $1, text = $2, version = $3, \
                     updated_by = $4, updated_at = $5 WHERE id = $6 AND version = $7",
                )
                .bind(new_name)
                .bind(text)
                .bind(next)
                .bind(by.0)
                .bind(millis(now))
                .bind(id.0)
                .bind(version)
                .execute(record.conn().await?)
                .await?;
                if moved.rows_affected() != 1 {
                    let current = current_of(&mut record, id)
                        .await?
                        .map_or(next, |c| c.version);
                    return Ok(StandardChanged::Stale { current });
                }
                insert_version(&mut record, id, next, Some(by), new_name, text, now);
                audit(
                    &mut record,
                    by,
                    "standard_message_edited",
                    id,
                    new_name,
                    next,
                    now,
                );
                record.commit().await?;
                Ok(StandardChanged::Done(id, next))
            }
            StandardChange::Retire if retired => Ok(StandardChanged::Unchanged),
            StandardChange::Restore if !retired => Ok(StandardChanged::Unchanged),
            StandardChange::Retire | StandardChange::Restore => {
                let restore = change == StandardChange::Restore;
                if restore && name_taken(&mut record, &name, Some(id)).await? {
                    return Ok(StandardChanged::NameTaken);
                }
                record.queue(
                    "UPDATE standard_messages SET retired_at = $1, updated_by = $2, \
                     updated_at = $3 WHERE id = $4",
                    vec![
                        Value::MaybeInt((!restore).then(|| millis(now))),
                        Value::Int(by.0),
                        Value::Int(millis(now)),
                        Value::Int(id.0),
                    ],
                );
                let action = if restore {
                    "standard_message_restored"
                } else {
                    "standard_message_retired"
                };
                audit(&mut record, by, action, id, &name, version, now);
                record.commit().await?;
                Ok(StandardChanged::Done(id, version))
            }
        }
    }
}

fn stored(r: &sqlx::any::AnyRow) -> Result<StoredStandardMessage, StoreError> {
    Ok(StoredStandardMessage {
        id: StandardMessageId(r.try_get("id")?),
        name: r.try_get("name")?,
        text: r.try_get("text")?,
        version: r.try_get("version")?,
        retired_at: r.try_get::<Option<i64>, _>("retired_at")?.map(from_millis),
        updated_by: r.try_get("by")?,
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}

/// A message as it stands, read in the change's transaction.
struct Current {
    name: String,
    text: String,
    version: i64,
    retired: bool,
}

async fn current_of(
    record: &mut Record<'_>,
    id: StandardMessageId,
) -> Result<Option<Current>, StoreError> {
    let row =
        sqlx::query("SELECT name, text, version, retired_at FROM standard_messages WHERE id = $1")
            .bind(id.0)
            .fetch_optional(record.conn().await?)
            .await?;
    row.map(|r| {
        Ok(Current {
            name: r.try_get("name")?,
            text: r.try_get("text")?,
            version: r.try_get("version")?,
            retired: r.try_get::<Option<i64>, _>("retired_at")?.is_some(),
        })
    })
    .transpose()
}

/// Whether a message in the picker other than `except` has this name (ignoring case and the
/// spaces around it): staff choose by name.
async fn name_taken(
    record: &mut Record<'_>,
    name: &str,
    except: Option<StandardMessageId>,
) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM standard_messages WHERE retired_at IS NULL \
         AND LOWER(TRIM(name)) = LOWER(TRIM($1)) AND id <> $2",
    )
    .bind(name)
    .bind(except.map_or(0, |e| e.0))
    .fetch_one(record.conn().await?)
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

async fn insert_message(
    record: &mut Record<'_>,
    by: Option<StaffId>,
    name: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<StandardMessageId, StoreError> {
    record.flush().await?;
    let row = sqlx::query(
        "INSERT INTO standard_messages (name, text, version, updated_by, updated_at) \
         VALUES ($1, $2, 1, $3, $4) RETURNING id",
    )
    .bind(name)
    .bind(text)
    .bind(by.map(|b| b.0))
    .bind(millis(now))
    .fetch_one(record.conn().await?)
    .await?;
    Ok(StandardMessageId(row.try_get("id")?))
}

fn insert_version(
    record: &mut Record<'_>,
    id: StandardMessageId,
    version: i64,
    by: Option<StaffId>,
    name: &str,
    text: &str,
    now: DateTime<Utc>,
) {
    record.queue(
        "INSERT INTO standard_message_versions (message_id, version, name, text, staff_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            Value::Int(id.0),
            Value::Int(version),
            Value::Text(name.to_owned()),
            Value::Text(text.to_owned()),
            Value::MaybeInt(by.map(|b| b.0)),
            Value::Int(millis(now)),
        ],
    );
}

fn audit(
    record: &mut Record<'_>,
    by: StaffId,
    action: &str,
    id: StandardMessageId,
    name: &str,
    version: i64,
    now: DateTime<Utc>,
) {
    record.audit(
        by,
        action,
        None,
        None,
        &serde_json::json!({ "message": id.0, "name": name, "version": version }),
        now,
    );
}
