//! After a complaint closes: how satisfied the resident was with how it was handled, 1 to 5,
//! and an optional comment (issue 12; the reports of issue 13 count the scores). Asked once
//! per complaint (the record keeps whether it was), always skippable, and never in the way:
//! whatever else the resident says instead (a new repair, a question, a new complaint) is
//! answered as if nothing had been asked. The question promises nothing, so it declares no
//! promise.
//!
//! The shell asks the question when staff close the complaint, if the conversation is at
//! rest; otherwise it leaves it pending (`State::feedback_pending`), and the dialog asks at
//! the end of the first step that leaves the conversation at rest ([`ask_pending`]).

use super::phases::listen;
use super::reading::{command, is_question, says_complain, words, yes_or_no};
use super::types::{Effect, Input, Phase};
use super::{Step, Turn};
use crate::core::policy::Intent;

/// The message that asks, with its buttons: 1 to 5 and Skip.
pub const ASK: &str = "feedback_ask";

/// What the resident's answer to the score question is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Score(u8),
    Skip,
    /// Not an answer to the question: something else, read as any other message.
    Other,
}

/// Asked for a score: a score is kept and a comment invited; "Skip" (or "no thanks") is
/// respected; anything else is not feedback, and is listened to as usual.
pub(super) fn asked_score(turn: &Turn<'_>, reference: &str, out: &mut Step) {
    let mut v = turn.values.clone();
    v.insert("reference", reference.to_owned());
    match read_score(turn) {
        Answer::Score(score) => {
            out.effects.push(Effect::FeedbackScore {
                reference: reference.to_owned(),
                score,
            });
            out.state.phase = Phase::FeedbackComment {
                reference: reference.to_owned(),
            };
            out.replies.push(turn.locale.say("feedback_comment", &v));
        }
        Answer::Skip => {
            out.effects.push(Effect::FeedbackSkipped {
                reference: reference.to_owned(),
            });
            out.state.phase = Phase::Listening;
            out.replies.push(turn.locale.say("feedback_skipped", &v));
        }
        Answer::Other => {
            out.state.phase = Phase::Listening;
            listen(turn, out);
        }
    }
}

/// Asked for a comment after the score: the words are kept as the comment, unless the
/// resident skips, or says something that is not about the complaint just closed (a new
/// repair, another matter, a question, a new complaint in so many words), which is listened
/// to as usual.
pub(super) fn asked_comment(turn: &Turn<'_>, reference: &str, out: &mut Step) {
    out.state.phase = Phase::Listening;
    if skips(turn) {
        out.replies.push(turn.say("feedback_thanks"));
        return;
    }
    if something_else(turn) {
        listen(turn, out);
        return;
    }
    out.effects.push(Effect::FeedbackComment {
        reference: reference.to_owned(),
        text: turn.text.clone(),
    });
    out.replies.push(turn.say("feedback_thanks"));
}

/// At the end of a step that leaves the conversation at rest (listening, nothing urgent said),
/// the feedback question that was left pending when the complaint closed.
pub(super) fn ask_pending(turn: &Turn<'_>, out: &mut Step) {
    if out.state.phase != Phase::Listening || turn.assessment.is_urgent() {
        return;
    }
    let Some(reference) = out.state.feedback_pending.take() else {
        return;
    };
    let mut v = turn.values.clone();
    v.insert("reference", reference.clone());
    out.replies.push(turn.locale.say(ASK, &v));
    out.effects.push(Effect::FeedbackAsked {
        reference: reference.clone(),
    });
    out.state.phase = Phase::Feedback { reference };
}

/// A score (a button, a number from 1 to 5 alone or "out of 5", or the words of a button's
/// label), a skip, or something else.
fn read_score(turn: &Turn<'_>) -> Answer {
    if skips(turn) {
        return Answer::Skip;
    }
    let said = match turn.input {
        Input::Choice(key) => key.to_lowercase(),
        _ => turn.text.to_lowercase(),
    };
    let w = words(&said);
    // "4", "4/5", "4 out of 5", "5 stars": a number and nothing else that means anything.
    let filler = |x: &str| {
        matches!(
            x,
            "out" | "of" | "5" | "stars" | "star" | "i" | "give" | "it"
        )
    };
    if let Some(first) = w.first()
        && let Ok(n) = first.parse::<u8>()
        && (1..=5).contains(&n)
        && w.iter().skip(1).all(|x| filler(x))
    {
        return Answer::Score(n);
    }
    // The words of a button: "very satisfied", "neither", "dissatisfied".
    let choices = &turn.locale.messages[ASK].choices;
    let plain = w.join(" ");
    for choice in choices {
        let whole = words(&choice.label).join(" ");
        let label = whole
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim();
        if !label.is_empty()
            && (label == plain || whole == plain)
            && let Ok(n) = choice.key.parse::<u8>()
        {
            return Answer::Score(n);
        }
    }
    Answer::Other
}

/// "Skip", "no thanks", "not now", "rather not", or the Skip button.
fn skips(turn: &Turn<'_>) -> bool {
    if let Input::Choice(key) = turn.input {
        return key == "skip";
    }
    let plain = words(&turn.text).join(" ");
    matches!(
        plain.as_str(),
        "skip" | "skip it" | "not now" | "rather not" | "id rather not" | "no comment" | "none"
    ) || (plain.split(' ').count() <= 3 && yes_or_no(&turn.text) == Some(false))
}

/// Whether words given where a comment was invited are about something else: a new repair or
/// another matter, a question, a command, or a new complaint in so many words.
fn something_else(turn: &Turn<'_>) -> bool {
    let (assessment, text) = (turn.assessment, turn.text.as_str());
    matches!(
        assessment.intent,
        Intent::ServiceRequest | Intent::ReportOther
    ) || command(text).is_some()
        || says_complain(text)
        || (is_question(text) && matches!(assessment.intent, Intent::Enquiry | Intent::Other))
}

#[cfg(test)]
mod tests;
