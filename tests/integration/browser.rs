//! The staff console in a real browser: headless Chromium driven over W3C WebDriver
//! (chromedriver), against the real `intake serve`, while a resident talks in the web chat's
//! JSON API. A member of staff signs in, takes a conversation over, replies, sees the
//! resident's answer arrive live, and hands the conversation back; the bot stays silent
//! meanwhile.
//!
//! Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian's `chromium` and
//! `chromium-driver`); `.ci/test` (the README's test command) installs them.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::resident::{from, shown, text};
use crate::helpers::serve::print_tail;
use crate::helpers::{
    Bot, PASSWORD, Resident, add_account, client, count, eventually, free_port, sqlite_in,
};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The key under which W3C WebDriver gives an element's reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
pub(crate) const WAIT: Duration = Duration::from_secs(30);

const NAME: &str = "Alex Officer";
const EMAIL: &str = "alex@example.org";
/// The resident's conversation in the inbox.
const CONVERSATION: &str = "a.conversation[data-chat^=\"web:\"]";

/// chromedriver in its own process group, killed with every browser it started when dropped.
pub(crate) struct ChromeDriver {
    child: Child,
    base: String,
    log: PathBuf,
}

impl ChromeDriver {
    /// Starts chromedriver on a fresh port, with its temporary files under `dir`, and waits
    /// until it is ready for sessions.
    pub(crate) async fn start(dir: &Path) -> ChromeDriver {
        for program in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                Path::new(program).exists(),
                "{program} is not installed: run ./.ci/test, which installs Debian's chromium and \
                 chromium-driver (or: apt-get install -y chromium chromium-driver)"
            );
        }
        let port = free_port();
        let log = dir.join("chromedriver.log");
        let stdout = std::fs::File::create(&log).expect("chromedriver's log");
        let stderr = stdout.try_clone().expect("chromedriver's log");
        // Chromium's own temporary profile and files go with the test's directory.
        let tmp = dir.join("chromium-tmp");
        std::fs::create_dir_all(&tmp).expect("a temporary directory for Chromium");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("TMPDIR", &tmp)
            // Its own process group, so that Chromium's processes can be ended with it.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start chromedriver");
        let mut driver = ChromeDriver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let client = client();
        let started = Instant::now();
        loop {
            if let Ok(r) = client.get(format!("{}/status", driver.base)).send().await
                && let Ok(status) = r.json::<Value>().await
                && status["value"]["ready"] == true
            {
                return driver;
            }
            let exited = driver.child.try_wait().expect("chromedriver's state");
            assert!(
                exited.is_none() && started.elapsed() < WAIT,
                "chromedriver did not start ({exited:?}); its log:\n{}",
                driver.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // Chromium runs in chromedriver's process group: end the group, so that no browser
        // outlives a failed test.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -KILL -{}", self.child.id()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            print_tail("chromedriver's log", &self.log_text(), 20);
        }
    }
}

/// What chromedriver answered when a command failed.
#[derive(Debug)]
pub(crate) struct WebDriverError {
    /// The W3C error code, such as "no such element" or "stale element reference".
    pub(crate) error: String,
    message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

/// One browser session: a small W3C WebDriver client.
pub(crate) struct Browser {
    http: reqwest::Client,
    /// The session's URL, `{chromedriver}/session/{id}`.
    session: String,
}

impl Browser {
    /// A new headless Chromium, with its profile under `dir`.
    pub(crate) async fn open(driver: &ChromeDriver, dir: &Path) -> Browser {
        let http = client();
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "timeouts": {"pageLoad": WAIT.as_secs() * 1000},
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-dev-shm-usage",
                            "--disable-gpu",
                            "--no-proxy-server",
                            "--window-size=1280,1024",
                            format!("--user-data-dir={}", dir.join("chromium-profile").display()),
                        ],
                    },
                },
            },
        });
        let response = http
            .post(format!("{}/session", driver.base))
            .json(&capabilities)
            // Chromium can be slow to start on a busy machine.
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .expect("ask chromedriver for a session");
        let status = response.status();
        let answer: Value = response.json().await.expect("chromedriver's answer");
        let Some(id) = answer["value"]["sessionId"].as_str() else {
            panic!(
                "chromedriver could not start Chromium ({status}): {}\nits log:\n{}",
                answer["value"]["message"],
                driver.log_text()
            );
        };
        Browser {
            session: format!("{}/session/{id}", driver.base),
            http,
        }
    }

    /// One WebDriver command; gives the answer's `value`.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let failed = |error: &str, e: reqwest::Error| WebDriverError {
            error: error.to_owned(),
            message: e.to_string(),
        };
        let response = request
            .send()
            .await
            .map_err(|e| failed("no answer from chromedriver", e))?;
        let ok = response.status().is_success();
        let mut answer: Value = response
            .json()
            .await
            .map_err(|e| failed("an unreadable answer from chromedriver", e))?;
        let value = answer.get_mut("value").map(Value::take).unwrap_or_default();
        if ok {
            return Ok(value);
        }
        Err(WebDriverError {
            error: value["error"]
                .as_str()
                .unwrap_or("unknown error")
                .to_owned(),
            // The first line: the rest is chromedriver's stack trace.
            message: value["message"]
                .as_str()
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        })
    }

    pub(crate) async fn go(&self, url: &str) -> Result<(), WebDriverError> {
        self.call(Method::POST, "/url", Some(json!({"url": url})))
            .await
            .map(drop)
    }

    pub(crate) async fn url(&self) -> Result<String, WebDriverError> {
        let value = self.call(Method::GET, "/url", None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    pub(crate) async fn source(&self) -> Result<String, WebDriverError> {
        let value = self.call(Method::GET, "/source", None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The first element matching a CSS selector.
    pub(crate) async fn find(&self, css: &str) -> Result<String, WebDriverError> {
        let value = self
            .call(
                Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        element(&value)
    }

    /// Every element matching a CSS selector, in document order.
    pub(crate) async fn find_all(&self, css: &str) -> Result<Vec<String>, WebDriverError> {
        let value = self
            .call(
                Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        value
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(element)
            .collect()
    }

    pub(crate) async fn click(&self, element: &str) -> Result<(), WebDriverError> {
        // chromedriver refuses a click without a body.
        self.call(
            Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await
        .map(drop)
    }

    pub(crate) async fn type_into(&self, element: &str, text: &str) -> Result<(), WebDriverError> {
        self.call(
            Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await
        .map(drop)
    }

    /// The element's rendered text.
    pub(crate) async fn text(&self, element: &str) -> Result<String, WebDriverError> {
        let value = self
            .call(Method::GET, &format!("/element/{element}/text"), None)
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The attribute as written in the page (an `href` stays relative); None when absent.
    pub(crate) async fn attribute(
        &self,
        element: &str,
        name: &str,
    ) -> Result<Option<String>, WebDriverError> {
        let value = self
            .call(
                Method::GET,
                &format!("/element/{element}/attribute/{name}"),
                None,
            )
            .await?;
        Ok(value.as_str().map(str::to_owned))
    }

    /// The element's tag name: fails with "stale element reference" once the page it was
    /// found on has gone, so it tells whether the page was reloaded.
    pub(crate) async fn tag_name(&self, element: &str) -> Result<String, WebDriverError> {
        let value = self
            .call(Method::GET, &format!("/element/{element}/name"), None)
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    pub(crate) async fn find_and_click(&self, css: &str) -> Result<(), WebDriverError> {
        let element = self.find(css).await?;
        self.click(&element).await
    }

    pub(crate) async fn find_and_type(&self, css: &str, text: &str) -> Result<(), WebDriverError> {
        let element = self.find(css).await?;
        self.type_into(&element, text).await
    }

    /// The texts of every element matching a CSS selector.
    pub(crate) async fn texts(&self, css: &str) -> Result<Vec<String>, WebDriverError> {
        let mut texts = Vec::new();
        for element in self.find_all(css).await? {
            texts.push(self.text(&element).await?);
        }
        Ok(texts)
    }

    /// Where the browser is and what it shows, for a failure message.
    pub(crate) async fn page(&self) -> String {
        let url = self
            .url()
            .await
            .unwrap_or_else(|e| format!("(unknown: {e})"));
        let source = self
            .source()
            .await
            .unwrap_or_else(|e| format!("(unavailable: {e})"));
        let shown: String = source.chars().take(30_000).collect();
        format!("--- the page at {url} ---\n{shown}\n--- end of the page ---")
    }

    /// The value, or a failure naming `what` and showing the page.
    pub(crate) async fn must<T>(&self, what: &str, result: Result<T, WebDriverError>) -> T {
        match result {
            Ok(value) => value,
            Err(e) => panic!("{what}: {e}\n{}", self.page().await),
        }
    }

    /// Waits until `check` gives a value, or fails with `what` and the page.
    pub(crate) async fn until<T>(
        &self,
        what: &str,
        mut check: impl AsyncFnMut() -> Option<T>,
    ) -> T {
        let started = Instant::now();
        loop {
            if let Some(value) = check().await {
                return value;
            }
            if started.elapsed() > WAIT {
                panic!("timed out waiting for {what}\n{}", self.page().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `script` (a function body) in the page and gives what it returns.
    pub(crate) async fn execute(&self, script: &str) -> Result<Value, WebDriverError> {
        self.call(
            Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Shows pages as a phone of this size does (390 by 844 for a common one): the viewport,
    /// touch and the page's viewport meta, through Chromium's device emulation (a desktop
    /// window may not shrink that far).
    pub(crate) async fn phone(&self, width: u32, height: u32) -> Result<(), WebDriverError> {
        let metrics = json!({
            "cmd": "Emulation.setDeviceMetricsOverride",
            "params": {"width": width, "height": height, "deviceScaleFactor": 3, "mobile": true},
        });
        self.call(Method::POST, "/goog/cdp/execute", Some(metrics))
            .await
            .map(drop)
    }

    /// Signs in to the console with the test password and waits for the inbox.
    pub(crate) async fn sign_in(&self, base: &str, email: &str) {
        let signing_in = self.go(&format!("{base}/console/login")).await;
        self.must("open the sign-in page", signing_in).await;
        let typed = self.find_and_type("#login #email", email).await;
        self.must("type the email", typed).await;
        let typed = self.find_and_type("#login #password", PASSWORD).await;
        self.must("type the password", typed).await;
        let sent = self.find_and_click("#login button[type=submit]").await;
        self.must("press Sign in", sent).await;
        self.until("the inbox after signing in", async || {
            let url = self.url().await.ok()?;
            (path_of(&url, base) == "/console").then_some(())
        })
        .await;
    }

    /// Ends the session: chromedriver closes Chromium.
    pub(crate) async fn close(self) {
        self.call(Method::DELETE, "", None)
            .await
            .expect("close the browser");
    }
}

/// An element's reference from a WebDriver answer.
fn element(value: &Value) -> Result<String, WebDriverError> {
    value
        .get(ELEMENT)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| WebDriverError {
            error: "no element reference".to_owned(),
            message: value.to_string(),
        })
}

/// The path of a URL on `base`, without its query.
pub(crate) fn path_of<'a>(url: &'a str, base: &str) -> &'a str {
    url.strip_prefix(base)
        .unwrap_or(url)
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_take_over_a_web_chat_in_the_console_and_the_bot_stays_silent() {
    let dir = tempfile::tempdir().expect("tempdir");
    // First, so that a machine without Chromium fails at once with what to do.
    let driver = ChromeDriver::start(dir.path()).await;
    let database = sqlite_in(dir.path());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    add_account(&database, NAME, EMAIL, "complaints_officer");

    // The resident writes, and the bot answers.
    let resident = Resident::open(&bot.base).await;
    resident
        .say("brilliant, another week with no hot water")
        .await;
    resident
        .wait_for("the bot's answer to the first message", WAIT, |lines| {
            lines.iter().any(|l| from(l) == "bot").then_some(())
        })
        .await;
    // Every answer delivered, so that no late one is taken for the bot speaking out of turn
    // (and the inbox, which reloads itself on every change, is still).
    eventually("every reply to be delivered", WAIT, async || {
        (count(&database, "outbox WHERE sent_at IS NULL").await == 0).then_some(())
    })
    .await;

    // Staff sign in and see the inbox.
    let browser = Browser::open(&driver, dir.path()).await;
    browser.sign_in(&bot.base, EMAIL).await;

    // The resident's conversation, opened from the inbox.
    let href = browser
        .until("the resident's conversation in the inbox", async || {
            let link = browser.find(CONVERSATION).await.ok()?;
            browser.attribute(&link, "href").await.ok()?
        })
        .await;
    assert!(
        href.strip_prefix("/console/conversations/")
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())),
        "the conversation's link: {href}"
    );
    browser
        .until("the conversation page", async || {
            let url = browser.url().await.ok()?;
            if path_of(&url, &bot.base) == href {
                return Some(());
            }
            // The inbox reloads itself on any change: find the link afresh each time.
            let _ = browser.find_and_click(CONVERSATION).await;
            None
        })
        .await;
    let transcript = browser.texts("#transcript .line.resident").await;
    let transcript = browser.must("read the transcript", transcript).await;
    assert!(
        transcript
            .iter()
            .any(|t| t.contains("another week with no hot water")),
        "the transcript shows what the resident wrote: {transcript:?}"
    );

    // Staff take the conversation over; the resident is told a person has joined.
    let claimed = browser.find_and_click("#claim").await;
    browser.must("press #claim", claimed).await;
    browser
        .until(
            "the reply form, once the conversation is held",
            async || browser.find("#reply-text").await.ok(),
        )
        .await;
    let joined = resident
        .wait_for(
            "the resident to be told a person has joined",
            WAIT,
            |lines| {
                lines
                    .iter()
                    .find(|l| matches!(from(l), "staff" | "bot") && text(l).contains("joined"))
                    .map(|l| l["id"].clone())
            },
        )
        .await;

    // Staff reply; the resident reads it.
    let reply = "Hello, I'm Alex. Can someone visit tomorrow morning?";
    let typed = browser.find_and_type("#reply-text", reply).await;
    browser.must("type the reply", typed).await;
    let sent = browser.find_and_click("#reply-send").await;
    browser.must("press #reply-send", sent).await;
    resident
        .wait_for("the staff reply in the resident's chat", WAIT, |lines| {
            lines
                .iter()
                .any(|l| from(l) == "staff" && text(l).contains(reply))
                .then_some(())
        })
        .await;
    browser
        .until("the staff reply in the transcript", async || {
            let staff = browser.texts("#transcript .line.staff").await.ok()?;
            staff.iter().any(|t| t.contains(reply)).then_some(())
        })
        .await;

    // The resident answers; the page shows it without being reloaded.
    let page = browser.find("html").await;
    let page = browser.must("find the page's root", page).await;
    let answer = "yes tomorrow morning is fine";
    resident.say(answer).await;
    browser
        .until(
            "the resident's answer to appear in the transcript",
            async || {
                let lines = browser.texts("#transcript .line.resident").await.ok()?;
                lines.iter().any(|t| t.contains(answer)).then_some(())
            },
        )
        .await;
    if let Err(e) = browser.tag_name(&page).await {
        panic!(
            "the page was reloaded to show the resident's answer ({e}); it should arrive live\n{}",
            browser.page().await
        );
    }

    // The bot is silent while staff hold the conversation: nothing from it after "joined",
    // once everything has been delivered and for a little while after.
    eventually("every reply to be delivered", WAIT, async || {
        (count(&database, "outbox WHERE sent_at IS NULL").await == 0).then_some(())
    })
    .await;
    let watching = Instant::now();
    while watching.elapsed() < Duration::from_secs(2) {
        let history = resident.history().await;
        let from_joined = history
            .iter()
            .position(|l| l["id"] == joined)
            .expect("the \"joined\" message is still in the history");
        assert!(
            !history[from_joined + 1..].iter().any(|l| from(l) == "bot"),
            "the bot spoke while staff held the conversation:\n{}",
            shown(&history)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Staff hand the conversation back: the reply form goes.
    let released = browser.find_and_click("#release").await;
    browser.must("press #release", released).await;
    browser
        .until("the reply form to go once handed back", async || {
            let gone = browser.find("#reply-text").await;
            gone.is_err_and(|e| e.error == "no such element")
                .then_some(())
        })
        .await;

    // A resident on the chat page itself: its script and styles are files the content
    // security policy allows, and the conversation works in the browser.
    let chatting = browser.go(&format!("{}/chat", bot.base)).await;
    browser.must("open the chat page", chatting).await;
    let typed = browser
        .find_and_type("#message", "the communal door has been broken for a week")
        .await;
    browser.must("type a message", typed).await;
    let sent = browser.find_and_click("#send button[type=submit]").await;
    browser.must("press Send", sent).await;
    browser
        .until("the bot's answer on the chat page", async || {
            let lines = browser.texts("#log .line.bot").await.ok()?;
            (!lines.is_empty()).then_some(())
        })
        .await;
    browser.close().await;
}
