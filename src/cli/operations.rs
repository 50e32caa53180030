//! `intake migrate` (apply or list the schema's migrations) and `intake backup` (a consistent
//! copy of the SQLite database while the bot runs), for operators.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::config::Config;
use crate::store::{Backup, MigrationState, Migrations, Store, StoreOptions};

/// Exit code for a command refused before it did anything (a backup of PostgreSQL, a backup
/// over an existing file), as against one that failed part way.
const REFUSED: u8 = 2;

pub(super) fn migrate(config: &Config, status_only: bool) -> anyhow::Result<ExitCode> {
    config.validate()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let store = Store::open_with(StoreOptions::new(&config.database_url))
            .await
            .context("opening the database")?;
        let found = store.migrations().await?;
        if status_only {
            print!("{}", status(&found));
            return Ok(ExitCode::SUCCESS);
        }
        if let Some((version, _)) = found.unknown.first() {
            eprintln!(
                "intake: the database has migration {version:04}, which this binary does not know: a newer release has run on it. Nothing was changed; run that release (or newer) instead."
            );
            return Ok(ExitCode::FAILURE);
        }
        let applied = store.migrate().await?;
        for (version, description) in &applied {
            println!("Applied {version:04} {description}.");
        }
        let total = found.embedded.len();
        if applied.is_empty() {
            println!("Nothing to apply: the database has all {total} migrations.");
        } else {
            println!(
                "The database is up to date: {} applied now, {total} in all.",
                applied.len()
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// One line per migration, then a summary.
fn status(found: &Migrations) -> String {
    let mut out = String::new();
    let width = found
        .embedded
        .iter()
        .map(|m| m.description.len())
        .chain(found.unknown.iter().map(|(_, d)| d.len()))
        .max()
        .unwrap_or(0);
    let mut pending = 0;
    for m in &found.embedded {
        let state = match &m.state {
            MigrationState::Applied { at } => format!("applied {at} UTC"),
            MigrationState::Changed { at } => format!(
                "applied {at} UTC, but this binary's copy differs (an applied migration was edited: intake serve will refuse to start)"
            ),
            MigrationState::Failed => {
                "failed part way: look at the database before going on".to_owned()
            }
            MigrationState::Pending => {
                pending += 1;
                "pending".to_owned()
            }
        };
        out.push_str(&format!(
            "{:04} {:width$}  {state}\n",
            m.version, m.description
        ));
    }
    for (version, description) in &found.unknown {
        out.push_str(&format!(
            "{version:04} {description:width$}  applied, unknown to this binary\n"
        ));
    }
    let applied = found.embedded.len() - pending;
    out.push_str(&format!("{applied} applied, {pending} pending"));
    out.push_str(match (pending, found.unknown.is_empty()) {
        (_, false) => {
            "; the database has migrations this binary does not know: a newer release has run on it.\n"
        }
        (0, true) => ".\n",
        (_, true) => ": `intake migrate` (or starting `intake serve`) applies them.\n",
    });
    out
}

pub(super) fn backup(config: &Config, out: &Path) -> anyhow::Result<ExitCode> {
    config.validate()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match runtime.block_on(Backup::take(&config.database_url, out)) {
        Ok(backup) => {
            println!(
                "Backed up {} to {}: {}, {} migrations, integrity checked.",
                config.redacted_database_url(),
                backup.path.display(),
                size(backup.bytes),
                backup.migrations
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.is_refusal() => {
            eprintln!("intake: {e}");
            Ok(ExitCode::from(REFUSED))
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("backing up to {}", out.display()))),
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        0..1_000_000 => format!("{:.0} kB", bytes as f64 / 1e3),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MigrationStatus;

    #[test]
    fn status_names_pending_and_unknown_migrations() {
        let found = Migrations {
            embedded: vec![
                MigrationStatus {
                    version: 1,
                    description: "record".to_owned(),
                    state: MigrationState::Applied {
                        at: "2026-11-23 14:05:00".to_owned(),
                    },
                },
                MigrationStatus {
                    version: 15,
                    description: "limit buckets".to_owned(),
                    state: MigrationState::Pending,
                },
            ],
            unknown: vec![(16, "something newer".to_owned())],
        };
        let shown = status(&found);
        assert!(
            shown.contains("0001 record           applied 2026-11-23 14:05:00 UTC"),
            "{shown}"
        );
        assert!(shown.contains("0015 limit buckets    pending"), "{shown}");
        assert!(
            shown.contains("0016 something newer  applied, unknown to this binary"),
            "{shown}"
        );
        assert!(shown.contains("1 applied, 1 pending"), "{shown}");
        assert!(shown.contains("a newer release"), "{shown}");
    }
}
