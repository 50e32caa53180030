//! The layering: built-in defaults, then the TOML file, then `INTAKE_` environment variables;
//! and the files the policy engine is built from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::core::policy::{Lexicon, Policy};

use super::secrets::SECRET_KEY_WORDS;
use super::{CONFIG_ENV, Config, ConfigError, SECRET_VARS, Secret, Secrets};

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
    ("INTAKE_METRICS_LISTEN", "metrics.listen"),
    (
        "INTAKE_LIMITS_WEB_MESSAGES_BURST",
        "limits.web_messages_burst",
    ),
    (
        "INTAKE_LIMITS_WEB_MESSAGES_PER_MINUTE",
        "limits.web_messages_per_minute",
    ),
    (
        "INTAKE_LIMITS_WEB_ALL_MESSAGES_BURST",
        "limits.web_all_messages_burst",
    ),
    (
        "INTAKE_LIMITS_WEB_ALL_MESSAGES_PER_MINUTE",
        "limits.web_all_messages_per_minute",
    ),
    (
        "INTAKE_LIMITS_WEB_NEW_SESSIONS_BURST",
        "limits.web_new_sessions_burst",
    ),
    (
        "INTAKE_LIMITS_WEB_NEW_SESSIONS_PER_MINUTE",
        "limits.web_new_sessions_per_minute",
    ),
    (
        "INTAKE_LIMITS_WEB_ALL_NEW_SESSIONS_BURST",
        "limits.web_all_new_sessions_burst",
    ),
    (
        "INTAKE_LIMITS_WEB_ALL_NEW_SESSIONS_PER_MINUTE",
        "limits.web_all_new_sessions_per_minute",
    ),
    ("INTAKE_LIMITS_SIGN_IN_BURST", "limits.sign_in_burst"),
    (
        "INTAKE_LIMITS_SIGN_IN_PER_MINUTE",
        "limits.sign_in_per_minute",
    ),
    (
        "INTAKE_LIMITS_SIGN_IN_EMAIL_BURST",
        "limits.sign_in_email_burst",
    ),
    (
        "INTAKE_LIMITS_SIGN_IN_EMAIL_PER_MINUTE",
        "limits.sign_in_email_per_minute",
    ),
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
    ("INTAKE_REPORTS_GOVERNING_BODY", "reports.governing_body"),
    (
        "INTAKE_REPORTS_SEND_SUMMARY_AUTOMATICALLY",
        "reports.send_summary_automatically",
    ),
    ("INTAKE_LANDLORD_NAME", "landlord.name"),
    ("INTAKE_LANDLORD_HOMES", "landlord.homes"),
];

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
    if key.starts_with("limits.")
        && let Ok(n) = value.trim().parse::<f64>()
    {
        return toml::Value::Float(n);
    }
    // A list in one variable: the addresses separated by commas.
    if key == "reports.governing_body" {
        return toml::Value::Array(
            value
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| toml::Value::String(a.to_owned()))
                .collect(),
        );
    }
    if key == "web.secure_cookies" || key == "reports.send_summary_automatically" {
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
