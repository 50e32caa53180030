//! Configuration, layered: built-in defaults, then a TOML file (`--config` or `INTAKE_CONFIG`),
//! then environment variables prefixed `INTAKE_`. Secrets (tokens, passwords, keys) come only
//! from the environment: a file that holds one is refused, and they are never printed or logged.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::core::policy::{Lexicon, LexiconError, Policy};
use crate::core::profile::{LandlordProfile, ProfileError};

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
    pub console: ConsoleConfig,
    pub telegram: TelegramConfig,
    pub discord: DiscordConfig,
    pub policy: PolicyConfig,
    pub conversation: ConversationConfig,
    pub alerts: AlertsConfig,
    pub landlord: LandlordProfile,
    /// Secrets, from the environment only.
    #[serde(skip)]
    pub secrets: Secrets,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter, such as `info` or `intake=debug,sqlx=warn`.
    pub filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Mark the web chat and console cookies Secure, so browsers send them only over HTTPS.
    /// When not set: Secure unless the service listens on loopback only (a developer's
    /// machine), since anywhere else it is reached over HTTPS through a proxy. Set it to
    /// false only for a plain-HTTP test network.
    pub secure_cookies: Option<bool>,
    /// The most HTTP connections open at once; by default 4,096, or fewer if the process's
    /// file handle limit leaves less room. Past it, new connections wait their turn.
    pub max_connections: Option<usize>,
    /// Seconds a client has to send a request's headers (and, for its body, three times
    /// as long) before the connection is closed.
    pub header_timeout_seconds: Option<u64>,
    /// The reverse proxies in front of the bot (IP addresses, comma-separated). A request from
    /// one of them is counted against the address it names in `X-Forwarded-For`, so limits
    /// per client address keep working behind a proxy; from anyone else the header is ignored.
    pub trusted_proxies: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// A TOML file of the landlord's own standard messages (`[[message]]` with `name` and
    /// `text`), replacing the shipped ones.
    pub standard_messages: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    /// The Bot API server (a local Bot API server, or a fake in tests).
    pub api_url: String,
    /// `polling` (the default) or `webhook`.
    pub mode: TelegramMode,
    /// The public URL Telegram posts updates to, in webhook mode.
    pub webhook_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TelegramMode {
    Polling,
    Webhook,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    /// Replaces https://discord.com in REST calls (tests, proxies).
    pub api_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// A lexicon file whose phrases are added to the shipped ones (estate and contractor
    /// names, local words).
    pub lexicon: Option<PathBuf>,
    /// A landlord's own learned model (`intake policy train --with-corrections` installs it here),
    /// used instead of the shipped one.
    pub model: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConversationConfig {
    /// A resident who comes back after this many hours part way through a complaint is
    /// reminded where they were.
    pub resume_after_hours: u32,
    /// A complaint left half-finished this many hours is recorded as an expression of
    /// dissatisfaction and staff are told.
    pub half_finished_after_hours: u32,
}

/// Six years, the usual limitation period for claims a complaint record may be needed for.
pub const DEFAULT_RETENTION_DAYS: u32 = 2190;

/// The shortest retention period accepted: a resident may refer a complaint to the Housing
/// Ombudsman up to twelve months after the landlord's final response, and the record must be
/// there to answer it (Code 5.12).
pub const MIN_RETENTION_DAYS: u32 = 365;

/// Alerts to managers, and the scheduler's thresholds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Non-urgent alerts go out between these times on working days, in the landlord's time
    /// zone; outside them they wait for the morning. Urgent ones go at once, at any hour.
    pub working_hours_start: String,
    pub working_hours_end: String,
    /// Warn this many working days before a response is due.
    pub deadline_warning_working_days: u32,
    /// A resident whose response is late is told, and told again every this many working
    /// days until it is sent (Code 5.9).
    pub update_interval_working_days: u32,
    /// An urgent alert nobody acknowledges moves to the next level of sinks after this long.
    pub escalate_after_minutes: u32,
    /// A conversation taken over by staff, with the resident waiting this long for an answer,
    /// raises an alert.
    pub claim_idle_minutes: u32,
    /// Links in alerts point here.
    pub console_url: String,
    /// Personal data is erased this many days after a complaint closes (with nothing said
    /// since); anonymised counts are kept.
    pub retention_days: u32,
    pub smtp: SmtpConfig,
    /// Where alerts go, besides the console.
    pub sinks: Vec<SinkConfig>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            working_hours_start: "09:00".to_owned(),
            working_hours_end: "17:00".to_owned(),
            deadline_warning_working_days: 2,
            update_interval_working_days: 5,
            escalate_after_minutes: 30,
            claim_idle_minutes: 30,
            console_url: "http://127.0.0.1:8080/console".to_owned(),
            retention_days: DEFAULT_RETENTION_DAYS,
            smtp: SmtpConfig::default(),
            sinks: Vec::new(),
        }
    }
}

/// The mail server for email alerts. The password is INTAKE_SMTP_PASSWORD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    pub host: Option<String>,
    pub port: u16,
    pub username: Option<String>,
    pub from: String,
    /// `starttls` (the default), `tls`, or `none` (a relay on the same machine only).
    pub tls: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: None,
            port: 587,
            username: None,
            from: "intake@localhost".to_owned(),
            tls: "starttls".to_owned(),
        }
    }
}

/// One place alerts go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    pub name: String,
    /// `webhook` (signed with HMAC-SHA256 using INTAKE_ALERT_WEBHOOK_SECRET), `email`,
    /// `telegram` (a chat the bot is in) or `discord` (a channel the bot can post in). In
    /// Telegram and Discord each alert has an Acknowledge button for managers whose accounts
    /// are linked (`intake staff link`).
    pub kind: SinkKind,
    /// The webhook URL; email addresses separated by commas, where `role:manager` means every
    /// staff account with that role; the Telegram chat id; or the Discord channel id.
    pub to: String,
    /// The alert kinds it takes (emergency, safeguarding, health_safety, vulnerability,
    /// person_requested, stage2_request, deadline_near, deadline_passed, claim_idle,
    /// half_finished, action_overdue, email_unusable, reply_another_way); empty for all.
    #[serde(default)]
    pub alerts: Vec<String>,
    /// 0: told at once. 1, 2...: told when an urgent alert is still unacknowledged after
    /// that many escalation periods (the escalation chain).
    #[serde(default)]
    pub level: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkKind {
    Webhook,
    Email,
    Telegram,
    Discord,
}

impl Default for ConversationConfig {
    fn default() -> Self {
        ConversationConfig {
            resume_after_hours: 12,
            half_finished_after_hours: 48,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://data/intake.db".to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log: LogConfig::default(),
            dialogs_dir: None,
            web: WebConfig::default(),
            console: ConsoleConfig::default(),
            telegram: TelegramConfig::default(),
            discord: DiscordConfig::default(),
            policy: PolicyConfig::default(),
            conversation: ConversationConfig::default(),
            alerts: AlertsConfig::default(),
            landlord: LandlordProfile::default(),
            secrets: Secrets::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Human,
            filter: "info".to_owned(),
        }
    }
}

impl Default for TelegramConfig {
    fn default() -> Self {
        TelegramConfig {
            api_url: "https://api.telegram.org".to_owned(),
            mode: TelegramMode::Polling,
            webhook_url: None,
        }
    }
}

/// A secret value. It prints as `[redacted]`, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that needs it (a client, a hash check).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The secrets, each from its own environment variable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    pub telegram_token: Option<Secret>,
    pub telegram_webhook_secret: Option<Secret>,
    pub discord_token: Option<Secret>,
    pub smtp_password: Option<Secret>,
    /// Signs alert webhooks (HMAC-SHA256).
    pub alert_webhook_secret: Option<Secret>,
    /// Signs the web chat and console cookies; a random key is made at start-up without it
    /// (sessions then end when the process restarts).
    pub session_key: Option<Secret>,
}

/// Secret environment variables, with what they are for.
pub const SECRET_VARS: &[(&str, &str)] = &[
    ("INTAKE_TELEGRAM_TOKEN", "Telegram bot token"),
    (
        "INTAKE_TELEGRAM_WEBHOOK_SECRET",
        "Telegram webhook secret token",
    ),
    ("INTAKE_DISCORD_TOKEN", "Discord bot token"),
    ("INTAKE_SMTP_PASSWORD", "SMTP password for email alerts"),
    (
        "INTAKE_ALERT_WEBHOOK_SECRET",
        "key that signs alert webhooks (HMAC-SHA256)",
    ),
    ("INTAKE_SESSION_KEY", "key that signs session cookies"),
];

/// Plain environment variables and the configuration key each sets.
pub const PLAIN_VARS: &[(&str, &str)] = &[
    ("INTAKE_DATABASE_URL", "database_url"),
    ("INTAKE_LISTEN", "listen"),
    ("INTAKE_LOG_FORMAT", "log.format"),
    ("INTAKE_LOG", "log.filter"),
    ("INTAKE_DIALOGS_DIR", "dialogs_dir"),
    ("INTAKE_WEB_SECURE_COOKIES", "web.secure_cookies"),
    ("INTAKE_WEB_MAX_CONNECTIONS", "web.max_connections"),
    (
        "INTAKE_WEB_HEADER_TIMEOUT_SECONDS",
        "web.header_timeout_seconds",
    ),
    ("INTAKE_WEB_TRUSTED_PROXIES", "web.trusted_proxies"),
    (
        "INTAKE_CONSOLE_STANDARD_MESSAGES",
        "console.standard_messages",
    ),
    ("INTAKE_TELEGRAM_API_URL", "telegram.api_url"),
    ("INTAKE_TELEGRAM_MODE", "telegram.mode"),
    ("INTAKE_TELEGRAM_WEBHOOK_URL", "telegram.webhook_url"),
    ("INTAKE_DISCORD_API_URL", "discord.api_url"),
    ("INTAKE_POLICY_LEXICON", "policy.lexicon"),
    ("INTAKE_POLICY_MODEL", "policy.model"),
    ("INTAKE_LANDLORD_NAME", "landlord.name"),
    ("INTAKE_LANDLORD_HOMES", "landlord.homes"),
];

/// Key names that hold secrets; a configuration file must not contain them.
const SECRET_KEY_WORDS: &[&str] = &["token", "password", "secret", "session_key", "api_key"];

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
    Web(String),
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

impl Config {
    /// Loads the configuration: defaults, then `file` if given, then the `INTAKE_` variables in
    /// `env`. Does not validate; call `validate` (or `policy`) next.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let env: BTreeMap<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("INTAKE_"))
            .collect();
        let mut tree = toml::Table::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            tree = parse_file(&path.display().to_string(), &text)?;
        }
        for (var, key) in PLAIN_VARS {
            if let Some(value) = env.get(*var) {
                set_path(&mut tree, key, env_value(key, value));
            }
        }
        let mut config: Config = match toml::Value::Table(tree).try_into() {
            Ok(config) => config,
            Err(e) => return Err(explain(file, &env, e)),
        };
        let secret = |var: &str| {
            env.get(var)
                .filter(|v| !v.is_empty())
                .map(|v| Secret::new(v.clone()))
        };
        config.secrets = Secrets {
            telegram_token: secret("INTAKE_TELEGRAM_TOKEN"),
            telegram_webhook_secret: secret("INTAKE_TELEGRAM_WEBHOOK_SECRET"),
            discord_token: secret("INTAKE_DISCORD_TOKEN"),
            smtp_password: secret("INTAKE_SMTP_PASSWORD"),
            alert_webhook_secret: secret("INTAKE_ALERT_WEBHOOK_SECRET"),
            session_key: secret("INTAKE_SESSION_KEY"),
        };
        Ok(config)
    }

    /// Loads from the process: `--config` (or `INTAKE_CONFIG`) and the process environment.
    pub fn from_process(file: Option<&Path>) -> Result<Config, ConfigError> {
        let from_env = std::env::var_os(CONFIG_ENV).map(PathBuf::from);
        let file = file.map(Path::to_path_buf).or(from_env);
        Config::load(file.as_deref(), std::env::vars())
    }

    /// Everything that would stop the bot starting: the landlord profile against the Code,
    /// the database URL.
    /// Whether cookies are marked Secure: as configured; otherwise yes, unless the service
    /// listens on loopback with no proxy in front (a developer's machine).
    pub fn secure_cookies(&self) -> bool {
        self.web.secure_cookies.unwrap_or(
            !self.listen.ip().is_loopback()
                || !self.trusted_proxies().unwrap_or_default().is_empty(),
        )
    }

    /// The trusted reverse proxies' addresses.
    pub fn trusted_proxies(&self) -> Result<Vec<std::net::IpAddr>, ConfigError> {
        self.web
            .trusted_proxies
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| {
                a.parse().map_err(|_| {
                    ConfigError::Alerts(format!("web.trusted_proxies: {a:?} is not an IP address"))
                })
            })
            .collect()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres:")
            || self.database_url.starts_with("postgresql:"))
        {
            return Err(ConfigError::DatabaseUrl(self.database_url.clone()));
        }
        if self.secrets.telegram_token.is_some() && self.telegram.mode == TelegramMode::Webhook {
            if self.telegram.webhook_url.is_none() {
                return Err(ConfigError::Webhook(
                    "telegram.mode is \"webhook\" but telegram.webhook_url (INTAKE_TELEGRAM_WEBHOOK_URL) is not set".to_owned(),
                ));
            }
            if self.secrets.telegram_webhook_secret.is_none() {
                return Err(ConfigError::Webhook(
                    "telegram.mode is \"webhook\" but INTAKE_TELEGRAM_WEBHOOK_SECRET is not set; without it anyone could post updates".to_owned(),
                ));
            }
        }
        self.check_alerts()?;
        self.trusted_proxies()?;
        self.landlord.check().map_err(ConfigError::Profile)
    }

    fn check_alerts(&self) -> Result<(), ConfigError> {
        let a = &self.alerts;
        if a.retention_days < MIN_RETENTION_DAYS {
            return Err(ConfigError::Alerts(format!(
                "alerts.retention_days is {}, but records must be kept at least {MIN_RETENTION_DAYS} days after a complaint closes: a resident may go to the Housing Ombudsman up to twelve months after the final response (Code 5.12)",
                a.retention_days
            )));
        }
        for (key, value) in [
            ("alerts.working_hours_start", &a.working_hours_start),
            ("alerts.working_hours_end", &a.working_hours_end),
        ] {
            if chrono::NaiveTime::parse_from_str(value, "%H:%M").is_err() {
                return Err(ConfigError::Alerts(format!(
                    "{key} = {value:?} is not a time such as \"09:00\""
                )));
            }
        }
        for sink in &a.sinks {
            match sink.kind {
                SinkKind::Webhook if self.secrets.alert_webhook_secret.is_none() => {
                    return Err(ConfigError::Alerts(format!(
                        "alert sink {:?} is a webhook, but INTAKE_ALERT_WEBHOOK_SECRET is not set to sign it",
                        sink.name
                    )));
                }
                SinkKind::Email if a.smtp.host.is_none() => {
                    return Err(ConfigError::Alerts(format!(
                        "alert sink {:?} sends email, but alerts.smtp.host is not set",
                        sink.name
                    )));
                }
                SinkKind::Telegram if self.secrets.telegram_token.is_none() => {
                    return Err(ConfigError::Alerts(format!(
                        "alert sink {:?} posts to Telegram, but INTAKE_TELEGRAM_TOKEN is not set",
                        sink.name
                    )));
                }
                SinkKind::Telegram if sink.to.trim().parse::<i64>().is_err() => {
                    return Err(ConfigError::Alerts(format!(
                        "alert sink {:?}: to = {:?} is not a Telegram chat id (a number such as -1001234567890)",
                        sink.name, sink.to
                    )));
                }
                SinkKind::Discord if self.secrets.discord_token.is_none() => {
                    return Err(ConfigError::Alerts(format!(
                        "alert sink {:?} posts to Discord, but INTAKE_DISCORD_TOKEN is not set",
                        sink.name
                    )));
                }
                SinkKind::Discord if !sink.to.trim().parse::<u64>().is_ok_and(|id| id != 0) => {
                    return Err(ConfigError::Alerts(format!(
                        "alert sink {:?}: to = {:?} is not a Discord channel id",
                        sink.name, sink.to
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The policy engine for this landlord: the shipped lexicon plus the landlord's own.
    pub fn policy(&self) -> Result<Policy, ConfigError> {
        let mut additions = Vec::new();
        if let Some(path) = &self.policy.lexicon {
            let text =
                std::fs::read_to_string(path).map_err(|source| ConfigError::LexiconRead {
                    path: path.clone(),
                    source,
                })?;
            additions.push((path.display().to_string(), text));
        }
        let policy = Policy::new(Lexicon::build(&additions)?, self.landlord.routes.clone());
        match &self.policy.model {
            None => Ok(policy),
            Some(path) => {
                let failed = |message: String| ConfigError::Model {
                    path: path.clone(),
                    message,
                };
                let bytes = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
                let model = crate::core::policy::Model::from_bytes(&bytes)
                    .map_err(|e| failed(e.to_string()))?;
                Ok(policy.with_model(Some(model.into())))
            }
        }
    }

    /// The database URL with any password replaced, for logs and `check-config`.
    pub fn redacted_database_url(&self) -> String {
        redact_url_password(&self.database_url)
    }

    /// The effective configuration as TOML, with each secret shown only as set or not set.
    pub fn to_display_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database_url = self.redacted_database_url();
        let mut out = toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# {e}\n"));
        out.push_str("\n# Secrets come only from the environment and are never shown.\n");
        let s = &self.secrets;
        for ((var, what), set) in SECRET_VARS.iter().zip([
            s.telegram_token.is_some(),
            s.telegram_webhook_secret.is_some(),
            s.discord_token.is_some(),
            s.smtp_password.is_some(),
            s.alert_webhook_secret.is_some(),
            s.session_key.is_some(),
        ]) {
            out.push_str(&format!(
                "# {var}: {} ({what})\n",
                if set { "set" } else { "not set" }
            ));
        }
        out
    }
}

/// Names the environment variable at fault when one is, else the file.
fn explain(file: Option<&Path>, env: &BTreeMap<String, String>, e: toml::de::Error) -> ConfigError {
    for (var, key) in PLAIN_VARS {
        let Some(value) = env.get(*var) else { continue };
        let mut alone = toml::Table::new();
        set_path(&mut alone, key, env_value(key, value));
        if let Err(own) = toml::Value::Table(alone).try_into::<Config>() {
            return ConfigError::Env {
                var: (*var).to_owned(),
                key: (*key).to_owned(),
                detail: own.message().to_owned(),
            };
        }
    }
    ConfigError::Syntax {
        path: file.map_or_else(|| "configuration".to_owned(), |p| p.display().to_string()),
        detail: e.to_string(),
    }
}

/// `postgres://user:password@host/db` becomes `postgres://user:[redacted]@host/db`.
pub fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:[redacted]@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    // A password may also come as a query parameter (`?password=...`, libpq's style).
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _))
                        if ["password", "pass", "passwd", "sslpassword"]
                            .contains(&key.to_ascii_lowercase().as_str()) =>
                    {
                        format!("{key}=[redacted]")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

fn parse_file(path: &str, text: &str) -> Result<toml::Table, ConfigError> {
    let tree: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Syntax {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    if let Some(key) = find_secret_key(&tree, "") {
        let leaf = key.rsplit('.').next().unwrap_or(&key).to_owned();
        let hint = SECRET_VARS
            .iter()
            .filter(|(var, _)| var.to_lowercase().contains(&leaf.replace('-', "_")))
            .map(|(var, _)| *var)
            .next()
            .map_or_else(
                || {
                    format!(
                        "one of {}",
                        SECRET_VARS
                            .iter()
                            .map(|(v, _)| *v)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                |v| format!("set {v}"),
            );
        return Err(ConfigError::SecretInFile {
            path: path.to_owned(),
            key,
            hint,
        });
    }
    Ok(tree)
}

fn find_secret_key(table: &toml::Table, prefix: &str) -> Option<String> {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let lower = key.to_lowercase();
        if SECRET_KEY_WORDS.iter().any(|w| lower.contains(w)) {
            return Some(path);
        }
        if let toml::Value::Table(inner) = value
            && let Some(found) = find_secret_key(inner, &path)
        {
            return Some(found);
        }
    }
    None
}

/// An environment value as TOML: numbers stay numbers where the key wants one.
fn env_value(key: &str, value: &str) -> toml::Value {
    if matches!(
        key,
        "landlord.homes" | "web.max_connections" | "web.header_timeout_seconds"
    ) && let Ok(n) = value.trim().parse::<i64>()
    {
        return toml::Value::Integer(n);
    }
    if key == "web.secure_cookies" {
        match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => return toml::Value::Boolean(true),
            "false" | "0" | "no" => return toml::Value::Boolean(false),
            _ => {}
        }
    }
    toml::Value::String(value.to_owned())
}

fn set_path(tree: &mut toml::Table, dotted: &str, value: toml::Value) {
    let mut parts: Vec<&str> = dotted.split('.').collect();
    let Some(leaf) = parts.pop() else { return };
    let mut table = tree;
    for part in parts {
        let entry = table
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(inner) = entry else {
            return;
        };
        table = inner;
    }
    table.insert(leaf.to_owned(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Issue 14: cookies are Secure unless the service listens on loopback only; an explicit
    /// setting wins.
    #[test]
    fn cookies_are_secure_unless_listening_on_loopback() {
        let load = |pairs: &[(&str, &str)]| Config::load(None, env(pairs)).expect("config");
        assert!(!load(&[]).secure_cookies(), "127.0.0.1 by default");
        assert!(load(&[("INTAKE_LISTEN", "0.0.0.0:8080")]).secure_cookies());
        assert!(load(&[("INTAKE_LISTEN", "[::]:8080")]).secure_cookies());
        assert!(
            !load(&[
                ("INTAKE_LISTEN", "0.0.0.0:8080"),
                ("INTAKE_WEB_SECURE_COOKIES", "false")
            ])
            .secure_cookies()
        );
        assert!(load(&[("INTAKE_WEB_SECURE_COOKIES", "true")]).secure_cookies());
    }

    #[test]
    fn defaults_then_file_then_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("intake.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\n[landlord]\nname = \"Riverside Homes\"\nhomes = 4200\n",
        )
        .expect("write");
        let config = Config::load(
            Some(&path),
            env(&[
                ("INTAKE_LISTEN", "127.0.0.1:9100"),
                ("INTAKE_TELEGRAM_TOKEN", "123:abc"),
                ("HOME", "/root"),
            ]),
        )
        .expect("load");
        assert_eq!(config.listen, "127.0.0.1:9100".parse().expect("addr"));
        assert_eq!(config.landlord.name, "Riverside Homes");
        assert_eq!(config.landlord.homes, 4200);
        assert_eq!(config.database_url, "sqlite://data/intake.db");
        assert_eq!(
            config.secrets.telegram_token.as_ref().map(Secret::expose),
            Some("123:abc")
        );
        config.validate().expect("valid");
    }

    #[test]
    fn secrets_never_show() {
        let config = Config::load(None, env(&[("INTAKE_DISCORD_TOKEN", "very-secret-value")]))
            .expect("load");
        let shown = config.to_display_toml();
        assert!(!shown.contains("very-secret-value"), "{shown}");
        assert!(shown.contains("INTAKE_DISCORD_TOKEN: set"));
        assert!(!format!("{config:?}").contains("very-secret-value"));
    }

    #[test]
    fn the_example_file_shows_every_key_with_its_default() {
        let example = include_str!("../deploy/intake.example.toml");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("example.toml");
        std::fs::write(&path, example).expect("write");
        let loaded = Config::load(Some(&path), env(&[])).expect("example loads");
        assert_eq!(
            loaded,
            Config::default(),
            "the example must show the defaults"
        );
        // Optional keys have no default to show; each is documented, commented out.
        for key in [
            "dialogs_dir",
            "webhook_url",
            "api_url",
            "lexicon",
            "standard_messages",
            "secure_cookies",
            "max_connections",
            "header_timeout_seconds",
            "trusted_proxies",
        ] {
            assert!(
                example.contains(&format!("# {key} = ")),
                "{key} is not documented"
            );
        }
        for (var, _) in PLAIN_VARS.iter().chain(SECRET_VARS) {
            assert!(example.contains(var), "{var} is not documented");
        }
    }

    #[test]
    fn database_passwords_are_redacted() {
        let config = Config::load(
            None,
            env(&[(
                "INTAKE_DATABASE_URL",
                "postgres://intake:hunter2@db.internal:5432/intake",
            )]),
        )
        .expect("load");
        assert_eq!(
            config.redacted_database_url(),
            "postgres://intake:[redacted]@db.internal:5432/intake"
        );
        assert!(!config.to_display_toml().contains("hunter2"));
        assert_eq!(
            redact_url_password("sqlite://data/intake.db"),
            "sqlite://data/intake.db"
        );
    }

    #[test]
    fn a_secret_in_the_file_is_refused_with_the_variable_to_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("intake.toml");
        std::fs::write(&path, "[telegram]\ntoken = \"123:abc\"\n").expect("write");
        let err = Config::load(Some(&path), env(&[]))
            .expect_err("secret")
            .to_string();
        assert!(
            err.contains("telegram.token") && err.contains("INTAKE_TELEGRAM_TOKEN"),
            "{err}"
        );
    }

    #[test]
    fn a_timescale_beyond_the_code_is_refused_naming_key_and_provision() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("intake.toml");
        std::fs::write(&path, "[landlord.timescales]\nstage1_acknowledgement = 7\n")
            .expect("write");
        let config = Config::load(Some(&path), env(&[])).expect("load");
        let err = config.validate().expect_err("too long").to_string();
        assert!(
            err.contains("timescales.stage1_acknowledgement") && err.contains("6.2"),
            "{err}"
        );
    }

    #[test]
    fn mistakes_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("intake.toml");
        std::fs::write(&path, "[landlord]\nnmae = \"x\"\n").expect("write");
        let err = Config::load(Some(&path), env(&[]))
            .expect_err("unknown")
            .to_string();
        assert!(err.contains("nmae"), "{err}");
        let err = Config::load(None, env(&[("INTAKE_LISTEN", "not an address")]))
            .expect_err("bad env")
            .to_string();
        assert!(err.contains("INTAKE_LISTEN"), "{err}");
        let config =
            Config::load(None, env(&[("INTAKE_DATABASE_URL", "mysql://x")])).expect("load");
        assert!(config.validate().is_err());
    }
}
