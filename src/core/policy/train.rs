//! Fitting the learned layer, choosing how it combines with the rules, and scoring the
//! engine on labelled messages.
//!
//! Pure: the caller reads the corpus (`tests/corpus/*.jsonl`, see `LABELS.md`) and writes the
//! model file. The same corpus, options and seed give the same model, byte for byte: the
//! examples are shuffled by a seeded generator and every sum is taken in a fixed order.
//!
//! - `corpus`: labelled messages read in, and the engine scored on them.
//! - this module: fitting the heads, with cross-validated scores for every message.
//! - `decisions`: choosing each field's decision on those scores.
//! - `correction`: a member of staff's correction kept as a labelled example.

mod corpus;
mod correction;
mod decisions;

use super::learned::{
    self, DISSATISFIED, Decisions, HEADS, INTENT, Model, REPRESENTATIVE, RISKS, ROUTE, Scores,
};
use super::{Assessment, Policy};

pub use corpus::{
    CorpusContext, Counts, Expect, Labelled, Report, corpus_day, evaluate, parse_lines, wilson,
};
pub use correction::{Correction, corrected_example};
pub use decisions::PRECISION_FLOORS;

/// How a model is fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// 2^bits rows of weights.
    pub bits: u32,
    pub epochs: u32,
    pub seed: u64,
    /// Folds of the cross-validation that chooses the decisions.
    pub folds: usize,
    /// AdaGrad's step size and the L2 penalty.
    pub rate: f32,
    pub l2: f32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            bits: 16,
            epochs: 8,
            seed: 2026,
            folds: 5,
            rate: 0.4,
            l2: 1e-6,
        }
    }
}

impl Options {
    /// How a model was made, as its header records it.
    pub fn describe(&self, lines: usize, corpus: &str) -> String {
        format!(
            "{lines} messages from {corpus}, seed {}, {} bits, {} epochs",
            self.seed, self.bits, self.epochs
        )
    }
}

/// One message turned into features and labels.
struct Example {
    features: Vec<(u32, f32)>,
    /// Which binary fields have words of their family in the message (`learned::hints`).
    hints: [bool; 6],
    dissatisfied: Option<bool>,
    intent: Option<usize>,
    route: Option<usize>,
    risks: Option<[bool; 4]>,
    representative: Option<bool>,
}

fn example(policy: &Policy, line: &Labelled, mask: u32) -> Example {
    let (norm, signals, rules) = policy.prepare(&line.text, &line.context());
    let mut rows = Vec::new();
    learned::features(&norm, &line.context(), signals, rules, mask, |f| {
        rows.push((f.row, f.negative))
    });
    let value = if rows.is_empty() {
        0.0
    } else {
        1.0 / (rows.len() as f32).sqrt()
    };
    let e = &line.expect;
    Example {
        hints: learned::hints(signals),
        features: rows
            .into_iter()
            .map(|(r, neg)| (r, if neg { -value } else { value }))
            .collect(),
        dissatisfied: e.dissatisfied,
        intent: e.intent.map(|i| i as usize),
        route: e.route.map(|r| r as usize),
        risks: e.risks.as_ref().map(|set| {
            let mut out = [false; 4];
            for r in set {
                out[*r as usize] = true;
            }
            out
        }),
        representative: e.representative,
    }
}

/// A small seeded generator (xorshift64*), so shuffles are the same on every machine.
struct Seeded(u64);

impl Seeded {
    fn new(seed: u64) -> Seeded {
        Seeded(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Fits every head by AdaGrad on the logistic (and softmax) loss. Returns the biases and the
/// row-major weights.
fn fit(examples: &[&Example], options: &Options) -> ([f32; HEADS], Vec<f32>) {
    let rows = 1usize << options.bits;
    let mut w = vec![0f32; rows * HEADS];
    let mut g2 = vec![0f32; rows * HEADS];
    let mut bias = [0f32; HEADS];
    let mut bias_g2 = [0f32; HEADS];
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = Seeded::new(options.seed);
    const EPS: f32 = 1e-6;
    for _ in 0..options.epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            let ex = examples[i];
            let mut raw = bias;
            for &(row, v) in &ex.features {
                let at = row as usize * HEADS;
                for h in 0..HEADS {
                    raw[h] += v * w[at + h];
                }
            }
            let p = learned::squash(&raw).0;
            let mut grad = [0f32; HEADS];
            if let Some(d) = ex.dissatisfied {
                grad[DISSATISFIED] = p[DISSATISFIED] - f32::from(u8::from(d));
            }
            if let Some(k) = ex.intent {
                for c in 0..9 {
                    grad[INTENT + c] = p[INTENT + c] - f32::from(u8::from(c == k));
                }
            }
            if let Some(k) = ex.route {
                for c in 0..8 {
                    grad[ROUTE + c] = p[ROUTE + c] - f32::from(u8::from(c == k));
                }
            }
            if let Some(risks) = ex.risks {
                for (r, yes) in risks.iter().enumerate() {
                    grad[RISKS + r] = p[RISKS + r] - f32::from(u8::from(*yes));
                }
            }
            if let Some(rep) = ex.representative {
                grad[REPRESENTATIVE] = p[REPRESENTATIVE] - f32::from(u8::from(rep));
            }
            for h in 0..HEADS {
                if grad[h] != 0.0 {
                    bias_g2[h] += grad[h] * grad[h];
                    bias[h] -= options.rate * grad[h] / (bias_g2[h] + EPS).sqrt();
                }
            }
            for &(row, v) in &ex.features {
                let at = row as usize * HEADS;
                for h in 0..HEADS {
                    if grad[h] == 0.0 {
                        continue;
                    }
                    let g = grad[h] * v + options.l2 * w[at + h];
                    g2[at + h] += g * g;
                    w[at + h] -= options.rate * g / (g2[at + h] + EPS).sqrt();
                }
            }
        }
    }
    (bias, w)
}

/// What training found, for the person who ran it.
#[derive(Debug, Clone)]
pub struct Training {
    pub model: Model,
    /// The rules alone, scored on the corpus.
    pub rules: Report,
    /// The combined engine on held-out folds of the corpus (each message assessed by a model
    /// that never saw it).
    pub cross_validated: Report,
}

/// Fits a model on `lines`, choosing each field's decision by cross-validation.
pub fn train(base: &Policy, lines: &[Labelled], options: &Options, trained: String) -> Training {
    let mask = (1u32 << options.bits) - 1;
    let examples: Vec<Example> = lines.iter().map(|l| example(base, l, mask)).collect();
    let rules_only = base.clone().with_model(None);

    // Out-of-fold scores: each message scored by a model fitted without its fold.
    let mut fold_of: Vec<usize> = (0..lines.len()).map(|i| i % options.folds).collect();
    Seeded::new(options.seed ^ 0xf01d).shuffle(&mut fold_of);
    let mut oof: Vec<Scores> = vec![Scores([0.0; HEADS]); lines.len()];
    for fold in 0..options.folds {
        let train: Vec<&Example> = examples
            .iter()
            .zip(&fold_of)
            .filter(|(_, f)| **f != fold)
            .map(|(e, _)| e)
            .collect();
        let (bias, w) = fit(&train, options);
        let model = Model::quantise(options.bits, bias, &w, Decisions::RULES, String::new());
        for (i, line) in lines.iter().enumerate() {
            if fold_of[i] == fold {
                let (norm, signals, rules) = base.prepare(&line.text, &line.context());
                oof[i] = model.score_features(&model.features_of(
                    &norm,
                    &line.context(),
                    signals,
                    rules,
                ));
            }
        }
    }

    let rule_assessments: Vec<Assessment> = lines
        .iter()
        .map(|l| rules_only.assess(&l.text, &l.context()))
        .collect();
    let mut rules = Report::default();
    for (line, a) in lines.iter().zip(&rule_assessments) {
        rules.add(line, a);
    }
    let hints: Vec<[bool; 6]> = examples.iter().map(|e| e.hints).collect();
    let decisions = decisions::choose(base, lines, &rule_assessments, &hints, &oof);

    let mut cross_validated = Report::default();
    for (i, line) in lines.iter().enumerate() {
        let a = base.assess_scored(&line.text, &line.context(), Some(&oof[i]), &decisions);
        cross_validated.add(line, &a);
    }

    let all: Vec<&Example> = examples.iter().collect();
    let (bias, w) = fit(&all, options);
    let model = Model::quantise(options.bits, bias, &w, decisions, trained);
    Training {
        model,
        rules,
        cross_validated,
    }
}

#[cfg(test)]
mod tests;
