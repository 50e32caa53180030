//! One function per phase of the conversation (`Phase`), and what any phase may say: safety
//! first, and the status of the resident's complaint.

use std::collections::BTreeMap;

use super::complaint::{acknowledge, add_correction, ask_next, confirm, escalate, start_complaint};
use super::gist::gist;
use super::reading::{
    asks_for_person, command, is_question, mentions_complaint, pick, says_complain,
};
use super::types::{Effect, HandOverWhy, Phase, Reply, RequestKind};
use super::wording::{Locale, PRIVACY_VERSION, QuestionKind, date};
use super::{INTERPRETER_WORKING_DAYS, Outcome, Step, Turn};
use crate::core::calendar::calendar_months_after;
use crate::core::policy::{self, Assessment, Intent, Risk, Route};

/// Listening: what the resident says is read for what they want.
pub(super) fn listen(turn: &Turn<'_>, out: &mut Step) {
    let (state, assessment, env, text) = (turn.state, turn.assessment, turn.env, &*turn.text);
    if command(text) == Some("complain") {
        if out.state.heard.is_empty() {
            out.state.received_at = Some(env.now);
        }
        start_complaint(turn, out);
        return;
    }
    if command(text) == Some("start") {
        let mut hello = turn.say("greeting");
        hello.text.push('\n');
        hello.text.push_str(&turn.say("greeting_emergency").text);
        out.replies.push(hello);
        return;
    }
    // Staff revised the complaint's definition and sent it: what the resident says next,
    // unless it only agrees, corrects it (5.6), and the handler is told.
    if let Some(reference) = &state.definition_revised {
        out.state.definition_revised = None;
        // Only a short yes or thanks agrees: "yes, but you missed the heating" corrects it.
        let short = text.split_whitespace().count() <= 5;
        let agrees = short
            && (super::reading::yes_or_no(text) == Some(true)
                || matches!(assessment.intent, Intent::Thanks | Intent::Compliment));
        // A new repair or something for another team is heard as that, not as a correction.
        let something_else = matches!(
            assessment.intent,
            Intent::ServiceRequest | Intent::ReportOther
        ) && !assessment.dissatisfied;
        // Only while that definition is still the one being answered: after the response,
        // more unhappiness is a stage 2 request (6.12), below.
        let being_answered = state
            .cases
            .iter()
            .any(|c| c.reference == *reference && !c.responded && !c.closed);
        if being_answered && !agrees && !something_else && !assessment.is_urgent() {
            out.effects.push(Effect::CaseCorrection {
                reference: reference.clone(),
                text: text.to_owned(),
            });
            let mut v = turn.values.clone();
            v.insert("reference", reference.clone());
            out.replies
                .push(turn.locale.say("definition_corrected", &v));
            return;
        }
    }
    if assessment.language != policy::ENGLISH && state.interpreter_due.is_some() {
        // One interpreter request per conversation: what they write is kept for staff.
        out.replies.push(turn.say("language_again"));
        return;
    }
    if assessment.language != policy::ENGLISH {
        // Staff arrange the interpreter; the request is tracked with the language named.
        let language = policy::language_name(assessment.language);
        let due_on = env
            .deadlines
            .calendar
            .add_working_days(turn.today(), INTERPRETER_WORKING_DAYS);
        out.effects.push(Effect::TrackedRequest {
            kind: RequestKind::Interpreter,
            detail: language.to_owned(),
            due_on,
        });
        out.state.interpreter_due = Some(due_on);
        let mut v = turn.values.clone();
        v.insert("language", language.to_owned());
        v.insert("due", date(due_on));
        out.replies.push(turn.locale.say("language", &v));
        return;
    }
    let urgent = assessment.is_urgent();
    // Asking in so many words ("stage 2", "still not happy with your response") after the
    // stage 1 response is a stage 2 request; no reasons are needed (6.12).
    let asks_stage_two = assessment.reasons.iter().any(|r| {
        matches!(r.rule, "intent.escalation" | "learned.intent") && r.provision == Some("6.11")
    });
    if asks_stage_two && state.answered_stage_one().is_some() {
        escalate(turn, out);
        return;
    }
    // Said in so many words: straight to the complaint, no offer (1.3 is for those who have
    // not said what they want). With a complaint already in this chat, ask whether it is the
    // same one first (6.8), below.
    if says_complain(text) && state.cases.is_empty() {
        out.state.heard = text.to_owned();
        out.state.received_at = Some(env.now);
        out.state.suggested_route =
            (assessment.route != Route::Complaints).then_some(assessment.route);
        start_complaint(turn, out);
        return;
    }
    if assessment.dissatisfied {
        // An unhappy question ("why has my rent gone up?") is passed to a person to answer,
        // and the choice to complain is offered as well (1.3).
        if is_question(text) && !urgent {
            hand_over_question(turn, out);
        }
        out.state.heard = text.to_owned();
        out.state.received_at = Some(env.now);
        // 6.8: a related issue before the stage 1 response joins the complaint; after the
        // response, more unhappiness about it is a stage 2 request (6.12). Only the resident
        // knows whether it is related, so ask.
        if let Some(case) = state.open_complaint().or(state.answered_stage_one()) {
            let mut v = turn.values.clone();
            v.insert("reference", case.reference.clone());
            out.replies.push(turn.locale.say("relate", &v));
            out.state.phase = Phase::Relating {
                reference: case.reference.clone(),
            };
            return;
        }
        // After an emergency the team needs to reach them first; the offer follows.
        if assessment.has_risk(Risk::Emergency) {
            out.state.heard = text.to_owned();
            return;
        }
        offer(turn, text, out);
        return;
    }
    match assessment.intent {
        Intent::ServiceRequest => {
            out.effects.push(Effect::ServiceRequest {
                text: text.to_owned(),
            });
            out.state.open_service_request = true;
            out.state.service_request_on = Some(turn.today());
            if !urgent {
                out.replies.push(turn.say("service_request"));
                super::contact::ask(turn, false, false, out);
            }
        }
        Intent::Compliment => {
            out.effects.push(Effect::Compliment {
                text: text.to_owned(),
            });
            out.replies.push(turn.say("compliment"));
        }
        Intent::Thanks => out.replies.push(turn.say("thanks")),
        Intent::Comment => {
            out.effects.push(Effect::Comment {
                text: text.to_owned(),
            });
            out.replies.push(turn.say("comment"));
        }
        Intent::Enquiry => {
            if state.cases.last().is_some() && mentions_complaint(text) {
                status(turn, out);
            } else if text.to_lowercase().contains("my complaint") {
                // None in this chat: say so, and pass the question on, as the complaint
                // may have been made another way.
                out.effects.push(Effect::Enquiry {
                    text: text.to_owned(),
                });
                status(turn, out);
            } else {
                hand_over_question(turn, out);
            }
        }
        Intent::ReportOther => {
            let setting = env.profile.routes.setting(assessment.route);
            if let Some(setting) = setting {
                let mut v = turn.values.clone();
                v.insert("signpost", setting.signpost.clone());
                out.replies.push(turn.locale.say("other_route", &v));
            }
            if setting.is_none() || is_question(text) {
                hand_over_question(turn, out);
            }
            out.effects.push(Effect::OtherRoute {
                route: assessment.route,
                text: text.to_owned(),
            });
        }
        Intent::Complaint | Intent::Escalation => start_complaint(turn, out),
        // A question the bot cannot answer is passed to a person, honestly.
        Intent::Other if !urgent && is_question(text) => hand_over_question(turn, out),
        Intent::Other => {
            if !urgent {
                out.replies.push(turn.say("other"));
            }
        }
    }
}

/// A question only a person can answer: a member of staff is asked to reply, the
/// conversation shows as needing a person, and the resident is told so.
fn hand_over_question(turn: &Turn<'_>, out: &mut Step) {
    out.effects.push(Effect::Enquiry {
        text: turn.text.clone(),
    });
    out.effects.push(Effect::HandOver {
        why: HandOverWhy::Question,
    });
    // "When will someone come?" with a repair open: what the record knows (the request and
    // its date; appointments are not in it), and a person asked for the rest.
    let about_the_visit = {
        let t = turn.text.to_lowercase();
        [
            "come",
            "coming",
            "visit",
            "engineer",
            "appointment",
            "fix",
            "repair",
        ]
        .iter()
        .any(|w| t.contains(w))
    };
    match turn.state.service_request_on {
        Some(on) if turn.state.open_service_request && about_the_visit => {
            let mut v = turn.values.clone();
            v.insert("received", date(on));
            out.replies.push(turn.locale.say("visit_question", &v));
        }
        _ => out.replies.push(turn.say("enquiry")),
    }
}

/// Offers the choice to complain (1.3); with a request still open, says it carries on (1.5).
/// `text` is what the resident said they are unhappy about. A matter with a route of its own
/// (anti-social behaviour reported with "you never do anything") gets that route's signpost
/// and the choice to complain about the landlord's handling.
pub(super) fn offer(turn: &Turn<'_>, text: &str, out: &mut Step) {
    let (assessment, env) = (turn.assessment, turn.env);
    out.state.heard = text.to_owned();
    out.state.received_at = out.state.received_at.or(Some(env.now));
    out.state.suggested_route = (assessment.route != Route::Complaints).then_some(assessment.route);
    let route = if assessment.route == Route::Complaints
        && assessment.reasons.iter().any(|r| r.rule == policy::ASB_TOO)
    {
        Route::Asb
    } else {
        assessment.route
    };
    if route != Route::Complaints
        && let Some(setting) = env.profile.routes.setting(route)
    {
        let mut v = turn.values.clone();
        v.insert("signpost", setting.signpost.clone());
        out.replies.push(turn.locale.say("other_route", &v));
        out.effects.push(Effect::OtherRoute {
            route,
            text: text.to_owned(),
        });
    }
    let open_request = turn.state.open_service_request;
    let mut v = turn.values.clone();
    let found: Vec<String> = turn
        .assessment
        .reasons
        .iter()
        .flat_map(|r| r.words.clone())
        .collect();
    v.insert("heard", gist(text, &found, 160));
    out.replies.push(turn.locale.say(
        if open_request {
            "offer_open_request"
        } else {
            "offer"
        },
        &v,
    ));
    out.state.phase = Phase::Offered { open_request };
    out.effects.push(Effect::Offered);
}

/// Offered the choice to complain (1.3): a complaint, a service request, or neither.
pub(super) fn offered(turn: &Turn<'_>, open_request: bool, out: &mut Step) {
    let template = if open_request {
        "offer_open_request"
    } else {
        "offer"
    };
    let choices = &turn.locale.messages[template].choices;
    let Some(choice) = pick(choices, turn.input) else {
        // The resident moved on: listen to what they said instead.
        out.state.phase = Phase::Listening;
        listen(turn, out);
        return;
    };
    out.effects.push(Effect::OfferAnswered {
        choice: choice.key.clone(),
    });
    let heard = &turn.state.heard;
    match choice.key.as_str() {
        "complaint" => start_complaint(turn, out),
        "service_request" => {
            out.effects.push(Effect::Dissatisfaction {
                heard: heard.clone(),
                declined: true,
            });
            out.effects.push(Effect::ServiceRequest {
                text: heard.clone(),
            });
            out.state.open_service_request = true;
            out.state.service_request_on = Some(turn.today());
            out.state.phase = Phase::Listening;
            out.replies.push(turn.say("service_request"));
            super::contact::ask(turn, false, false, out);
        }
        _ => {
            // Seed 000: still logged as an expression of dissatisfaction.
            out.effects.push(Effect::Dissatisfaction {
                heard: heard.clone(),
                declined: true,
            });
            out.state.phase = Phase::Listening;
            out.replies.push(turn.say("declined"));
        }
    }
}

/// Asked whether a new grievance is about the complaint `reference` (6.8): the same issue
/// joins it before its stage 1 response and asks for stage 2 after it; another issue is
/// offered as a complaint of its own.
pub(super) fn relating(turn: &Turn<'_>, reference: &str, out: &mut Step) {
    let state = turn.state;
    let mut v = turn.values.clone();
    v.insert("reference", reference.to_owned());
    let relate = turn.locale.say("relate", &v);
    match pick(&relate.choices, turn.input).map(|c| c.key.as_str()) {
        Some("same") => {
            out.state.phase = Phase::Listening;
            if state
                .open_complaint()
                .is_some_and(|c| c.reference == reference)
            {
                out.effects.push(Effect::JoinCase {
                    reference: reference.to_owned(),
                    text: state.heard.clone(),
                });
                out.replies.push(turn.locale.say("joined", &v));
            } else {
                escalate(turn, out);
            }
            out.state.heard.clear();
        }
        Some(_) => {
            out.state.phase = Phase::Listening;
            offer(turn, &state.heard, out);
        }
        None => {
            out.state.phase = Phase::Listening;
            listen(turn, out);
        }
    }
}

/// The privacy notice was shown (consent and privacy: see [`crate::code`]): details are asked only with consent.
pub(super) fn consent(turn: &Turn<'_>, out: &mut Step) {
    let choices = &turn.locale.messages["privacy"].choices;
    match pick(choices, turn.input).map(|c| c.key.as_str()) {
        Some("yes") => {
            out.effects.push(Effect::Consent {
                given: true,
                wording_version: PRIVACY_VERSION.to_owned(),
            });
            out.state.consent_at = Some(turn.env.now);
            ask_next(turn, 0, out);
            if matches!(out.state.phase, Phase::Confirming) {
                out.replies.push(confirm(turn, &out.state));
            }
        }
        Some(_) => {
            out.effects.push(Effect::Consent {
                given: false,
                wording_version: PRIVACY_VERSION.to_owned(),
            });
            out.effects.push(Effect::Dissatisfaction {
                heard: turn.state.heard.clone(),
                declined: true,
            });
            out.state.phase = Phase::Listening;
            out.replies.push(turn.say("privacy_refused"));
        }
        // Neither yes nor no: a short hint, not the whole notice again.
        None => out.replies.push(turn.say("privacy_hint")),
    }
}

/// Asking complaint question `index`; after a long quiet, the question again with a reminder.
pub(super) fn asking(turn: &Turn<'_>, index: usize, out: &mut Step) {
    let q = &turn.locale.questions[index];
    if turn.idle {
        let mut v = turn.values.clone();
        let question = super::complaint::question(turn, index, &turn.state.answers);
        v.insert("question", question.text);
        out.replies.push(turn.locale.say("resume", &v));
        if let Some(last) = out.replies.last_mut() {
            last.choices = question.choices;
        }
        return;
    }
    let answer = match q.kind {
        QuestionKind::Text => Some(turn.text.clone()),
        QuestionKind::Choice => {
            pick(&super::complaint::choices(turn, index), turn.input).map(|c| c.key.clone())
        }
        QuestionKind::ContactDetail => match super::complaint::contact_detail(turn) {
            Ok(detail) => Some(detail),
            Err(problem) => {
                out.replies.push(problem);
                return;
            }
        },
    };
    // A long answer that also asks for a person is kept as the answer, and a person is
    // asked to join as well.
    if answer.is_some() && q.kind == QuestionKind::Text && asks_for_person(&turn.text) {
        out.effects.push(Effect::HandOver {
            why: HandOverWhy::Asked,
        });
        out.replies.push(turn.say("human"));
    }
    match answer {
        Some(a) => {
            let assessment = turn.assessment;
            // 2.3: an issue more than 12 months old is never refused here; staff
            // are told, to use their discretion.
            let long_ago = assessment.route == Route::OutOfTime
                || assessment
                    .reasons
                    .iter()
                    .any(|r| r.rule == "note.more_than_12_months_ago");
            if q.id == "when" && long_ago {
                out.state.suggested_route = Some(Route::OutOfTime);
            }
            out.state.answers.insert(q.id.clone(), a);
            ask_next(turn, index + 1, out);
            if matches!(out.state.phase, Phase::Confirming) {
                out.replies.push(confirm(turn, &out.state));
            }
        }
        None => out
            .replies
            .push(super::complaint::question(turn, index, &turn.state.answers)),
    }
}

/// The complaint definition was read back (5.6): yes opens the complaint; anything else
/// corrects it.
pub(super) fn confirming(turn: &Turn<'_>, mut out: Step) -> Outcome {
    let choices = &turn.locale.messages["confirm"].choices;
    match pick(choices, turn.input).map(|c| c.key.as_str()) {
        Some("yes") => return Outcome::OpensCase(acknowledge(turn, out)),
        Some(_) => {
            out.state.phase = Phase::Correcting;
            out.replies.push(turn.say("correct"));
        }
        None => {
            // Anything else is taken as a correction to the definition (5.6).
            add_correction(&mut out.state, &turn.text);
            out.replies.push(confirm(turn, &out.state));
        }
    }
    Outcome::Done(out)
}

/// The resident said the definition was wrong: what they say now corrects it (5.6).
pub(super) fn correcting(turn: &Turn<'_>, out: &mut Step) {
    add_correction(&mut out.state, &turn.text);
    out.state.phase = Phase::Confirming;
    out.replies.push(confirm(turn, &out.state));
}

/// Emergency numbers and urgent alerts for the risks the message raises, before anything else.
pub(super) fn safety(
    assessment: &Assessment,
    locale: &Locale,
    values: &BTreeMap<&str, String>,
    replies: &mut Vec<Reply>,
    effects: &mut Vec<Effect>,
) {
    let words = |rule: &str| -> Vec<String> {
        assessment
            .reasons
            .iter()
            // The rules' words, or the words behind the learned layer's finding.
            .filter(|r| {
                r.rule.starts_with(rule)
                    || r.rule
                        .strip_prefix("learned.")
                        .is_some_and(|l| l.starts_with(rule))
            })
            .flat_map(|r| r.words.clone())
            .collect()
    };
    if assessment.has_risk(Risk::Emergency) {
        replies.push(locale.say("emergency", values));
        effects.push(Effect::UrgentAlert {
            risk: Risk::Emergency,
            words: words("risk.emergency"),
        });
    }
    if assessment.has_risk(Risk::Safeguarding) {
        replies.push(locale.say("safeguarding", values));
        effects.push(Effect::UrgentAlert {
            risk: Risk::Safeguarding,
            words: words("risk.safeguarding"),
        });
    }
    for (risk, kind) in [
        (Risk::HealthSafety, "health_safety"),
        (Risk::Vulnerability, "vulnerability"),
    ] {
        if assessment.has_risk(risk) {
            effects.push(Effect::Alert {
                kind: kind.to_owned(),
                detail: words(&format!("risk.{kind}")).join(", "),
            });
        }
    }
}

/// A request about the resident's personal data: tracked for staff with its statutory month
/// (UK GDPR art. 12(3)), and the date told to the resident. Withdrawing consent also stops the
/// complaint being made here, since its details need consent.
pub(super) fn privacy_request(turn: &Turn<'_>, kind: RequestKind, out: &mut Step) {
    let due_on = calendar_months_after(turn.today(), 1);
    out.effects.push(Effect::TrackedRequest {
        kind,
        detail: turn.text.clone(),
        due_on,
    });
    let mut v = turn.values.clone();
    v.insert("due", date(due_on));
    out.replies.push(turn.locale.say(kind.as_str(), &v));
    if kind == RequestKind::Objection {
        out.state.consent_at = None;
        out.state.phase = Phase::Listening;
    }
}

/// Where the resident's latest complaint is, or that this chat has none.
pub(super) fn status(turn: &Turn<'_>, out: &mut Step) {
    match turn.state.cases.last() {
        Some(case) => {
            let mut v = turn.values.clone();
            v.insert("reference", case.reference.clone());
            v.insert("stage", case.stage.to_string());
            v.insert(
                "status",
                if case.closed {
                    "we have sent our response and closed the complaint".to_owned()
                } else if case.responded {
                    "we have sent our response".to_owned()
                } else {
                    "we are looking into it".to_owned()
                },
            );
            v.insert("received", date(case.received_on));
            v.insert("due", date(case.due_on));
            out.replies.push(turn.locale.say("status", &v));
        }
        None => out.replies.push(turn.say("no_case")),
    }
}
