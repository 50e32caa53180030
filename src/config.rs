//! Configuration, layered: built-in defaults, then a TOML file (`--config` or `INTAKE_CONFIG`),
//! then environment variables prefixed `INTAKE_`. Secrets (tokens, passwords, keys) come only
//! from the environment: a file that holds one is refused, and they are never printed or logged.
//!
//! - `sections`: each section of the file, with its defaults.
//! - `load`: the layering (defaults, file, environment), and the policy engine's files.
//! - `validate`: everything that would stop the bot starting.
//! - `limits`: the web chat's and the console's rate limits.
//! - `secrets`: secret values, from the environment only, never shown.
//! - `reports`: who receives the governing body's monthly summary.
//! - `promises`: what the configuration lets the bot promise, and the warnings when it cannot.

mod limits;
mod load;
mod promises;
mod proxies;
mod reports;
mod secrets;
mod sections;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::core::policy::LexiconError;
use crate::core::profile::{LandlordProfile, ProfileError};

pub use limits::{LimitsConfig, Rate};
pub use load::PLAIN_VARS;
pub use proxies::ProxyNet;
pub use reports::ReportsConfig;
pub use secrets::{SECRET_VARS, Secret, Secrets, redact_url_password};
pub use sections::{
    AlertsConfig, ConsoleConfig, ConversationConfig, DEFAULT_RETENTION_DAYS, DiscordConfig,
    LogConfig, LogFormat, MIN_RETENTION_DAYS, MetricsConfig, PolicyConfig, SinkConfig, SinkKind,
    SmtpConfig, TeamConfig, TelegramConfig, TelegramMode, WebConfig,
};

/// The environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "INTAKE_CONFIG";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `sqlite://...` (the default, a file under ./data/) or `postgres://...`.
    pub database_url: String,
    /// Address for the web chat, the console and webhooks.
    pub listen: SocketAddr,
    pub log: LogConfig,
    /// A folder of dialog files that overrides the shipped ones.
    pub dialogs_dir: Option<PathBuf>,
    pub web: WebConfig,
    pub metrics: MetricsConfig,
    /// How fast the web chat and the console's sign-in take requests.
    pub limits: LimitsConfig,
    pub console: ConsoleConfig,
    pub telegram: TelegramConfig,
    pub discord: DiscordConfig,
    pub policy: PolicyConfig,
    pub conversation: ConversationConfig,
    pub alerts: AlertsConfig,
    /// The governing body's monthly summary (Code 9.7).
    pub reports: ReportsConfig,
    pub landlord: LandlordProfile,
    /// Secrets, from the environment only.
    #[serde(skip)]
    pub secrets: Secrets,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://data/intake.db".to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log: LogConfig::default(),
            dialogs_dir: None,
            web: WebConfig::default(),
            metrics: MetricsConfig::default(),
            limits: LimitsConfig::default(),
            console: ConsoleConfig::default(),
            telegram: TelegramConfig::default(),
            discord: DiscordConfig::default(),
            policy: PolicyConfig::default(),
            conversation: ConversationConfig::default(),
            alerts: AlertsConfig::default(),
            reports: ReportsConfig::default(),
            landlord: LandlordProfile::default(),
            secrets: Secrets::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {detail}")]
    Syntax { path: String, detail: String },
    #[error(
        "{path}: `{key}` looks like a secret; secrets come only from the environment ({hint}), never from a file"
    )]
    SecretInFile {
        path: String,
        key: String,
        hint: String,
    },
    #[error("environment variable {var} (sets {key}): {detail}")]
    Env {
        var: String,
        key: String,
        detail: String,
    },
    #[error("{0}")]
    Webhook(String),
    #[error("{0}")]
    Alerts(String),
    #[error("{0}")]
    Reports(String),
    #[error("{0}")]
    Web(String),
    #[error("{0}")]
    Limits(String),
    #[error("database_url {0:?} must start with sqlite: or postgres:")]
    DatabaseUrl(String),
    #[error("the landlord profile is not valid:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Profile(Vec<ProfileError>),
    #[error("policy.lexicon: cannot read {path}: {source}")]
    LexiconRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("policy.model {}: {message}", path.display())]
    Model { path: PathBuf, message: String },
    #[error(transparent)]
    Lexicon(#[from] LexiconError),
}

#[cfg(test)]
mod tests;
