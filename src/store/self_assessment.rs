//! The self-assessment's answers (appendix A, 8.1(a)) and the governing body's response
//! (8.2), per financial year: each item's current version, every earlier version with who
//! wrote it and when, and each save in the console's audit in the same transaction. A save
//! must start from the current version, so two managers editing at once cannot overwrite each
//! other unseen.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError, Value, from_millis, millis};
use crate::core::ids::StaffId;
use crate::core::report::Answer;

/// One version of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerVersion {
    pub item: String,
    pub version: i64,
    pub complies: Option<bool>,
    pub commentary: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A new version of an item, as a manager saves it (already checked by the service).
#[derive(Debug, Clone, Copy)]
pub struct AnswerChange<'a> {
    /// The year the financial year starts in.
    pub year: i32,
    /// A provision number, or the governing body's response.
    pub item: &'a str,
    /// The version the editor started from (0 for an item not answered yet).
    pub based_on: i64,
    pub complies: Option<bool>,
    pub commentary: &'a str,
}

/// What became of a save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerSaved {
    Saved(i64),
    /// The same as the current version: nothing written, nothing audited.
    Unchanged,
    /// Someone saved another version since the editor's: nothing written.
    Stale {
        current: i64,
    },
}

impl Store {
    /// The current answers for the financial year starting in `year`.
    pub async fn self_assessment_answers(&self, year: i32) -> Result<Vec<Answer>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.item, a.complies, a.commentary, a.version, a.updated_at, s.name \
             FROM self_assessment_answers a JOIN staff s ON s.id = a.updated_by \
             WHERE a.year = $1 ORDER BY a.item",
        )
        .bind(i64::from(year))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Answer {
                    item: r.try_get("item")?,
                    complies: complies_of(r)?,
                    commentary: r.try_get("commentary")?,
                    version: r.try_get("version")?,
                    by: r.try_get("name")?,
                    at: from_millis(r.try_get("updated_at")?),
                })
            })
            .collect()
    }

    /// Every version of every item of a year, each item's newest first.
    pub async fn self_assessment_versions(
        &self,
        year: i32,
    ) -> Result<Vec<AnswerVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.item, v.version, v.complies, v.commentary, v.at, s.name \
             FROM self_assessment_versions v JOIN staff s ON s.id = v.staff_id \
             WHERE v.year = $1 ORDER BY v.item, v.version DESC",
        )
        .bind(i64::from(year))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AnswerVersion {
                    item: r.try_get("item")?,
                    version: r.try_get("version")?,
                    complies: complies_of(r)?,
                    commentary: r.try_get("commentary")?,
                    by: r.try_get("name")?,
                    at: from_millis(r.try_get("at")?),
                })
            })
            .collect()
    }

    /// Saves a new version of an item as `by`, written over the version the editor started
    /// from, audited.
    pub async fn save_self_assessment(
        &self,
        by: StaffId,
        change: &AnswerChange<'_>,
        now: DateTime<Utc>,
    ) -> Result<AnswerSaved, StoreError> {
        let AnswerChange {
            year,
            item,
            based_on,
            complies,
            commentary,
        } = *change;
        let mut record = self.begin().await?;
        let current = sqlx::query(
            "SELECT version, complies, commentary FROM self_assessment_answers \
             WHERE year = $1 AND item = $2",
        )
        .bind(i64::from(year))
        .bind(item)
        .fetch_optional(record.conn().await?)
        .await?;
        let version = match &current {
            Some(r) => r.try_get::<i64, _>("version")?,
            None => 0,
        };
        if based_on != version {
            return Ok(AnswerSaved::Stale { current: version });
        }
        if let Some(r) = &current
            && complies_of(r)? == complies
            && r.try_get::<String, _>("commentary")? == commentary
        {
            return Ok(AnswerSaved::Unchanged);
        }
        let next = version + 1;
        if current.is_some() {
            // The version in the WHERE clause is the guard on PostgreSQL, where another
            // transaction may have moved it on since it was read.
            let moved = sqlx::query(
                "UPDATE self_assessment_answers SET complies = $1, commentary = $2, version = $3, \
                 updated_by = $4, updated_at = $5 WHERE year = $6 AND item = $7 AND version = $8",
            )
            .bind(complies.map(i64::from))
            .bind(commentary)
            .bind(next)
            .bind(by.0)
            .bind(millis(now))
            .bind(i64::from(year))
            .bind(item)
            .bind(version)
            .execute(record.conn().await?)
            .await?;
            if moved.rows_affected() != 1 {
                return Ok(AnswerSaved::Stale { current: next });
            }
        } else {
            // Two first saves at once: the second finds the row made and is stale.
            let made = sqlx::query(
                "INSERT INTO self_assessment_answers (year, item, complies, commentary, version, \
                 updated_by, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $6) \
                 ON CONFLICT (year, item) DO NOTHING",
            )
            .bind(i64::from(year))
            .bind(item)
            .bind(complies.map(i64::from))
            .bind(commentary)
            .bind(by.0)
            .bind(millis(now))
            .execute(record.conn().await?)
            .await?;
            if made.rows_affected() != 1 {
                return Ok(AnswerSaved::Stale { current: next });
            }
        }
        record.queue(
            "INSERT INTO self_assessment_versions (year, item, version, complies, commentary, \
             staff_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                Value::Int(i64::from(year)),
                Value::Text(item.to_owned()),
                Value::Int(next),
                Value::MaybeInt(complies.map(i64::from)),
                Value::Text(commentary.to_owned()),
                Value::Int(by.0),
                Value::Int(millis(now)),
            ],
        );
        record.audit(
            by,
            "self_assessment_saved",
            None,
            None,
            &serde_json::json!({ "year": year, "item": item, "version": next }),
            now,
        );
        record.commit().await?;
        Ok(AnswerSaved::Saved(next))
    }
}

fn complies_of(r: &sqlx::any::AnyRow) -> Result<Option<bool>, StoreError> {
    Ok(r.try_get::<Option<i64>, _>("complies")?.map(|c| c != 0))
}
