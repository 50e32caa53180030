//! What the configuration lets the bot promise a resident. The bot says a manager was told
//! only when an alert reaches one, and offers replies by email only when it can send them;
//! `serve` and `check-config` name, in plain words, each promise the configuration cannot keep.

use super::{Config, SinkConfig, SinkKind};
use crate::core::dialog::Reach;

/// The alerts a manager must hear of at any hour.
const URGENT: [&str; 2] = ["emergency", "safeguarding"];

impl Config {
    /// Whether an alert sink that reaches a person at once takes `kind`: a first-level sink
    /// for every kind or for this one (an email sink only with a mail server to send it).
    fn reaches_a_person(&self, kind: &str) -> bool {
        self.alerts.sinks.iter().any(|s| {
            s.level == 0
                && s.takes(kind)
                && (s.kind != SinkKind::Email || self.alerts.smtp.host.is_some())
        })
    }

    /// What the bot may promise, as far as the configuration says. A manager signed in to the
    /// console also counts as reach; the writer asks the record for that.
    pub fn reach(&self) -> Reach {
        Reach {
            manager: URGENT.iter().all(|k| self.reaches_a_person(k)),
            email: self.alerts.smtp.host.is_some(),
        }
    }

    /// Each promise the configuration cannot keep, and what the bot says instead.
    pub fn unkept_promises(&self) -> Vec<String> {
        let mut out = Vec::new();
        for kind in URGENT {
            if !self.reaches_a_person(kind) {
                out.push(format!(
                    "no alert sink at level 0 takes \"{kind}\" alerts, so a manager is told of \
                     one only when signed in to the console. Unless one is, the bot tells the \
                     resident their report is logged as urgent for staff, not that a manager \
                     was told. Add an [[alerts.sinks]] entry (telegram, discord, email or webhook) \
                     that reaches a person at any hour."
                ));
            }
        }
        if self.alerts.smtp.host.is_none() {
            out.push(
                "alerts.smtp.host is not set, so residents are not offered replies by email \
                 and email alert sinks cannot send."
                    .to_owned(),
            );
        }
        out
    }
}

impl SinkConfig {
    /// Whether this sink takes alerts of `kind`: all when its list is empty. What follows an
    /// alert belongs with it: a sink for emergencies also gets the resident's contact details
    /// for the emergency team, and one for safeguarding whether it is safe to contact them.
    pub fn takes(&self, kind: &str) -> bool {
        let family = match kind {
            "emergency_contact" => Some("emergency"),
            "safe_contact" => Some("safeguarding"),
            _ => None,
        };
        self.alerts.is_empty()
            || self
                .alerts
                .iter()
                .any(|a| a == kind || Some(a.as_str()) == family)
    }
}
