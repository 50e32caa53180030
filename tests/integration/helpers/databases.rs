//! The record on both databases: SQLite (a real file) and PostgreSQL (127.0.0.1:5432, database
//! `test`, each run in its own schema). PostgreSQL must be running: `./.ci/test` starts it.
//! Also the service over a store, and a complaint opened straight in the record.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use intake::core::dialog::{Dialogs, NewCase};
use intake::core::policy::Policy;
use intake::core::profile::LandlordProfile;
use intake::service::Intake;
use intake::staff::{Role, StaffMember};
use intake::store::{Backend, Store, StoreOptions};
use sqlx::Row;

use super::PASSWORD;

/// The PostgreSQL server the tests use; `INTAKE_TEST_POSTGRES_URL` overrides it.
pub fn postgres_url() -> String {
    std::env::var("INTAKE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh name for a test's own PostgreSQL schema.
pub fn new_schema() -> String {
    format!("t_{}", uuid::Uuid::new_v4().simple())
}

/// A store in PostgreSQL schema `schema` (created if missing).
pub fn postgres_options(schema: &str) -> StoreOptions {
    StoreOptions {
        url: postgres_url(),
        schema: Some(schema.to_owned()),
        max_connections: 4,
    }
}

/// Drops a test's schema and everything in it, through a store's pool.
pub async fn drop_schema(pool: &sqlx::AnyPool, schema: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(pool)
        .await
        .expect("drop schema");
}

/// Runs `test` to the end on a runtime of its own, on this thread.
pub fn block_on<T>(test: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(test)
}

/// Runs `test` once against a fresh SQLite file and once against a fresh PostgreSQL schema.
pub fn on_both<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/data/intake.db", dir.path().display());
        let store = Store::connect(&url).await.expect("SQLite store");
        assert_eq!(store.backend(), Backend::Sqlite);
        test(store).await;

        let schema = new_schema();
        let store = Store::connect_with(postgres_options(&schema))
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL must be running on 127.0.0.1:5432 (./.ci/test starts it): {e}")
            });
        assert_eq!(store.backend(), Backend::Postgres);
        let pool = store.pool_for_tests().clone();
        test(store).await;
        drop_schema(&pool, &schema).await;
    });
}

/// A PostgreSQL schema of its own for a test that runs the binary on PostgreSQL, so that
/// the shared database's other tests and earlier runs do not meet this one's migrations.
pub struct Schema {
    pub name: String,
    /// A connection to the database itself, outside the schema.
    pub admin: sqlx::PgPool,
}

impl Schema {
    pub async fn create() -> Schema {
        let name = new_schema();
        let admin = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/test")
            .await
            .expect("PostgreSQL on 127.0.0.1:5432 (./.ci/test starts it)");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&admin)
            .await
            .expect("schema");
        Schema { name, admin }
    }

    /// The database URL that puts the binary in this schema.
    pub fn url(&self) -> String {
        self.url_as("postgres")
    }

    /// The same, signing in with a password (which PostgreSQL here, trusting local
    /// connections, accepts and ignores).
    pub fn url_with_password(&self, password: &str) -> String {
        self.url_as(&format!("postgres:{password}"))
    }

    fn url_as(&self, user: &str) -> String {
        format!(
            "postgres://{user}@127.0.0.1:5432/test?options=-c%20search_path%3D{}",
            self.name
        )
    }

    /// Drops the schema and everything in it.
    pub async fn drop(self) {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA {} CASCADE",
            self.name
        )))
        .execute(&self.admin)
        .await
        .expect("drop schema");
    }
}

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

/// The service over `store`, with the shipped policy, wording and landlord profile.
pub fn intake(store: Store) -> Intake {
    Intake::new(
        store,
        Policy::shipped().expect("policy"),
        Dialogs::shipped().expect("dialogs"),
        LandlordProfile::default(),
        Duration::hours(12),
    )
}

/// A complaint awaiting its stage 1 response, due on `due_on`.
pub async fn open_case(store: &Store, reference: &str, due_on: &str, now: DateTime<Utc>) {
    open_case_answered(store, reference, due_on, now, BTreeMap::new()).await;
}

/// The same, with the resident's answers (how they want replies, say).
pub async fn open_case_answered(
    store: &Store,
    reference: &str,
    due_on: &str,
    now: DateTime<Utc>,
    answers: BTreeMap<String, String>,
) {
    let mut record = store.begin().await.expect("begin");
    let conversation = record
        .conversation("web", reference, "{}", "en-GB", now)
        .await
        .expect("conversation");
    record
        .open_case(
            &conversation,
            &NewCase {
                reference: reference.to_owned(),
                received_at: now,
                acknowledged_on: now.date_naive(),
                due_on: due_on.parse::<NaiveDate>().expect("date"),
                definition: "No hot water since Monday.".to_owned(),
                answers,
                suggested_route: None,
            },
            now,
        )
        .expect("case");
    record.commit().await.expect("commit");
}

/// A member of staff made straight in the record, with the test password.
pub async fn staff_member(
    store: &Store,
    name: &str,
    email: &str,
    role: Role,
    now: DateTime<Utc>,
) -> StaffMember {
    intake::staff::add(store, name, email, role, PASSWORD, now)
        .await
        .expect("staff")
}

/// `SELECT COUNT(*) FROM {rows}` in the record at `database` (a table, with a condition if
/// wanted).
pub async fn count(database: &str, rows: &str) -> i64 {
    let store = Store::connect(database).await.expect("open the record");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {rows}"
    )))
    .fetch_one(store.pool_for_tests())
    .await
    .expect("count")
    .try_get("n")
    .expect("n")
}
