//! End to end through the channels: the real `intake serve` binary, with the real teloxide and
//! serenity clients talking to fake platforms on loopback, and the web chat over HTTP. Each
//! test holds a whole conversation, from the first message to the acknowledgement, and checks
//! what the resident saw and what the record holds.

mod alert_chats;
mod discord;
pub mod fake_discord;
pub mod fake_telegram;
mod telegram;
mod web;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use intake::store::Store;
use sqlx::Row;

/// What the resident does at one step.
#[derive(Debug, Clone, Copy)]
pub enum Said {
    /// Types words.
    Text(&'static str),
    /// Presses the button with this label on the bot's last message.
    Press(&'static str),
}

/// One step of a conversation: what the resident does, and words the bot's answer contains.
pub struct Step {
    pub said: Said,
    pub expect: &'static str,
}

/// From an unhappy first message to the acknowledgement, using buttons where a resident would.
pub const TO_ACKNOWLEDGEMENT: &[Step] = &[
    Step {
        said: Said::Text("brilliant, another week with no hot water"),
        expect: "What would you like us to do?",
    },
    Step {
        said: Said::Press("Make a complaint"),
        expect: "Do you agree?",
    },
    Step {
        said: Said::Press("Yes, I agree"),
        expect: "What is your name",
    },
    Step {
        said: Said::Text("Sam Jones, 4 Rowan Close"),
        expect: "for yourself, or for someone else",
    },
    Step {
        said: Said::Press("For myself"),
        expect: "What would you like us to do",
    },
    Step {
        said: Said::Text("fix the boiler and an apology"),
        expect: "When did this happen",
    },
    Step {
        said: Said::Text("since last Monday"),
        expect: "support or changes",
    },
    Step {
        said: Said::Text("no"),
        expect: "How would you like us to reply?",
    },
    Step {
        said: Said::Press("Here in this chat"),
        expect: "Here is your complaint as I understand it",
    },
    Step {
        said: Said::Press("Yes, that's right"),
        expect: "Reference: C",
    },
];

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
            let log = self.log_text();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- the bot's log (last lines) ---");
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
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

/// What the record of one conversation holds after a channel test.
#[derive(Debug)]
pub struct Recorded {
    pub inbound: Vec<(Option<String>, String)>,
    pub outbound: Vec<String>,
    pub undelivered: i64,
    pub cases: Vec<(String, i64)>,
    pub consent_events: i64,
}

/// Reads the record of the conversation on (channel, chat).
pub async fn recorded(database: &str, channel: &str, chat: &str) -> Recorded {
    let store = Store::connect(database).await.expect("open the record");
    let conversation = store
        .find_conversation(channel, chat)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("no conversation on {channel} {chat}"));
    let rows = sqlx::query(
        "SELECT direction, platform_message_id, body FROM messages WHERE conversation_id = $1 ORDER BY id",
    )
    .bind(conversation.id)
    .fetch_all(store.pool_for_tests())
    .await
    .expect("messages");
    let mut inbound = Vec::new();
    let mut outbound = Vec::new();
    for r in rows {
        let direction: String = r.try_get("direction").expect("direction");
        let body: String = r.try_get("body").expect("body");
        if direction == "in" {
            inbound.push((r.try_get("platform_message_id").expect("id"), body));
        } else {
            outbound.push(body);
        }
    }
    let undelivered: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM outbox WHERE channel = $1 AND chat = $2 AND sent_at IS NULL",
    )
    .bind(channel)
    .bind(chat)
    .fetch_one(store.pool_for_tests())
    .await
    .expect("outbox")
    .try_get("n")
    .expect("n");
    let cases = sqlx::query("SELECT reference, stage FROM cases WHERE conversation_id = $1")
        .bind(conversation.id)
        .fetch_all(store.pool_for_tests())
        .await
        .expect("cases")
        .iter()
        .map(|r| {
            (
                r.try_get("reference").expect("ref"),
                r.try_get("stage").expect("stage"),
            )
        })
        .collect();
    let consent_events: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM events WHERE conversation_id = $1 AND kind = 'consent'",
    )
    .bind(conversation.id)
    .fetch_one(store.pool_for_tests())
    .await
    .expect("events")
    .try_get("n")
    .expect("n");
    Recorded {
        inbound,
        outbound,
        undelivered,
        cases,
        consent_events,
    }
}

/// The record once every reply to the conversation has been delivered (the last replies of a
/// step may still be on their way when its expected words arrive).
pub async fn settled(database: &str, channel: &str, chat: &str) -> Recorded {
    let started = Instant::now();
    loop {
        let record = recorded(database, channel, chat).await;
        if record.undelivered == 0 || started.elapsed() > Duration::from_secs(20) {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh SQLite file for one test.
pub fn sqlite_in(dir: &Path) -> String {
    format!("sqlite://{}/intake.db", dir.display())
}
