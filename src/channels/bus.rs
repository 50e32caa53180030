//! Several replicas as one (issue 15). On PostgreSQL, replicas tell each other what they
//! committed through `LISTEN`/`NOTIFY`: a reply written on one replica reaches the resident's
//! page held open by another within moments, not when the page is next opened. SQLite is one
//! process, so there the bus carries nothing.
//!
//! A notification is a hint, never the record: if one is lost (a dropped connection), the
//! reply is still in the outbox and the page shows it from the record when it reconnects, and
//! each sender still reads its outbox every second.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use crate::store::{Listener, Store};

/// What one replica tells the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// A web chat reply, committed as outbox row `outbox`, for the page of `session`: the
    /// replica holding that page open shows it and marks it delivered.
    WebReply {
        session: String,
        outbox: i64,
        message: i64,
    },
    /// Something was committed on another replica: consoles open here read the record.
    Activity,
    /// The listener's connection was lost and made again: notifications may have been missed
    /// meanwhile, so senders look at the record now.
    Reconnected,
}

/// A signal with the replica that sent it, which ignores its own.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    from: String,
    #[serde(flatten)]
    signal: Signal,
}

/// The bus: a no-op until [`Bus::start`] connects it (SQLite, the tests in one process).
#[derive(Debug, Clone, Default)]
pub struct Bus {
    inner: Option<Arc<Inner>>,
}

#[derive(Debug)]
struct Inner {
    /// Envelopes waiting for the publisher task.
    outgoing: mpsc::UnboundedSender<String>,
    incoming: broadcast::Sender<Signal>,
    replica: String,
}

impl Bus {
    /// Connects the bus for the record behind `store` at `url` (PostgreSQL), or returns the
    /// no-op bus on SQLite. The channel is named after the schema, so two deployments (or two
    /// tests) sharing one database do not hear each other.
    pub async fn start(store: &Store, url: &str) -> Result<Bus, crate::store::StoreError> {
        let Some(schema) = store.schema_name().await? else {
            return Ok(Bus::default());
        };
        let channel = channel_name(&schema);
        let (outgoing, to_publish) = mpsc::unbounded_channel();
        let (incoming, _) = broadcast::channel(1024);
        let replica = uuid::Uuid::new_v4().simple().to_string();
        tokio::spawn(publish(store.clone(), channel.clone(), to_publish));
        tokio::spawn(listen(
            url.to_owned(),
            channel.clone(),
            replica.clone(),
            incoming.clone(),
        ));
        tracing::info!(%channel, %replica, "replicas share live updates through PostgreSQL LISTEN/NOTIFY");
        Ok(Bus {
            inner: Some(Arc::new(Inner {
                outgoing,
                incoming,
                replica,
            })),
        })
    }

    /// Whether other replicas may be listening (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        self.inner.is_some()
    }

    /// Tells the other replicas; nothing on the no-op bus.
    pub fn publish(&self, signal: Signal) {
        let Some(inner) = &self.inner else { return };
        let envelope = Envelope {
            from: inner.replica.clone(),
            signal,
        };
        match serde_json::to_string(&envelope) {
            Ok(text) => {
                let _ = inner.outgoing.send(text);
            }
            Err(e) => tracing::error!(error = %e, "bus: a signal cannot be written"),
        }
    }

    /// What the other replicas say, from now on (none on the no-op bus).
    pub fn subscribe(&self) -> Option<broadcast::Receiver<Signal>> {
        self.inner.as_ref().map(|i| i.incoming.subscribe())
    }
}

/// `intake_` and the schema, cut to PostgreSQL's 63-byte identifiers.
fn channel_name(schema: &str) -> String {
    let name: String = format!("intake_{schema}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    name.chars().take(63).collect()
}

/// Sends each envelope with `pg_notify`, which joins the sender's own transaction; here each
/// is its own, after the commit that it reports.
async fn publish(store: Store, channel: String, mut envelopes: mpsc::UnboundedReceiver<String>) {
    while let Some(first) = envelopes.recv().await {
        // Signals that came together are sent once each: a burst of commits is one
        // "activity", not hundreds.
        let mut batch = vec![first];
        while let Ok(more) = envelopes.try_recv() {
            if !batch.contains(&more) {
                batch.push(more);
            }
        }
        for payload in batch {
            if let Err(e) = store.notify(&channel, &payload).await {
                crate::telemetry::database_error("notify");
                // What it reports is in the record: pages and consoles read it when they
                // next look.
                tracing::warn!(error = %e, "bus: other replicas were not told of a change");
            }
        }
    }
}

/// How long the listening connection may hear nothing before it is made again.
const QUIET: Duration = Duration::from_secs(60);

/// Listens until the process ends, connecting again after a failure.
async fn listen(
    url: String,
    channel: String,
    replica: String,
    incoming: broadcast::Sender<Signal>,
) {
    let mut failures = 0u32;
    let mut quiet = false;
    loop {
        let mut listener = match Listener::connect(&url, &channel).await {
            Ok(listener) => listener,
            Err(e) => {
                failures += 1;
                crate::telemetry::database_error("listen");
                tracing::error!(error = %e, failures, "bus: cannot listen for other replicas; trying again");
                tokio::time::sleep(Duration::from_millis(250 * u64::from(failures.min(20)))).await;
                continue;
            }
        };
        if failures > 0 || quiet {
            let _ = incoming.send(Signal::Reconnected);
        }
        failures = 0;
        quiet = false;
        loop {
            // A connection whose server vanished (a failover, a partition) may never report
            // an error: after a quiet minute it is made again, and what it may have missed is
            // looked for in the record.
            let Ok(next) = tokio::time::timeout(QUIET, listener.next()).await else {
                quiet = true;
                break;
            };
            match next {
                Ok(Some(payload)) => match serde_json::from_str::<Envelope>(&payload) {
                    Ok(envelope) if envelope.from != replica => {
                        let _ = incoming.send(envelope.signal);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "bus: an unreadable signal was ignored")
                    }
                },
                // The connection was lost and has been made again.
                Ok(None) => {
                    tracing::warn!("bus: the listening connection was lost and made again");
                    let _ = incoming.send(Signal::Reconnected);
                }
                Err(e) => {
                    failures += 1;
                    crate::telemetry::database_error("listen");
                    tracing::error!(error = %e, "bus: listening failed; connecting again");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channel_is_named_after_the_schema_and_fits_an_identifier() {
        assert_eq!(channel_name("public"), "intake_public");
        assert_eq!(channel_name("t-1 x"), "intake_t_1_x");
        assert_eq!(channel_name(&"a".repeat(100)).len(), 63);
    }

    #[test]
    fn a_signal_travels_as_json_with_its_sender() {
        let text = serde_json::to_string(&Envelope {
            from: "a".into(),
            signal: Signal::WebReply {
                session: "s".into(),
                outbox: 7,
                message: 9,
            },
        })
        .expect("json");
        assert_eq!(
            text,
            r#"{"from":"a","kind":"web_reply","session":"s","outbox":7,"message":9}"#
        );
        let back: Envelope = serde_json::from_str(&text).expect("back");
        assert_eq!(
            back.signal,
            Signal::WebReply {
                session: "s".into(),
                outbox: 7,
                message: 9
            }
        );
    }
}
