//! Tracked requests in the console: a conversation's requests with their dates and status,
//! logging one the bot did not recognise in the resident's words, recording the answer and extending a privacy request (UK GDPR art. 12(3)), and the page
//! of every open request, for a manager answering to the ICO. Who may do what is the
//! service's rule: a privacy request is for complaints officers, managers and admins, an
//! interpreter for anyone.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::auth::form_token;
use super::{Console, Error, Staff, StaffForm};
use crate::core::dialog::RequestKind;
use crate::core::ids::ConversationId;
use crate::service::{LogRequest, RequestError, may_act_on_request};
use crate::staff::StaffMember;
use crate::store::{RequestId, TrackedRequest};

/// A tracked request as the console shows it.
#[derive(Debug, Serialize)]
pub(super) struct RequestView {
    id: RequestId,
    conversation: ConversationId,
    /// What was asked, in plain English.
    kind: &'static str,
    privacy: bool,
    /// The resident's words (the language, for an interpreter); hidden from those who may
    /// not act on a privacy request, as the words may disclose support needs (5.10).
    detail: Option<String>,
    received_at: DateTime<Utc>,
    /// Who logged it, when staff logged it from a message the bot did not recognise.
    logged_by: Option<String>,
    due_on: NaiveDate,
    extended_due_on: Option<NaiveDate>,
    extension_reason: Option<String>,
    answered_at: Option<DateTime<Utc>>,
    answered_by: Option<String>,
    answer: Option<String>,
    /// "12 days left", "due today", "3 days overdue".
    left: String,
    /// Whether the viewer may record its answer, and extend it.
    may_answer: bool,
    may_extend: bool,
}

impl RequestView {
    fn new(request: TrackedRequest, staff: &StaffMember, today: NaiveDate) -> RequestView {
        let may = may_act_on_request(request.kind, staff.role).is_ok();
        let open = request.is_open();
        RequestView {
            id: request.id,
            conversation: request.conversation,
            kind: described(request.kind),
            privacy: request.kind.is_privacy(),
            detail: (may || !request.kind.is_privacy()).then(|| request.detail.clone()),
            received_at: request.received_at,
            left: left(request.due(), today),
            logged_by: request.logged_by,
            due_on: request.due_on,
            extended_due_on: request.extended_due_on,
            extension_reason: request.extension_reason,
            answered_at: request.answered_at,
            answered_by: request.answered_by,
            answer: request.answer,
            may_answer: may && open,
            may_extend: may
                && open
                && request.kind.is_privacy()
                && request.extended_due_on.is_none()
                && today <= request.due_on,
        }
    }
}

/// What a request asks for, as staff read it.
fn described(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Access => "A copy of their information (UK GDPR art. 15)",
        RequestKind::Erasure => "Delete their information (UK GDPR art. 17)",
        RequestKind::Rectification => "Correct their information (UK GDPR art. 16)",
        RequestKind::Objection => "Stop using their information (UK GDPR arts. 7(3), 21)",
        RequestKind::Interpreter => "An interpreter (Code 5.10)",
    }
}

/// The days left until `due`, or how late it is, in words.
fn left(due: NaiveDate, today: NaiveDate) -> String {
    match (due - today).num_days() {
        0 => "due today".to_owned(),
        1 => "1 day left".to_owned(),
        -1 => "1 day overdue".to_owned(),
        n if n > 0 => format!("{n} days left"),
        n => format!("{} days overdue", -n),
    }
}

/// A conversation's requests panel: its requests, and what the viewer may log.
#[derive(Debug, Serialize)]
pub(super) struct Panel {
    list: Vec<RequestView>,
    log: LogChoices,
}

/// The "Log a request" form's choices: the kinds the viewer may log (value, plain English)
/// and the days a request may have been received on, from the conversation's first message
/// to today (the statutory month runs from receipt, art. 12(3)).
#[derive(Debug, Serialize)]
struct LogChoices {
    kinds: Vec<(&'static str, &'static str)>,
    today: NaiveDate,
    earliest: Option<NaiveDate>,
}

/// A conversation's requests, as the viewer may see and act on them.
pub(super) async fn panel(
    console: &Console,
    conversation: ConversationId,
    staff: &StaffMember,
) -> Result<Panel, Error> {
    let calendar = console.intake.calendar();
    let today = calendar.local_date(Utc::now());
    let list = console
        .store()
        .conversation_requests(conversation)
        .await?
        .into_iter()
        .map(|r| RequestView::new(r, staff, today))
        .collect();
    let began = console.store().conversation_began(conversation).await?;
    let kinds = RequestKind::ALL
        .into_iter()
        .filter(|k| may_act_on_request(*k, staff.role).is_ok())
        .map(|k| (k.as_str(), described(k)))
        .collect();
    Ok(Panel {
        list,
        log: LogChoices {
            kinds,
            today,
            earliest: began.map(|b| calendar.local_date(b)),
        },
    })
}

/// What the page of open requests shows.
#[derive(Serialize)]
struct RequestsPage<'a> {
    landlord: String,
    staff: &'a StaffMember,
    csrf: &'a str,
    requests: Vec<RequestView>,
}

/// Every open request, the most overdue first.
pub(super) async fn open_requests(
    State(console): State<Console>,
    Staff(session): Staff,
) -> Result<Response, Error> {
    let today = console.intake.calendar().local_date(Utc::now());
    let requests = console
        .store()
        .open_requests()
        .await?
        .into_iter()
        .map(|r| RequestView::new(r, &session.staff, today))
        .collect();
    let page = RequestsPage {
        landlord: console.landlord(),
        staff: &session.staff,
        csrf: &session.csrf,
        requests,
    };
    Ok(console.render("requests.html", &page))
}

#[derive(Debug, Deserialize)]
pub(super) struct AnswerForm {
    csrf: String,
    answer: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct ExtendForm {
    csrf: String,
    months: u32,
    reason: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct LogForm {
    csrf: String,
    kind: String,
    received_on: String,
    asked: String,
}

form_token!(AnswerForm, ExtendForm, LogForm);

/// Logs a request the bot did not recognise in the resident's words, so its statutory
/// clock is tracked (art. 12(3)); the resident is told what was logged and its date.
pub(super) async fn log(
    State(console): State<Console>,
    Path(id): Path<ConversationId>,
    StaffForm(session, form): StaffForm<LogForm>,
) -> Result<Response, Error> {
    let Some(kind) = RequestKind::parse(&form.kind) else {
        return Err(Error::Unprocessable(
            "Nothing was changed: choose what the resident asked for.".into(),
        ));
    };
    let Ok(received_on) = NaiveDate::parse_from_str(form.received_on.trim(), "%Y-%m-%d") else {
        return Err(Error::Unprocessable(
            "Nothing was changed: give the day the resident asked, as a date.".into(),
        ));
    };
    let log = LogRequest {
        conversation: id,
        kind,
        received_on,
        asked: &form.asked,
    };
    let done = console
        .intake
        .log_request(log, &session.staff, Utc::now())
        .await?;
    Ok(console.action_done(done))
}

/// Records what was done about a request, closing it; the resident is told.
pub(super) async fn answer(
    State(console): State<Console>,
    Path((id, request)): Path<(ConversationId, RequestId)>,
    StaffForm(session, form): StaffForm<AnswerForm>,
) -> Result<Response, Error> {
    let done = console
        .intake
        .answer_request(id, request, &form.answer, &session.staff, Utc::now())
        .await?;
    Ok(console.action_done(done))
}

/// Extends a privacy request once, with the reason the resident is told (art. 12(3)).
pub(super) async fn extend(
    State(console): State<Console>,
    Path((id, request)): Path<(ConversationId, RequestId)>,
    StaffForm(session, form): StaffForm<ExtendForm>,
) -> Result<Response, Error> {
    let done = console
        .intake
        .extend_request(
            id,
            request,
            form.months,
            &form.reason,
            &session.staff,
            Utc::now(),
        )
        .await?;
    Ok(console.action_done(done))
}

impl From<RequestError> for Error {
    fn from(e: RequestError) -> Error {
        match e {
            RequestError::NotFound => {
                Error::NotFound("There is no such request in this conversation.".into())
            }
            RequestError::NoConversation => {
                Error::NotFound("There is no such conversation.".into())
            }
            RequestError::Forbidden(why) => Error::Forbidden(why.into()),
            RequestError::Refused(why) => {
                Error::Unprocessable(format!("Nothing was changed: {why}.").into())
            }
            RequestError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::left;

    #[test]
    fn days_left_in_words() {
        let day = |s: &str| s.parse().expect("date");
        assert_eq!(left(day("2027-03-03"), day("2027-03-01")), "2 days left");
        assert_eq!(left(day("2027-03-02"), day("2027-03-01")), "1 day left");
        assert_eq!(left(day("2027-03-01"), day("2027-03-01")), "due today");
        assert_eq!(left(day("2027-02-28"), day("2027-03-01")), "1 day overdue");
        assert_eq!(left(day("2027-02-20"), day("2027-03-01")), "9 days overdue");
    }
}
