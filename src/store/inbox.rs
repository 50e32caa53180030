//! What the staff console reads across the aggregates: the inbox, a conversation's lines
//! with their assessments and corrections, its complaints with their handlers, and its
//! internal notes. The console's rules (what each role may see, 5.10) are in `crate::staff`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::{Attachment, Store, StoreError, from_millis};
use crate::core::ids::{CaseStatus, ConversationId, MessageId, StaffId, Stage};

/// A conversation as the inbox reads it, most recently active first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxConversation {
    pub id: ConversationId,
    pub channel: String,
    pub chat: String,
    pub updated_at: DateTime<Utc>,
    /// The resident's name as they gave it (their latest complaint's, or the one being
    /// made), if they did.
    pub resident: Option<String>,
    /// The resident's own latest line (not the bot's).
    pub last_message: Option<String>,
    /// Who holds it, by name and id.
    pub held_by: Option<String>,
    pub held_by_id: Option<StaffId>,
    /// Its latest complaint: reference, due date and handler.
    pub reference: Option<String>,
    pub due_on: Option<String>,
    pub handler_id: Option<StaffId>,
    /// When its earliest open tracked request is due (YYYY-MM-DD), if it has one.
    pub request_due: Option<String>,
    /// Who it is assigned to, if anyone.
    pub assigned: Option<super::Assignee>,
}

/// What the inbox is narrowed to, in which order, and which page of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxQuery {
    pub channel: Option<String>,
    pub status: Option<InboxStatus>,
    /// Only conversations with an unacknowledged alert of this kind.
    pub risk: Option<String>,
    /// Only those whose latest complaint's response is due on or before this day (YYYY-MM-DD).
    pub due_by: Option<String>,
    pub order: InboxOrder,
    pub limit: i64,
    pub offset: i64,
}

/// The inbox's status filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxStatus {
    /// An urgent alert, or a request for a person (or a question only a person can answer).
    NeedsPerson,
    Held,
    WithTheBot,
    Complaint,
    /// An open tracked request (privacy, interpreter).
    Requests,
    Unassigned,
    /// Assigned to this member of staff or one of these teams, a complaint they handle, or
    /// a conversation they hold.
    Mine {
        viewer: StaffId,
        teams: Vec<String>,
    },
}

/// The order of the inbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InboxOrder {
    /// Urgent alerts first, then those asking for a person nobody holds, then the newest.
    #[default]
    NeedsFirst,
    /// The most recently active first.
    Newest,
    /// The longest without activity first.
    Oldest,
    /// The earliest-due open request first (UK GDPR art. 12(3): the month runs out first).
    RequestDue,
}

impl InboxOrder {
    fn sql(self) -> &'static str {
        match self {
            InboxOrder::NeedsFirst => {
                "urgent DESC, CASE WHEN wants_person = 1 AND held_by_id IS NULL THEN 1 ELSE 0 END DESC, updated_at DESC, id DESC"
            }
            InboxOrder::Newest => "updated_at DESC, id DESC",
            InboxOrder::Oldest => "updated_at ASC, id ASC",
            InboxOrder::RequestDue => "request_due ASC, updated_at DESC, id DESC",
        }
    }
}

/// A value bound to a statement built at run time.
#[derive(Debug, Clone)]
enum Bind {
    Int(i64),
    Text(String),
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for b in binds {
        query = match b {
            Bind::Int(i) => query.bind(*i),
            Bind::Text(t) => query.bind(t.as_str()),
        };
    }
    query
}

impl InboxQuery {
    /// The `WHERE` conditions over `base` and the values they bind, numbered from `$1`.
    fn conditions(&self) -> (String, Vec<Bind>) {
        let mut binds = Vec::new();
        let mut next = |b: Bind| {
            binds.push(b);
            format!("${}", binds.len())
        };
        let mut all = vec!["1 = 1".to_owned()];
        if let Some(channel) = &self.channel {
            all.push(format!("channel = {}", next(Bind::Text(channel.clone()))));
        }
        if let Some(status) = &self.status {
            all.push(match status {
                InboxStatus::NeedsPerson => "(wants_person = 1 OR urgent = 1)".to_owned(),
                InboxStatus::Held => "held_by_id IS NOT NULL".to_owned(),
                InboxStatus::WithTheBot => "held_by_id IS NULL".to_owned(),
                InboxStatus::Complaint => "reference IS NOT NULL".to_owned(),
                InboxStatus::Requests => "request_due IS NOT NULL".to_owned(),
                InboxStatus::Unassigned => {
                    "assigned_staff IS NULL AND assigned_team IS NULL".to_owned()
                }
                InboxStatus::Mine { viewer, teams } => {
                    let viewer = next(Bind::Int(viewer.0));
                    let mut mine = vec![
                        format!("assigned_staff = {viewer}"),
                        format!("handler_id = {viewer}"),
                        format!("held_by_id = {viewer}"),
                    ];
                    for team in teams {
                        mine.push(format!(
                            "assigned_team = {}",
                            next(Bind::Text(team.clone()))
                        ));
                    }
                    format!("({})", mine.join(" OR "))
                }
            });
        }
        if let Some(risk) = &self.risk {
            all.push(format!(
                "EXISTS (SELECT 1 FROM alerts a WHERE a.conversation_id = base.id \
                 AND a.acknowledged_at IS NULL AND a.kind = {})",
                next(Bind::Text(risk.clone()))
            ));
        }
        if let Some(due_by) = &self.due_by {
            all.push(format!(
                "due_on IS NOT NULL AND due_on <= {}",
                next(Bind::Text(due_by.clone()))
            ));
        }
        (all.join(" AND "), binds)
    }
}

/// Every conversation with what the inbox shows and sorts on, as `base`.
const INBOX_BASE: &str = "WITH base AS (SELECT c.id, c.channel, c.chat, c.updated_at, c.state, \
   s.name AS held_by, h.staff_id AS held_by_id, g.staff_id AS assigned_staff, g.team AS assigned_team, \
   (SELECT k.handler_id FROM cases k WHERE k.conversation_id = c.id ORDER BY k.created_at DESC LIMIT 1) AS handler_id, \
   (SELECT k.reference FROM cases k WHERE k.conversation_id = c.id ORDER BY k.created_at DESC LIMIT 1) AS reference, \
   (SELECT k.due_on FROM cases k WHERE k.conversation_id = c.id ORDER BY k.created_at DESC LIMIT 1) AS due_on, \
   (SELECT k.answers FROM cases k WHERE k.conversation_id = c.id ORDER BY k.created_at DESC LIMIT 1) AS case_answers, \
   (SELECT m.body FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in' ORDER BY m.id DESC LIMIT 1) AS last_message, \
   (SELECT MIN(COALESCE(r.extended_due_on, r.due_on)) FROM requests r \
    WHERE r.conversation_id = c.id AND r.answered_at IS NULL) AS request_due, \
   CASE WHEN EXISTS (SELECT 1 FROM alerts a WHERE a.conversation_id = c.id AND a.acknowledged_at IS NULL \
    AND a.urgent <> 0) THEN 1 ELSE 0 END AS urgent, \
   CASE WHEN EXISTS (SELECT 1 FROM alerts a WHERE a.conversation_id = c.id AND a.acknowledged_at IS NULL \
    AND a.kind IN ('person_requested', 'question')) THEN 1 ELSE 0 END AS wants_person \
 FROM conversations c LEFT JOIN claims h ON h.conversation_id = c.id \
 LEFT JOIN staff s ON s.id = h.staff_id \
 LEFT JOIN assignments g ON g.conversation_id = c.id)";

/// The resident's name as they gave it: in the answers of the complaint they are making (the
/// conversation's state, as JSON), or in their latest complaint's answers.
pub fn resident_name(state: &str, case_answers: Option<&serde_json::Value>) -> Option<String> {
    let named = |answers: &serde_json::Value| {
        answers["name"]
            .as_str()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
    };
    serde_json::from_str::<serde_json::Value>(state)
        .ok()
        .and_then(|s| named(&s["answers"]))
        .or_else(|| case_answers.and_then(named))
}

/// An alert nobody has acknowledged: its conversation and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertKind {
    pub conversation: ConversationId,
    pub kind: String,
    pub urgent: bool,
}

/// A resident message read as disclosing a vulnerability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    pub conversation: ConversationId,
    pub body: String,
}

/// A complaint's answers (what the resident said when it was opened), by conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseAnswers {
    pub conversation: ConversationId,
    pub answers: serde_json::Value,
}

/// A message of a conversation as staff read it: with its assessment, and for a reply by a
/// member of staff, their name.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffLineRecord {
    pub id: MessageId,
    /// `in` or `out`.
    pub direction: String,
    /// `resident`, `bot` or `staff:<id>`.
    pub author: String,
    pub staff_name: Option<String>,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub at: DateTime<Utc>,
    pub assessment: Option<serde_json::Value>,
}

/// A complaint of a conversation as the console lists it, with its handler's name.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseListing {
    pub reference: String,
    pub stage: Stage,
    pub status: CaseStatus,
    pub due_on: String,
    pub definition: String,
    pub answers: serde_json::Value,
    pub suggested_route: Option<String>,
    pub handler_id: Option<StaffId>,
    pub handler: Option<String>,
}

/// A correction of an assessment: the message, the field and value as stored, and who.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionLine {
    pub message: MessageId,
    pub field: String,
    pub value: String,
    pub staff: String,
}

/// An internal note: staff only, never shown to the resident.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub author: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

impl Store {
    /// One page of the inbox: the conversations `query` keeps, in its order, each with the
    /// resident's latest line, its holder, latest complaint and the due date of its earliest
    /// open request. Filtered, ordered and paged here, so a page costs the same however long
    /// the record is.
    pub async fn inbox_conversations(
        &self,
        query: &InboxQuery,
    ) -> Result<Vec<InboxConversation>, StoreError> {
        let (conditions, mut binds) = query.conditions();
        binds.push(Bind::Int(query.limit));
        binds.push(Bind::Int(query.offset));
        let limit = binds.len() - 1;
        let sql = format!(
            "{INBOX_BASE} SELECT * FROM base WHERE {conditions} ORDER BY {} LIMIT ${limit} OFFSET ${}",
            query.order.sql(),
            limit + 1
        );
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                let answers: Option<String> = r.try_get("case_answers")?;
                let answers = answers.and_then(|a| serde_json::from_str(&a).ok());
                Ok(InboxConversation {
                    id: r.try_get("id")?,
                    channel: r.try_get("channel")?,
                    chat: r.try_get("chat")?,
                    updated_at: from_millis(r.try_get("updated_at")?),
                    resident: resident_name(&state, answers.as_ref()),
                    last_message: r.try_get("last_message")?,
                    held_by: r.try_get("held_by")?,
                    held_by_id: r.try_get("held_by_id")?,
                    reference: r.try_get("reference")?,
                    due_on: r.try_get("due_on")?,
                    handler_id: r.try_get("handler_id")?,
                    request_due: r.try_get("request_due")?,
                    assigned: super::assignments::assignee(
                        r.try_get("assigned_staff")?,
                        r.try_get("assigned_team")?,
                    ),
                })
            })
            .collect()
    }

    /// How many conversations `query` keeps, on every page.
    pub async fn inbox_count(&self, query: &InboxQuery) -> Result<usize, StoreError> {
        let (conditions, binds) = query.conditions();
        let sql = format!("{INBOX_BASE} SELECT COUNT(*) AS n FROM base WHERE {conditions}");
        let row = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &binds)
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0))
    }

    /// Every alert nobody has acknowledged: its conversation, kind and urgency.
    pub async fn unacknowledged_alerts(&self) -> Result<Vec<AlertKind>, StoreError> {
        let rows = sqlx::query(
            "SELECT conversation_id, kind, urgent FROM alerts WHERE acknowledged_at IS NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AlertKind {
                    conversation: r.try_get("conversation_id")?,
                    kind: r.try_get("kind")?,
                    urgent: r.try_get::<i64, _>("urgent")? != 0,
                })
            })
            .collect()
    }

    /// Resident messages in these conversations that the engine read, or staff marked, as
    /// disclosing a vulnerability. Fails safe: a finding the learned layer doubted counts.
    pub async fn disclosures(
        &self,
        conversations: &[ConversationId],
    ) -> Result<Vec<Disclosure>, StoreError> {
        if conversations.is_empty() {
            return Ok(Vec::new());
        }
        // The ids are integers, so they can be written into the statement.
        let ids: Vec<String> = conversations
            .iter()
            .map(ConversationId::to_string)
            .collect();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT m.conversation_id, m.body FROM messages m \
             JOIN assessments a ON a.message_id = m.id \
             WHERE m.conversation_id IN ({}) AND (a.assessment LIKE '%\"vulnerability\"%' \
             OR a.assessment LIKE '%learned.doubts.vulnerability%' \
             OR EXISTS (SELECT 1 FROM assessment_corrections c WHERE c.message_id = m.id \
             AND c.field = 'vulnerability' AND c.value = 'true'))",
            ids.join(", ")
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Disclosure {
                    conversation: r.try_get("conversation_id")?,
                    body: r.try_get("body")?,
                })
            })
            .collect()
    }

    /// The answers of every complaint, by conversation.
    pub async fn case_answers(&self) -> Result<Vec<CaseAnswers>, StoreError> {
        let rows = sqlx::query("SELECT conversation_id, answers FROM cases")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseAnswers {
                    conversation: r.try_get("conversation_id")?,
                    answers: serde_json::from_str(&r.try_get::<String, _>("answers")?)?,
                })
            })
            .collect()
    }

    /// The messages of a conversation after message `after`, oldest first, as staff read
    /// them.
    pub async fn staff_lines(
        &self,
        conversation: ConversationId,
        after: MessageId,
    ) -> Result<Vec<StaffLineRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id, m.direction, m.author, m.body, m.attachments, m.at, a.assessment, s.name AS staff_name \
             FROM messages m LEFT JOIN assessments a ON a.message_id = m.id \
             LEFT JOIN staff s ON m.author = 'staff:' || CAST(s.id AS TEXT) \
             WHERE m.conversation_id = $1 AND m.id > $2 ORDER BY m.id",
        )
        .bind(conversation)
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let assessment: Option<String> = r.try_get("assessment")?;
                Ok(StaffLineRecord {
                    id: r.try_get("id")?,
                    direction: r.try_get("direction")?,
                    author: r.try_get("author")?,
                    staff_name: r.try_get("staff_name")?,
                    body: r.try_get("body")?,
                    attachments: serde_json::from_str(&r.try_get::<String, _>("attachments")?)?,
                    at: from_millis(r.try_get("at")?),
                    assessment: assessment.map(|a| serde_json::from_str(&a)).transpose()?,
                })
            })
            .collect()
    }

    /// The complaints of a conversation, oldest first, with their handlers' names.
    pub async fn conversation_cases(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<CaseListing>, StoreError> {
        let rows = sqlx::query(
            "SELECT k.reference, k.stage, k.status, k.due_on, k.definition, k.answers, k.suggested_route, \
             k.handler_id, s.name AS handler FROM cases k LEFT JOIN staff s ON s.id = k.handler_id \
             WHERE k.conversation_id = $1 ORDER BY k.created_at",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseListing {
                    reference: r.try_get("reference")?,
                    stage: super::stage(r)?,
                    status: super::status(r)?,
                    due_on: r.try_get("due_on")?,
                    definition: r.try_get("definition")?,
                    answers: serde_json::from_str(&r.try_get::<String, _>("answers")?)?,
                    suggested_route: r.try_get("suggested_route")?,
                    handler_id: r.try_get("handler_id")?,
                    handler: r.try_get("handler")?,
                })
            })
            .collect()
    }

    /// The corrections of a conversation's assessments, oldest first, with who made each.
    pub async fn correction_lines(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<CorrectionLine>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.message_id, c.field, c.value, s.name FROM assessment_corrections c \
             JOIN messages m ON m.id = c.message_id JOIN staff s ON s.id = c.staff_id \
             WHERE m.conversation_id = $1 ORDER BY c.id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CorrectionLine {
                    message: r.try_get("message_id")?,
                    field: r.try_get("field")?,
                    value: r.try_get("value")?,
                    staff: r.try_get("name")?,
                })
            })
            .collect()
    }

    /// A conversation's internal notes, oldest first.
    pub async fn notes(&self, conversation: ConversationId) -> Result<Vec<Note>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.name, n.body, n.at FROM notes n JOIN staff s ON s.id = n.staff_id \
             WHERE n.conversation_id = $1 ORDER BY n.id",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Note {
                    author: r.try_get("name")?,
                    body: r.try_get("body")?,
                    at: from_millis(r.try_get("at")?),
                })
            })
            .collect()
    }
}
