//! The dialog's types: what the resident sends, where the conversation is, what it replies and
//! what it asks the shell to record.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::core::policy::{self, Risk, Route};

/// A reply: text, and choices to offer as buttons or numbered options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// What the words promise will happen, from the message's `promise` in the dialogs.
    #[serde(skip)]
    pub promise: Option<Promise>,
}

/// An action a reply promises the resident, and so a record a person will see that must be
/// written in the same transaction. Each message in `dialogs/` that promises one declares it
/// (`promise = "person"`), and `Step::unkept_promises` finds a step that says it without
/// the effect: a resident told "I have passed it to our team" must never hear nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Promise {
    /// A member of staff will reply or join: the conversation needs a person (an alert).
    Person,
    /// A manager was told at once: an urgent alert.
    Manager,
    /// Someone will deal with a request by a date: a tracked request.
    Request,
    /// The repairs team will be in touch: a service request, with an alert.
    Repairs,
    /// The complaints team will answer by a date: a case opened, escalated or added to.
    Case,
}

impl Promise {
    /// Whether `effect` is a record that keeps this promise.
    pub fn kept_by(self, effect: &Effect) -> bool {
        match self {
            Promise::Person => matches!(effect, Effect::HandOver { .. }),
            Promise::Manager => matches!(effect, Effect::UrgentAlert { .. }),
            Promise::Request => matches!(effect, Effect::TrackedRequest { .. }),
            Promise::Repairs => matches!(
                effect,
                Effect::ServiceRequest { .. } | Effect::ContactDetails { .. }
            ),
            Promise::Case => matches!(
                effect,
                Effect::OpenCase(_)
                    | Effect::Escalate { .. }
                    | Effect::JoinCase { .. }
                    | Effect::CaseCorrection { .. }
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub key: String,
    pub label: String,
}

/// What the resident sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Text(String),
    /// A button pressed (its key).
    Choice(String),
    /// A photo, document or voice note, kept in the record.
    Attachment,
    /// Something the bot cannot read (a sticker, a location).
    Unsupported,
}

/// Where the conversation is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Listening,
    /// The choice to complain was offered (1.3).
    Offered { open_request: bool },
    /// Asked whether a new grievance is about an existing complaint (6.8).
    Relating { reference: String },
    /// The privacy notice was shown.
    Consent,
    /// Asking complaint question `index`.
    Asking { index: usize },
    /// The complaint definition was read back (5.6).
    Confirming,
    /// The resident is correcting the definition.
    Correcting,
    /// Asked how the repairs or emergency team can reach the resident; `urgent` after an
    /// emergency, `then_offer` when the choice to complain (1.3) comes after.
    Contact { urgent: bool, then_offer: bool },
    /// Asked whether the contact details this chat already has are still right.
    ContactCheck { urgent: bool, then_offer: bool },
    /// After a safeguarding concern: asked whether, how and when it is safe to contact them.
    SafeContact,
    /// After complaint `reference` closed: asked how satisfied they were with its handling.
    Feedback { reference: String },
    /// Gave a score for complaint `reference`: asked for an optional comment.
    FeedbackComment { reference: String },
}

/// A complaint this conversation made, as the resident can ask about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub reference: String,
    pub stage: u8,
    pub received_on: NaiveDate,
    pub acknowledged_on: NaiveDate,
    pub due_on: NaiveDate,
    /// Whether the response for the current stage has been sent (by staff).
    pub responded: bool,
    /// Closed by staff after its final word; the retention period runs from then.
    #[serde(default)]
    pub closed: bool,
}

/// The conversation's state, kept between messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    #[serde(flatten)]
    pub phase: Phase,
    /// What the resident first said, reflected back in the offer.
    #[serde(default)]
    pub heard: String,
    #[serde(default)]
    pub received_at: Option<DateTime<Utc>>,
    /// The route the engine suggested for staff to confirm (2.5).
    #[serde(default)]
    pub suggested_route: Option<Route>,
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    #[serde(default)]
    pub consent_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub cases: Vec<CaseSummary>,
    #[serde(default)]
    pub open_service_request: bool,
    #[serde(default)]
    pub last_message_at: Option<DateTime<Utc>>,
    /// When a complaint left half-finished was logged for staff, so it is logged once.
    #[serde(default)]
    pub half_finished_logged_at: Option<DateTime<Utc>>,
    /// How the team can reach the resident, as they gave it in this chat.
    #[serde(default)]
    pub contact: Option<String>,
    /// When the resident said whether it is safe to contact them (after a safeguarding
    /// concern), so they are asked once.
    #[serde(default)]
    pub safe_contact_at: Option<DateTime<Utc>>,
    /// A complaint whose definition staff revised and sent to the resident: their next
    /// words are taken as a correction to it (5.6).
    #[serde(default)]
    pub definition_revised: Option<String>,
    /// A safeguarding concern was raised while something else was being asked: whether it is
    /// safe to contact them is asked as soon as nothing else is.
    #[serde(default)]
    pub safe_contact_pending: bool,
    /// When the interpreter asked for is due, so a resident who writes again in their
    /// language is not given a new request each time.
    #[serde(default)]
    pub interpreter_due: Option<NaiveDate>,
    /// When the latest repair this chat logged was asked for, so "when will someone come?"
    /// is answered from the record as far as it goes.
    #[serde(default)]
    pub service_request_on: Option<NaiveDate>,
    /// A complaint closed while the conversation was busy (part way through something, or
    /// held by staff): the feedback question about it is asked once it is at rest.
    #[serde(default)]
    pub feedback_pending: Option<String>,
}

impl State {
    /// The complaint at stage 1 still waiting for its response, if any.
    pub fn open_complaint(&self) -> Option<&CaseSummary> {
        self.cases
            .iter()
            .rev()
            .find(|c| c.stage == 1 && !c.responded)
    }

    /// The complaint whose stage 1 response was sent, so stage 2 can be asked for.
    pub fn answered_stage_one(&self) -> Option<&CaseSummary> {
        self.cases
            .iter()
            .rev()
            .find(|c| c.stage == 1 && c.responded)
    }

    /// Whether the resident stopped part way through making a complaint.
    pub fn half_finished(&self) -> bool {
        matches!(
            self.phase,
            Phase::Offered { .. }
                | Phase::Relating { .. }
                | Phase::Consent
                | Phase::Asking { .. }
                | Phase::Confirming
                | Phase::Correcting
        )
    }

    /// The context the policy engine needs (1.5, 6.8, 6.10).
    pub fn policy_context(&self, today: NaiveDate) -> policy::Context {
        policy::Context {
            open_service_request: self.open_service_request,
            open_complaint: self.open_complaint().is_some(),
            stage1_response_sent: self.answered_stage_one().is_some(),
            today: Some(today),
        }
    }
}

/// Something to record or do, in the same transaction as the replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// An emergency or safeguarding concern: a manager, at once, at any hour.
    UrgentAlert {
        risk: Risk,
        words: Vec<String>,
    },
    /// Health and safety, vulnerability, a stage 2 request: a manager, in working hours.
    Alert {
        kind: String,
        detail: String,
    },
    /// The conversation needs a person: the resident asked for one, or asked what only a
    /// person can answer. An alert puts it at the top of the inbox.
    HandOver {
        why: HandOverWhy,
    },
    /// The choice to complain was offered (1.3), and later what was chosen.
    Offered,
    OfferAnswered {
        choice: String,
    },
    /// Unhappy but no complaint wanted: logged, no escalation needed (seed 000).
    Dissatisfaction {
        heard: String,
        declined: bool,
    },
    ServiceRequest {
        text: String,
    },
    Compliment {
        text: String,
    },
    Comment {
        text: String,
    },
    Enquiry {
        text: String,
    },
    /// A matter for another route, for staff to confirm (2.5).
    OtherRoute {
        route: Route,
        text: String,
    },
    Consent {
        given: bool,
        wording_version: String,
    },
    OpenCase(NewCase),
    /// The resident's reply to a revised complaint definition, taken as a correction to it
    /// and put before the handler (5.6).
    CaseCorrection {
        reference: String,
        text: String,
    },
    /// Whether, how and when it is safe to contact a resident who raised a safeguarding
    /// concern or domestic abuse; seen only by those who may see support needs (5.10).
    SafeContact {
        text: String,
    },
    /// How the repairs or emergency team can reach the resident: name, address, phone;
    /// `urgent` after an emergency, so a manager gets it at once.
    ContactDetails {
        text: String,
        urgent: bool,
    },
    /// A related issue joining a complaint before its stage 1 response (6.8).
    JoinCase {
        reference: String,
        text: String,
    },
    /// Stage 2 asked for (6.11, 6.12).
    Escalate {
        reference: String,
        requested_at: DateTime<Utc>,
        acknowledged_on: NaiveDate,
        due_on: NaiveDate,
    },
    /// The resident was asked how satisfied they were with the handling of a closed complaint
    /// (asked at the end of a step, when it had been left pending).
    FeedbackAsked {
        reference: String,
    },
    /// Their satisfaction with how the complaint was handled, 1 to 5.
    FeedbackScore {
        reference: String,
        score: u8,
    },
    /// Their comment on how the complaint was handled, after the score.
    FeedbackComment {
        reference: String,
        text: String,
    },
    /// They chose not to say.
    FeedbackSkipped {
        reference: String,
    },
    /// A request staff must answer by a date, tracked until they record the answer: a
    /// request about the resident's personal data (UK GDPR arts. 15 to 21; one calendar month,
    /// art. 12(3)) or an interpreter (Code 5.10: reasonable adjustments). An alert goes with it.
    TrackedRequest {
        kind: RequestKind,
        /// What the resident asked, in their words; for an interpreter, the language named.
        detail: String,
        due_on: NaiveDate,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewCase {
    pub reference: String,
    pub received_at: DateTime<Utc>,
    pub acknowledged_on: NaiveDate,
    pub due_on: NaiveDate,
    pub definition: String,
    pub answers: BTreeMap<String, String>,
    /// A route other than complaints that staff should confirm or reject (2.4, 2.5).
    pub suggested_route: Option<Route>,
}

/// Why a conversation was handed to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandOverWhy {
    /// The resident asked for a person.
    Asked,
    /// The resident asked something only a person can answer.
    Question,
}

/// What a tracked request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A copy of the personal data held (UK GDPR art. 15: subject access).
    Access,
    /// The personal data deleted (art. 17).
    Erasure,
    /// Personal data that is wrong put right (art. 16).
    Rectification,
    /// Stop using the data, or consent withdrawn (arts. 7(3), 21).
    Objection,
    /// An interpreter, in the language named in the detail (Code 5.10).
    Interpreter,
}

impl RequestKind {
    pub const ALL: [RequestKind; 5] = [
        RequestKind::Access,
        RequestKind::Erasure,
        RequestKind::Rectification,
        RequestKind::Objection,
        RequestKind::Interpreter,
    ];

    /// The name in the record and the console's filters.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Access => "access",
            RequestKind::Erasure => "erasure",
            RequestKind::Rectification => "rectification",
            RequestKind::Objection => "objection",
            RequestKind::Interpreter => "interpreter",
        }
    }

    pub fn parse(s: &str) -> Option<RequestKind> {
        RequestKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether it is a request about personal data, with the statutory month.
    pub fn is_privacy(self) -> bool {
        self != RequestKind::Interpreter
    }
}
