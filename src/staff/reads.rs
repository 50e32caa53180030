//! What the console reads: the inbox (what needs a person first, narrowed by a filter, and
//! for roles that may not see support needs, with disclosures hidden: 5.10), and a
//! conversation with everything the record holds about it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::core::ids::{ConversationId, MessageId, StaffId};
use crate::core::policy::train::Correction;
use crate::store::{
    Assignee, InboxOrder, InboxQuery, InboxStatus, Note, OpenAlert, Store, StoreError,
};

/// A conversation as the inbox lists it.
#[derive(Debug, Clone, Serialize)]
pub struct InboxRow {
    pub id: ConversationId,
    pub channel: String,
    pub chat: String,
    pub updated_at: DateTime<Utc>,
    /// The resident's name as they gave it, if they did.
    pub resident: Option<String>,
    /// The resident's own latest line.
    pub last_message: String,
    pub held_by: Option<String>,
    /// Unacknowledged alerts: their kinds, and whether any is urgent.
    pub alerts: Vec<String>,
    pub urgent: bool,
    pub wants_person: bool,
    pub case: Option<String>,
    pub due_on: Option<String>,
    /// Who handles the latest complaint, if someone was named.
    pub handler: Option<String>,
    /// When its earliest open tracked request (privacy, interpreter) is due.
    pub request_due: Option<String>,
    #[serde(skip)]
    pub handler_id: Option<StaffId>,
    #[serde(skip)]
    pub held_by_id: Option<StaffId>,
    /// Who it is assigned to, by name ("Team Repairs" for a team).
    pub assigned_to: Option<String>,
    #[serde(skip)]
    pub assigned: Option<Assignee>,
}

/// What the inbox may be narrowed to.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct InboxFilter {
    #[serde(default)]
    pub channel: Option<String>,
    /// `needs_person`, `held`, `bot`, `complaint`, `requests` (an open tracked request,
    /// the most overdue first), `unassigned` (assigned to nobody), or `mine` (assigned to
    /// the viewer or a team they are in, complaints they handle and conversations they hold).
    #[serde(default)]
    pub status: Option<String>,
    /// An alert kind: emergency, safeguarding, health_safety, vulnerability...
    #[serde(default)]
    pub risk: Option<String>,
    /// Only complaints whose response is due on or before this date (YYYY-MM-DD).
    #[serde(default)]
    pub due_by: Option<String>,
    /// `newest` (most recent activity first) or `oldest` (longest waiting first); by
    /// default, those needing a person first.
    #[serde(default)]
    pub sort: Option<String>,
    /// Which page, from 1.
    #[serde(default)]
    pub page: Option<usize>,
    /// The member of staff looking (for `mine`); set by the console, never from the query.
    #[serde(skip)]
    pub viewer: Option<StaffId>,
    /// The teams the viewer is in (for `mine`); set by the console.
    #[serde(skip)]
    pub viewer_teams: Vec<String>,
}

/// How many conversations an inbox page lists.
pub const INBOX_PAGE: usize = 50;

impl InboxFilter {
    /// The store's query for this filter and page (filters left empty are "any").
    fn query(&self) -> InboxQuery {
        let given = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        let status = given(&self.status).and_then(|s| match s.as_str() {
            "needs_person" => Some(InboxStatus::NeedsPerson),
            "held" => Some(InboxStatus::Held),
            "bot" => Some(InboxStatus::WithTheBot),
            "complaint" => Some(InboxStatus::Complaint),
            "requests" => Some(InboxStatus::Requests),
            "unassigned" => Some(InboxStatus::Unassigned),
            // Nobody looking has no queue: nothing is theirs.
            "mine" => Some(InboxStatus::Mine {
                viewer: self.viewer.unwrap_or(StaffId(0)),
                teams: self.viewer_teams.clone(),
            }),
            _ => None,
        });
        let order = match given(&self.sort).as_deref() {
            Some("newest") => InboxOrder::Newest,
            Some("oldest") => InboxOrder::Oldest,
            _ if status == Some(InboxStatus::Requests) => InboxOrder::RequestDue,
            _ => InboxOrder::NeedsFirst,
        };
        let page = self.page.unwrap_or(1).max(1);
        InboxQuery {
            channel: given(&self.channel),
            status,
            risk: given(&self.risk),
            due_by: given(&self.due_by),
            order,
            limit: INBOX_PAGE as i64,
            offset: i64::try_from((page - 1).saturating_mul(INBOX_PAGE)).unwrap_or(i64::MAX),
        }
    }
}

/// One page of the inbox (`filter.page`, from 1), in the filter's order: by default the
/// conversations needing a person first (urgent alerts, then a request for a person nobody
/// holds), then the most recently active.
pub async fn inbox(store: &Store, filter: &InboxFilter) -> Result<Vec<InboxRow>, StoreError> {
    let rows = store.inbox_conversations(&filter.query()).await?;
    let alerts = store.unacknowledged_alerts().await?;
    let names = store.staff_names().await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut kinds = Vec::new();
        let mut urgent = false;
        for a in alerts.iter().filter(|a| a.conversation == r.id) {
            urgent |= a.urgent;
            if !kinds.contains(&a.kind) {
                kinds.push(a.kind.clone());
            }
        }
        out.push(InboxRow {
            id: r.id,
            channel: r.channel,
            chat: r.chat,
            updated_at: r.updated_at,
            resident: r.resident,
            last_message: shorten(&r.last_message.unwrap_or_default(), 120),
            wants_person: kinds
                .iter()
                .any(|k| k == "person_requested" || k == "question"),
            held_by: r.held_by,
            alerts: kinds,
            urgent,
            case: r.reference,
            due_on: r.due_on,
            handler: r.handler_id.and_then(|h| names.get(&h).cloned()),
            assigned_to: r.assigned.as_ref().map(|a| match a {
                Assignee::Staff(id) => names.get(id).cloned().unwrap_or_default(),
                Assignee::Team(team) => format!("Team {team}"),
            }),
            assigned: r.assigned,
            handler_id: r.handler_id,
            held_by_id: r.held_by_id,
            request_due: r.request_due,
        });
    }
    Ok(out)
}

/// How many conversations the filter keeps, over every page.
pub async fn inbox_total(store: &Store, filter: &InboxFilter) -> Result<usize, StoreError> {
    store.inbox_count(&filter.query()).await
}

/// The first `max` characters, with an ellipsis if there were more.
fn shorten(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// The inbox for roles that may not see support needs (5.10): a last message that repeats a
/// disclosed one is replaced by `restricted`.
pub async fn inbox_restricted(
    store: &Store,
    filter: &InboxFilter,
    restricted: &str,
) -> Result<Vec<InboxRow>, StoreError> {
    let mut rows = inbox(store, filter).await?;
    // Resident messages the engine read (or staff marked) as disclosing a vulnerability, in
    // these rows' conversations (the ids are integers from the record). Fails safe: a finding
    // the learned layer doubted counts.
    if !rows.is_empty() {
        let ids: Vec<ConversationId> = rows.iter().map(|r| r.id).collect();
        for d in store.disclosures(&ids).await? {
            let body = d.body.trim().to_lowercase();
            for row in rows.iter_mut().filter(|r| r.id == d.conversation) {
                let shown = row.last_message.trim_end_matches('…').trim().to_lowercase();
                if !shown.is_empty() && (body.contains(&shown) || shown.contains(&body)) {
                    row.last_message = restricted.to_owned();
                }
            }
        }
    }
    for a in store.case_answers().await? {
        let Some(support) = a.answers["support"]
            .as_str()
            .map(|t| t.trim().to_lowercase())
        else {
            continue;
        };
        if support.len() <= 3 {
            continue;
        }
        for row in rows.iter_mut().filter(|r| r.id == a.conversation) {
            let shown = row.last_message.trim_end_matches('…').to_lowercase();
            if shown.contains(&support) || (shown.len() > 20 && support.contains(&shown)) {
                row.last_message = restricted.to_owned();
            }
        }
    }
    Ok(rows)
}

/// How many conversations are in the inbox's queues: assigned to nobody, and the viewer's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    pub unassigned: usize,
    pub mine: usize,
}

/// The counts of the inbox's queues for the viewer `filter` names (its other fields ignored).
pub async fn queue_counts(store: &Store, filter: &InboxFilter) -> Result<QueueCounts, StoreError> {
    let queue = |status: &str| InboxFilter {
        status: Some(status.to_owned()),
        viewer: filter.viewer,
        viewer_teams: filter.viewer_teams.clone(),
        ..InboxFilter::default()
    };
    Ok(QueueCounts {
        unassigned: inbox_total(store, &queue("unassigned")).await?,
        mine: inbox_total(store, &queue("mine")).await?,
    })
}

/// One line of a conversation for staff: the message, and for a resident's message the
/// engine's assessment with its reasons and provisions.
#[derive(Debug, Clone, Serialize)]
pub struct StaffLine {
    pub id: MessageId,
    /// `resident`, `bot` or `staff`.
    pub from: String,
    pub author: String,
    pub text: String,
    pub attachments: Vec<String>,
    pub at: DateTime<Utc>,
    pub assessment: Option<serde_json::Value>,
    /// Staff corrections of the assessment, as "Name: what was wrong".
    pub corrections: Vec<String>,
}

/// The lines of a conversation after message `after`, oldest first.
pub async fn lines(
    store: &Store,
    conversation: ConversationId,
    after: MessageId,
) -> Result<Vec<StaffLine>, StoreError> {
    Ok(store
        .staff_lines(conversation, after)
        .await?
        .into_iter()
        .map(|r| StaffLine {
            id: r.id,
            from: if r.direction == "in" {
                "resident".to_owned()
            } else if r.author.starts_with("staff:") {
                "staff".to_owned()
            } else {
                "bot".to_owned()
            },
            author: r.staff_name.unwrap_or(r.author),
            text: r.body,
            attachments: r
                .attachments
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!("{} {n} ({})", a.kind, a.platform_file_id),
                    None => format!("{} ({})", a.kind, a.platform_file_id),
                })
                .collect(),
            at: r.at,
            assessment: r.assessment,
            corrections: Vec::new(),
        })
        .collect())
}

/// The events of a conversation (consent, offers, cases, privacy requests...), oldest first.
pub async fn events(
    store: &Store,
    conversation: ConversationId,
) -> Result<Vec<(String, Option<String>, serde_json::Value, DateTime<Utc>)>, StoreError> {
    Ok(store
        .conversation_events(conversation)
        .await?
        .into_iter()
        .map(|e| (e.kind, e.case_reference, e.detail, e.at))
        .collect())
}

/// The complaints of a conversation: reference, stage, status, due date, definition, answers.
pub async fn cases(
    store: &Store,
    conversation: ConversationId,
) -> Result<Vec<serde_json::Value>, StoreError> {
    Ok(store
        .conversation_cases(conversation)
        .await?
        .into_iter()
        .map(|k| {
            serde_json::json!({
                "reference": k.reference,
                "stage": k.stage,
                "status": k.status,
                "due_on": k.due_on,
                "definition": k.definition,
                "answers": k.answers,
                "suggested_route": k.suggested_route,
                "handler_id": k.handler_id,
                "handler": k.handler,
            })
        })
        .collect())
}

/// Staff who can handle complaints (complaints officers, managers, admins): (id, name).
pub async fn caseworkers(store: &Store) -> Result<Vec<(StaffId, String)>, StoreError> {
    Ok(store
        .caseworkers()
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect())
}

/// The audit of a conversation: who did what, when.
pub async fn audit(
    store: &Store,
    conversation: ConversationId,
) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
    Ok(store
        .audit_lines(conversation)
        .await?
        .into_iter()
        .map(|a| (a.staff, a.action, a.at))
        .collect())
}

/// Who holds a conversation, by name.
pub async fn holder(store: &Store, staff: StaffId) -> Result<Option<String>, StoreError> {
    store.staff_name(staff).await
}

/// Alerts nobody has acknowledged, urgent first, then oldest first.
pub async fn open_alerts(store: &Store) -> Result<Vec<OpenAlert>, StoreError> {
    store.open_alerts().await
}

/// The corrections of a conversation's assessments: message id and "Name: what was wrong",
/// oldest first.
pub async fn corrections(
    store: &Store,
    conversation: ConversationId,
) -> Result<Vec<(MessageId, String)>, StoreError> {
    let mut out = Vec::new();
    for c in store.correction_lines(conversation).await? {
        if let Some(correction) = Correction::parse(&c.field, &c.value) {
            out.push((c.message, format!("{}: {}", c.staff, correction.describe())));
        }
    }
    Ok(out)
}

/// A conversation's internal notes, oldest first.
pub async fn notes(store: &Store, conversation: ConversationId) -> Result<Vec<Note>, StoreError> {
    store.notes(conversation).await
}
