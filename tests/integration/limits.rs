//! Rate limits as several replicas see them (issue 15): on PostgreSQL two limiters on one
//! schema (two replicas) draw on one bucket, a new one (a restart) gets no fresh burst, tasks
//! racing for the last tokens get exactly those, and a database that cannot answer lets the
//! request through. Through the binary: `INTAKE_LIMITS_*` sets the web chat's limits, and on
//! PostgreSQL a restarted bot still refuses what the first one used up.

use std::time::Duration;

use futures::future::join_all;
use intake::channels::Limiter;
use intake::config::Rate;
use intake::store::Store;

use crate::helpers::databases::{Schema, block_on, drop_schema, new_schema, postgres_options};
use crate::helpers::{Bot, client, sqlite_in};

/// A bucket that does not refill while a test runs (one token in about 17 hours).
fn slow(burst: f64) -> Rate {
    Rate {
        burst,
        per_minute: 0.001,
    }
}

async fn granted(limiter: &Limiter, key: &str, times: usize) -> usize {
    let mut granted = 0;
    for _ in 0..times {
        if limiter.check(key).await.is_none() {
            granted += 1;
        }
    }
    granted
}

/// A replica: its own connections to the schema.
async fn replica(schema: &str) -> Store {
    Store::connect_with(postgres_options(schema))
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 (./.ci/test starts it)")
}

#[test]
fn two_replicas_share_a_burst_and_a_restart_gets_no_fresh_one() {
    block_on(async {
        let schema = new_schema();
        let (a, b) = (replica(&schema).await, replica(&schema).await);
        let on_a = Limiter::new(&a, "web_messages", slow(5.0), None);
        let on_b = Limiter::new(&b, "web_messages", slow(5.0), None);
        assert!(on_a.is_shared() && on_b.is_shared());

        assert_eq!(granted(&on_a, "session 1", 3).await, 3);
        assert_eq!(
            granted(&on_b, "session 1", 5).await,
            2,
            "B gets what A left"
        );
        let wait = on_a.check("session 1").await.expect("refused on A too");
        assert!(wait > Duration::from_secs(3600), "{wait:?}");
        assert_eq!(
            granted(&on_b, "session 2", 1).await,
            1,
            "another key has its own"
        );

        // A restart: a new limiter on a new pool.
        drop((on_a, on_b));
        let restarted = Limiter::new(&replica(&schema).await, "web_messages", slow(5.0), None);
        assert_eq!(granted(&restarted, "session 1", 3).await, 0);

        // A bucket for all keys together is shared too; a key refused by it keeps its token.
        let all =
            |store: &Store| Limiter::new(store, "web_new_sessions", slow(2.0), Some(slow(3.0)));
        let (all_a, all_b) = (all(&a), all(&b));
        assert_eq!(granted(&all_a, "10.0.0.1", 1).await, 1);
        assert_eq!(granted(&all_b, "10.0.0.2", 1).await, 1);
        assert_eq!(granted(&all_a, "10.0.0.3", 1).await, 1);
        assert_eq!(
            granted(&all_b, "10.0.0.4", 1).await,
            0,
            "the fourth of three"
        );
        let per_key_only = Limiter::new(&a, "web_new_sessions", slow(2.0), None);
        assert_eq!(
            granted(&per_key_only, "10.0.0.4", 3).await,
            2,
            "10.0.0.4's refused request cost it nothing"
        );
        drop_schema(a.pool_for_tests(), &schema).await;
    });
}

#[test]
fn racing_for_the_last_tokens_grants_exactly_what_is_left() {
    block_on(async {
        let schema = new_schema();
        let (a, b) = (replica(&schema).await, replica(&schema).await);
        let on_a = Limiter::new(&a, "sign_in", slow(10.0), None);
        let on_b = Limiter::new(&b, "sign_in", slow(10.0), None);
        assert_eq!(granted(&on_a, "10.0.0.9", 7).await, 7);
        // 40 attempts at once, half through each replica, for the last 3 tokens.
        let attempts = (0..40).map(|i| {
            let limiter = if i % 2 == 0 { &on_a } else { &on_b };
            async move { limiter.check("10.0.0.9").await.is_none() }
        });
        let results = join_all(attempts).await;
        assert_eq!(results.iter().filter(|&&ok| ok).count(), 3, "{results:?}");
        // And racing for a key nobody has used yet: exactly its burst.
        let fresh = (0..30).map(|i| {
            let limiter = if i % 2 == 0 { &on_a } else { &on_b };
            async move { limiter.check("10.0.0.10").await.is_none() }
        });
        let results = join_all(fresh).await;
        assert_eq!(results.iter().filter(|&&ok| ok).count(), 10, "{results:?}");
        drop_schema(a.pool_for_tests(), &schema).await;
    });
}

/// Rows of buckets that have filled up again are forgotten (a missing row is a full bucket),
/// and only those: a bucket still refilling keeps its row.
#[test]
fn full_buckets_are_swept_and_refilling_ones_kept() {
    block_on(async {
        let schema = new_schema();
        let store = replica(&schema).await;
        let rows = async || -> i64 {
            sqlx::query_scalar("SELECT COUNT(*) FROM limit_buckets")
                .fetch_one(store.pool_for_tests())
                .await
                .expect("count")
        };
        // Two a minute, burst 2: empty an hour ago, full again a minute later.
        let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
        for _ in 0..2 {
            let taken = store
                .take_token("web_messages", "old session", 2.0, 2.0 / 60.0, an_hour_ago)
                .await
                .expect("take");
            assert!(taken.granted);
        }
        assert_eq!(rows().await, 1);
        let limiter = Limiter::new(
            &store,
            "web_messages",
            Rate {
                burst: 2.0,
                per_minute: 2.0,
            },
            None,
        );
        // The first check starts the sweep, in the background.
        assert_eq!(granted(&limiter, "new session", 3).await, 2);
        crate::helpers::eventually(
            "the full bucket swept",
            Duration::from_secs(10),
            async || (rows().await == 1).then_some(()),
        )
        .await;
        assert_eq!(
            granted(&limiter, "new session", 1).await,
            0,
            "the bucket still refilling is still empty"
        );
        drop_schema(store.pool_for_tests(), &schema).await;
    });
}

/// A limit that cannot be checked must not lock residents out.
#[test]
fn a_database_that_cannot_answer_lets_requests_through() {
    block_on(async {
        let schema = new_schema();
        let store = replica(&schema).await;
        let limiter = Limiter::new(&store, "web_messages", slow(1.0), None);
        assert_eq!(granted(&limiter, "session", 2).await, 1);
        sqlx::query("DROP TABLE limit_buckets")
            .execute(store.pool_for_tests())
            .await
            .expect("drop");
        assert_eq!(granted(&limiter, "session", 3).await, 3);
        drop_schema(store.pool_for_tests(), &schema).await;
    });
}

/// SQLite is one process: its limits stay in memory, and still hold.
#[test]
fn on_sqlite_the_limit_is_the_processs_own() {
    block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::connect(&sqlite_in(dir.path())).await.expect("store");
        let limiter = Limiter::new(&store, "web_messages", slow(2.0), None);
        assert!(!limiter.is_shared());
        assert_eq!(granted(&limiter, "session", 4).await, 2);
    });
}

/// Opens the chat page with no session, as a new visitor: the status.
async fn new_visitor(base: &str) -> (u16, Option<String>) {
    let page = client()
        .get(format!("{base}/chat"))
        .send()
        .await
        .expect("the chat page");
    let retry = page
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (page.status().as_u16(), retry)
}

/// `INTAKE_LIMITS_WEB_NEW_SESSIONS_*` reach the web chat; on PostgreSQL the bot started
/// after the first (a restart, or a second replica) refuses what the first used up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_chats_limits_are_settings_and_outlive_a_restart_on_postgres() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [
        ("INTAKE_LIMITS_WEB_NEW_SESSIONS_BURST", "2".to_owned()),
        (
            "INTAKE_LIMITS_WEB_NEW_SESSIONS_PER_MINUTE",
            "0.01".to_owned(),
        ),
    ];
    let schema = Schema::create().await;
    let mut first = Bot::start(&schema.url(), &dir.path().join("first.log"), &env).await;
    assert_eq!(new_visitor(&first.base).await.0, 200);
    assert_eq!(new_visitor(&first.base).await.0, 200);
    let (status, retry) = new_visitor(&first.base).await;
    assert_eq!(status, 429);
    assert!(retry.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s > 60)));
    first.kill();
    let second = Bot::start(&schema.url(), &dir.path().join("second.log"), &env).await;
    assert_eq!(new_visitor(&second.base).await.0, 429, "no fresh burst");
    drop(second);
    schema.drop().await;

    // On SQLite too the setting is what counts (the default lets 30 through).
    let sqlite = Bot::start(&sqlite_in(dir.path()), &dir.path().join("sqlite.log"), &env).await;
    assert_eq!(new_visitor(&sqlite.base).await.0, 200);
    assert_eq!(new_visitor(&sqlite.base).await.0, 200);
    assert_eq!(new_visitor(&sqlite.base).await.0, 429);
}
