//! The learned layer under the rules: one linear head per field over hashed word and
//! character n-grams of the message's normal form.
//!
//! The rules are precise on the wordings they know and blind to the rest; residents write in
//! more ways than any word list holds. The heads were fitted (`intake policy train`) on the
//! labelled corpus in `tests/corpus/`, and `Policy::assess` combines their scores with the
//! rules in one documented decision per field (see [`Decisions`]).
//!
//! Features are those of the normal form the rules read (look-alike letters, text-speak and
//! zero-width characters already undone), so a message written to slip past the rules looks
//! the same to the heads:
//! - every word, and every pair of neighbouring words in a sentence;
//! - every 3- and 4-byte piece of each word with a space either side (" gas", "gas ", "mou"),
//!   which carries misspellings, plurals and other languages' word forms;
//! - each sentence that asks a question, each family of the rules' words found (the lexicon's
//!   signals), each of the rules' own conclusions, and what is already known of the case.
//!
//! Each feature is hashed into one of 2^bits rows with a sign (so collisions cancel rather than
//! add up), every occurrence counts `1/sqrt(n)` for a message of `n` features, and a head's
//! score is its bias plus the weighted sum, through the logistic function (softmax across the
//! classes of intent and of route). Weights are stored as one signed byte per head per row with
//! a scale per head: a 65,536-row model is 1.5 MB and is read in well under a millisecond.
//!
//! The features are computed in `features`; the model file is read, written and scored in
//! `model`.

mod features;
mod model;

use serde::{Deserialize, Serialize};

use super::{Intent, Risk, Route};

pub use features::{Feature, features};
pub use model::{Header, Model, ModelError};

/// Heads, in the order of their weights in a row.
pub const HEADS: usize = 24;
/// The first head of each field.
pub const DISSATISFIED: usize = 0;
pub const INTENT: usize = 1;
pub const ROUTE: usize = INTENT + 9;
pub const RISKS: usize = ROUTE + 8;
pub const REPRESENTATIVE: usize = RISKS + 4;
// Head 23 is unused: 24 bytes a row keeps rows aligned for the summing loop.

/// How the rules and a binary head's score combine into one decision. The field is set when
/// - the rules found it and the score is at least `with_rule`; or
/// - the message holds words of the field's family (a hint: for an emergency, a hazard or a
///   fault; for dissatisfaction, displeasure, a failure or a wait; see [`hints`]) and the
///   score is at least `with_hint`; or
/// - the score alone is at least `alone`.
///
/// So an emergency needs the heads' agreement and a hazard word, or a very high score: a boiler
/// that is merely noisy does not wake a manager. `with_rule = 0` keeps every rule finding;
/// thresholds above 1 switch a path off.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Binary {
    pub with_rule: f32,
    pub with_hint: f32,
    pub alone: f32,
}

impl Binary {
    /// The rules alone.
    pub const RULES: Binary = Binary {
        with_rule: 0.0,
        with_hint: 2.0,
        alone: 2.0,
    };

    pub fn decide(&self, rule: bool, hint: bool, score: f32) -> bool {
        rule && score >= self.with_rule || hint && score >= self.with_hint || score >= self.alone
    }
}

/// Which binary fields have words of their family in the message (from the lexicon's
/// signals): dissatisfied, the four risks in `Risk` order, representative.
pub fn hints(signals: u64) -> [bool; 6] {
    use super::Signal as S;
    let any = |set: &[S]| set.iter().any(|s| signals & (1 << (*s as u64)) != 0);
    [
        any(&[
            S::ComplaintWord,
            S::NegativeJudgement,
            S::Failure,
            S::WeakFailure,
            S::Sarcasm,
            S::Escalation,
            S::Blame,
        ]),
        any(&[S::Emergency, S::HealthSafety, S::Fault]),
        any(&[S::HealthSafety, S::Emergency, S::Fault]),
        any(&[S::Safeguarding, S::Vulnerability, S::Agency, S::Nuisance]),
        any(&[S::Vulnerability, S::Children, S::Safeguarding]),
        any(&[
            S::RepresentativeRole,
            S::RepresentativeRelation,
            S::RepresentativeLink,
        ]),
    ]
}

/// How a head's choice among classes (intent, route) replaces the rules' choice: when its
/// most likely class, among those consistent with the other fields, has probability at least
/// `over_rule`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub over_rule: f32,
}

impl Choice {
    pub const RULES: Choice = Choice { over_rule: 2.0 };
}

/// One decision per field, chosen by cross-validation on the corpus when the model was fitted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Decisions {
    pub dissatisfied: Binary,
    pub emergency: Binary,
    pub health_safety: Binary,
    pub safeguarding: Binary,
    pub vulnerability: Binary,
    pub representative: Binary,
    pub intent: Choice,
    pub route: Choice,
}

impl Decisions {
    /// The rules alone, as the engine was before the learned layer.
    pub const RULES: Decisions = Decisions {
        dissatisfied: Binary::RULES,
        emergency: Binary::RULES,
        health_safety: Binary::RULES,
        safeguarding: Binary::RULES,
        vulnerability: Binary::RULES,
        representative: Binary::RULES,
        intent: Choice::RULES,
        route: Choice::RULES,
    };

    pub fn risk(&self, risk: Risk) -> &Binary {
        match risk {
            Risk::Emergency => &self.emergency,
            Risk::HealthSafety => &self.health_safety,
            Risk::Safeguarding => &self.safeguarding,
            Risk::Vulnerability => &self.vulnerability,
        }
    }

    pub fn risk_mut(&mut self, risk: Risk) -> &mut Binary {
        match risk {
            Risk::Emergency => &mut self.emergency,
            Risk::HealthSafety => &mut self.health_safety,
            Risk::Safeguarding => &mut self.safeguarding,
            Risk::Vulnerability => &mut self.vulnerability,
        }
    }
}

/// The model shipped with the product, fitted on `tests/corpus/`.
pub const SHIPPED: &[u8] = include_bytes!("model.bin");

/// The scores of every head for one message: probabilities in 0..=1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores(pub [f32; HEADS]);

impl Scores {
    pub fn dissatisfied(&self) -> f32 {
        self.0[DISSATISFIED]
    }
    pub fn intent(&self, intent: Intent) -> f32 {
        self.0[INTENT + intent as usize]
    }
    pub fn route(&self, route: Route) -> f32 {
        self.0[ROUTE + route as usize]
    }
    pub fn risk(&self, risk: Risk) -> f32 {
        self.0[RISKS + risk as usize]
    }
    pub fn representative(&self) -> f32 {
        self.0[REPRESENTATIVE]
    }
}

/// Turns raw head sums into probabilities: logistic for the binary heads, softmax across
/// intent and across route.
pub fn squash(raw: &[f32; HEADS]) -> Scores {
    let mut p = [0f32; HEADS];
    p[DISSATISFIED] = sigmoid(raw[DISSATISFIED]);
    softmax(&raw[INTENT..ROUTE], &mut p[INTENT..ROUTE]);
    softmax(&raw[ROUTE..RISKS], &mut p[ROUTE..RISKS]);
    for h in RISKS..=REPRESENTATIVE {
        p[h] = sigmoid(raw[h]);
    }
    Scores(p)
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

pub fn softmax(raw: &[f32], out: &mut [f32]) {
    let max = raw.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for (o, r) in out.iter_mut().zip(raw) {
        *o = (r - max).exp();
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}

#[cfg(test)]
mod tests;
