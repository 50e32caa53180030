//! `tracing` output: human-readable by default, JSON lines when configured. Logs go to
//! standard error, so commands that print results (`intake assess`) keep standard output clean.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. A bad filter falls back to `info` with a warning, rather
/// than stopping the bot.
pub fn init(config: &LogConfig) {
    let (filter, bad) = match EnvFilter::try_new(&config.filter) {
        Ok(f) => (f, None),
        Err(e) => (EnvFilter::new("info"), Some(e.to_string())),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never in files or pipes.
        .with_ansi(std::io::stderr().is_terminal());
    let installed = match config.format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    if installed.is_ok()
        && let Some(e) = bad
    {
        tracing::warn!(filter = %config.filter, error = %e, "log.filter is not valid; using info");
    }
}
