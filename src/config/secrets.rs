//! Secrets: each from its own environment variable, refused in a file, and never printed or
//! logged.

use std::fmt;

use super::Config;

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

/// Key names that hold secrets; a configuration file must not contain them.
pub(super) const SECRET_KEY_WORDS: &[&str] =
    &["token", "password", "secret", "session_key", "api_key"];
impl Config {
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
