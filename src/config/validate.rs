//! Everything that would stop the bot starting, named by its key: the database URL, webhook
//! mode, alert sinks and their secrets, retention (Code 5.12), proxies, rate limits, the
//! landlord profile.

use super::proxies::ProxyNet;
use super::{Config, ConfigError, MIN_RETENTION_DAYS, SinkKind, TelegramMode};

impl Config {
    /// Whether cookies are marked Secure: as configured; otherwise yes, unless the service
    /// listens on loopback with no proxy in front (a developer's machine).
    pub fn secure_cookies(&self) -> bool {
        self.web.secure_cookies.unwrap_or(
            !self.listen.ip().is_loopback()
                || !self.trusted_proxies().unwrap_or_default().is_empty(),
        )
    }

    /// The trusted reverse proxies' addresses.
    pub fn trusted_proxies(&self) -> Result<Vec<ProxyNet>, ConfigError> {
        self.web
            .trusted_proxies
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| {
                ProxyNet::parse(a).ok_or_else(|| {
                    ConfigError::Alerts(format!(
                        "web.trusted_proxies: {a:?} is not an IP address or a network such as 10.0.0.0/8"
                    ))
                })
            })
            .collect()
    }

    /// Everything that would stop the bot starting: the landlord profile against the Code,
    /// the database URL.
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
        self.check_reports()?;
        self.trusted_proxies()?;
        self.check_teams()?;
        self.metrics_listen()?;
        self.limits.check()?;
        self.landlord.check().map_err(ConfigError::Profile)
    }

    /// Each team has a name of its own and members named by email address.
    fn check_teams(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::HashSet::new();
        for team in &self.console.teams {
            let name = team.name.trim();
            if name.is_empty() || name.chars().count() > 60 {
                return Err(ConfigError::Web(
                    "console.teams: every team needs a name of 1 to 60 characters".to_owned(),
                ));
            }
            if !names.insert(name.to_lowercase()) {
                return Err(ConfigError::Web(format!(
                    "console.teams: there are two teams named {name:?}"
                )));
            }
            if let Some(bad) = team.members.iter().find(|m| !m.contains('@')) {
                return Err(ConfigError::Web(format!(
                    "console.teams: {bad:?} in team {name:?} is not an email address"
                )));
            }
        }
        Ok(())
    }

    /// Where `/metrics` is served, or `None` when `metrics.listen` is `off`.
    pub fn metrics_listen(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        let listen = self.metrics.listen.trim();
        if listen.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        listen.parse().map(Some).map_err(|_| {
            ConfigError::Web(format!(
                "metrics.listen (INTAKE_METRICS_LISTEN) is {listen:?}: give an address and port, such as 127.0.0.1:9464, or off"
            ))
        })
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
}
