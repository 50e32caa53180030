//! The feedback question after a complaint closes, step by step: a score by button, number or
//! words; an optional comment; a skip at either step; and something else said instead, which
//! is answered as any other message and never kept as feedback.

use super::super::*;
use crate::core::policy::{Context, Policy};

const REFERENCE: &str = "C2026-00007";

struct World {
    dialogs: Dialogs,
    profile: LandlordProfile,
    calendar: crate::core::calendar::Calendar,
    policy: Policy,
}

impl World {
    fn new() -> World {
        let profile = LandlordProfile::default();
        World {
            dialogs: Dialogs::shipped().expect("dialogs"),
            calendar: profile.calendar(),
            profile,
            policy: Policy::shipped().expect("policy"),
        }
    }

    /// One step from `state` on `input`; a step never opens a complaint here.
    fn step(&self, state: &State, input: Input) -> Step {
        let env = Env {
            dialogs: &self.dialogs,
            locale: DEFAULT_LOCALE,
            profile: &self.profile,
            deadlines: Deadlines {
                calendar: &self.calendar,
                timescales: &self.profile.timescales,
            },
            now: "2026-12-14T10:00:00Z".parse().expect("now"),
            resume_after: chrono::Duration::hours(12),
            reach: Reach::default(),
        };
        let text = match &input {
            Input::Text(t) | Input::Choice(t) => t.clone(),
            _ => String::new(),
        };
        let assessment = self.policy.assess(&text, &Context::default());
        match step(state, &assessment, &input, &env) {
            Outcome::Done(done) => done,
            Outcome::OpensCase(_) => panic!("{text:?} opened a complaint"),
        }
    }
}

/// A conversation whose complaint was closed and the question asked.
fn asked(phase: Phase) -> State {
    State {
        phase,
        cases: vec![CaseSummary {
            reference: REFERENCE.to_owned(),
            stage: 1,
            received_on: "2026-11-23".parse().expect("date"),
            acknowledged_on: "2026-11-23".parse().expect("date"),
            due_on: "2026-12-07".parse().expect("date"),
            responded: true,
            closed: true,
        }],
        last_message_at: Some("2026-12-14T09:59:00Z".parse().expect("then")),
        ..State::default()
    }
}

fn score_question() -> State {
    asked(Phase::Feedback {
        reference: REFERENCE.to_owned(),
    })
}

fn comment_question() -> State {
    asked(Phase::FeedbackComment {
        reference: REFERENCE.to_owned(),
    })
}

fn feedback_effects(step: &Step) -> Vec<&Effect> {
    step.effects
        .iter()
        .filter(|e| {
            matches!(
                e,
                Effect::FeedbackAsked { .. }
                    | Effect::FeedbackScore { .. }
                    | Effect::FeedbackComment { .. }
                    | Effect::FeedbackSkipped { .. }
            )
        })
        .collect()
}

fn text(step: &Step) -> String {
    step.replies
        .iter()
        .map(|r| r.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_score_by_button_number_or_words_is_kept_and_a_comment_invited() {
    let world = World::new();
    for (input, score) in [
        (Input::Choice("4".to_owned()), 4),
        (Input::Text("1".to_owned()), 1),
        (Input::Text("5 out of 5".to_owned()), 5),
        (Input::Text("3/5".to_owned()), 3),
        (Input::Text("Very satisfied".to_owned()), 5),
        (Input::Text("dissatisfied".to_owned()), 2),
        (Input::Text("2 Dissatisfied".to_owned()), 2),
    ] {
        let done = world.step(&score_question(), input.clone());
        assert_eq!(
            feedback_effects(&done),
            [&Effect::FeedbackScore {
                reference: REFERENCE.to_owned(),
                score
            }],
            "{input:?}"
        );
        assert_eq!(
            done.state.phase,
            Phase::FeedbackComment {
                reference: REFERENCE.to_owned()
            }
        );
        assert!(text(&done).contains("anything you would like to tell us"));
        assert!(
            done.replies
                .last()
                .is_some_and(|r| r.choices.iter().any(|c| c.key == "skip")),
            "the comment can be skipped"
        );
    }
}

#[test]
fn the_question_has_a_button_for_each_score_and_skip_and_promises_nothing() {
    let world = World::new();
    let locale = world.dialogs.locale(DEFAULT_LOCALE);
    let ask = locale.text(FEEDBACK_QUESTION);
    let keys: Vec<&str> = ask.choices.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["1", "2", "3", "4", "5", "skip"]);
    for key in [
        FEEDBACK_QUESTION,
        "feedback_comment",
        "feedback_thanks",
        "feedback_skipped",
    ] {
        assert_eq!(locale.text(key).promise, None, "{key}");
    }
}

#[test]
fn skipping_the_score_keeps_nothing_but_the_skip() {
    let world = World::new();
    for input in [
        Input::Choice("skip".to_owned()),
        Input::Text("skip".to_owned()),
        Input::Text("no thanks".to_owned()),
        Input::Text("Not now".to_owned()),
    ] {
        let done = world.step(&score_question(), input.clone());
        assert_eq!(
            feedback_effects(&done),
            [&Effect::FeedbackSkipped {
                reference: REFERENCE.to_owned()
            }],
            "{input:?}"
        );
        assert_eq!(done.state.phase, Phase::Listening);
        assert!(text(&done).contains("No problem"));
    }
}

#[test]
fn a_comment_is_kept_and_skipping_it_keeps_none() {
    let world = World::new();
    let said = "It took far too long and nobody rang me back";
    let done = world.step(&comment_question(), Input::Text(said.to_owned()));
    assert_eq!(
        feedback_effects(&done),
        [&Effect::FeedbackComment {
            reference: REFERENCE.to_owned(),
            text: said.to_owned()
        }]
    );
    assert_eq!(done.state.phase, Phase::Listening);
    assert!(text(&done).contains("Thank you for your feedback"));
    // Not read as a new complaint or a request for a person: no offer, no hand-over.
    assert!(
        !done
            .effects
            .iter()
            .any(|e| matches!(e, Effect::Offered | Effect::HandOver { .. }))
    );

    for input in [
        Input::Choice("skip".to_owned()),
        Input::Text("no".to_owned()),
    ] {
        let done = world.step(&comment_question(), input.clone());
        assert!(feedback_effects(&done).is_empty(), "{input:?}");
        assert_eq!(done.state.phase, Phase::Listening);
        assert!(text(&done).contains("Thank you for your feedback"));
    }
}

#[test]
fn a_new_problem_instead_of_a_score_or_comment_is_answered_as_usual() {
    let world = World::new();
    for state in [score_question(), comment_question()] {
        let done = world.step(
            &state,
            Input::Text(
                "my kitchen tap is leaking everywhere, can someone come and fix it".to_owned(),
            ),
        );
        assert!(
            feedback_effects(&done).is_empty(),
            "{:?}: {:?}",
            state.phase,
            done.effects
        );
        assert!(
            done.effects
                .iter()
                .any(|e| matches!(e, Effect::ServiceRequest { .. })),
            "the repair is logged: {:?}",
            done.effects
        );
        assert!(!matches!(
            done.state.phase,
            Phase::Feedback { .. } | Phase::FeedbackComment { .. }
        ));
    }
    // "I want to make a complaint" after the score is a new complaint, not a comment.
    let done = world.step(
        &comment_question(),
        Input::Text("I want to make a complaint".to_owned()),
    );
    assert!(feedback_effects(&done).is_empty(), "{:?}", done.effects);
    assert!(matches!(
        done.state.phase,
        Phase::Consent | Phase::Asking { .. }
    ));
}

#[test]
fn an_emergency_drops_the_question_and_gives_the_numbers() {
    let world = World::new();
    let done = world.step(
        &score_question(),
        Input::Text("there is a strong smell of gas in my kitchen".to_owned()),
    );
    assert!(feedback_effects(&done).is_empty());
    assert!(text(&done).contains("0800 111 999"));
    assert!(!matches!(done.state.phase, Phase::Feedback { .. }));
}

#[test]
fn a_pending_question_is_asked_once_the_conversation_is_at_rest() {
    let world = World::new();
    let pending = State {
        feedback_pending: Some(REFERENCE.to_owned()),
        ..asked(Phase::Listening)
    };
    let done = world.step(&pending, Input::Text("thanks".to_owned()));
    assert_eq!(
        feedback_effects(&done),
        [&Effect::FeedbackAsked {
            reference: REFERENCE.to_owned()
        }]
    );
    assert_eq!(done.state.feedback_pending, None);
    assert_eq!(
        done.state.phase,
        Phase::Feedback {
            reference: REFERENCE.to_owned()
        }
    );
    let last = done.replies.last().expect("the question");
    assert!(last.text.contains(REFERENCE) && last.choices.len() == 6);

    // Part way through a new complaint: not asked yet, still pending.
    let busy = State {
        phase: Phase::Asking { index: 0 },
        consent_at: Some("2026-12-14T09:58:00Z".parse().expect("then")),
        ..pending.clone()
    };
    let done = world.step(&busy, Input::Text("Sam Jones".to_owned()));
    assert!(feedback_effects(&done).is_empty());
    assert_eq!(done.state.feedback_pending.as_deref(), Some(REFERENCE));
}
