//! The resident's conversation: given the state, the assessment of the message and the
//! message itself, `step` returns the next state, the replies and the effects to record.
//!
//! The wording and the complaint questions are data (`dialogs/<locale>/*.toml`), compiled in
//! and overridable from a folder. This module decides which to say when, following the Code:
//! listen first, safety first, offer the choice to complain whenever the resident is unhappy
//! (1.3), ask for consent before details (UK GDPR), read the complaint back (5.6),
//! acknowledge with dates (6.2, 6.3), and take a stage 2 request without reasons (6.12).
//!
//! - `types`: what the resident sends, the conversation's state, replies and effects.
//! - `wording`: the wording and questions, built from the shipped files and the `(path, text)`
//!   pairs the shell read from a landlord's folder, validated.
//! - `reading`: what the resident's words mean to the dialog (commands, choices).
//! - `phases`: one function per phase, and safety first in every phase.
//! - `complaint`: the questions, the definition read back, the acknowledgement, stage 2.
//! - `feedback`: after a complaint closes, the resident's satisfaction with its handling.
//!
//! `step` runs once per message. A step that opens a complaint returns `Outcome::OpensCase`:
//! the shell allocates the reference (only then, so references have no gaps) and
//! `Opening::open` finishes the step with it.

mod checks;
mod complaint;
mod contact;
mod feedback;
mod gist;
mod phases;
mod reading;
mod types;
mod wording;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::calendar::Deadlines;
use super::policy::{self, Assessment};
use super::profile::LandlordProfile;

pub use checks::{PhoneProblem, email, has_postcode, uk_phone};
pub use complaint::Opening;
pub use feedback::ASK as FEEDBACK_QUESTION;
pub use types::{
    CaseSummary, Choice, Effect, HandOverWhy, Input, NewCase, Phase, Promise, Reply, RequestKind,
    State,
};
pub use wording::{
    AskIf, DEFAULT_LOCALE, DialogError, Dialogs, Locale, PRIVACY_VERSION, Question, QuestionKind,
};

use phases::safety;
use policy::Risk;
use reading::{asks_for_person, command};
use wording::QuestionKind as Kind;

/// Everything `step` needs besides the state and the message.
pub struct Env<'a> {
    pub dialogs: &'a Dialogs,
    pub locale: &'a str,
    pub profile: &'a LandlordProfile,
    pub deadlines: Deadlines<'a>,
    pub now: DateTime<Utc>,
    /// After this long without a message, a half-finished complaint is resumed with a
    /// reminder of where it was.
    pub resume_after: chrono::Duration,
    /// What the configuration lets the bot promise.
    pub reach: Reach,
}

/// Who the bot's words can honestly say were told. The bot says "I have told a manager
/// straight away" only when something makes that true, and offers replies by email only when
/// it can send them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    /// An alert reaches a person at any hour: a sink to a managers' chat, an email address or
    /// a pager webhook is configured, or a manager is signed in to the console now.
    pub manager: bool,
    /// Replies can be copied by email (SMTP is configured).
    pub email: bool,
}

/// Working days staff have to arrange an interpreter (Code 5.10).
pub const INTERPRETER_WORKING_DAYS: u32 = 2;

/// The outcome of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub state: State,
    pub replies: Vec<Reply>,
    pub effects: Vec<Effect>,
}

impl Step {
    /// The promises this step's replies make that none of its effects keep. Always empty for
    /// a step the dialog takes; the promise test holds it to that.
    pub fn unkept_promises(&self) -> Vec<Promise> {
        self.replies
            .iter()
            .filter_map(|r| r.promise)
            .filter(|p| !self.effects.iter().any(|e| p.kept_by(e)))
            .collect()
    }
}

/// What one message does: a finished step, or one that opens a complaint once the shell has
/// allocated its reference.
#[derive(Debug, Clone)]
pub enum Outcome {
    Done(Step),
    /// The resident confirmed their complaint (5.6): `Opening::open` with a new reference
    /// gives the step.
    OpensCase(Opening),
}

/// One message being answered: what was known before it and what it says. The phases read
/// it and write the `Step`.
struct Turn<'a> {
    /// The state before this message.
    state: &'a State,
    assessment: &'a Assessment,
    input: &'a Input,
    /// The words, trimmed, or the key of the button pressed.
    text: String,
    env: &'a Env<'a>,
    locale: &'a Locale,
    /// The placeholders every message may use (the landlord, the Ombudsman).
    values: BTreeMap<&'static str, String>,
    /// Quiet for longer than `resume_after`.
    idle: bool,
}

impl Turn<'_> {
    /// The message `key` with the placeholders every message may use.
    fn say(&self, key: &str) -> Reply {
        self.locale.say(key, &self.values)
    }

    /// Today, in the landlord's time zone.
    fn today(&self) -> chrono::NaiveDate {
        self.env.deadlines.calendar.local_date(self.env.now)
    }
}

/// Advances the conversation by one message.
pub fn step(state: &State, assessment: &Assessment, input: &Input, env: &Env<'_>) -> Outcome {
    let mut out = Step {
        state: state.clone(),
        replies: Vec::new(),
        effects: Vec::new(),
    };
    let locale = env.dialogs.locale(env.locale);
    let values = base_values(env, locale);
    let text = match input {
        Input::Text(t) => t.trim().to_owned(),
        Input::Choice(k) => k.clone(),
        Input::Attachment | Input::Unsupported => {
            let key = match input {
                Input::Attachment => "attachment",
                _ => "unsupported",
            };
            out.replies.push(locale.say(key, &values));
            out.state.last_message_at = Some(env.now);
            return Outcome::Done(out);
        }
    };
    let idle = state
        .last_message_at
        .is_some_and(|last| env.now - last > env.resume_after);
    // A question about contact details, long unanswered, is not answered by whatever the
    // resident says days later ("the kitchen tap is leaking" is not their address).
    let stale = idle
        && matches!(
            state.phase,
            Phase::Contact { .. } | Phase::ContactCheck { .. } | Phase::SafeContact
        );
    let fresh;
    let state = if stale {
        fresh = State {
            phase: Phase::Listening,
            ..state.clone()
        };
        out.state.phase = Phase::Listening;
        &fresh
    } else {
        state
    };
    out.state.last_message_at = Some(env.now);
    out.state.half_finished_logged_at = None;
    let turn = Turn {
        state,
        assessment,
        input,
        text,
        env,
        locale,
        values,
        idle,
    };
    if interrupted(&turn, &mut out) {
        return Outcome::Done(out);
    }
    match &state.phase {
        Phase::Listening => phases::listen(&turn, &mut out),
        Phase::Offered { open_request } => phases::offered(&turn, *open_request, &mut out),
        Phase::Relating { reference } => phases::relating(&turn, reference, &mut out),
        Phase::Consent => phases::consent(&turn, &mut out),
        Phase::Asking { index } => phases::asking(&turn, *index, &mut out),
        Phase::Confirming => return phases::confirming(&turn, out),
        Phase::Correcting => phases::correcting(&turn, &mut out),
        Phase::Contact { urgent, then_offer } => {
            let answer = contact::answered(&turn, *urgent, *then_offer, &mut out);
            after_contact(&turn, answer, &mut out);
        }
        Phase::ContactCheck { urgent, then_offer } => {
            let answer = contact::checked(&turn, *urgent, *then_offer, &mut out);
            after_contact(&turn, answer, &mut out);
        }
        Phase::SafeContact => contact::safe_contact(&turn, &mut out),
        Phase::Feedback { reference } => feedback::asked_score(&turn, reference, &mut out),
        Phase::FeedbackComment { reference } => {
            feedback::asked_comment(&turn, reference, &mut out);
        }
    }
    after_safety(&turn, &mut out);
    feedback::ask_pending(&turn, &mut out);
    Outcome::Done(out)
}

/// After a question about contact details: the choice to complain when the resident was
/// unhappy (1.3), or, when the words were about something else, what they said is listened to.
fn after_contact(turn: &Turn<'_>, answer: contact::Answer, out: &mut Step) {
    match answer {
        contact::Answer::Taken { then_offer } => {
            if then_offer && !out.state.heard.is_empty() {
                let heard = out.state.heard.clone();
                phases::offer(turn, &heard, out);
            }
        }
        contact::Answer::Other => {
            out.state.phase = Phase::Listening;
            phases::listen(turn, out);
        }
    }
}

/// After the emergency numbers and whatever the message asked, while nothing else is being
/// asked: whether it is safe to contact someone who raised a safeguarding concern (asked
/// once, before anyone contacts them), and how the emergency team can reach the resident.
fn after_safety(turn: &Turn<'_>, out: &mut Step) {
    if out.state.phase != Phase::Listening {
        return;
    }
    let assessment = turn.assessment;
    let safeguarding = assessment.has_risk(Risk::Safeguarding) || out.state.safe_contact_pending;
    if safeguarding && out.state.safe_contact_at.is_none() {
        out.replies.push(turn.say("safe_contact"));
        out.state.phase = Phase::SafeContact;
        out.state.safe_contact_pending = false;
    } else if assessment.has_risk(Risk::Emergency) {
        let then_offer = assessment.dissatisfied && !out.state.heard.is_empty();
        contact::ask(turn, true, then_offer, out);
    }
}

/// What is answered the same in every phase, before the phase: an empty message, safety,
/// a request for a person, the resident's commands. True when the message was answered here.
fn interrupted(turn: &Turn<'_>, out: &mut Step) -> bool {
    let state = turn.state;
    if turn.text.is_empty() {
        out.replies.push(turn.say("empty"));
        return true;
    }

    // The answer to "is it safe to contact you?" talks of the danger just reported, which
    // managers were alerted to one message ago: it is recorded as the answer, not alerted
    // again. A new emergency in it still comes first.
    let answering_safe_contact =
        state.phase == Phase::SafeContact && !turn.assessment.has_risk(Risk::Emergency);
    if answering_safe_contact {
        return false;
    }
    // Contact details in answer to a question about them ("ring me on 07700 900987", "No 12
    // High St") are the answer, not a request for a person or a "no".
    let giving_details = match &state.phase {
        Phase::Contact { .. } | Phase::ContactCheck { .. } => true,
        Phase::Asking { index } => turn.locale.questions[*index].kind == Kind::ContactDetail,
        _ => false,
    } && contact::looks_like_details(&turn.text);
    // Safety first, in every phase: emergency numbers before any other question.
    safety(
        turn.assessment,
        turn.locale,
        &turn.values,
        &mut out.replies,
        &mut out.effects,
    );
    // A safeguarding concern raised while something else is asked: whether it is safe to
    // contact them is asked as soon as nothing else is (`after_safety`).
    if turn.assessment.has_risk(Risk::Safeguarding) && state.safe_contact_at.is_none() {
        out.state.safe_contact_pending = true;
    }

    // An emergency or a safeguarding concern is never taken as the answer to a question:
    // the numbers come first, then the question again, so the complaint can carry on.
    if turn.assessment.is_urgent() && state.phase != Phase::Listening {
        match &state.phase {
            Phase::Asking { index } => {
                out.replies
                    .push(complaint::question(turn, *index, &state.answers));
            }
            Phase::Confirming => out.replies.push(complaint::confirm(turn, state)),
            Phase::Consent => out.replies.push(turn.say("privacy")),
            Phase::SafeContact => out.replies.push(turn.say("safe_contact")),
            // Feedback can wait for ever: the question is dropped, not asked over the danger.
            Phase::Feedback { .. } | Phase::FeedbackComment { .. } => {
                out.state.phase = Phase::Listening;
            }
            Phase::Contact { .. } | Phase::ContactCheck { .. } => {
                // The details are what the emergency team needs now: asked again.
                out.replies.push(turn.say("contact_ask"));
                out.state.phase = match state.phase {
                    Phase::Contact { then_offer, .. } | Phase::ContactCheck { then_offer, .. } => {
                        Phase::Contact {
                            urgent: true,
                            then_offer,
                        }
                    }
                    _ => Phase::Listening,
                };
            }
            _ => {}
        }
        return true;
    }

    // A long answer to a question that also asks for a person is kept as the answer and
    // handed over too (see `phases::asking`); anything else asking for one hands over now.
    let answering =
        matches!(state.phase, Phase::Asking { .. }) && turn.text.split_whitespace().count() > 8;
    if giving_details {
        return false;
    }
    if !answering && asks_for_person(&turn.text) {
        out.effects.push(Effect::HandOver {
            why: HandOverWhy::Asked,
        });
        out.replies.push(turn.say("human"));
        return true;
    }
    // An answer to a question is not read as a request about their data unless it is short
    // enough to be one ("what went wrong?" "they deleted my details..." is an answer).
    if let Some(kind) = command(&turn.text)
        .and_then(RequestKind::parse)
        .filter(|_| !answering)
    {
        phases::privacy_request(turn, kind, out);
        return true;
    }
    match command(&turn.text) {
        Some("status") => {
            phases::status(turn, out);
            true
        }
        _ => false,
    }
}

/// The placeholders every message may use.
fn base_values(env: &Env<'_>, locale: &Locale) -> BTreeMap<&'static str, String> {
    let p = env.profile;
    // Only what is true: a manager told at once when an alert reaches one.
    let told = if env.reach.manager {
        "manager_told"
    } else {
        "manager_not_reached"
    };
    BTreeMap::from([
        ("manager_told", locale.text(told).text),
        ("landlord", p.name.clone()),
        ("out_of_hours", p.out_of_hours_repairs_phone.clone()),
        ("ombudsman_phone", p.ombudsman.phone.clone()),
        ("ombudsman_address", p.ombudsman.address.clone()),
        ("ombudsman_website", p.ombudsman.website.clone()),
        ("privacy_version", PRIVACY_VERSION.to_owned()),
    ])
}

/// A message while a person holds the conversation: the bot says nothing but safety (the
/// emergency numbers and urgent alerts), and an answer to "is it safe to contact you?",
/// asked before they took it over, is still that answer (5.10), not alerted again unless it
/// raises an emergency. The state after it, the replies and the effects.
pub fn held(
    state: &State,
    assessment: &Assessment,
    text: &str,
    env: &Env<'_>,
) -> (State, Vec<Reply>, Vec<Effect>) {
    let mut next = state.clone();
    let text = text.trim();
    let answering = state.phase == Phase::SafeContact
        && !text.is_empty()
        && !assessment.has_risk(Risk::Emergency);
    if !answering {
        let (replies, effects) = safety_only(assessment, env);
        return (next, replies, effects);
    }
    next.phase = Phase::Listening;
    next.safe_contact_at = Some(env.now);
    next.safe_contact_pending = false;
    (
        next,
        Vec::new(),
        vec![Effect::SafeContact {
            text: text.to_owned(),
        }],
    )
}

/// The safety replies and alerts for a message that does not move the conversation on (an
/// edited message): emergency numbers and alerts still come first, whatever the phase.
pub fn safety_only(assessment: &Assessment, env: &Env<'_>) -> (Vec<Reply>, Vec<Effect>) {
    let mut replies = Vec::new();
    let mut effects = Vec::new();
    let locale = env.dialogs.locale(env.locale);
    safety(
        assessment,
        locale,
        &base_values(env, locale),
        &mut replies,
        &mut effects,
    );
    (replies, effects)
}
