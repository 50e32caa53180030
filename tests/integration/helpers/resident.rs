//! A resident of the web chat, through its JSON API: opens the page (which starts a session),
//! says things, presses buttons, and reads the conversation back.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Said, WAIT, client, eventually};

/// The chat's session cookie a response sets, as `name=value`.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("intake_chat="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// Opens the chat page and returns the session cookie.
pub async fn session(base: &str) -> String {
    let page = client()
        .get(format!("{base}/chat"))
        .send()
        .await
        .expect("the chat page");
    assert_eq!(page.status(), 200);
    session_cookie(&page).expect("the chat's session cookie")
}

/// The resident, in the web chat's JSON API.
pub struct Resident {
    base: String,
    pub cookie: String,
}

impl Resident {
    /// Opens the chat page, which starts a session.
    pub async fn open(base: &str) -> Resident {
        Resident {
            base: base.to_owned(),
            cookie: session(base).await,
        }
    }

    /// The resident of the session whose cookie (`name=value`) is `cookie`.
    pub fn in_session(base: &str, cookie: &str) -> Resident {
        Resident {
            base: base.to_owned(),
            cookie: cookie.to_owned(),
        }
    }

    /// The session cookie, `name=value`: the same resident on another process with the same
    /// session key.
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// Posts a message (`{"text": ...}`, or a press: `{"choice": ..., "text": ...}`).
    pub async fn send(&self, body: Value) {
        let response = client()
            .post(format!("{}/chat/api/messages", self.base))
            .header("Cookie", &self.cookie)
            .json(&body)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 202, "{:?}", response.text().await);
    }

    /// Types `text`.
    pub async fn say(&self, text: &str) {
        self.send(json!({ "text": text })).await;
    }

    /// The resident's conversation so far, oldest first.
    pub async fn history(&self) -> Vec<Value> {
        let response = client()
            .get(format!("{}/chat/api/messages", self.base))
            .header("Cookie", &self.cookie)
            .send()
            .await
            .expect("history");
        assert_eq!(response.status(), 200);
        let history: Value = response.json().await.expect("json");
        history["messages"].as_array().cloned().expect("messages")
    }

    /// Waits for a line from `from` containing `words`, after the first `seen` lines.
    pub async fn hears(&self, seen: usize, from: &str, words: &str) {
        eventually(&format!("{from} to say {words:?}"), WAIT, async || {
            self.history()
                .await
                .iter()
                .skip(seen)
                .any(|l| l["from"] == from && l["text"].as_str().is_some_and(|t| t.contains(words)))
                .then_some(())
        })
        .await;
    }

    /// Holds a conversation through the bot, pressing buttons by their labels.
    pub async fn converse(&self, steps: &[(Said, &str)]) {
        for (said, expect) in steps {
            let history = self.history().await;
            let body = match said {
                Said::Text(t) => json!({ "text": t }),
                Said::Press(label) => {
                    let choice = history
                        .iter()
                        .rev()
                        .find_map(|l| {
                            l["choices"]
                                .as_array()
                                .and_then(|cs| cs.iter().find(|c| c["label"] == *label).cloned())
                        })
                        .unwrap_or_else(|| panic!("no choice {label:?}"));
                    json!({ "choice": choice["key"], "text": label })
                }
            };
            self.send(body).await;
            self.hears(history.len(), "bot", expect).await;
        }
    }

    /// Waits up to `within` until `check` finds what it looks for in the history, or fails
    /// showing it.
    pub async fn wait_for<T>(
        &self,
        what: &str,
        within: Duration,
        check: impl Fn(&[Value]) -> Option<T>,
    ) -> T {
        let started = Instant::now();
        loop {
            let history = self.history().await;
            if let Some(found) = check(&history) {
                return found;
            }
            assert!(
                started.elapsed() < within,
                "timed out waiting for {what}; the resident's chat:\n{}",
                shown(&history)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Who said a line of the history: "resident", "bot" or "staff".
pub fn from(line: &Value) -> &str {
    line["from"].as_str().unwrap_or_default()
}

/// What a line of the history says.
pub fn text(line: &Value) -> &str {
    line["text"].as_str().unwrap_or_default()
}

/// A chat history, one line a message.
pub fn shown(history: &[Value]) -> String {
    history
        .iter()
        .map(|l| format!("  {} {}: {}", l["id"], from(l), text(l)))
        .collect::<Vec<_>>()
        .join("\n")
}
