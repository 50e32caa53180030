//! Staff on a tracked request: logging one the bot did not recognise in the resident's
//! words (so its statutory clock is tracked all the same), recording the answer (which closes it and acknowledges its
//! alerts) and, for a request about personal data, the one extension UK GDPR art. 12(3)
//! allows. Each is one transaction with its event and audit line, and the resident is told
//! in their chat (with a copy by email when their complaint asked for replies that way).
//!
//! Who may act: a request about personal data is for complaints officers, managers and
//! admins, who see what residents disclose (Code 5.10); any member of staff may arrange an
//! interpreter.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::{EmailCopy, Intake};
use crate::core::calendar::{Calendar, calendar_months_after};
use crate::core::dialog::{INTERPRETER_WORKING_DAYS, Locale, RequestKind};
use crate::core::ids::ConversationId;
use crate::staff::{Role, StaffMember};
use crate::store::{Conversation, LoggedRequest, Record, RequestId, StoreError, TrackedRequest};
use std::collections::BTreeMap;

/// The longest answer or reason staff may write.
pub const LONGEST_REQUEST_TEXT: usize = 4000;

/// Art. 12(3): the month may be extended "by two further months".
const MOST_EXTRA_MONTHS: u32 = 2;

/// Why an action on a request was not done; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("there is no such request in this conversation")]
    NotFound,
    #[error("there is no such conversation")]
    NoConversation,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A request staff log from the resident's messages, as the console's form gives it.
#[derive(Debug, Clone, Copy)]
pub struct LogRequest<'a> {
    pub conversation: ConversationId,
    pub kind: RequestKind,
    /// The day the resident asked, in the landlord's time zone.
    pub received_on: NaiveDate,
    /// What the resident asked, in their words or staff's summary.
    pub asked: &'a str,
}

/// A request with the chat it belongs to.
struct Found {
    request: TrackedRequest,
    chat: Chat,
}

/// A conversation, and where a copy by email of what the resident is told goes (the latest
/// complaint's reference and the resident's choice), read before the action's transaction:
/// on SQLite the record holds the one connection.
struct Chat {
    conversation: Conversation,
    copy: Option<(String, EmailCopy)>,
}

/// An action done on a request: its name in the audit and its event in the record, what it
/// changed, what the audit keeps of it, and what the resident is told.
struct Done {
    action: &'static str,
    event: &'static str,
    detail: serde_json::Value,
    /// The audit outlives the retention purge, so it names the request and its dates, not
    /// what was written about it (that goes with the conversation's events).
    audited: serde_json::Value,
    told: String,
}

impl Intake {
    /// Logs a request the bot did not recognise in the resident's words, with the due date
    /// the dialog would have given it, counted from the day it was received (UK GDPR art.
    /// 12(3)): the request, its alert, its event and the audit line in one transaction, and
    /// the resident told what was logged and when it will be answered.
    pub async fn log_request(
        &self,
        log: LogRequest<'_>,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, RequestError> {
        let chat = self.chat(log.conversation).await?;
        may_act(log.kind, staff.role)?;
        let asked = written(
            log.asked,
            "write what the resident asked, in their words or yours",
        )?;
        let began = self.store.conversation_began(log.conversation).await?;
        let received_at = received_at(&self.calendar, log.received_on, began, now)
            .map_err(RequestError::Refused)?;
        let due_on = due_on(&self.calendar, log.kind, log.received_on);
        let locale = self.dialogs.locale(&chat.conversation.locale);
        let told = logged_text(locale, log.kind, due_on);
        let mut record = self.store.begin().await?;
        let conversation = &chat.conversation;
        record.logged_request(
            conversation,
            &LoggedRequest {
                kind: log.kind,
                detail: asked,
                received_at,
                due_on,
                logged_by: staff.id,
            },
            now,
        );
        // The alert the dialog's request raises: its kind and date, never the resident's
        // words, which stay on the conversation's page where 5.10 restrictions apply.
        let alert = if log.kind.is_privacy() {
            "privacy_request"
        } else {
            "interpreter"
        };
        record.alert(
            conversation,
            alert,
            false,
            &format!("{} (due {due_on})", log.kind.as_str()),
            now,
        );
        let done = Done {
            action: "request_logged",
            // The event the dialog's request records, with who logged it.
            event: "tracked_request",
            audited: json!({
                "kind": log.kind,
                "received_on": log.received_on,
                "due_on": due_on,
            }),
            detail: json!({
                "effect": "tracked_request",
                "kind": log.kind,
                "detail": asked,
                "received_on": log.received_on,
                "due_on": due_on,
                "logged_by": staff.id,
            }),
            told,
        };
        self.finish(record, chat, staff, done, now).await
    }

    /// Records what was done about a request, closing it: its alerts are acknowledged and
    /// the resident is told.
    pub async fn answer_request(
        &self,
        conversation: ConversationId,
        request: RequestId,
        answer: &str,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, RequestError> {
        let answer = written(answer, "write what was done about the request")?;
        let found = self.request_in(conversation, request).await?;
        may_act(found.request.kind, staff.role)?;
        if !found.request.is_open() {
            return Err(RequestError::Refused(
                "this request has already been answered".to_owned(),
            ));
        }
        let text = answered_text(
            self.dialogs.locale(&found.chat.conversation.locale),
            found.request.kind,
            answer,
        );
        let mut record = self.store.begin().await?;
        if !record
            .answer_request(request, staff.id, answer, now)
            .await?
        {
            return Err(RequestError::Refused(
                "this request has just been answered by someone else".to_owned(),
            ));
        }
        record.acknowledge_request_alerts(&found.request, staff.id, now);
        let done = Done {
            action: "request_answered",
            event: "request_answered",
            audited: json!({ "request": request, "kind": found.request.kind }),
            detail: json!({ "request": request, "kind": found.request.kind, "staff": staff.id }),
            told: text,
        };
        self.finish(record, found.chat, staff, done, now).await
    }

    /// Extends a request about personal data once, by one or two calendar months, with the
    /// reason the resident is told (UK GDPR art. 12(3)).
    pub async fn extend_request(
        &self,
        conversation: ConversationId,
        request: RequestId,
        months: u32,
        reason: &str,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, RequestError> {
        let reason = written(
            reason,
            "give the reason for the extension (the resident sees it)",
        )?;
        let found = self.request_in(conversation, request).await?;
        may_act(found.request.kind, staff.role)?;
        let today = self.calendar.local_date(now);
        let received_on = self.calendar.local_date(found.request.received_at);
        let to = extended_due(&found.request, received_on, today, months)
            .map_err(RequestError::Refused)?;
        let text = extended_text(
            self.dialogs.locale(&found.chat.conversation.locale),
            found.request.kind,
            reason,
            to,
        );
        let mut record = self.store.begin().await?;
        if !record.extend_request(request, to, reason, today).await? {
            return Err(RequestError::Refused(
                "this request changed while you were extending it (answered or extended by someone else); look again"
                    .to_owned(),
            ));
        }
        let done = Done {
            action: "request_extended",
            event: "request_extended",
            audited: json!({ "request": request, "kind": found.request.kind }),
            detail: json!({
                "request": request,
                "kind": found.request.kind,
                "from": found.request.due_on,
                "to": to,
                "reason": reason,
                "staff": staff.id,
            }),
            told: text,
        };
        self.finish(record, found.chat, staff, done, now).await
    }

    /// The request, if it belongs to `conversation`, with what telling the resident needs.
    async fn request_in(
        &self,
        conversation: ConversationId,
        request: RequestId,
    ) -> Result<Found, RequestError> {
        let Some(found) = self.store.tracked_request(request).await? else {
            return Err(RequestError::NotFound);
        };
        if found.conversation != conversation {
            return Err(RequestError::NotFound);
        }
        Ok(Found {
            request: found,
            chat: self.chat(conversation).await?,
        })
    }

    /// The conversation, with what telling its resident needs.
    async fn chat(&self, conversation: ConversationId) -> Result<Chat, RequestError> {
        let Some(found) = self.store.conversation_by_id(conversation).await? else {
            return Err(RequestError::NoConversation);
        };
        let copy = match self.store.conversation_cases(conversation).await?.pop() {
            Some(case) => {
                let copy = self.email_copy(&case.reference).await?;
                Some((case.reference, copy))
            }
            None => None,
        };
        Ok(Chat {
            conversation: found,
            copy,
        })
    }

    /// Ends an action on a request: the resident is told in their chat, as a staff line (and
    /// copied the way their latest complaint asked for replies, if they made one), and the
    /// action is recorded as an event and audited, in the action's transaction.
    async fn finish(
        &self,
        mut record: Record<'_>,
        chat: Chat,
        staff: &StaffMember,
        done: Done,
        now: DateTime<Utc>,
    ) -> Result<Conversation, RequestError> {
        let Done {
            action,
            event,
            detail,
            audited,
            told,
        } = done;
        let conversation = &chat.conversation;
        match &chat.copy {
            Some((reference, copy)) => self.tell_resident(
                &mut record,
                (conversation, reference),
                staff,
                copy,
                &told,
                now,
            ),
            None => record.outbound(
                conversation,
                &format!("staff:{}", staff.id),
                &told,
                &json!({ "text": told }),
                now,
            ),
        }
        record.event(conversation, None, event, &detail, now);
        record.audit(staff.id, action, Some(conversation.id), None, &audited, now);
        record.commit().await?;
        Ok(chat.conversation)
    }
}

/// Whether this member of staff may act on a request of this kind.
pub fn may_act(kind: RequestKind, role: Role) -> Result<(), RequestError> {
    if kind.is_privacy() && !role.sees_adjustments() {
        return Err(RequestError::Forbidden(
            "Requests about a resident's personal data are answered by complaints officers and managers.",
        ));
    }
    Ok(())
}

/// The text staff wrote, trimmed; refused when empty (with `ask`) or too long.
fn written<'a>(text: &'a str, ask: &str) -> Result<&'a str, RequestError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(RequestError::Refused(ask.to_owned()));
    }
    if text.chars().count() > LONGEST_REQUEST_TEXT {
        return Err(RequestError::Refused(format!(
            "keep it to {LONGEST_REQUEST_TEXT} characters"
        )));
    }
    Ok(text)
}

/// The date a request about personal data is due once extended by `months` (art. 12(3):
/// once, by up to two further months, and only while the first month is still running,
/// since the resident must be told of it within that month). Counted from the day it was
/// received, like the first month, so 31 January extended by two is due on 30 April.
pub fn extended_due(
    request: &TrackedRequest,
    received_on: NaiveDate,
    today: NaiveDate,
    months: u32,
) -> Result<NaiveDate, String> {
    if !request.kind.is_privacy() {
        return Err(
            "only a request about personal data has a statutory month to extend".to_owned(),
        );
    }
    if !request.is_open() {
        return Err("this request has already been answered".to_owned());
    }
    if let Some(extended) = request.extended_due_on {
        return Err(format!(
            "this request was already extended, to {extended}; UK GDPR art. 12(3) allows one extension"
        ));
    }
    if !(1..=MOST_EXTRA_MONTHS).contains(&months) {
        return Err(format!(
            "a request can be extended by 1 or {MOST_EXTRA_MONTHS} months (UK GDPR art. 12(3))"
        ));
    }
    if today > request.due_on {
        return Err(format!(
            "the request was due on {}; an extension must be told to the resident within the first month (UK GDPR art. 12(3)), so answer it now",
            request.due_on
        ));
    }
    Ok(calendar_months_after(received_on, 1 + months).max(request.due_on))
}

/// When a request received on `received_on` reached us: the start of that day in the
/// landlord's time zone, or the conversation's first message if later, and never after
/// `now`. Refused for a day in the future, or before the conversation began, since the
/// statutory month runs from receipt (art. 12(3)).
pub fn received_at(
    calendar: &Calendar,
    received_on: NaiveDate,
    began: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    let Some(began) = began else {
        return Err("this conversation has no messages to log a request from".to_owned());
    };
    let today = calendar.local_date(now);
    if received_on > today {
        return Err(format!(
            "the request cannot have been received after today ({today})"
        ));
    }
    let first = calendar.local_date(began);
    if received_on < first {
        return Err(format!(
            "the conversation began on {first}, so the request cannot have been received before then"
        ));
    }
    let midnight = received_on
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(calendar.time_zone()).earliest())
        .map_or(began, |t| t.with_timezone(&Utc));
    Ok(midnight.max(began).min(now))
}

/// The date a request received on `received_on` is due, as the dialog gives it: one
/// calendar month for personal data (art. 12(3)), a few working days for an interpreter.
pub fn due_on(calendar: &Calendar, kind: RequestKind, received_on: NaiveDate) -> NaiveDate {
    if kind.is_privacy() {
        calendar_months_after(received_on, 1)
    } else {
        calendar.add_working_days(received_on, INTERPRETER_WORKING_DAYS)
    }
}

/// What the resident is told when staff log their request (the dialogs' wording).
fn logged_text(locale: &Locale, kind: RequestKind, due: NaiveDate) -> String {
    let values = BTreeMap::from([
        ("request", asked_for(locale, kind)),
        ("due", due.format("%A %-d %B %Y").to_string()),
    ]);
    locale.say("request_logged", &values).text
}

/// The resident's words for what they asked (`request_access`, `request_interpreter`...).
fn asked_for(locale: &Locale, kind: RequestKind) -> String {
    locale.text(&format!("request_{}", kind.as_str())).text
}

/// What the resident is told when their request is answered (the dialogs' wording).
fn answered_text(locale: &Locale, kind: RequestKind, answer: &str) -> String {
    let key = if kind == RequestKind::Interpreter {
        "interpreter_arranged"
    } else {
        "request_answered"
    };
    let values = BTreeMap::from([
        ("request", asked_for(locale, kind)),
        ("answer", answer.to_owned()),
    ]);
    locale.say(key, &values).text
}

/// What the resident is told when their request is extended (the dialogs' wording).
fn extended_text(locale: &Locale, kind: RequestKind, reason: &str, to: NaiveDate) -> String {
    let values = BTreeMap::from([
        ("request", asked_for(locale, kind)),
        ("reason", reason.trim_end_matches('.').to_owned()),
        ("due", to.format("%A %-d %B %Y").to_string()),
    ]);
    locale.say("request_extended", &values).text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn request(kind: RequestKind, due_on: &str) -> TrackedRequest {
        TrackedRequest {
            id: RequestId(1),
            conversation: ConversationId(1),
            kind,
            detail: "please delete all the data you hold about me".to_owned(),
            received_at: DateTime::<Utc>::default(),
            due_on: day(due_on),
            extended_due_on: None,
            extension_reason: None,
            answered_at: None,
            answered_by: None,
            answer: None,
            logged_by: None,
            logged_at: None,
        }
    }

    #[test]
    fn extended_by_further_months_counted_from_receipt() {
        let r = request(RequestKind::Access, "2027-02-28");
        let received = day("2027-01-31");
        assert_eq!(
            extended_due(&r, received, day("2027-02-10"), 2),
            Ok(day("2027-04-30"))
        );
        assert_eq!(
            extended_due(&r, received, day("2027-02-28"), 1),
            Ok(day("2027-03-31"))
        );
    }

    #[test]
    fn extension_refused_once_extended_late_for_interpreters_or_out_of_range() {
        let received = day("2027-01-31");
        let mut r = request(RequestKind::Erasure, "2027-02-28");
        assert!(
            extended_due(&r, received, day("2027-03-01"), 1)
                .is_err_and(|e| e.contains("due on 2027-02-28"))
        );
        assert!(extended_due(&r, received, day("2027-02-01"), 3).is_err());
        assert!(extended_due(&r, received, day("2027-02-01"), 0).is_err());
        r.extended_due_on = Some(day("2027-03-31"));
        assert!(
            extended_due(&r, received, day("2027-02-01"), 1)
                .is_err_and(|e| e.contains("one extension"))
        );
        let interpreter = request(RequestKind::Interpreter, "2027-02-02");
        assert!(extended_due(&interpreter, received, day("2027-02-01"), 1).is_err());
    }

    #[test]
    fn a_logged_request_is_received_on_its_day_within_the_conversation() {
        let calendar = Calendar::england_and_wales();
        let began = "2027-01-31T10:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("time");
        let now = "2027-02-02T09:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("time");
        // The day the conversation began: from its first message, not midnight.
        assert_eq!(
            received_at(&calendar, day("2027-01-31"), Some(began), now),
            Ok(began)
        );
        // A later day: its start in London (GMT in February).
        assert_eq!(
            received_at(&calendar, day("2027-02-01"), Some(began), now),
            Ok("2027-02-01T00:00:00Z".parse().expect("time"))
        );
        assert!(
            received_at(&calendar, day("2027-02-03"), Some(began), now)
                .is_err_and(|e| e.contains("after today"))
        );
        assert!(
            received_at(&calendar, day("2027-01-30"), Some(began), now)
                .is_err_and(|e| e.contains("began on 2027-01-31"))
        );
        assert!(received_at(&calendar, day("2027-01-31"), None, now).is_err());
    }

    #[test]
    fn a_logged_request_is_due_as_the_dialog_would_have_it() {
        let calendar = Calendar::england_and_wales();
        assert_eq!(
            due_on(&calendar, RequestKind::Access, day("2027-01-31")),
            day("2027-02-28")
        );
        // Two working days: Friday to Tuesday.
        assert_eq!(
            due_on(&calendar, RequestKind::Interpreter, day("2027-02-05")),
            day("2027-02-09")
        );
    }

    #[test]
    fn agents_arrange_interpreters_but_not_privacy_requests() {
        assert!(may_act(RequestKind::Interpreter, Role::Agent).is_ok());
        for kind in RequestKind::ALL.into_iter().filter(|k| k.is_privacy()) {
            assert!(matches!(
                may_act(kind, Role::Agent),
                Err(RequestError::Forbidden(_))
            ));
            for role in [Role::ComplaintsOfficer, Role::Manager, Role::Admin] {
                assert!(may_act(kind, role).is_ok());
            }
        }
    }

    #[test]
    fn the_resident_is_told_in_plain_words() {
        let dialogs = crate::core::dialog::Dialogs::shipped().expect("dialogs");
        let locale = dialogs.locale(crate::core::dialog::DEFAULT_LOCALE);
        assert_eq!(
            extended_text(
                locale,
                RequestKind::Access,
                "you asked for ten years of records.",
                day("2027-04-30")
            ),
            "We need more time for your request to see your information because you asked for ten years of records; we will answer by Friday 30 April 2027."
        );
        assert_eq!(
            answered_text(locale, RequestKind::Erasure, "we deleted it on 3 March."),
            "We have answered your request to delete your information: we deleted it on 3 March."
        );
        assert!(
            answered_text(locale, RequestKind::Interpreter, "Polish, Tuesday at 10")
                .starts_with("We have arranged an interpreter")
        );
    }
}
