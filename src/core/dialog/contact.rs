//! How the team can reach the resident: asked after a repair or an emergency is logged, so
//! staff never have to ask the address of a family with a gas smell; and whether it is safe to
//! contact someone who raised a safeguarding concern, before anyone does (Code 5.10).

use super::checks::{email, has_postcode, uk_phone};
use super::reading::{is_question, yes_or_no};
use super::types::{Effect, Phase};
use super::{Step, Turn};

/// What the resident's words did to a question about contact details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Answer {
    /// Taken (or declined); `then_offer`: the choice to complain (1.3) comes next.
    Taken { then_offer: bool },
    /// Plainly about something else: listened to instead.
    Other,
}

/// Asks how the team can reach the resident, or, when this chat already knows, whether that
/// is still right. `then_offer`: the choice to complain (1.3) follows the answer.
pub(super) fn ask(turn: &Turn<'_>, urgent: bool, then_offer: bool, out: &mut Step) {
    match known(&out.state) {
        Some(contact) => {
            let mut v = turn.values.clone();
            v.insert("contact", contact);
            out.replies.push(turn.locale.say("contact_check", &v));
            out.state.phase = Phase::ContactCheck { urgent, then_offer };
        }
        None => {
            out.replies.push(turn.say("contact_ask"));
            out.state.phase = Phase::Contact { urgent, then_offer };
        }
    }
}

/// What this chat already knows of how to reach the resident: the details they gave for a
/// repair, or their name and the contact they gave for a complaint.
fn known(state: &super::State) -> Option<String> {
    if let Some(contact) = &state.contact {
        return Some(contact.clone());
    }
    let name = state.answers.get("name")?;
    let detail = state.answers.get("contact_detail")?;
    Some(format!("{name}; {detail}"))
}

/// The resident answered how the team can reach them. Words that are plainly something else
/// (a question, a new repair, a grievance) are listened to instead.
pub(super) fn answered(turn: &Turn<'_>, urgent: bool, then_offer: bool, out: &mut Step) -> Answer {
    let text = turn.text.trim();
    let details = looks_like_details(text);
    if is_question(text) || !details && about_something_else(turn) {
        return Answer::Other;
    }
    if !details && matches!(yes_or_no(text), Some(false)) {
        // "No" to giving details: nothing is recorded, and the team will ask if they need to.
        out.state.phase = super::Phase::Listening;
        out.replies.push(turn.say("contact_declined"));
        return Answer::Taken { then_offer };
    }
    record(turn, text, urgent, out);
    Answer::Taken { then_offer }
}

/// The resident said whether the details this chat has are still right.
pub(super) fn checked(turn: &Turn<'_>, urgent: bool, then_offer: bool, out: &mut Step) -> Answer {
    // New details given straight away ("No 12 High St, M1 1AE") are the answer, not a "no".
    if matches!(turn.input, super::Input::Text(_)) {
        if looks_like_details(&turn.text) {
            record(turn, &turn.text.clone(), urgent, out);
            return Answer::Taken { then_offer };
        }
        // "I'm still not happy with this" is not a "no, they've changed".
        if about_something_else(turn) {
            return Answer::Other;
        }
    }
    match super::reading::pick(&turn.locale.messages["contact_check"].choices, turn.input) {
        Some(c) if c.key == "yes" => {
            let contact = known(&out.state).unwrap_or_default();
            record(turn, &contact, urgent, out);
            Answer::Taken { then_offer }
        }
        Some(_) => {
            out.replies.push(turn.say("contact_ask"));
            out.state.phase = Phase::Contact { urgent, then_offer };
            Answer::Taken { then_offer: false }
        }
        None => Answer::Other,
    }
}

fn record(turn: &Turn<'_>, contact: &str, urgent: bool, out: &mut Step) {
    out.effects.push(Effect::ContactDetails {
        text: contact.to_owned(),
        urgent,
    });
    out.state.contact = Some(contact.to_owned());
    out.state.phase = Phase::Listening;
    let mut v = turn.values.clone();
    v.insert("contact", contact.to_owned());
    out.replies.push(turn.locale.say("contact_recorded", &v));
}

/// Words about something else than how to reach them ("also the boiler is making a noise",
/// "I'm still not happy with this"): a new repair, a grievance, a question for staff. A name,
/// a yes or a no reads as nothing in particular, and thanks is not something else either.
fn about_something_else(turn: &Turn<'_>) -> bool {
    use crate::core::policy::Intent;
    turn.assessment.dissatisfied
        || !matches!(turn.assessment.intent, Intent::Other | Intent::Thanks)
}

/// Whether words look like contact details: a phone number, an email address, a postcode or
/// a house number and street.
pub(super) fn looks_like_details(text: &str) -> bool {
    uk_phone(text).is_ok()
        || email(text).is_some()
        || has_postcode(text)
        || text
            .split_whitespace()
            .any(|w| w.chars().any(|c| c.is_ascii_digit()))
            && text.split_whitespace().count() >= 3
}

/// After a safeguarding concern, the resident said whether, how and when it is safe to
/// contact them. Recorded for those who may see it (5.10), before anyone contacts them.
pub(super) fn safe_contact(turn: &Turn<'_>, out: &mut Step) {
    out.effects.push(Effect::SafeContact {
        text: turn.text.clone(),
    });
    out.state.safe_contact_at = Some(turn.env.now);
    out.state.safe_contact_pending = false;
    out.state.phase = Phase::Listening;
    out.replies.push(turn.say("safe_contact_recorded"));
    // "Yes, ring me, I want to talk to someone" answers the question and asks for a person.
    if super::reading::asks_for_person(&turn.text) {
        out.effects.push(Effect::HandOver {
            why: super::types::HandOverWhy::Asked,
        });
        out.replies.push(turn.say("human"));
    }
}
