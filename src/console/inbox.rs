//! The inbox: every conversation, those needing a person first (or newest, or longest
//! waiting), a page at a time, with the open alerts grouped by conversation and kind; a live
//! stream telling the page when anything changed (and how many alerts are open, for the tab's
//! title); a manager acknowledging an alert, or a group of them at once.

use axum::extract::{Path, Query, State};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::auth::{self, CsrfForm, form_token};
use super::present::{alert_count, label, query_string};
use super::restrict::{RESTRICTED, restrict_alerts};
use super::{Console, Error, Staff, StaffForm, sse};
use crate::channels::Wakers;
use crate::core::ids::{AlertId, ConversationId};
use crate::staff::{self, INBOX_PAGE, InboxFilter, InboxRow, OpenAlert, StaffMember};

/// The alert kinds the inbox may be narrowed to, in the order the filter lists them.
const RISKS: [&str; 13] = [
    "emergency",
    "safeguarding",
    "health_safety",
    "vulnerability",
    "person_requested",
    "stage2_request",
    "deadline_near",
    "deadline_passed",
    "claim_idle",
    "action_overdue",
    "half_finished",
    "email_unusable",
    "reply_another_way",
];

/// What the inbox page shows.
#[derive(Serialize)]
struct InboxPage<'a> {
    landlord: String,
    staff: &'a StaffMember,
    csrf: &'a str,
    rows: Vec<InboxRow>,
    /// Open alerts, one entry per conversation and kind.
    groups: Vec<AlertGroup>,
    /// How many alerts are open (the tab's title), and how many of them are urgent.
    open_alerts: usize,
    urgent_alerts: usize,
    manager: bool,
    filter: Filter,
    /// The alert kinds the filter offers, as (key, label).
    risks: Vec<(&'static str, String)>,
    paging: Paging,
    /// How many are assigned to nobody, and in the viewer's queue.
    counts: staff::QueueCounts,
}

/// The open alerts of one kind on one conversation, acknowledged together.
#[derive(Serialize)]
struct AlertGroup {
    conversation: ConversationId,
    kind: String,
    /// "3 health and safety alerts".
    words: String,
    count: usize,
    urgent: bool,
    /// The highest escalation level among them.
    level: i64,
    /// The latest one's detail and time.
    detail: String,
    at: DateTime<Utc>,
}

/// The inbox's filter as the form shows it again (empty for "any").
#[derive(Serialize)]
struct Filter {
    channel: String,
    status: String,
    risk: String,
    due_by: String,
    sort: String,
    /// Whether anything narrows the list (an empty list then says so).
    narrowed: bool,
}

/// Where this page is in the list, and the links to the pages either side.
#[derive(Serialize)]
struct Paging {
    page: usize,
    pages: usize,
    total: usize,
    /// The positions of the first and last rows shown, from 1.
    first: usize,
    last: usize,
    previous: Option<String>,
    next: Option<String>,
}

pub(super) async fn inbox(
    State(console): State<Console>,
    Query(mut filter): Query<InboxFilter>,
    Staff(session): Staff,
) -> Result<Response, Error> {
    filter.viewer = Some(session.staff.id);
    filter.viewer_teams = staff::teams_of(&session.staff, &console.teams);
    let counts = staff::queue_counts(console.store(), &filter).await?;
    let mut alerts = staff::open_alerts(console.store()).await?;
    if !session.staff.role.sees_adjustments() {
        restrict_alerts(&mut alerts);
    }
    let total = staff::inbox_total(console.store(), &filter).await?;
    let pages = total.div_ceil(INBOX_PAGE).max(1);
    let page = filter.page.unwrap_or(1).clamp(1, pages);
    filter.page = Some(page);
    let rows = if session.staff.role.sees_adjustments() {
        staff::inbox(console.store(), &filter).await?
    } else {
        staff::inbox_restricted(console.store(), &filter, RESTRICTED).await?
    };
    let shown = Filter {
        channel: filter.channel.clone().unwrap_or_default(),
        status: filter.status.clone().unwrap_or_default(),
        risk: filter.risk.clone().unwrap_or_default(),
        due_by: filter.due_by.clone().unwrap_or_default(),
        sort: filter.sort.clone().unwrap_or_default(),
        narrowed: [
            &filter.channel,
            &filter.status,
            &filter.risk,
            &filter.due_by,
        ]
        .iter()
        .any(|v| v.as_deref().is_some_and(|s| !s.is_empty())),
    };
    let link = |to: usize| format!("/console?{}", page_query(&shown, to));
    let paging = Paging {
        page,
        pages,
        total,
        first: if rows.is_empty() {
            0
        } else {
            (page - 1) * INBOX_PAGE + 1
        },
        last: (page - 1) * INBOX_PAGE + rows.len(),
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
    };
    let urgent_alerts = alerts.iter().filter(|a| a.urgent).count();
    let page = InboxPage {
        landlord: console.landlord(),
        staff: &session.staff,
        csrf: &session.csrf,
        rows,
        open_alerts: alerts.len(),
        urgent_alerts,
        groups: grouped(alerts),
        manager: session.staff.role.is_manager(),
        filter: shown,
        risks: RISKS.iter().map(|r| (*r, label(r))).collect(),
        paging,
        counts,
    };
    Ok(console.render("inbox.html", &page))
}

/// The query of page `page` with the same filter and order.
fn page_query(filter: &Filter, page: usize) -> String {
    let page = page.to_string();
    query_string(&[
        ("channel", filter.channel.as_str()),
        ("status", &filter.status),
        ("risk", &filter.risk),
        ("due_by", &filter.due_by),
        ("sort", &filter.sort),
        ("page", &page),
    ])
}

/// Alerts grouped by conversation and kind, in the order they came (urgent first, then
/// oldest first).
fn grouped(alerts: Vec<OpenAlert>) -> Vec<AlertGroup> {
    let mut groups: Vec<(AlertGroup, usize)> = Vec::new();
    for a in alerts {
        match groups
            .iter_mut()
            .find(|(g, _)| g.conversation == a.conversation && g.kind == a.kind)
        {
            Some((group, count)) => {
                *count += 1;
                group.urgent |= a.urgent;
                group.level = group.level.max(a.level);
                if a.at >= group.at {
                    group.at = a.at;
                    group.detail = a.detail;
                }
            }
            None => groups.push((
                AlertGroup {
                    conversation: a.conversation,
                    words: String::new(),
                    urgent: a.urgent,
                    level: a.level,
                    detail: a.detail,
                    at: a.at,
                    count: 0,
                    kind: a.kind,
                },
                1,
            )),
        }
    }
    groups
        .into_iter()
        .map(|(mut group, count)| {
            group.words = alert_count(count, &group.kind);
            group.count = count;
            group
        })
        .collect()
}

/// A manager acknowledges an alert (it stops moving up the escalation chain).
pub(super) async fn acknowledge(
    State(console): State<Console>,
    Path(id): Path<AlertId>,
    StaffForm(session, _): StaffForm<CsrfForm>,
) -> Result<Response, Error> {
    if !session.staff.role.is_manager() {
        return Err(Error::Forbidden(
            "Only a manager can acknowledge an alert.".into(),
        ));
    }
    staff::acknowledge(console.store(), id, &session.staff, Utc::now()).await?;
    Ok(Redirect::to("/console").into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct GroupForm {
    csrf: String,
    kind: String,
}

form_token!(GroupForm);

/// A manager acknowledges every open alert of one kind on a conversation together.
pub(super) async fn acknowledge_group(
    State(console): State<Console>,
    Path(conversation): Path<ConversationId>,
    StaffForm(session, form): StaffForm<GroupForm>,
) -> Result<Response, Error> {
    if !session.staff.role.is_manager() {
        return Err(Error::Forbidden(
            "Only a manager can acknowledge alerts.".into(),
        ));
    }
    staff::acknowledge_group(
        console.store(),
        conversation,
        form.kind.trim(),
        &session.staff,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to("/console").into_response())
}

/// What the inbox's live stream says when anything changed: the latest activity, and how
/// many alerts are open (for the tab's title) and urgent (for the optional sound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
struct Changed {
    at: i64,
    alerts: i64,
    urgent: i64,
}

/// Tells the inbox page when anything changed, so it can refresh.
pub(super) async fn inbox_events(
    State(console): State<Console>,
    jar: CookieJar,
    _: Staff,
) -> Response {
    let token = auth::token(&jar).unwrap_or_default();
    let store = console.store().clone();
    let activity = console.wakers.activity();
    let start = (store, None::<Changed>, activity);
    let stream = futures::stream::unfold(start, move |(store, mut seen, mut activity)| {
        let token = token.clone();
        async move {
            loop {
                // The stream ends with the session (signed out, or expired).
                if !auth::signed_in(&store, &token).await {
                    return None;
                }
                let latest = store.latest_activity().await.ok().flatten().unwrap_or(0);
                // An alert the scheduler raises announces no activity: its count does.
                if let Ok((alerts, urgent)) = store.open_alert_counts().await {
                    let now = Changed {
                        at: latest,
                        alerts,
                        urgent,
                    };
                    match seen {
                        Some(before) if before != now => {
                            seen = Some(now);
                            let data = serde_json::to_string(&now).unwrap_or_default();
                            let event = Event::default().event("changed").data(data);
                            let state = (store, seen, activity);
                            return Some((Ok::<_, std::convert::Infallible>(event), state));
                        }
                        None => seen = Some(now),
                        _ => {}
                    }
                }
                Wakers::activity_or(&mut activity, super::LIVE_BACKSTOP).await;
            }
        }
    });
    sse(stream, &console.shutdown)
}
