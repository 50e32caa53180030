//! The schema's migrations: one folder per backend (`migrations/sqlite`, `migrations/postgres`),
//! embedded in the binary. `intake serve` applies the pending ones at start; `intake migrate`
//! applies them on its own and `intake migrate --status` lists them.
//!
//! Several processes migrating at once are safe on PostgreSQL: sqlx's migrator (through the
//! `Any` driver, which hands its `Migrate` calls to the PostgreSQL connection) takes
//! `pg_advisory_lock` on a key made from the database's name before it reads what is applied,
//! and releases it after the last step (sqlx-core 0.9 `Migrator::run_direct`,
//! sqlx-postgres 0.9 `migrate.rs` `lock`). So replicas starting together, or a migration Job
//! beside running replicas, take turns: one applies each step, in a transaction with its
//! bookkeeping row, and the others then find nothing pending. The lock is per database, not
//! per schema, and is held by the session: a migration that fails leaves it held until that
//! connection closes, which ends the process (`serve` and `migrate` both stop on the error).
//! SQLite needs no lock: its migrator writes under SQLite's own write lock, one process at a
//! time.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::migrate::{Migrate as _, Migrator};
use sqlx::{AnyConnection, Row};

use super::{Backend, Store, StoreError};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The migrations embedded for `backend`.
pub(super) fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

/// Every embedded migration and whether the database has it, and any the database has that
/// this binary does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrations {
    pub embedded: Vec<MigrationStatus>,
    /// Applied by a newer release: `(version, description)`.
    pub unknown: Vec<(i64, String)>,
}

impl Migrations {
    /// Whether every embedded migration is applied, unchanged.
    pub fn up_to_date(&self) -> bool {
        self.embedded
            .iter()
            .all(|m| matches!(m.state, MigrationState::Applied { .. }))
    }
}

/// One embedded migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub state: MigrationState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    /// Applied at this time (UTC, `YYYY-MM-DD HH:MM:SS`).
    Applied {
        at: String,
    },
    /// Applied, but the embedded file differs from what was applied: an applied migration
    /// was edited, and the migrator will refuse to start.
    Changed {
        at: String,
    },
    /// Begun and not finished: the migrator refuses to go on until someone looks.
    Failed,
    Pending,
}

/// A row of `_sqlx_migrations`.
struct Applied {
    description: String,
    at: String,
    succeeded: bool,
    checksum: Vec<u8>,
}

impl Store {
    /// Applies the pending migrations; returns those applied now, `(version, description)`,
    /// oldest first. A database with a migration this binary does not know (a newer release
    /// ran on it) is refused and left as it is.
    pub async fn migrate(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        // The migrator's own lock, taken here as well (PostgreSQL counts a session's advisory
        // locks, so the migrator's take and release nest inside), so that what was applied
        // before is read under it and what is reported is what this call applied, not a
        // replica beside it.
        conn.lock().await?;
        let applied = async {
            let before: BTreeSet<i64> = applied(&mut conn, self.backend)
                .await?
                .into_keys()
                .collect();
            migrator(self.backend).run(&mut *conn).await?;
            Ok::<_, StoreError>(
                applied(&mut conn, self.backend)
                    .await?
                    .into_iter()
                    .filter(|(version, _)| !before.contains(version))
                    .map(|(version, applied)| (version, applied.description))
                    .collect(),
            )
        }
        .await;
        conn.unlock().await?;
        applied
    }

    /// Which embedded migrations the database has, without changing it.
    pub async fn migrations(&self) -> Result<Migrations, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut applied = applied(&mut conn, self.backend).await?;
        let embedded = migrator(self.backend)
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .map(|m| {
                let state = match applied.remove(&m.version) {
                    None => MigrationState::Pending,
                    Some(row) if !row.succeeded => MigrationState::Failed,
                    Some(row) if row.checksum != *m.checksum => {
                        MigrationState::Changed { at: row.at }
                    }
                    Some(row) => MigrationState::Applied { at: row.at },
                };
                MigrationStatus {
                    version: m.version,
                    description: m.description.to_string(),
                    state,
                }
            })
            .collect();
        let unknown = applied
            .into_iter()
            .map(|(version, row)| (version, row.description))
            .collect();
        Ok(Migrations { embedded, unknown })
    }
}

/// The rows of the migrations table, by version; none before the first migration.
async fn applied(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<BTreeMap<i64, Applied>, StoreError> {
    let (exists, read) = match backend {
        Backend::Sqlite => (
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            "SELECT version, description, CAST(CASE WHEN success THEN 1 ELSE 0 END AS BIGINT) AS ok, \
                 checksum, strftime('%Y-%m-%d %H:%M:%S', installed_on) AS at FROM _sqlx_migrations",
        ),
        // The migrator creates its table unqualified, in the first schema on the path.
        Backend::Postgres => (
            "SELECT COUNT(*) AS n FROM pg_catalog.pg_tables \
                 WHERE tablename = '_sqlx_migrations' AND schemaname = current_schema()",
            "SELECT version, description, CAST(CASE WHEN success THEN 1 ELSE 0 END AS BIGINT) AS ok, \
                 checksum, to_char(installed_on AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS at \
                 FROM _sqlx_migrations",
        ),
    };
    let n: i64 = sqlx::query(exists)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    if n == 0 {
        return Ok(BTreeMap::new());
    }
    sqlx::query(read)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("version")?,
                Applied {
                    description: r.try_get("description")?,
                    at: r.try_get("at")?,
                    succeeded: r.try_get::<i64, _>("ok")? == 1,
                    checksum: r.try_get("checksum")?,
                },
            ))
        })
        .collect()
}
