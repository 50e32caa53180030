//! Search from every console page (issue 12): by complaint reference, the resident's name,
//! their contact detail and the words of any line, with the matched words marked; a reference
//! typed in full opens its complaint. And `/console/cases/{reference}`, which opens a
//! complaint where staff work on it: its conversation, at the complaint.
//!
//! Roles that may not see support needs do not find a conversation by words only in lines
//! hidden from them (5.10): the record leaves out the lines the engine or staff marked, and
//! the lines the conversation page would hide (a read-back repeating them) are dropped here.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::restrict::{RESTRICTED, restricted_lines};
use super::{Console, Error, Staff};
use crate::core::ids::{ConversationId, MessageId};
use crate::core::search::{Piece, SearchQuery, mark};
use crate::staff::StaffMember;
use crate::store::{Found, SearchHit, SearchScope};

/// Conversations a results page lists at most.
const MOST_RESULTS: usize = 50;
/// Characters shown either side of the first match in a long line.
const AROUND: usize = 80;

#[derive(Debug, Deserialize)]
pub(super) struct SearchForm {
    #[serde(default)]
    q: String,
}

/// What the results page shows.
#[derive(Serialize)]
struct SearchPage<'a> {
    landlord: String,
    staff: &'a StaffMember,
    csrf: &'a str,
    /// What was typed, shown again in the box.
    q: String,
    results: Vec<Listing>,
    /// Said instead of results: type something, or nothing was found.
    message: Option<String>,
}

/// One conversation found, with what matched.
#[derive(Serialize)]
struct Listing {
    /// Where in the conversation page it opens: `m<id>` at a line, `case-<reference>`.
    anchor: String,
    conversation: ConversationId,
    channel: String,
    reference: Option<String>,
    /// What matched: "Resident", "Reply", or the complaint's field.
    what: &'static str,
    pieces: Vec<Piece>,
    at: DateTime<Utc>,
}

pub(super) async fn search(
    State(console): State<Console>,
    Query(form): Query<SearchForm>,
    Staff(session): Staff,
) -> Result<Response, Error> {
    let query = SearchQuery::parse(&form.q);
    let restricted = !session.staff.role.sees_adjustments();
    let scope = if restricted {
        SearchScope::WithoutDisclosures
    } else {
        SearchScope::Everything
    };
    let mut hits = console.store().search(&query, scope, MOST_RESULTS).await?;
    if restricted {
        hits = without_hidden_lines(&console, hits).await?;
    }
    // A reference typed in full goes straight to its complaint.
    if let Some(reference) = &query.reference
        && let Some(hit) = hits
            .iter()
            .find(|h| h.reference.as_ref() == Some(reference))
    {
        return Ok(Redirect::to(&format!(
            "/console/conversations/{}#case-{reference}",
            hit.conversation
        ))
        .into_response());
    }
    let message = if query.is_empty() {
        Some("Type a name, a phone number or email address, a complaint reference (C2026-00002) or words from the conversation.".to_owned())
    } else if hits.is_empty() {
        Some(format!(
            "No conversation matches “{}”. Search finds whole words from their start: try fewer or shorter words.",
            shorten(&form.q)
        ))
    } else {
        None
    };
    let results = hits.into_iter().map(|h| result(h, &query)).collect();
    let page = SearchPage {
        landlord: console.landlord(),
        staff: &session.staff,
        csrf: &session.csrf,
        q: shorten(&form.q),
        results,
        message,
    };
    Ok(console.render("search.html", &page))
}

/// What was typed, cut to what the box shows again.
fn shorten(typed: &str) -> String {
    typed.chars().take(200).collect()
}

/// A hit as the results page lists it.
fn result(hit: SearchHit, query: &SearchQuery) -> Listing {
    let (anchor, what, text) = match hit.found {
        Found::Line {
            message,
            direction,
            text,
        } => (
            format!("m{message}"),
            if direction == "in" {
                "Resident"
            } else {
                "Reply"
            },
            text,
        ),
        Found::Case {
            reference,
            field,
            text,
        } => (
            format!(
                "/console/conversations/{}#case-{reference}",
                hit.conversation
            ),
            match field.as_str() {
                "reference" => "Complaint reference",
                "name" => "Resident's name",
                "representative" => "Representative",
                _ => "Contact detail",
            },
            text,
        ),
    };
    Listing {
        anchor,
        conversation: hit.conversation,
        channel: hit.channel,
        reference: hit.reference,
        what,
        pieces: mark(&text, query, AROUND),
        at: hit.at,
    }
}

/// The hits left once lines the conversation page hides from this role are taken out: the
/// page's own restriction decides (5.10), so search never shows more than the page.
async fn without_hidden_lines(
    console: &Console,
    hits: Vec<SearchHit>,
) -> Result<Vec<SearchHit>, Error> {
    let mut hidden: HashMap<ConversationId, Vec<MessageId>> = HashMap::new();
    let mut kept = Vec::with_capacity(hits.len());
    for hit in hits {
        if let Found::Line { message, .. } = &hit.found {
            if let std::collections::hash_map::Entry::Vacant(entry) = hidden.entry(hit.conversation)
            {
                let lines =
                    restricted_lines(console.store(), hit.conversation, MessageId(0)).await?;
                entry.insert(
                    lines
                        .iter()
                        .filter(|l| l.text == RESTRICTED)
                        .map(|l| l.id)
                        .collect(),
                );
            }
            if hidden
                .get(&hit.conversation)
                .is_some_and(|ids| ids.contains(message))
            {
                continue;
            }
        }
        kept.push(hit);
    }
    Ok(kept)
}

/// What the page for an unknown complaint shows.
#[derive(Serialize)]
struct NotFoundPage<'a> {
    landlord: String,
    staff: &'a StaffMember,
    csrf: &'a str,
    reference: String,
}

/// A complaint, opened where staff work on it: its conversation, at the complaint. An
/// unknown reference gets a page saying so, in the console's layout.
pub(super) async fn case_page(
    State(console): State<Console>,
    Path(reference): Path<String>,
    Staff(session): Staff,
) -> Result<Response, Error> {
    let reference = reference.trim().to_ascii_uppercase();
    if let Some(case) = console.store().case_of(&reference).await? {
        return Ok(Redirect::to(&format!(
            "/console/conversations/{}#case-{reference}",
            case.conversation
        ))
        .into_response());
    }
    let page = NotFoundPage {
        landlord: console.landlord(),
        staff: &session.staff,
        csrf: &session.csrf,
        reference: shorten(&reference),
    };
    Ok((
        StatusCode::NOT_FOUND,
        console.render("not_found.html", &page),
    )
        .into_response())
}
