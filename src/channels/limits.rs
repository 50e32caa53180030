//! Limits that refuse rather than wait (the web chat's messages and new sessions, the
//! console's sign-in), as `[limits]` sets them. On PostgreSQL each bucket lives in the database,
//! so every replica draws on the same one and a restart grants no fresh burst (issue 15); on
//! SQLite, one process, it is the in-memory [`Throttle`].

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::{Bucket, Throttle};
use crate::config::Rate;
use crate::store::{Backend, Store};

/// How often a replica forgets the full buckets of a limit.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A limit per key (a session, a client address), and optionally one for all keys together.
#[derive(Debug)]
pub struct Limiter(Kind);

#[derive(Debug)]
enum Kind {
    Local(Throttle),
    Shared(Shared),
}

#[derive(Debug)]
struct Shared {
    store: Store,
    /// The limit's name in the database; the bucket for all keys is `"{name} (all)"`.
    name: &'static str,
    all: String,
    per_key: Bucket,
    overall: Option<Bucket>,
    swept: Mutex<Option<Instant>>,
}

impl Limiter {
    /// The limit `name` on `store`'s backend: shared on PostgreSQL, in memory on SQLite.
    pub fn new(store: &Store, name: &'static str, per_key: Rate, overall: Option<Rate>) -> Limiter {
        let per_key = bucket(per_key);
        let overall = overall.map(bucket);
        match store.backend() {
            Backend::Sqlite => Limiter(Kind::Local(Throttle::new(
                per_key,
                // No limit for all keys together: a bucket nobody empties.
                overall.unwrap_or(Bucket {
                    burst: 1e9,
                    per_second: 1e9,
                }),
            ))),
            Backend::Postgres => Limiter(Kind::Shared(Shared {
                store: store.clone(),
                name,
                all: format!("{name} (all)"),
                per_key,
                overall,
                swept: Mutex::new(None),
            })),
        }
    }

    /// Whether the database keeps the buckets (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self.0, Kind::Shared(_))
    }

    /// Takes a token for `key` now (and one from the bucket for all keys), or says how long
    /// to wait for one. If the database cannot answer, the request is let through and the
    /// failure logged: a broken limit must not lock residents out.
    pub async fn check(&self, key: &str) -> Option<Duration> {
        match &self.0 {
            Kind::Local(throttle) => throttle.check(key),
            Kind::Shared(shared) => shared.check(key).await,
        }
    }
}

impl Shared {
    async fn check(&self, key: &str) -> Option<Duration> {
        let now = Utc::now();
        self.sweep_now_and_then();
        let per_key = self.per_key;
        let own = self
            .store
            .take_token(self.name, key, per_key.burst, per_key.per_second, now)
            .await;
        match own {
            Err(e) => return let_through(self.name, &e),
            Ok(taken) if !taken.granted => return Some(wait(taken.tokens, per_key)),
            Ok(_) => {}
        }
        let overall = self.overall?;
        match self
            .store
            .take_token(&self.all, "", overall.burst, overall.per_second, now)
            .await
        {
            Err(e) => let_through(&self.all, &e),
            Ok(taken) if !taken.granted => {
                // Refused for everyone's sake, not this key's: its token goes back.
                if let Err(e) = self.store.return_token(self.name, key, per_key.burst).await {
                    tracing::warn!(limit = self.name, error = %e, "a refused request's token could not be returned");
                }
                Some(wait(taken.tokens, overall))
            }
            Ok(_) => None,
        }
    }

    /// Once a minute, in the background, deletes the buckets that have filled up again since
    /// they were last touched: a missing row is a full bucket.
    fn sweep_now_and_then(&self) {
        {
            let mut swept = self
                .swept
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if swept.is_some_and(|at| at.elapsed() < SWEEP_EVERY) {
                return;
            }
            *swept = Some(Instant::now());
        }
        let mut limits = vec![(self.name.to_owned(), self.per_key)];
        if let Some(overall) = self.overall {
            limits.push((self.all.clone(), overall));
        }
        let store = self.store.clone();
        tokio::spawn(async move {
            for (name, rate) in limits {
                // A rate so slow the time does not fit is a year: never a panic.
                let year = Duration::from_secs(366 * 24 * 3600);
                let refill = Duration::try_from_secs_f64(rate.burst / rate.per_second)
                    .unwrap_or(year)
                    .min(year);
                let Ok(refill) = chrono::Duration::from_std(refill) else {
                    continue;
                };
                if let Err(e) = store.sweep_tokens(&name, Utc::now() - refill).await {
                    tracing::warn!(limit = %name, error = %e, "full rate-limit buckets could not be swept");
                }
            }
        });
    }
}

fn bucket(rate: Rate) -> Bucket {
    Bucket {
        burst: rate.burst,
        per_second: rate.per_minute / 60.0,
    }
}

/// How long until a bucket with `tokens` has one.
fn wait(tokens: f64, rate: Bucket) -> Duration {
    let seconds = ((1.0 - tokens) / rate.per_second).max(0.001);
    Duration::try_from_secs_f64(seconds).unwrap_or(Duration::from_secs(3600))
}

fn let_through(limit: &str, error: &dyn std::fmt::Display) -> Option<Duration> {
    tracing::error!(limit, error = %error, "a rate limit could not be checked; the request is let through");
    None
}
