//! Tracked requests: a resident's request about their personal data (access, erasure,
//! rectification, objection: UK GDPR arts. 15 to 21, due in one calendar month and extendable
//! once, art. 12(3)) or for an interpreter (Code 5.10), with its due date and what staff did.
//! Made from the dialog's effect in the message's own transaction; answered or extended by
//! staff; reminded by the scheduler; its words erased with the conversation.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Conversation, Record, Store, StoreError, Value, from_millis, millis};
use crate::core::dialog::RequestKind;
use crate::core::ids::{ConversationId, StaffId};

/// A tracked request's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub i64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for RequestId {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<RequestId, Self::Err> {
        s.parse().map(RequestId)
    }
}

/// A tracked request as the record holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrackedRequest {
    pub id: RequestId,
    pub conversation: ConversationId,
    pub kind: RequestKind,
    /// What the resident asked, in their words; for an interpreter, the language.
    pub detail: String,
    pub received_at: DateTime<Utc>,
    /// The statutory date (one calendar month for personal data, art. 12(3)).
    pub due_on: NaiveDate,
    /// The date after the one extension allowed, and why.
    pub extended_due_on: Option<NaiveDate>,
    pub extension_reason: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// Who answered it, by name.
    pub answered_by: Option<String>,
    pub answer: Option<String>,
    /// Who logged it, by name, when staff logged it from a message the bot did not
    /// recognise as a request; none when the dialog recorded it.
    pub logged_by: Option<String>,
    /// When staff logged it (its alert was raised then, not at `received_at`).
    pub logged_at: Option<DateTime<Utc>>,
}

/// A request staff log themselves, read from the resident's messages.
#[derive(Debug, Clone, Copy)]
pub struct LoggedRequest<'a> {
    pub kind: RequestKind,
    /// What the resident asked, in their words or staff's summary.
    pub detail: &'a str,
    /// When the resident asked: the statutory month runs from receipt (art. 12(3)).
    pub received_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    pub logged_by: StaffId,
}

impl TrackedRequest {
    /// The date it must be answered by now: the extended date if there is one.
    pub fn due(&self) -> NaiveDate {
        self.extended_due_on.unwrap_or(self.due_on)
    }

    pub fn is_open(&self) -> bool {
        self.answered_at.is_none()
    }
}

const COLUMNS: &str = "SELECT r.id, r.conversation_id, r.kind, r.detail, r.received_at, r.due_on, \
     r.extended_due_on, r.extension_reason, r.answered_at, r.answer, s.name AS answered_by, \
     r.logged_at, l.name AS logged_by \
     FROM requests r LEFT JOIN staff s ON s.id = r.answered_by LEFT JOIN staff l ON l.id = r.logged_by";

/// A date as the record keeps it (YYYY-MM-DD); anything else is an error, never a guess.
fn date(text: &str) -> Result<NaiveDate, StoreError> {
    text.parse().map_err(|_| {
        StoreError::Database(sqlx::Error::Decode(
            format!("a stored request date {text:?} is not YYYY-MM-DD").into(),
        ))
    })
}

fn tracked(r: &sqlx::any::AnyRow) -> Result<TrackedRequest, StoreError> {
    let kind: String = r.try_get("kind")?;
    let kind = RequestKind::parse(&kind).ok_or_else(|| {
        StoreError::Database(sqlx::Error::Decode(
            format!("a stored request has an unknown kind {kind:?}").into(),
        ))
    })?;
    Ok(TrackedRequest {
        id: RequestId(r.try_get("id")?),
        conversation: r.try_get("conversation_id")?,
        kind,
        detail: r.try_get("detail")?,
        received_at: from_millis(r.try_get("received_at")?),
        due_on: date(&r.try_get::<String, _>("due_on")?)?,
        extended_due_on: r
            .try_get::<Option<String>, _>("extended_due_on")?
            .as_deref()
            .map(date)
            .transpose()?,
        extension_reason: r.try_get("extension_reason")?,
        answered_at: r.try_get::<Option<i64>, _>("answered_at")?.map(from_millis),
        answered_by: r.try_get("answered_by")?,
        answer: r.try_get("answer")?,
        logged_by: r.try_get("logged_by")?,
        logged_at: r.try_get::<Option<i64>, _>("logged_at")?.map(from_millis),
    })
}

impl Store {
    /// A conversation's tracked requests, oldest first.
    pub async fn conversation_requests(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<TrackedRequest>, StoreError> {
        let sql = format!("{COLUMNS} WHERE r.conversation_id = $1 ORDER BY r.id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(conversation)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(tracked).collect()
    }

    /// One tracked request.
    pub async fn tracked_request(
        &self,
        request: RequestId,
    ) -> Result<Option<TrackedRequest>, StoreError> {
        let sql = format!("{COLUMNS} WHERE r.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(request.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(tracked).transpose()
    }

    /// Every request not yet answered, the one due first (or most overdue) first.
    pub async fn open_requests(&self) -> Result<Vec<TrackedRequest>, StoreError> {
        let sql = format!(
            "{COLUMNS} WHERE r.answered_at IS NULL \
             ORDER BY COALESCE(r.extended_due_on, r.due_on), r.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(tracked).collect()
    }

    /// When the conversation's first message was recorded; none for an empty one. A request
    /// cannot have been received before it.
    pub async fn conversation_began(
        &self,
        conversation: ConversationId,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query("SELECT MIN(at) AS began FROM messages WHERE conversation_id = $1")
            .bind(conversation)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>("began")?.map(from_millis))
    }
}

impl Record<'_> {
    /// Records a request the resident made, in the transaction of their message.
    pub fn tracked_request(
        &mut self,
        conversation: &Conversation,
        kind: RequestKind,
        detail: &str,
        due_on: NaiveDate,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO requests (conversation_id, kind, detail, received_at, due_on) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                Value::Int(conversation.id.0),
                Value::Text(kind.as_str().to_owned()),
                Value::Text(detail.to_owned()),
                Value::Int(millis(now)),
                Value::Text(due_on.to_string()),
            ],
        );
    }

    /// Records a request staff logged from the resident's messages, in the transaction of its
    /// alert, event and audit line.
    pub fn logged_request(
        &mut self,
        conversation: &Conversation,
        request: &LoggedRequest<'_>,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO requests (conversation_id, kind, detail, received_at, due_on, logged_at, logged_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                Value::Int(conversation.id.0),
                Value::Text(request.kind.as_str().to_owned()),
                Value::Text(request.detail.to_owned()),
                Value::Int(millis(request.received_at)),
                Value::Text(request.due_on.to_string()),
                Value::Int(millis(now)),
                Value::Int(request.logged_by.0),
            ],
        );
    }

    /// Records the answer to a request, closing it; false if it was already answered (two
    /// members of staff answering at once: only one answer stands).
    pub async fn answer_request(
        &mut self,
        request: RequestId,
        staff: StaffId,
        answer: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let done = sqlx::query(
            "UPDATE requests SET answered_at = $1, answered_by = $2, answer = $3 \
             WHERE id = $4 AND answered_at IS NULL",
        )
        .bind(millis(now))
        .bind(staff)
        .bind(answer)
        .bind(request.0)
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Extends an open request's date to `to`, with the reason; false unless it is open, not
    /// extended before, and its original date is not before `today` (art. 12(3): the
    /// resident is told within the first month). Checked in the statement itself, so two
    /// extensions at once cannot both stand.
    pub async fn extend_request(
        &mut self,
        request: RequestId,
        to: NaiveDate,
        reason: &str,
        today: NaiveDate,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let done = sqlx::query(
            "UPDATE requests SET extended_due_on = $1, extension_reason = $2 \
             WHERE id = $3 AND answered_at IS NULL AND extended_due_on IS NULL AND due_on >= $4",
        )
        .bind(to.to_string())
        .bind(reason)
        .bind(request.0)
        .bind(today.to_string())
        .execute(self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Acknowledges the alerts a request raised: the one raised with it (same conversation,
    /// same moment: when it was received, or when staff logged it) and the scheduler's reminders about it (claimed in `scheduled_once`
    /// under the request's id, at the moment the alert was raised).
    pub fn acknowledge_request_alerts(
        &mut self,
        request: &TrackedRequest,
        staff: StaffId,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "UPDATE alerts SET acknowledged_at = $1, acknowledged_by = $2 \
             WHERE conversation_id = $3 AND acknowledged_at IS NULL AND ( \
               (kind = $6 AND at = $4) \
               OR (kind IN ('request_due', 'request_overdue') AND at IN ( \
                 SELECT o.at FROM scheduled_once o WHERE o.job = alerts.kind AND o.key LIKE $5)))",
            vec![
                Value::Int(millis(now)),
                Value::Int(staff.0),
                Value::Int(request.conversation.0),
                Value::Int(millis(request.logged_at.unwrap_or(request.received_at))),
                Value::Text(format!("{}/%", request.id)),
                // The kind of alert this request raised, so one for another request logged
                // at the same moment stays open.
                Value::Text(
                    if request.kind.is_privacy() {
                        "privacy_request"
                    } else {
                        "interpreter"
                    }
                    .to_owned(),
                ),
            ],
        );
    }
}
