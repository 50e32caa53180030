//! Search for the console (issue 12): message text through each backend's full-text index
//! (FTS5 on SQLite, a GIN index on `to_tsvector('simple', body)` on PostgreSQL), and
//! complaints by reference, the resident's name and their contact detail. One method, one
//! result shape, on both backends. Erased conversations (retention) are never found: their
//! messages are gone from the index with them, and their complaints are left out.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Backend, Store, StoreError, from_millis};
use crate::core::ids::{ConversationId, MessageId};
use crate::core::search::SearchQuery;

/// Message hits read from the index at most, before they are grouped by conversation.
const MOST_LINES: i64 = 300;
/// Complaints read at most as candidates for a name, contact or reference match.
const MOST_CASES: i64 = 200;

/// The answers of a complaint that are searched: who the resident is and how to reach them
/// (never `support`, which some roles may not see: 5.10).
const SEARCHED_ANSWERS: [&str; 3] = ["name", "representative", "contact_detail"];

/// Which lines a search may find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchScope {
    /// Every line (complaints officers and managers).
    Everything,
    /// Not a resident line the engine read, or staff marked, as disclosing a support need or
    /// a disability, nor the resident's answer about when it is safe to contact them (5.10).
    /// The console hides the lines repeating them as the conversation page does.
    WithoutDisclosures,
}

/// What a search found, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub conversation: ConversationId,
    pub channel: String,
    /// Its latest complaint's reference, if it has one.
    pub reference: Option<String>,
    /// What matched: a line of the conversation, or a complaint's field.
    pub found: Found,
    pub at: DateTime<Utc>,
}

/// What a search matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A message: its id, who wrote it (`in` from the resident, `out` to them) and its text.
    Line {
        message: MessageId,
        direction: String,
        text: String,
    },
    /// A complaint's reference, or one of its answers (the field's key and the answer).
    Case {
        reference: String,
        field: String,
        text: String,
    },
}

impl Store {
    /// Conversations matching `query`, best first, at most `limit`: complaints whose
    /// reference, resident's name or contact detail match come first (newest first), then
    /// lines by relevance (each conversation once, with its best line).
    pub async fn search(
        &self,
        query: &SearchQuery,
        scope: SearchScope,
        limit: usize,
    ) -> Result<Vec<SearchHit>, StoreError> {
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let mut hits = self.search_cases(query).await?;
        hits.extend(self.search_lines(query, scope).await?);
        let mut seen = std::collections::HashSet::new();
        hits.retain(|h| seen.insert(h.conversation));
        hits.truncate(limit);
        Ok(hits)
    }

    async fn search_lines(
        &self,
        query: &SearchQuery,
        scope: SearchScope,
    ) -> Result<Vec<SearchHit>, StoreError> {
        // The same conditions on both backends, after the index's own match. The disclosures
        // are found as `Store::disclosures` finds them, and the safe-contact answer by its rule
        // (`service::SAFE_CONTACT_RULE`).
        const REST: &str = "AND NOT EXISTS (SELECT 1 FROM cases e WHERE e.conversation_id = m.conversation_id \
               AND e.erased_at IS NOT NULL) \
             AND ($2 = 0 OR (NOT EXISTS (SELECT 1 FROM assessments a WHERE a.message_id = m.id \
               AND (a.assessment LIKE '%\"vulnerability\"%' OR a.assessment LIKE '%learned.doubts.vulnerability%' \
               OR a.assessment LIKE '%dialog.safe_contact%')) \
             AND NOT EXISTS (SELECT 1 FROM assessment_corrections r WHERE r.message_id = m.id \
               AND r.field = 'vulnerability' AND r.value = 'true')))";
        let (sql, words) = match self.backend {
            Backend::Sqlite => (
                format!(
                    "SELECT m.id, m.conversation_id, m.direction, m.body, m.at, v.channel, \
                     (SELECT k.reference FROM cases k WHERE k.conversation_id = m.conversation_id \
                      ORDER BY k.created_at DESC LIMIT 1) AS reference \
                     FROM message_words JOIN messages m ON m.id = message_words.rowid \
                     JOIN conversations v ON v.id = m.conversation_id \
                     WHERE message_words MATCH $1 {REST} \
                     ORDER BY bm25(message_words), m.id DESC LIMIT $3"
                ),
                query.fts5(),
            ),
            Backend::Postgres => (
                format!(
                    "SELECT m.id, m.conversation_id, m.direction, m.body, m.at, v.channel, \
                     (SELECT k.reference FROM cases k WHERE k.conversation_id = m.conversation_id \
                      ORDER BY k.created_at DESC LIMIT 1) AS reference \
                     FROM messages m JOIN conversations v ON v.id = m.conversation_id, \
                     to_tsquery('simple', $1) q \
                     WHERE to_tsvector('simple', m.body) @@ q {REST} \
                     ORDER BY ts_rank(to_tsvector('simple', m.body), q) DESC, m.id DESC LIMIT $3"
                ),
                query.tsquery(),
            ),
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(words)
            .bind(i64::from(scope == SearchScope::WithoutDisclosures))
            .bind(MOST_LINES)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(SearchHit {
                    conversation: r.try_get("conversation_id")?,
                    channel: r.try_get("channel")?,
                    reference: r.try_get("reference")?,
                    found: Found::Line {
                        message: r.try_get("id")?,
                        direction: r.try_get("direction")?,
                        text: r.try_get("body")?,
                    },
                    at: from_millis(r.try_get("at")?),
                })
            })
            .collect()
    }

    /// Complaints whose reference, or the resident's name or contact detail, match. The
    /// database narrows by the longest word (or the digits of a phone number); the fields are
    /// then checked word by word here, the same on both backends.
    async fn search_cases(&self, query: &SearchQuery) -> Result<Vec<SearchHit>, StoreError> {
        let longest = query
            .terms
            .iter()
            .max_by_key(|t| t.chars().count())
            .cloned()
            .unwrap_or_default();
        // The words hold only letters and digits: no `%` or `_` to escape.
        let digits = query
            .digits
            .as_ref()
            .map_or_else(String::new, |d| format!("%{d}%"));
        let rows = sqlx::query(
            "SELECT k.reference, k.conversation_id, k.answers, k.updated_at, v.channel \
             FROM cases k JOIN conversations v ON v.id = k.conversation_id \
             WHERE k.erased_at IS NULL AND (LOWER(k.reference) LIKE $1 OR LOWER(k.answers) LIKE $1 \
               OR ($2 <> '' AND REPLACE(REPLACE(k.answers, ' ', ''), '-', '') LIKE $2)) \
             ORDER BY k.updated_at DESC LIMIT $3",
        )
        .bind(format!("%{longest}%"))
        .bind(digits)
        .bind(MOST_CASES)
        .fetch_all(&self.pool)
        .await?;
        let mut hits = Vec::new();
        for r in &rows {
            let reference: String = r.try_get("reference")?;
            let answers: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>("answers")?)?;
            let field = |key: &str| answers[key].as_str().map(str::to_owned);
            let matched = if query.reference.as_deref() == Some(reference.as_str())
                || query.matches(&reference)
            {
                Some(("reference".to_owned(), reference.clone()))
            } else {
                SEARCHED_ANSWERS.iter().find_map(|key| {
                    let text = field(key)?;
                    let by_digits = query.digits.as_ref().is_some_and(|d| {
                        text.chars()
                            .filter(char::is_ascii_digit)
                            .collect::<String>()
                            .contains(d.as_str())
                    });
                    (by_digits || query.matches(&text)).then(|| ((*key).to_owned(), text))
                })
            };
            if let Some((field, text)) = matched {
                hits.push(SearchHit {
                    conversation: r.try_get("conversation_id")?,
                    channel: r.try_get("channel")?,
                    reference: Some(reference.clone()),
                    found: Found::Case {
                        reference,
                        field,
                        text,
                    },
                    at: from_millis(r.try_get("updated_at")?),
                });
            }
        }
        Ok(hits)
    }
}
