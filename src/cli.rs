//! The `intake` command line.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Datelike, Utc};
use clap::{Parser, Subcommand};
use serde::Deserialize;

use crate::config::Config;
use crate::core::calendar::{Deadlines, HolidayKind};
use crate::core::policy::{Context, Policy};
use crate::service::Intake;
use crate::store::Store;

mod operations;
mod policy;
mod report;
pub mod report_learning;
mod report_summary;
mod staff;

pub use staff::StaffCommand;

#[derive(Debug, Parser)]
#[command(
    name = "intake",
    version,
    about = "Complaint intake bot for social-housing landlords, built on the Housing Ombudsman's Complaint Handling Code"
)]
pub struct Cli {
    /// Configuration file (TOML). Also INTAKE_CONFIG. Environment variables INTAKE_* override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot (the default).
    Serve,
    /// Assess resident messages: JSON lines {"id": ..., "text": ..., "context": {...}} on
    /// standard input, one JSON assessment per line on standard output.
    Assess,
    /// Talk to the bot in this terminal, through the same service and record as the real
    /// channels. With standard input from a file or pipe, each line is one resident message.
    Chat {
        /// Who you are: two runs with the same name continue the same conversation.
        #[arg(long = "as", value_name = "NAME", default_value = "resident")]
        name: String,
    },
    /// Measure the full pipeline (assess, dialog, store, outbox) with simulated residents on
    /// SQLite and PostgreSQL, against bare durable inserts measured in the same run.
    Bench {
        /// Residents holding a conversation at the same time.
        #[arg(long, default_value_t = 50)]
        residents: usize,
        /// Bare single-row inserts for the baseline.
        #[arg(long, default_value_t = 3000)]
        bare_inserts: usize,
        /// PostgreSQL to measure (a scratch schema is made and dropped). Also
        /// INTAKE_BENCH_POSTGRES_URL.
        #[arg(
            long,
            env = "INTAKE_BENCH_POSTGRES_URL",
            default_value = "postgres://postgres@127.0.0.1:5432/test"
        )]
        postgres: String,
        /// Measure SQLite only.
        #[arg(long)]
        no_postgres: bool,
        /// Instead: start `intake serve` and report its memory (RSS) idle, with this many
        /// idle TCP connections, and with this many open chat pages.
        #[arg(long)]
        connections: Option<usize>,
        /// Instead: write this many complaints (a seeded year with known answers) and time
        /// the annual report and a month's report over them (100000 for issue 13's target).
        #[arg(long, value_name = "COMPLAINTS")]
        report: Option<usize>,
    },
    /// Residents through the web chat for a bounded time while `intake serve` is killed
    /// (SIGKILL) and restarted at random moments; then checks every message answered
    /// "received" is recorded once, no complaint was opened twice, and every reply reaches
    /// its page once pages reconnect. Exits 1 if anything was lost or doubled.
    Soak {
        /// Residents talking at the same time.
        #[arg(long, default_value_t = 20)]
        residents: usize,
        /// How long they talk, in seconds.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// How many times the process is killed and restarted meanwhile.
        #[arg(long, default_value_t = 3)]
        kills: usize,
        /// Soak on this PostgreSQL (a scratch schema is made and dropped) instead of SQLite.
        #[arg(long)]
        postgres: Option<String>,
    },
    /// Print the full record of a complaint as JSON (Code 5.12): the case, every message both
    /// ways with its assessment, every event and alert.
    Export {
        /// The complaint reference, such as C2026-00001.
        reference: String,
    },
    /// Fit the policy engine's learned layer, or score the engine on labelled messages.
    Policy {
        #[command(subcommand)]
        action: policy::PolicyCommand,
    },
    /// Reports from the record: `intake report tsm --year 2025` for the regulator's complaint
    /// measures CH01 and CH02.
    Report {
        #[command(subcommand)]
        action: report_summary::ReportAction,
    },
    /// Manage staff accounts for the console.
    Staff {
        #[command(subcommand)]
        action: StaffCommand,
    },
    /// Apply the database migrations this binary holds, printing each one applied (`intake
    /// serve` also applies them at start), or with --status list them.
    Migrate {
        /// List every migration as applied or pending, and any the database has that this
        /// binary does not know (a newer release ran on it); change nothing.
        #[arg(long)]
        status: bool,
    },
    /// Copy the SQLite database, consistently, while the bot runs: to FILE, which must not
    /// exist. For PostgreSQL use pg_dump.
    Backup {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Validate the configuration and print the effective profile. Secrets are shown only as
    /// set or not set.
    CheckConfig,
    /// Print a year's bank holidays (England and Wales) and configured closure days.
    Holidays {
        /// The year, such as 2026.
        year: i32,
    },
    /// Print, as JSON, every Code deadline for a complaint received at TIME, and for an
    /// escalation requested at the same moment.
    Deadlines {
        /// When the complaint was received, RFC 3339 (2026-11-23T14:05:00Z).
        #[arg(long, value_name = "TIME")]
        received: String,
    },
}

/// Runs the command line; the exit code says whether it succeeded.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("intake: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::from_process(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            config.validate()?;
            crate::logging::init(&config.log);
            let policy = config.policy()?;
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(crate::serve::serve(config, policy))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Assess => {
            config.validate()?;
            let policy = config.policy()?;
            let today = config.landlord.calendar().local_date(Utc::now());
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            let stderr = std::io::stderr().lock();
            let failed = assess_lines(&policy, today, stdin, stdout, stderr)?;
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::CheckConfig => check_config(&config),
        Command::Migrate { status } => operations::migrate(&config, status),
        Command::Backup { out } => operations::backup(&config, &out),
        Command::Policy { action } => policy::run(&config, action),
        Command::Report { action } => report_summary::run(&config, action),
        Command::Staff { action } => staff::run(&config, action),
        Command::Bench {
            residents,
            bare_inserts,
            postgres,
            no_postgres,
            connections,
            report,
        } => {
            config.validate()?;
            let policy = config.policy()?;
            let dialogs = crate::wording::load(config.dialogs_dir.as_deref())?;
            let options = crate::bench::BenchOptions {
                residents,
                bare_inserts,
                postgres_url: (!no_postgres).then_some(postgres),
                connections,
                report,
            };
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(crate::bench::run(
                &options,
                &policy,
                &dialogs,
                &config.landlord,
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Soak {
            residents,
            seconds,
            kills,
            postgres,
        } => {
            let options = crate::soak::SoakOptions {
                residents,
                seconds,
                kills,
                postgres_url: postgres,
            };
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            match runtime.block_on(crate::soak::run(&options)) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => {
                    eprintln!("intake soak: {e:#}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Export { reference } => {
            config.validate()?;
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            let found = runtime.block_on(async {
                let store = Store::connect(&config.database_url)
                    .await
                    .context("opening the database")?;
                anyhow::Ok(store.export_case(reference.trim()).await?)
            })?;
            match found {
                Some(record) => {
                    println!("{}", serde_json::to_string_pretty(&record)?);
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("intake: no complaint with reference {reference:?}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Chat { name } => {
            config.validate()?;
            crate::logging::init(&config.log);
            let policy = config.policy()?;
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(async {
                let intake = Intake::from_config(&config, policy).await?;
                crate::channels::terminal::chat(intake, &config.landlord.name, name).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Holidays { year } => {
            config.validate()?;
            let calendar = config.landlord.calendar();
            for h in calendar.holidays_in(year) {
                let kind = match h.kind {
                    HolidayKind::BankHoliday => "bank holiday",
                    HolidayKind::ExtraBankHoliday => "extra bank holiday (configured)",
                    HolidayKind::Closure => "closure day (configured)",
                };
                println!("{}  {}  {}  [{}]", h.date, h.date.weekday(), h.name, kind);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Deadlines { received } => {
            config.validate()?;
            let at: DateTime<Utc> = DateTime::parse_from_rfc3339(received.trim())
                .with_context(|| {
                    format!("--received {received:?} is not an RFC 3339 time such as 2026-11-23T14:05:00Z")
                })?
                .with_timezone(&Utc);
            let calendar = config.landlord.calendar();
            let deadlines = Deadlines {
                calendar: &calendar,
                timescales: &config.landlord.timescales,
            };
            let plan = deadlines.plan(at);
            let out = serde_json::json!({
                "received_at": plan.received_at,
                "received_on": plan.received_on,
                "time_zone": config.landlord.time_zone,
                "timescales_working_days": config.landlord.timescales,
                "stage1": plan.stage1,
                "stage2": plan.stage2,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One line of `intake assess` input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssessInput {
    #[serde(default)]
    id: serde_json::Value,
    text: String,
    #[serde(default)]
    context: Context,
}

/// Assesses each JSON line of `input`; returns how many lines could not be read. A bad line
/// gets an error on `errors` naming its line number, and the rest are still assessed.
pub fn assess_lines(
    policy: &Policy,
    today: chrono::NaiveDate,
    input: impl BufRead,
    mut output: impl Write,
    mut errors: impl Write,
) -> anyhow::Result<usize> {
    let mut failed = 0;
    for (n, line) in input.lines().enumerate() {
        let number = n + 1;
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                failed += 1;
                writeln!(errors, "line {number}: cannot read: {e}")?;
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let input: AssessInput = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                failed += 1;
                writeln!(
                    errors,
                    "line {number}: not an assessment request ({e}); expected {{\"id\": ..., \"text\": \"...\"}}"
                )?;
                continue;
            }
        };
        let context = Context {
            today: input.context.today.or(Some(today)),
            ..input.context
        };
        let assessment = policy.assess(&input.text, &context);
        let mut value = serde_json::to_value(&assessment)?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("id".to_owned(), input.id);
        }
        writeln!(output, "{value}")?;
    }
    output.flush()?;
    Ok(failed)
}

fn check_config(config: &Config) -> anyhow::Result<ExitCode> {
    let mut ok = true;
    if let Err(e) = config.validate() {
        eprintln!("intake: {e}");
        ok = false;
    }
    match config.policy() {
        Ok(policy) => {
            let counts = policy.lexicon().counts();
            let total: usize = counts.values().sum();
            println!(
                "# Policy lexicon: {total} phrases in {} signals, {} rewrites.",
                counts.len(),
                policy.lexicon().rewrites.len()
            );
            if let Some(model) = policy.model() {
                println!(
                    "# Policy model {}: {}.",
                    model.version(),
                    model.header().trained
                );
            }
        }
        Err(e) => {
            eprintln!("intake: {e}");
            ok = false;
        }
    }
    match crate::console::load_standard_messages(config.console.standard_messages.as_deref()) {
        Ok(messages) => println!("# Standard messages for staff: {}.", messages.len()),
        Err(e) => {
            eprintln!("intake: {e}");
            ok = false;
        }
    }
    for w in config.landlord.warnings() {
        println!("# Warning: {w}");
    }
    for w in config.unkept_promises() {
        println!("# Warning: a promise the bot cannot keep: {w}");
    }
    print!("{}", config.to_display_toml());
    if ok {
        println!("# The configuration is valid.");
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}
