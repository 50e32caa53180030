//! The sections of the configuration file, each with its defaults.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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
    /// The reverse proxies in front of the bot (IP addresses or CIDR networks such as
    /// `10.244.0.0/16`, comma-separated). A request from
    /// one of them is counted against the address it names in `X-Forwarded-For`, so limits
    /// per client address keep working behind a proxy; from anyone else the header is ignored.
    pub trusted_proxies: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Where `/metrics` (Prometheus) is served, on a listener of its own: loopback by default,
    /// so the figures never face the residents' network. `off` serves none.
    pub listen: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            listen: "127.0.0.1:9464".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// A TOML file of the landlord's own standard messages (`[[message]]` with `name` and
    /// `text`), replacing the shipped ones.
    pub standard_messages: Option<PathBuf>,
    /// Teams conversations may be assigned to (`[[console.teams]]`), each with its members'
    /// email addresses: "mine" in the inbox takes in what is assigned to a team one is in.
    pub teams: Vec<TeamConfig>,
}

/// A team of staff, by name, with its members' email addresses (as their accounts have them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    pub name: String,
    #[serde(default)]
    pub members: Vec<String>,
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
    /// The alert kinds it takes (emergency, emergency_contact, safeguarding, safe_contact,
    /// health_safety, vulnerability, person_requested, question, service_request,
    /// contact_details, privacy_request, interpreter, definition_disputed, stage2_request,
    /// deadline_near, deadline_passed, claim_idle, half_finished, action_overdue,
    /// email_unusable, reply_another_way); empty for all. A sink taking emergency also gets
    /// emergency_contact, and one taking safeguarding also gets safe_contact.
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
