//! `intake soak`: residents talk to the real `intake serve` through the web chat for a bounded
//! time while the process is killed (SIGKILL) and restarted at random moments, on SQLite or
//! PostgreSQL. Then it checks what a resident and the Housing Ombudsman would: every message
//! answered "received" (202) or "already received" (200) is in the record exactly once, no
//! complaint was opened twice, and once pages reconnect every reply reaches its page, once.
//!
//! A resident whose post fails (the process is down, or answers 503) sends the same message
//! again with the same id, as the chat page does, until it is taken.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::sync::Mutex;

use crate::store::{Store, StoreOptions};

/// What each resident says: the benchmark's conversation, over and over.
const SCRIPT: &[&str] = crate::bench::CONVERSATION;

#[derive(Debug, Clone)]
pub struct SoakOptions {
    pub residents: usize,
    pub seconds: u64,
    pub kills: usize,
    /// PostgreSQL to soak on (a scratch schema is made and dropped); SQLite when `None`.
    pub postgres_url: Option<String>,
}

/// The process under test, restarted on the same port and record.
struct Served {
    child: Option<Child>,
    port: u16,
    database: String,
    log: std::path::PathBuf,
}

impl Served {
    fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .context("the soak log")?;
        let child = Command::new(std::env::current_exe().context("this program's path")?)
            .arg("serve")
            .env_clear()
            .env("INTAKE_DATABASE_URL", &self.database)
            .env("INTAKE_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("INTAKE_LOG", "warn")
            .env(
                "INTAKE_SESSION_KEY",
                "a soak key that is long enough to be a key",
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting intake serve")?;
        self.child = Some(child);
        Ok(())
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs the soak and prints what it found; an error if any check failed.
pub async fn run(options: &SoakOptions) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("intake-soak-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).context("a scratch folder")?;
    let schema = format!("soak_{}", uuid::Uuid::new_v4().simple());
    let database = match &options.postgres_url {
        Some(url) => {
            // The schema must be there before the served process connects into it.
            let admin = Store::connect_with(StoreOptions {
                url: url.clone(),
                schema: Some(schema.clone()),
                max_connections: 1,
            })
            .await
            .context("connecting to PostgreSQL")?;
            drop(admin);
            let joiner = if url.contains('?') { '&' } else { '?' };
            format!("{url}{joiner}options[search_path]={schema}")
        }
        None => format!("sqlite://{}/soak.db", dir.display()),
    };
    let outcome = soak(options, &database, &dir).await;
    if let Some(url) = &options.postgres_url {
        Store::drop_scratch_schema(url, &schema).await?;
    }
    if outcome.is_ok() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("the served process's log is in {}", dir.display());
    }
    outcome
}

/// What residents were told, per message id (unique across residents): the last status.
type Answers = Arc<Mutex<BTreeMap<String, u16>>>;

async fn soak(options: &SoakOptions, database: &str, dir: &std::path::Path) -> anyhow::Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut served = Served {
        child: None,
        port,
        database: database.to_owned(),
        log: dir.join("serve.log"),
    };
    served.start()?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()?;
    wait_healthy(&client, &base, Duration::from_secs(30)).await?;

    let answers: Answers = Arc::default();
    let retries = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs(options.seconds);
    let mut residents = Vec::new();
    for r in 0..options.residents {
        let (client, base, answers, retries) = (
            client.clone(),
            base.clone(),
            answers.clone(),
            retries.clone(),
        );
        residents.push(tokio::spawn(async move {
            resident(r, &client, &base, &answers, &retries, until).await
        }));
    }

    // Kill and restart at moments spread over the run, each a little off the even spacing.
    let started = Instant::now();
    for k in 0..options.kills {
        let slot = options.seconds as f64 / (options.kills + 1) as f64;
        let jitter = rand::random::<f64>() * slot * 0.5;
        let at = Duration::from_secs_f64(slot * (k + 1) as f64 - slot * 0.25 + jitter);
        if let Some(wait) = at.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        served.kill();
        tokio::time::sleep(Duration::from_millis(200)).await;
        served.start()?;
    }

    let mut sessions = Vec::new();
    for task in residents {
        sessions.push(task.await.context("a resident")??);
    }
    wait_healthy(&client, &base, Duration::from_secs(30)).await?;

    // Pages reconnect: each reads its conversation as a live stream from the start.
    let mut duplicate_events = 0;
    let mut replies_seen = 0;
    for cookie in &sessions {
        let (seen, duplicates) = replay(&client, &base, cookie).await?;
        replies_seen += seen;
        duplicate_events += duplicates;
    }
    served.kill();

    // The record, read directly.
    let store = Store::connect(database).await?;
    // The record keys a web chat message as "<session>:<the page's id>"; the session is inside
    // the encrypted cookie, and the page's ids are unique across residents.
    let recorded: HashMap<String, i64> = store
        .inbound_counts("web")
        .await?
        .into_iter()
        .map(|r| {
            let key = r.platform_message_id.unwrap_or_default();
            let id = key.rsplit_once(':').map_or(key.as_str(), |(_, id)| id);
            (id.to_owned(), r.times)
        })
        .collect();
    let answers = answers.lock().await;
    let mut missing = Vec::new();
    let mut twice = Vec::new();
    for id in answers.keys() {
        match recorded.get(id) {
            None => missing.push(id.clone()),
            Some(n) if *n > 1 => twice.push(id.clone()),
            Some(_) => {}
        }
    }
    let duplicate_cases = store.conversations_with_several_cases().await?;
    let cases = store.count_cases().await?;
    let undelivered = store.undelivered_on("web").await?;
    let received = answers.values().filter(|s| **s == 202).count();
    let already = answers.values().filter(|s| **s == 200).count();
    println!(
        "soak: {} residents for {} s, {} kill -9 restarts; {} messages answered (202 {received}, already received {already}), {} retries after a refusal or a dead process; {cases} complaints; {replies_seen} replies replayed to reconnected pages",
        options.residents,
        options.seconds,
        options.kills,
        answers.len(),
        retries.load(Ordering::Relaxed),
    );
    println!(
        "checks: answered but not recorded {}, recorded twice {}, conversations with a complaint opened twice {duplicate_cases}, replies not delivered {undelivered}, replies a page saw twice {duplicate_events}",
        missing.len(),
        twice.len()
    );
    if !missing.is_empty() || !twice.is_empty() || duplicate_cases > 0 || undelivered > 0 {
        bail!(
            "the soak found lost or doubled messages: missing {:?}, twice {:?}",
            &missing[..missing.len().min(10)],
            &twice[..twice.len().min(10)]
        );
    }
    if duplicate_events > 0 {
        bail!("a reconnected page was sent a reply twice");
    }
    Ok(())
}

async fn wait_healthy(
    client: &reqwest::Client,
    base: &str,
    within: Duration,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        if started.elapsed() > within {
            bail!("intake serve did not come up");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One resident: opens the chat, then says the script's lines in turn until the time is
/// up, each sent until taken. Returns the session cookie.
async fn resident(
    number: usize,
    client: &reqwest::Client,
    base: &str,
    answers: &Answers,
    retries: &AtomicUsize,
    until: Instant,
) -> anyhow::Result<String> {
    let cookie = loop {
        match client.get(format!("{base}/chat")).send().await {
            Ok(page) if page.status().is_success() => {
                break crate::bench::chat_cookie(&page).context("no session cookie")?;
            }
            _ => {
                retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let mut n = 0;
    while Instant::now() < until {
        let text = SCRIPT[n % SCRIPT.len()];
        let id = format!("r{number}m{n}");
        let body = serde_json::json!({ "text": text, "id": id }).to_string();
        let status = loop {
            let sent = client
                .post(format!("{base}/chat/api/messages"))
                .header("Content-Type", "application/json")
                .header("Cookie", &cookie)
                .body(body.clone())
                .send()
                .await;
            match sent.map(|r| r.status().as_u16()) {
                Ok(status @ (200 | 202)) => break status,
                Ok(429) => tokio::time::sleep(Duration::from_secs(2)).await,
                Ok(400 | 401 | 413) => bail!("resident {number}: the bot refused {text:?}"),
                // Down, restarting, or 503: send the same message again.
                _ => {
                    retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        let mut answers = answers.lock().await;
        // A message answered 202 once must never be answered 202 again.
        if status == 202 && answers.get(&id) == Some(&202) {
            bail!("resident {number}: {id} was received twice");
        }
        answers.insert(id, status);
        drop(answers);
        n += 1;
        // Residents type: a message every second or so.
        tokio::time::sleep(Duration::from_millis(600 + rand::random::<u64>() % 800)).await;
    }
    Ok(cookie)
}

/// Opens the page's live stream from the start, as a reconnecting page does, and reads
/// until the stream has caught up with the conversation's replies: (replies seen, seen twice).
async fn replay(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
) -> anyhow::Result<(usize, usize)> {
    let history: serde_json::Value = client
        .get(format!("{base}/chat/api/messages"))
        .header("Cookie", cookie)
        .send()
        .await?
        .json()
        .await?;
    let expected = history["messages"]
        .as_array()
        .map_or(0, |m| m.iter().filter(|l| l["from"] != "resident").count());
    let mut stream = client
        .get(format!("{base}/chat/api/events"))
        .header("Cookie", cookie)
        .timeout(Duration::from_secs(30))
        .send()
        .await?;
    let mut seen = HashSet::new();
    let mut twice = 0;
    let mut buffer = String::new();
    while seen.len() < expected {
        let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
            .await
            .context("a reconnected page waited for its replies")??
        else {
            break;
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            for line in event.lines() {
                if let Some(id) = line.strip_prefix("id:")
                    && !seen.insert(id.trim().to_owned())
                {
                    twice += 1;
                }
            }
        }
    }
    Ok((seen.len(), twice))
}
