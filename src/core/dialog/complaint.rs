//! Making a complaint: consent, the questions, the definition read back (5.6), the
//! acknowledgement with its dates (6.2, 6.3), and a stage 2 request (6.11, 6.12).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::checks::{PhoneProblem, email, has_postcode, uk_phone};
use super::types::{CaseSummary, Choice, Effect, NewCase, Phase, Reply, State};
use super::wording::{QuestionKind, Template, date, fill};
use super::{Step, Turn};

/// Starts a complaint: the privacy notice first, unless consent was given before; then the
/// questions.
pub(super) fn start_complaint(turn: &Turn<'_>, out: &mut Step) {
    if out.state.consent_at.is_some() {
        ask_next(turn, 0, out);
        if matches!(out.state.phase, Phase::Confirming) {
            out.replies.push(confirm(turn, &out.state));
        }
        return;
    }
    out.state.phase = Phase::Consent;
    out.replies.push(turn.say("privacy"));
}

/// Asks the next question from `from` on that applies and is not already answered by the
/// first message; when none is left, moves to confirming.
pub(super) fn ask_next(turn: &Turn<'_>, from: usize, out: &mut Step) {
    let (locale, next) = (turn.locale, &mut out.state);
    for index in from..locale.questions.len() {
        let q = &locale.questions[index];
        if let Some(cond) = &q.ask_if {
            let answered = next.answers.get(&cond.question);
            if !answered.is_some_and(|a| cond.answers.contains(a)) {
                continue;
            }
        }
        // Already known (who they are and how to reply, from an earlier complaint).
        if next.answers.contains_key(&q.id) {
            continue;
        }
        if q.prefill.as_deref() == Some("first_message")
            && next.heard.split_whitespace().count() >= 5
            && !next.answers.contains_key(&q.id)
        {
            // Their own words, without the "hiya," they opened with.
            let words = super::gist::strip_greeting(next.heard.trim()).to_owned();
            next.answers.insert(q.id.clone(), words);
            continue;
        }
        next.phase = Phase::Asking { index };
        let asked = question(turn, index, &next.answers);
        out.replies.push(asked);
        return;
    }
    next.phase = Phase::Confirming;
}

/// The complaint definition: the locale's template filled with the answers in `state`.
fn definition(turn: &Turn<'_>, state: &State) -> String {
    let locale = turn.locale;
    let values: BTreeMap<&str, String> = locale
        .questions
        .iter()
        .map(|q| {
            (
                q.id.as_str(),
                state
                    .answers
                    .get(&q.id)
                    .cloned()
                    .unwrap_or_else(|| "not given".to_owned()),
            )
        })
        .collect();
    fill(&locale.definition.text, &values)
}

/// The definition read back for the resident to confirm (5.6), with how they will be
/// answered, so a wrong number or address is caught now.
pub(super) fn confirm(turn: &Turn<'_>, state: &State) -> Reply {
    let mut v = turn.values.clone();
    v.insert("definition", definition(turn, state));
    let answer = |id: &str| state.answers.get(id).map(String::as_str).unwrap_or("");
    let (key, detail) = match answer("contact") {
        "email" => ("reply_by_email", answer("contact_detail")),
        "phone" => ("reply_by_phone", answer("contact_detail")),
        "letter" => ("reply_by_letter", answer("contact_detail")),
        _ => ("reply_by_chat", ""),
    };
    let mut how = turn.values.clone();
    how.insert("contact", detail.to_owned());
    let mut said = turn.locale.say(key, &how).text;
    if let Some(times) = state
        .answers
        .get("contact_times")
        .filter(|_| key == "reply_by_phone")
    {
        how.insert("contact", times.clone());
        said.push_str(&turn.locale.say("reply_times", &how).text);
    }
    v.insert("reply_by", said);
    turn.locale.say("confirm", &v)
}

/// Question `index` as the resident is asked it, given the answers so far: the contact detail
/// asked for in the way they chose to be answered, and choices the bot can keep (no "By
/// email" when nothing can send email).
pub(super) fn question(turn: &Turn<'_>, index: usize, answers: &BTreeMap<String, String>) -> Reply {
    let q = &turn.locale.questions[index];
    if q.kind == QuestionKind::ContactDetail {
        let key = match answers.get("contact").map(String::as_str) {
            Some("phone") => "ask_phone",
            Some("email") => "ask_email",
            Some("letter") => "ask_letter",
            _ => return turn.locale.ask(index),
        };
        return turn.say(key);
    }
    Reply {
        choices: choices(turn, index),
        ..turn.locale.ask(index)
    }
}

/// The choices question `index` offers: replies by email only when they can be sent.
pub(super) fn choices(turn: &Turn<'_>, index: usize) -> Vec<Choice> {
    turn.locale.questions[index]
        .choices
        .iter()
        .filter(|c| c.key != "email" || turn.env.reach.email)
        .cloned()
        .collect()
}

/// The contact detail in the resident's words, checked for the way they chose to be
/// answered: a UK phone number, an email address, or a postal address with its postcode.
/// Otherwise the reply that says why and asks again.
pub(super) fn contact_detail(turn: &Turn<'_>) -> Result<String, Reply> {
    let text = turn.text.trim();
    match turn.state.answers.get("contact").map(String::as_str) {
        Some("phone") => uk_phone(text).map_err(|problem| {
            turn.say(match problem {
                PhoneProblem::Missing => "phone_missing",
                PhoneProblem::NotUk => "phone_not_uk",
                PhoneProblem::NotValid => "phone_not_valid",
            })
        }),
        Some("email") => email(text).ok_or_else(|| turn.say("email_not_valid")),
        Some("letter") if !has_postcode(text) => Err(turn.say("address_no_postcode")),
        _ => Ok(text.to_owned()),
    }
}

/// Adds what the resident said to the definition, as a correction when there is one already.
pub(super) fn add_correction(state: &mut State, text: &str) {
    let entry = state
        .answers
        .entry("what_went_wrong".to_owned())
        .or_default();
    if !entry.is_empty() {
        entry.push_str(" (correction: ");
        entry.push_str(text);
        entry.push(')');
    } else {
        entry.push_str(text);
    }
}

/// A complaint the resident confirmed, complete but for its reference.
///
/// References are shown to residents and have no gaps, so the shell allocates one only for a
/// step that opens a case, and `open` finishes the step with it: the acknowledgement, the case
/// in the conversation's state and the `OpenCase` effect, each last in its list.
#[derive(Debug, Clone)]
pub struct Opening {
    step: Step,
    acknowledged: Template,
    values: BTreeMap<&'static str, String>,
    case: NewCase,
    received_on: NaiveDate,
}

impl Opening {
    /// The step, with the complaint opened under `reference`.
    pub fn open(self, reference: String) -> Step {
        let Opening {
            mut step,
            acknowledged,
            mut values,
            mut case,
            received_on,
        } = self;
        values.insert("reference", reference.clone());
        step.replies.push(acknowledged.say(&values));
        step.state.cases.push(CaseSummary {
            reference: reference.clone(),
            stage: 1,
            received_on,
            acknowledged_on: case.acknowledged_on,
            due_on: case.due_on,
            responded: false,
            closed: false,
        });
        case.reference = reference;
        step.effects.push(Effect::OpenCase(case));
        step
    }
}

/// Acknowledges the confirmed complaint (6.2) with the dates it runs to (6.3); the reference
/// is added by `Opening::open`.
pub(super) fn acknowledge(turn: &Turn<'_>, mut out: Step) -> Opening {
    let (env, locale) = (turn.env, turn.locale);
    let next = &mut out.state;
    let received_at = next.received_at.unwrap_or(env.now);
    let calendar = env.deadlines.calendar;
    // Acknowledged now, by this message; the response is due counted from today (6.3).
    let acknowledged_on = calendar.local_date(env.now);
    let due_on = env.deadlines.stage1_response_due(env.now);
    let definition = definition(turn, next);
    let case = NewCase {
        reference: String::new(),
        received_at,
        acknowledged_on,
        due_on,
        definition: definition.clone(),
        answers: next.answers.clone(),
        suggested_route: next.suggested_route,
    };
    let mut v = turn.values.clone();
    v.insert("definition", definition);
    v.insert("received", date(calendar.local_date(received_at)));
    v.insert("acknowledged", date(acknowledged_on));
    v.insert("due", date(due_on));
    v.insert(
        "exclusion_note",
        if case.suggested_route.is_some() {
            locale.messages["exclusion_note"].text.clone()
        } else {
            String::new()
        },
    );
    next.phase = Phase::Listening;
    // Who they are and how they want replies carry over to a later complaint; the rest is
    // this complaint's own.
    next.answers.retain(|id, _| {
        matches!(
            id.as_str(),
            "name" | "contact" | "contact_detail" | "contact_times"
        )
    });
    next.heard.clear();
    next.suggested_route = None;
    next.received_at = None;
    Opening {
        step: out,
        acknowledged: locale.messages["acknowledged"].clone(),
        values: v,
        case,
        received_on: calendar.local_date(received_at),
    }
}

/// A stage 2 request after the stage 1 response (6.11, 6.12): acknowledged at once, with the
/// date the response is due (6.14), and a manager told.
pub(super) fn escalate(turn: &Turn<'_>, out: &mut Step) {
    let Some(case) = turn.state.answered_stage_one() else {
        return;
    };
    let env = turn.env;
    let calendar = env.deadlines.calendar;
    // 6.11: acknowledged now; 6.14: response counted from the stage 2 acknowledgement.
    let acknowledged_on = calendar.local_date(env.now);
    let due_on = env.deadlines.stage2_response_due(env.now);
    let mut v = turn.values.clone();
    v.insert("reference", case.reference.clone());
    v.insert("received", date(acknowledged_on));
    v.insert("acknowledged", date(acknowledged_on));
    v.insert("due", date(due_on));
    out.replies.push(turn.locale.say("stage2_acknowledged", &v));
    out.effects.push(Effect::Escalate {
        reference: case.reference.clone(),
        requested_at: env.now,
        acknowledged_on,
        due_on,
    });
    out.effects.push(Effect::Alert {
        kind: "stage2_request".to_owned(),
        detail: case.reference.clone(),
    });
    if let Some(c) = out
        .state
        .cases
        .iter_mut()
        .find(|c| c.reference == case.reference)
    {
        c.stage = 2;
        c.responded = false;
        // Open again at stage 2: the retention period starts over when it closes.
        c.closed = false;
        c.acknowledged_on = acknowledged_on;
        c.due_on = due_on;
    }
}
