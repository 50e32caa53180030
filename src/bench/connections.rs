//! `intake bench --connections N`: the memory the real `intake serve` holds for idle TCP
//! connections and for open chat pages (each a live event stream), read from the outside as
//! the kernel reports it (VmRSS), the way an operator sizing a machine would.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// The served process, killed when dropped.
struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .context("reading the server's memory (Linux /proc)")?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS line")
    }
}

/// Starts `intake serve` on a scratch SQLite file and a free loopback port.
async fn serve(dir: &std::path::Path) -> anyhow::Result<Served> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(std::env::current_exe().context("this program's path")?)
        .arg("serve")
        .env_clear()
        .env(
            "INTAKE_DATABASE_URL",
            format!("sqlite://{}/memory.db", dir.display()),
        )
        .env("INTAKE_LISTEN", format!("127.0.0.1:{port}"))
        .env("INTAKE_LOG", "warn")
        .env(
            "INTAKE_SESSION_KEY",
            "a benchmark key that is long enough to be a key",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting intake serve")?;
    let served = Served {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::builder().no_proxy().build()?;
    let started = Instant::now();
    while !client
        .get(format!("{}/healthz", served.base))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "intake serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(served)
}

/// Measures and prints: idle RSS, then with `n` idle connections, then with `n` open pages.
pub async fn run(n: usize, dir: &std::path::Path) -> anyhow::Result<()> {
    let served = serve(dir).await?;
    // Let start-up allocations settle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = served.rss_kib()?;
    println!("intake serve, idle: {:.1} MB RSS", mb(idle));

    let address = served.base.trim_start_matches("http://").to_owned();
    let mut connections = Vec::with_capacity(n);
    for _ in 0..n {
        connections.push(tokio::net::TcpStream::connect(&address).await?);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let with_idle = served.rss_kib()?;
    println!(
        "{n} idle connections: {:.1} MB RSS, {:.1} KB each",
        mb(with_idle),
        per(with_idle, idle, n)
    );
    drop(connections);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before_pages = served.rss_kib()?;

    let mut pages = Vec::with_capacity(n);
    for i in 0..n {
        // Each page is a resident's own tab, from their own address (127.0.0.0/8 is all
        // loopback): limits per session and per address are not what is measured here.
        let address: std::net::IpAddr = format!("127.1.{}.{}", i / 250, 1 + i % 250).parse()?;
        let tab = reqwest::Client::builder()
            .no_proxy()
            .local_address(address)
            .build()?;
        let page = tab.get(format!("{}/chat", served.base)).send().await?;
        let cookie = super::chat_cookie(&page).context("the chat page set no session")?;
        let stream = tab
            .get(format!("{}/chat/api/events", served.base))
            .header("Cookie", &cookie)
            .send()
            .await?;
        anyhow::ensure!(
            stream.status().is_success(),
            "page {i}: the event stream answered {}",
            stream.status()
        );
        pages.push((tab, stream));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let with_pages = served.rss_kib()?;
    println!(
        "{n} open chat pages (live event streams): {:.1} MB RSS, {:.1} KB each",
        mb(with_pages),
        per(with_pages, before_pages, n)
    );
    println!(
        "targets: idle under 40 MB ({}), an idle connection under 64 KB ({}), 1,000 open pages under 150 MB ({})",
        met(mb(idle) < 40.0),
        met(per(with_idle, idle, n) < 64.0),
        if n >= 1000 {
            met(mb(with_pages) < 150.0)
        } else {
            "measure with --connections 1000"
        }
    );
    Ok(())
}

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn per(after: u64, before: u64, n: usize) -> f64 {
    after.saturating_sub(before) as f64 / n.max(1) as f64
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}
