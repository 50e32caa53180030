//! `intake backup`: a consistent copy of the SQLite database while the bot runs and writes.
//!
//! The copy is made with `VACUUM INTO`. SQLite's online backup API would do as well, but it is
//! reached only through the C handle (`sqlite3_backup_init`), and this crate forbids unsafe
//! code. `VACUUM INTO` runs inside one read transaction, so in WAL mode it sees one committed
//! state of the database while the bot's writer goes on committing beside it (readers and the
//! writer do not block each other), and it writes a compact file with no WAL of its own.
//!
//! The copy is written under a temporary name in the destination's folder, checked (`PRAGMA
//! integrity_check`, and it opens as a store with the same migrations as the database it came
//! from), synced to disk (SQLite does not sync a `VACUUM INTO` file), and only then linked to
//! the name asked for, which must not exist: a backup never replaces a file.

use std::path::{Path, PathBuf};

use sqlx::Row;

use super::{Backend, Store, StoreError, StoreOptions, sqlite_path};

/// A backup made and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
    /// Migrations applied in the copy (as in the database it came from).
    pub migrations: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "intake backup copies a SQLite database, and this one is PostgreSQL: use pg_dump, for example\n  pg_dump --format=custom --file=intake-$(date +%F).dump \"$INTAKE_DATABASE_URL\"\n(README.md, Operations, and deploy/README.md say how to restore it)"
    )]
    Postgres,
    #[error(
        "{0} already exists; intake backup never replaces a file: choose a new name, or move the old one away first"
    )]
    Exists(PathBuf),
    #[error("there is no SQLite database at {0}: nothing to back up (check database_url)")]
    NoDatabase(PathBuf),
    #[error("the copy failed its check, and was removed: {0}")]
    Check(String),
    #[error("{what} {}: {source}", path.display())]
    File {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl BackupError {
    /// Refused before anything was copied (the wrong database, a name already taken): a
    /// mistake in the command rather than a failure.
    pub fn is_refusal(&self) -> bool {
        matches!(self, BackupError::Postgres | BackupError::Exists(_))
    }
}

impl Backup {
    /// Copies the SQLite database at `url` to `out`, which must not exist.
    pub async fn take(url: &str, out: &Path) -> Result<Backup, BackupError> {
        if Backend::of(url)? == Backend::Postgres {
            return Err(BackupError::Postgres);
        }
        if out.symlink_metadata().is_ok() {
            return Err(BackupError::Exists(out.to_owned()));
        }
        // Opening a missing file would create an empty database and back that up.
        let source = Path::new(sqlite_path(url).0);
        if !source.is_file() {
            return Err(BackupError::NoDatabase(source.to_owned()));
        }
        let partial = Partial::beside(out);
        let store = Store::open_with(StoreOptions::new(url)).await?;
        let copied = sqlx::query("VACUUM INTO $1")
            .bind(partial.path.display().to_string())
            .execute(&store.pool)
            .await;
        let expected = store.migrations().await;
        store.close().await;
        copied.map_err(StoreError::from)?;
        let expected = expected?;

        let copy = Store::open_with(StoreOptions::new(format!(
            "sqlite://{}",
            partial.path.display()
        )))
        .await?;
        let checked = check(&copy).await;
        let found = copy.migrations().await;
        copy.close().await;
        checked?;
        if found? != expected {
            return Err(BackupError::Check(
                "its migrations differ from the database's".to_owned(),
            ));
        }
        let bytes = partial.finish(out)?;
        Ok(Backup {
            path: out.to_owned(),
            bytes,
            migrations: expected
                .embedded
                .iter()
                .filter(|m| !matches!(m.state, super::MigrationState::Pending))
                .count()
                + expected.unknown.len(),
        })
    }
}

/// `PRAGMA integrity_check` answers one row, "ok", or the problems it found.
async fn check(copy: &Store) -> Result<(), BackupError> {
    let rows = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&copy.pool)
        .await
        .map_err(StoreError::from)?;
    let found: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()
        .map_err(StoreError::from)?;
    if found == ["ok"] {
        Ok(())
    } else {
        Err(BackupError::Check(found.join("; ")))
    }
}

/// The copy under its temporary name in the destination's folder (so the final link stays on
/// one file system), removed with its WAL and shared-memory files unless it was finished.
struct Partial {
    path: PathBuf,
    done: bool,
}

impl Partial {
    fn beside(out: &Path) -> Partial {
        let name = out
            .file_name()
            .map_or_else(|| "backup".into(), |n| n.to_string_lossy());
        let unique = uuid::Uuid::new_v4().simple().to_string();
        Partial {
            path: out.with_file_name(format!(".{name}.partial-{}", &unique[..12])),
            done: false,
        }
    }

    /// Syncs the copy, readable by its owner only (it holds residents' personal data), and
    /// gives it the name `out` unless that was taken meanwhile; returns its size.
    fn finish(mut self, out: &Path) -> Result<u64, BackupError> {
        let file = |what, source| BackupError::File {
            what,
            path: self.path.clone(),
            source,
        };
        let copy = std::fs::File::open(&self.path).map_err(|e| file("cannot open the copy", e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            copy.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| file("cannot restrict the copy", e))?;
        }
        copy.sync_all()
            .map_err(|e| file("cannot sync the copy", e))?;
        let bytes = copy
            .metadata()
            .map_err(|e| file("cannot read the copy", e))?
            .len();
        // A hard link fails if `out` exists, where a rename would replace it.
        match std::fs::hard_link(&self.path, out) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(BackupError::Exists(out.to_owned()));
            }
            Err(e) => {
                return Err(BackupError::File {
                    what: "cannot name the copy",
                    path: out.to_owned(),
                    source: e,
                });
            }
        }
        self.done = true;
        let _ = std::fs::remove_file(&self.path);
        if let Some(folder) = out.parent().filter(|f| !f.as_os_str().is_empty())
            && let Ok(folder) = std::fs::File::open(folder)
        {
            // The new name is durable once the folder is synced.
            let _ = folder.sync_all();
        }
        Ok(bytes)
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        let leftovers = ["", "-wal", "-shm", "-journal"];
        for suffix in if self.done {
            &leftovers[1..]
        } else {
            &leftovers[..]
        } {
            let mut path = self.path.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}
