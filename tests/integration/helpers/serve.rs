//! The real `intake serve` in its own process, and what a test needs to talk to it: a free
//! port, an HTTP client, a fresh SQLite file, and waiting until something happens.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port free on loopback now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// `intake serve` in its own process, killed when dropped.
pub struct Bot {
    child: Child,
    pub base: String,
    log: PathBuf,
}

impl Bot {
    /// Starts the bot with `env` (INTAKE_* settings) on a fresh port and waits for /healthz.
    pub async fn start(database: &str, log: &Path, env: &[(&str, String)]) -> Bot {
        let port = free_port();
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_intake"));
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("INTAKE_DATABASE_URL", database)
            .env("INTAKE_LISTEN", format!("127.0.0.1:{port}"))
            .env("INTAKE_LOG", "info,serenity=warn,tracing=warn")
            .env(
                "INTAKE_SESSION_KEY",
                "a test key that is long enough to be a key",
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        // "{base}" in a setting stands for the bot's own address (a webhook URL).
        let base = format!("http://127.0.0.1:{port}");
        for (k, v) in env {
            command.env(k, v.replace("{base}", &base));
        }
        let child = command.spawn().expect("start intake serve");
        let bot = Bot {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log: log.to_owned(),
        };
        let client = client();
        let started = Instant::now();
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", bot.base)).send().await
                && r.status().is_success()
            {
                return bot;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "intake serve did not start; its log:\n{}",
                bot.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM, as an orchestrator stopping the service does, and waits up to `within`
    /// for the process to end: its exit status, or `None` if it was still running.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < within {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The process's resident memory, in KiB, as the kernel reports it.
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status")
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// Kills the process at once (SIGKILL): no chance to tidy up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        self.kill();
        // A failing test shows what the bot logged.
        if std::thread::panicking() {
            print_tail("the bot's log", &self.log_text(), 40);
        }
    }
}

/// Prints the last `lines` lines of a log, for a failing test.
pub fn print_tail(what: &str, log: &str, lines: usize) {
    let tail: Vec<&str> = log.lines().rev().take(lines).collect();
    eprintln!("--- {what} (last lines) ---");
    for line in tail.into_iter().rev() {
        eprintln!("{line}");
    }
}

/// An HTTP client that never goes through a proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Waits until `check` gives a value, or fails with `what` after `within`.
pub async fn eventually<T>(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(started.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh SQLite file for one test.
pub fn sqlite_in(dir: &Path) -> String {
    format!("sqlite://{}/intake.db", dir.display())
}
