//! What the replicas' bus ([`crate::channels::bus`]) needs of the record: the schema that
//! names its channel, and `pg_notify`.

use sqlx::Row;

use super::{Backend, Store, StoreError};

impl Store {
    /// The PostgreSQL schema this store works in, or `None` on SQLite (one process: no bus).
    pub async fn schema_name(&self) -> Result<Option<String>, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let row = sqlx::query("SELECT CAST(current_schema() AS TEXT) AS schema")
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(row.try_get("schema")?))
    }

    /// Tells every replica listening on `channel` (PostgreSQL). The payload must be under
    /// PostgreSQL's 8,000 bytes; the bus's signals are a few dozen.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// A connection of its own listening on one channel (PostgreSQL).
pub struct Listener(sqlx::postgres::PgListener);

impl Listener {
    /// Connects to `url` and listens on `channel`.
    pub async fn connect(url: &str, channel: &str) -> Result<Listener, StoreError> {
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(channel).await?;
        Ok(Listener(listener))
    }

    /// The next notification's payload; `None` when the connection was lost and has been
    /// made again (notifications sent meanwhile are lost).
    pub async fn next(&mut self) -> Result<Option<String>, StoreError> {
        Ok(self.0.try_recv().await?.map(|n| n.payload().to_owned()))
    }
}
