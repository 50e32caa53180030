//! `intake staff`: console accounts from the command line, for operators (and the first
//! admin, before anyone can sign in). A password typed at a terminal is not echoed (asked
//! twice, to catch a slip); from a pipe or file it is the first line of standard input, so
//! it is never in the shell history or the process list. Changes are audited as made from
//! the command line.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::Subcommand;

use crate::config::Config;
use crate::core::ids::StaffId;
use crate::staff::{self, Platform, Role};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create an account. The password is read without echo at a terminal, otherwise as one
    /// line of standard input, so it is never in the shell history or the process list.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// agent, complaints_officer, manager or admin.
        #[arg(long)]
        role: String,
    },
    /// List every account: name, email, role, last sign-in, and whether it is disabled or
    /// signs in in two steps.
    List,
    /// Disable an account: its console sessions end at once and it cannot sign in. The last
    /// admin who can sign in cannot be disabled.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Let a disabled account sign in again.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Set an account's password (read as for `add`); its sessions end.
    Passwd {
        #[arg(long)]
        email: String,
    },
    /// Link an account to its holder's Telegram or Discord user id, so that a manager can
    /// acknowledge alerts with the button in an alert chat.
    Link {
        #[arg(long)]
        email: String,
        /// Their numeric Telegram user id.
        #[arg(long)]
        telegram: Option<String>,
        /// Their numeric Discord user id.
        #[arg(long)]
        discord: Option<String>,
    },
}

pub(super) fn run(config: &Config, command: StaffCommand) -> anyhow::Result<ExitCode> {
    config.validate()?;
    // Everything the command needs from the person is asked before the database is opened.
    let password = match &command {
        StaffCommand::Add { email, role, .. } => {
            Role::parse(role).with_context(|| {
                format!("--role {role:?}: choose agent, complaints_officer, manager or admin")
            })?;
            Some(read_password(email)?)
        }
        StaffCommand::Passwd { email } => Some(read_password(email)?),
        StaffCommand::Link {
            telegram, discord, ..
        } => {
            anyhow::ensure!(
                telegram.is_some() || discord.is_some(),
                "give --telegram or --discord (or both)"
            );
            None
        }
        _ => None,
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let store = Store::connect(&config.database_url)
            .await
            .context("opening the database")?;
        apply(&store, command, password.as_deref().unwrap_or_default()).await
    })
}

async fn apply(store: &Store, command: StaffCommand, password: &str) -> anyhow::Result<ExitCode> {
    let now = Utc::now();
    match command {
        StaffCommand::Add { name, email, role } => {
            let role = Role::parse(&role).context("--role")?;
            let member = staff::add(store, &name, &email, role, password, now).await?;
            println!(
                "Created {} <{}> as {} (staff id {}).",
                member.name,
                member.email,
                member.role.as_str(),
                member.id
            );
        }
        StaffCommand::List => {
            let accounts = staff::accounts(store).await?;
            if accounts.is_empty() {
                println!("No staff accounts yet: add one with `intake staff add`.");
            }
            for a in accounts {
                let status = match a.disabled_at {
                    Some(at) => format!("disabled since {}", stamp(at)),
                    None => "enabled".to_owned(),
                };
                let last = a.last_sign_in_at.map_or("never".to_owned(), stamp);
                let two_step = if a.two_step { ", two-step" } else { "" };
                println!(
                    "{}\t{}\t{}\t{}\t{status}{two_step}\tlast sign-in {last}",
                    a.id,
                    a.name,
                    a.email,
                    a.role.as_str()
                );
            }
        }
        StaffCommand::Disable { email } => {
            let id = account(store, &email).await?;
            if staff::disable(store, None, id, now).await? {
                println!("Disabled {email}: its console sessions have ended.");
            } else {
                println!("{email} was already disabled.");
            }
        }
        StaffCommand::Enable { email } => {
            let id = account(store, &email).await?;
            if staff::enable(store, None, id, now).await? {
                println!("Enabled {email}: it can sign in again.");
            } else {
                println!("{email} was already enabled.");
            }
        }
        StaffCommand::Passwd { email } => {
            let id = account(store, &email).await?;
            staff::set_password(store, None, id, password, false, now).await?;
            println!("Set the password of {email}; its console sessions have ended.");
        }
        StaffCommand::Link {
            email,
            telegram,
            discord,
        } => {
            let links: Vec<(Platform, String)> = [
                telegram.map(|id| (Platform::Telegram, id)),
                discord.map(|id| (Platform::Discord, id)),
            ]
            .into_iter()
            .flatten()
            .collect();
            // Both ids checked before either is written.
            for (platform, id) in &links {
                platform.check_user_id(id)?;
            }
            for (platform, id) in &links {
                anyhow::ensure!(
                    staff::link(store, &email, *platform, id).await?,
                    "there is no staff account {email:?}"
                );
                println!("Linked {email} to {} user {id}.", platform.as_str());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The account with this email, or an error naming it.
async fn account(store: &Store, email: &str) -> anyhow::Result<StaffId> {
    staff::by_email(store, email)
        .await?
        .with_context(|| format!("there is no staff account {email:?}"))
}

/// A time for the list: UTC, to the minute, as operators compare it with logs.
fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The new password: typed at the terminal without echo, twice; otherwise the first line of
/// standard input.
fn read_password(email: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let shortest = staff::SHORTEST_PASSWORD;
        let first = rpassword::prompt_password(format!(
            "Password for {email} (at least {shortest} characters, not shown): "
        ))
        .context("reading the password from the terminal")?;
        let again = rpassword::prompt_password("The same password again: ")
            .context("reading the password from the terminal")?;
        anyhow::ensure!(
            first == again,
            "the two passwords differ; nothing was changed"
        );
        return Ok(first);
    }
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}
