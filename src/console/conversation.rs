//! One conversation: its transcript with the engine's assessments, its complaints, notes,
//! consent and audit; taking it over, replying, handing it back; notes; corrections of an
//! assessment; and a live stream of its new lines.

use axum::extract::{Path, Query, State};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::auth::{self, CsrfForm, form_token};
use super::cases::{CaseView, case_rows};
use super::files::{FileView, file_views};
use super::present::{record_sentence, when};
use super::restrict::{restrict_cases, restrict_lines, restricted_lines, with_corrections};
use super::standard::{self, StandardMessage};
use super::{Console, Error, Staff, StaffForm, sse};
use crate::channels::Wakers;
use crate::core::ids::{ConversationId, MessageId, Stage};
use crate::core::policy::train::Correction;
use crate::staff::{self, Note, StaffLine, StaffMember};
use crate::store::resident_name;

/// The longest reply staff may send in one message.
const LONGEST_REPLY: usize = 4000;

/// An event of the conversation's record: kind, case reference, detail, when.
type RecordEvent = (String, Option<String>, serde_json::Value, DateTime<Utc>);

/// What the conversation page shows.
#[derive(Serialize)]
struct ConversationPage<'a> {
    landlord: String,
    staff: &'a StaffMember,
    csrf: &'a str,
    conversation: Heading,
    /// Who holds the conversation, by name.
    holder: Option<String>,
    /// Whether the viewer holds it.
    mine: bool,
    manager: bool,
    /// Whether the viewer may do case work (and sees support needs, 5.10).
    caseworker: bool,
    lines: Vec<StaffLine>,
    /// The resident's files (web chat uploads), by the id of the line they came with.
    files: std::collections::BTreeMap<String, Vec<FileView>>,
    /// The last line shown, from which the live stream goes on.
    last_id: MessageId,
    events: Vec<RecordEvent>,
    /// The record's consent and privacy-request events, as sentences.
    consent: Vec<String>,
    /// The resident's name as they gave it, if they did.
    resident: Option<String>,
    cases: Vec<CaseView>,
    /// Who did what: name, action, when.
    audit: Vec<(String, String, DateTime<Utc>)>,
    notes: Vec<Note>,
    standard: Vec<StandardMessage>,
    /// The corrections offered on an assessment, as (key, label).
    corrections: Vec<(String, String)>,
    /// Its tracked requests (privacy requests, interpreters).
    requests: super::requests::Panel,
    /// Who it is assigned to, and to whom the viewer may assign it.
    assignment: super::assign::AssignPanel,
    /// The resident staff linked it to, if any, and the forms to link it.
    resident_record: super::residents::ResidentPanel,
}

/// Which conversation the page is about.
#[derive(Serialize)]
struct Heading {
    id: ConversationId,
    channel: String,
    chat: String,
}

pub(super) async fn conversation(
    State(console): State<Console>,
    Path(id): Path<ConversationId>,
    Staff(session): Staff,
) -> Result<Response, Error> {
    let store = console.store();
    let Some(found) = store.conversation_by_id(id).await? else {
        return Err(Error::NotFound("There is no such conversation.".into()));
    };
    let mut lines = staff::lines(store, id, MessageId(0)).await?;
    let mut events = staff::events(store, id).await?;
    let rows = case_rows(staff::cases(store, id).await?)?;
    let audit = staff::audit(store, id).await?;
    let notes = staff::notes(store, id).await?;
    let corrections = staff::corrections(store, id).await?;
    let holder = match found.claimed_by {
        Some(h) => staff::holder(store, h).await?,
        None => None,
    };
    let actions = store.case_actions(id).await?;
    let emails = store.resident_emails(id).await?;
    let workers = staff::caseworkers(store).await?;
    let handling = store.case_handling(id).await?;
    let learning = super::learning::Panels::read(store, id).await?;
    let mut cases = Vec::with_capacity(rows.len());
    for case in rows {
        let excluded = if case.stage == Stage::Two {
            store.stage_one_handlers(&case.reference).await?
        } else {
            Vec::new()
        };
        cases.push(
            CaseView::new(case, &actions, &emails, &workers, &excluded)
                .with_handling(
                    &handling,
                    &console.intake.profile().categories,
                    session.staff.role.is_manager(),
                )
                .with_learning(&learning),
        );
    }
    with_corrections(&mut lines, &corrections);
    if !session.staff.role.sees_adjustments() {
        let disclosed = restrict_cases(cases.iter_mut().map(|c| &mut c.case));
        restrict_lines(&disclosed, &mut lines);
        // When it is safe to contact a resident at risk (5.10).
        events.retain(|(kind, ..)| kind != "safe_contact");
    }
    // After the restriction: a hidden line shows no files.
    let files = file_views(&store.conversation_files(id).await?, &mut lines);
    // Standard messages filled in for this conversation's latest complaint.
    let latest = cases.last().map(|c| &c.case);
    let landlord = console.landlord();
    let standard = standard::fill_in(
        &standard::in_picker(&console).await?,
        &standard::Fill {
            landlord: &landlord,
            staff: &session.staff.name,
            reference: latest.map(|c| c.reference.as_str()),
            due: latest.map(|c| c.due_on.as_str()),
            ombudsman: &console.intake.profile().ombudsman,
        },
    );
    let now = Utc::now();
    let consent: Vec<_> = events
        .iter()
        .filter(|(kind, ..)| kind == "consent" || kind == "tracked_request")
        .map(|(kind, _, detail, at)| record_sentence(kind, detail, *at, now, console.zone()))
        .collect();
    let resident = resident_name(&found.state, cases.last().map(|c| &c.case.answers));
    let page = ConversationPage {
        landlord,
        staff: &session.staff,
        csrf: &session.csrf,
        conversation: Heading {
            id: found.id,
            channel: found.channel,
            chat: found.chat,
        },
        holder,
        mine: found.claimed_by == Some(session.staff.id),
        manager: session.staff.role.is_manager(),
        caseworker: session.staff.role.sees_adjustments(),
        last_id: lines.last().map_or(MessageId(0), |l| l.id),
        lines,
        files,
        events,
        consent,
        resident,
        cases,
        audit,
        notes,
        standard,
        corrections: correction_choices(),
        requests: super::requests::panel(&console, id, &session.staff).await?,
        assignment: super::assign::panel(&console, id, &session.staff).await?,
        resident_record: super::residents::panel(&console, id, &found.state, &session.staff)
            .await?,
    };
    Ok(console.render("conversation.html", &page))
}

/// The corrections the console offers on an assessment, as (key, label).
fn correction_choices() -> Vec<(String, String)> {
    Correction::all()
        .iter()
        .map(|c| (c.key(), c.describe()))
        .collect()
}

#[derive(Debug, Deserialize)]
pub(super) struct CorrectionForm {
    csrf: String,
    correction: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct ReplyForm {
    csrf: String,
    text: String,
}

form_token!(CorrectionForm, ReplyForm);

/// Staff mark an assessment wrong; the correction is kept as a labelled example for the
/// landlord's own model (`intake policy train --with-corrections`).
pub(super) async fn correct_assessment(
    State(console): State<Console>,
    Path((id, message)): Path<(ConversationId, MessageId)>,
    StaffForm(session, form): StaffForm<CorrectionForm>,
) -> Result<Response, Error> {
    let Some(correction) = Correction::from_key(&form.correction) else {
        return Err(Error::BadRequest(
            "Choose what was wrong with the assessment from the list.".into(),
        ));
    };
    match staff::add_correction(
        console.store(),
        id,
        message,
        &session.staff,
        &correction,
        Utc::now(),
    )
    .await?
    {
        staff::Corrected::Recorded => {
            Ok(Redirect::to(&format!("/console/conversations/{id}#m{message}")).into_response())
        }
        staff::Corrected::Restricted => Err(Error::Forbidden(
            "Only complaints officers and managers see and correct what residents disclose about support needs (Code 5.10)."
                .into(),
        )),
        staff::Corrected::NotFound => Err(Error::NotFound(
            "There is no such assessed message from the resident in this conversation.".into(),
        )),
    }
}

pub(super) async fn claim(
    State(console): State<Console>,
    Path(id): Path<ConversationId>,
    StaffForm(session, _): StaffForm<CsrfForm>,
) -> Result<Response, Error> {
    let done = console
        .intake
        .take_over(id, &session.staff, Utc::now())
        .await?;
    Ok(console.action_done(done))
}

pub(super) async fn reply(
    State(console): State<Console>,
    Path(id): Path<ConversationId>,
    StaffForm(session, form): StaffForm<ReplyForm>,
) -> Result<Response, Error> {
    let text = form.text.trim();
    if text.is_empty() {
        return Err(Error::BadRequest("Type a reply before sending.".into()));
    }
    if text.chars().count() > LONGEST_REPLY {
        return Err(Error::TooLarge(
            format!("A reply can be at most {LONGEST_REPLY} characters; split it in two.").into(),
        ));
    }
    let done = console
        .intake
        .staff_reply(id, &session.staff, text, Utc::now())
        .await?;
    Ok(console.action_done(done))
}

pub(super) async fn release(
    State(console): State<Console>,
    Path(id): Path<ConversationId>,
    StaffForm(session, _): StaffForm<CsrfForm>,
) -> Result<Response, Error> {
    let done = console
        .intake
        .hand_back(id, &session.staff, Utc::now())
        .await?;
    Ok(console.action_done(done))
}

/// An internal note: any member of staff may add one; residents never see them.
pub(super) async fn add_note(
    State(console): State<Console>,
    Path(id): Path<ConversationId>,
    StaffForm(session, form): StaffForm<ReplyForm>,
) -> Result<Response, Error> {
    let body = form.text.trim();
    if body.is_empty() || body.chars().count() > LONGEST_REPLY {
        return Err(Error::BadRequest(
            format!("A note is 1 to {LONGEST_REPLY} characters.").into(),
        ));
    }
    if console.store().conversation_by_id(id).await?.is_none() {
        return Err(Error::NotFound("There is no such conversation.".into()));
    }
    staff::add_note(console.store(), id, &session.staff, body, Utc::now()).await?;
    Ok(Redirect::to(&format!("/console/conversations/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct After {
    #[serde(default)]
    after: i64,
}

/// New lines of a conversation, live: the record is read when anything is committed here or
/// on another replica (PostgreSQL `NOTIFY`), and every few seconds in any case.
pub(super) async fn conversation_events(
    State(console): State<Console>,
    jar: CookieJar,
    Path(id): Path<ConversationId>,
    Query(after): Query<After>,
    Staff(session): Staff,
) -> Response {
    let restricted = !session.staff.role.sees_adjustments();
    let zone = console.zone();
    let token = auth::token(&jar).unwrap_or_default();
    let store = console.store().clone();
    let start = (store, MessageId(after.after), console.wakers.activity());
    let stream = futures::stream::unfold(start, move |(store, mut last, mut activity)| {
        let token = token.clone();
        async move {
            loop {
                // The stream ends with the session (signed out, or expired).
                if !auth::signed_in(&store, &token).await {
                    return None;
                }
                // Support needs stay hidden (5.10), with the same corrections as the page,
                // or the lines wait: when they cannot be read so, nothing is sent this time.
                let read = if restricted {
                    restricted_lines(&store, id, last).await
                } else {
                    staff::lines(&store, id, last).await
                };
                match read {
                    Ok(lines) if !lines.is_empty() => {
                        last = lines.last().map_or(last, |l| l.id);
                        let data =
                            serde_json::to_string(&live_lines(&lines, zone)).unwrap_or_default();
                        let event = Event::default().id(last.to_string()).data(data);
                        let state = (store, last, activity);
                        return Some((Ok::<_, std::convert::Infallible>(event), state));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "console: reading new lines failed"),
                }
                Wakers::activity_or(&mut activity, super::LIVE_BACKSTOP).await;
            }
        }
    });
    sse(stream, &console.shutdown)
}

/// New lines as the page's script shows them: each line, with its time in words (`when`) as
/// the page itself shows it.
fn live_lines(lines: &[StaffLine], zone: chrono_tz::Tz) -> Vec<serde_json::Value> {
    let now = Utc::now();
    lines
        .iter()
        .map(|line| {
            let mut shown = serde_json::to_value(line).unwrap_or_default();
            if let Some(fields) = shown.as_object_mut() {
                fields.insert("when".to_owned(), when(line.at, now, zone).into());
            }
            shown
        })
        .collect()
}
