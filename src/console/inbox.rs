//! The inbox: every conversation, those needing a person first, with the open alerts; a live
//! stream telling the page when anything changed; a manager acknowledging an alert.

use axum::extract::{Path, Query, State};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use chrono::Utc;
use serde::Serialize;

use super::auth::{self, CsrfForm};
use super::restrict::{RESTRICTED, restrict_alerts};
use super::{Console, Error, Staff, StaffForm, sse};
use crate::channels::Wakers;
use crate::core::ids::AlertId;
use crate::staff::{self, InboxFilter, InboxRow, OpenAlert, StaffMember};

/// What the inbox page shows.
#[derive(Serialize)]
struct InboxPage<'a> {
    landlord: String,
    staff: &'a StaffMember,
    csrf: &'a str,
    rows: Vec<InboxRow>,
    alerts: Vec<OpenAlert>,
    manager: bool,
    filter: Filter,
    /// How many are assigned to nobody, and in the viewer's queue.
    counts: staff::QueueCounts,
}

/// The inbox's filter as the form shows it again (empty for "any").
#[derive(Serialize)]
struct Filter {
    channel: String,
    status: String,
    risk: String,
    due_by: String,
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
    let rows = if session.staff.role.sees_adjustments() {
        staff::inbox(console.store(), &filter).await?
    } else {
        staff::inbox_restricted(console.store(), &filter, RESTRICTED).await?
    };
    let page = InboxPage {
        landlord: console.landlord(),
        staff: &session.staff,
        csrf: &session.csrf,
        rows,
        alerts,
        manager: session.staff.role.is_manager(),
        filter: Filter {
            channel: filter.channel.unwrap_or_default(),
            status: filter.status.unwrap_or_default(),
            risk: filter.risk.unwrap_or_default(),
            due_by: filter.due_by.unwrap_or_default(),
        },
        counts,
    };
    Ok(console.render("inbox.html", &page))
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

/// Tells the inbox page when anything changed, so it can refresh.
pub(super) async fn inbox_events(
    State(console): State<Console>,
    jar: CookieJar,
    _: Staff,
) -> Response {
    let token = auth::token(&jar).unwrap_or_default();
    let store = console.store().clone();
    let activity = console.wakers.activity();
    let start = (store, None::<i64>, activity);
    let stream = futures::stream::unfold(start, move |(store, mut seen, mut activity)| {
        let token = token.clone();
        async move {
            loop {
                // The stream ends with the session (signed out, or expired).
                if !auth::signed_in(&store, &token).await {
                    return None;
                }
                let latest = store.latest_activity().await.ok().flatten();
                match (seen, latest) {
                    (Some(before), Some(now)) if now != before => {
                        seen = Some(now);
                        let event = Event::default().event("changed").data(now.to_string());
                        let state = (store, seen, activity);
                        return Some((Ok::<_, std::convert::Infallible>(event), state));
                    }
                    (None, _) => seen = Some(latest.unwrap_or(0)),
                    _ => {}
                }
                Wakers::activity_or(&mut activity, super::LIVE_BACKSTOP).await;
            }
        }
    });
    sse(stream, &console.shutdown)
}
