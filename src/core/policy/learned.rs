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

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::normalise::{Normalised, SENTENCE_BREAK};
use super::{Context, Intent, Risk, Route};

/// Heads, in the order of their weights in a row.
pub const HEADS: usize = 24;
/// The first head of each field.
pub const DISSATISFIED: usize = 0;
pub const INTENT: usize = 1;
pub const ROUTE: usize = INTENT + 9;
pub const RISKS: usize = ROUTE + 8;
pub const REPRESENTATIVE: usize = RISKS + 4;
// Head 23 is unused: 24 bytes a row keeps rows aligned for the summing loop.

/// What marks the start of a model file.
const MAGIC: &str = "intake-policy-model";
const FORMAT: u32 = 1;

/// Words too common to explain anything to staff.
const FILLER: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "for", "from", "had", "has",
    "have", "i", "im", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "so", "that",
    "the", "their", "them", "there", "they", "this", "to", "was", "we", "were", "with", "you",
    "your",
];

/// The longest word cut into character pieces: a pasted link or a row of letters says
/// nothing more after 32 bytes.
const MAX_PIECED_WORD: usize = 32;

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

/// What a model file says about itself, before its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub magic: String,
    pub format: u32,
    /// A short digest of everything else in the file: which model assessed a message.
    pub version: String,
    /// How the model was made, for people: the corpus size, the seed, the command.
    pub trained: String,
    pub bits: u32,
    pub bias: Vec<f32>,
    pub scale: Vec<f32>,
    pub decisions: Decisions,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("not a policy model file (it should start with a line holding \"{MAGIC}\")")]
    NotAModel,
    #[error("the model file's header is not valid: {0}")]
    Header(String),
    #[error(
        "the model file is cut short or has extra bytes: {got} bytes of weights, {expected} expected"
    )]
    Size { got: usize, expected: usize },
    #[error(
        "the model file's version {stated} does not match its contents ({actual}); it was changed or damaged"
    )]
    Version { stated: String, actual: String },
}

/// A fitted model: the heads' weights and the decisions that combine them with the rules.
#[derive(Clone, PartialEq)]
pub struct Model {
    header: Header,
    mask: u32,
    bias: [f32; HEADS],
    scale: [f32; HEADS],
    /// `rows * HEADS` signed bytes, row-major.
    weights: Vec<i8>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("version", &self.header.version)
            .field("bits", &self.header.bits)
            .finish_non_exhaustive()
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

/// One feature of a message: its row, its sign, and the word it came from (for reasons;
/// `usize::MAX` for what is known of the case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    pub row: u32,
    pub negative: bool,
    pub word: usize,
}

/// FNV-1a over a kind byte and the feature's bytes, then a finishing mix so the row and sign
/// bits are well spread.
#[inline]
fn hash(kind: u8, parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(kind);
    h = h.wrapping_mul(0x0100_0000_01b3);
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        // Parts are kept apart: "ab"+"c" is not "a"+"bc".
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// Calls `each` for every feature of a message, in a fixed order. `signals` is the set of the
/// rules' lexicon signals found in the message (a bit per `Signal`), so the heads learn how far
/// to trust each family of the rules' words on text the rules were not tuned on.
pub fn features(
    norm: &Normalised,
    context: &Context,
    signals: u64,
    rules: u64,
    mask: u32,
    mut each: impl FnMut(Feature),
) {
    let mut emit = |h: u64, word: usize| {
        each(Feature {
            row: (h >> 32) as u32 & mask,
            negative: h & 1 == 1,
            word,
        })
    };
    let mut previous: Option<&str> = None;
    let mut padded = [0u8; MAX_PIECED_WORD + 2];
    for i in 0..norm.words.len() {
        let word = norm.word(i);
        if word == SENTENCE_BREAK {
            previous = None;
            continue;
        }
        emit(hash(b'w', &[word.as_bytes()]), i);
        if let Some(p) = previous {
            emit(hash(b'b', &[p.as_bytes(), word.as_bytes()]), i);
        }
        previous = Some(word);
        let bytes = &word.as_bytes()[..word.len().min(MAX_PIECED_WORD)];
        padded[0] = b' ';
        padded[1..=bytes.len()].copy_from_slice(bytes);
        padded[bytes.len() + 1] = b' ';
        let padded = &padded[..bytes.len() + 2];
        for n in [3usize, 4] {
            if padded.len() < n {
                continue;
            }
            for piece in padded.windows(n) {
                emit(hash(b'0' + n as u8, &[piece]), i);
            }
        }
    }
    for (s, asked) in norm.questions.iter().enumerate() {
        if *asked {
            // The first word of the question names the sentence for reasons.
            let word = norm
                .sentence_of
                .iter()
                .position(|&x| usize::from(x) == s)
                .unwrap_or(usize::MAX);
            emit(hash(b'q', &[]), word);
        }
    }
    for bit in 0..64u8 {
        if signals & (1 << bit) != 0 {
            emit(hash(b's', &[&[bit]]), usize::MAX);
        }
        if rules & (1 << bit) != 0 {
            emit(hash(b'r', &[&[bit]]), usize::MAX);
        }
    }
    for (known, name) in [
        (context.open_service_request, "open_service_request"),
        (context.open_complaint, "open_complaint"),
        (context.stage1_response_sent, "stage1_response_sent"),
    ] {
        if known {
            emit(hash(b'c', &[name.as_bytes()]), usize::MAX);
        }
    }
}

impl Model {
    /// Reads a model file, checking its version against its contents.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        let newline = bytes
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(ModelError::NotAModel)?;
        let header: Header = serde_json::from_slice(&bytes[..newline]).map_err(|e| {
            if bytes.starts_with(b"{\"magic\":\"intake-policy-model\"") {
                ModelError::Header(e.to_string())
            } else {
                ModelError::NotAModel
            }
        })?;
        if header.magic != MAGIC {
            return Err(ModelError::NotAModel);
        }
        if header.format != FORMAT {
            return Err(ModelError::Header(format!(
                "format {} (this version reads format {FORMAT})",
                header.format
            )));
        }
        if !(8..=22).contains(&header.bits) {
            return Err(ModelError::Header(format!(
                "bits {} is outside 8..=22",
                header.bits
            )));
        }
        let bias: [f32; HEADS] = header.bias.as_slice().try_into().map_err(|_| {
            ModelError::Header(format!("{} biases, {HEADS} expected", header.bias.len()))
        })?;
        let scale: [f32; HEADS] = header.scale.as_slice().try_into().map_err(|_| {
            ModelError::Header(format!("{} scales, {HEADS} expected", header.scale.len()))
        })?;
        let weights = &bytes[newline + 1..];
        let expected = (1usize << header.bits) * HEADS;
        if weights.len() != expected {
            return Err(ModelError::Size {
                got: weights.len(),
                expected,
            });
        }
        let actual = version(&header, weights);
        if actual != header.version {
            return Err(ModelError::Version {
                stated: header.version.clone(),
                actual,
            });
        }
        Ok(Model {
            mask: (1u32 << header.bits) - 1,
            bias,
            scale,
            weights: weights.iter().map(|&b| b as i8).collect(),
            header,
        })
    }

    /// Builds a model from fitted weights (`rows * HEADS`, row-major), quantising each head to
    /// signed bytes.
    pub fn quantise(
        bits: u32,
        bias: [f32; HEADS],
        weights: &[f32],
        decisions: Decisions,
        trained: String,
    ) -> Model {
        let rows = 1usize << bits;
        assert_eq!(
            weights.len(),
            rows * HEADS,
            "weights for every row and head"
        );
        let mut scale = [0f32; HEADS];
        for (h, s) in scale.iter_mut().enumerate() {
            let max = (0..rows)
                .map(|r| weights[r * HEADS + h].abs())
                .fold(0f32, f32::max);
            *s = if max > 0.0 { max / 127.0 } else { 1.0 };
        }
        let quantised: Vec<i8> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| (w / scale[i % HEADS]).round().clamp(-127.0, 127.0) as i8)
            .collect();
        let mut header = Header {
            magic: MAGIC.to_owned(),
            format: FORMAT,
            version: String::new(),
            trained,
            bits,
            bias: bias.to_vec(),
            scale: scale.to_vec(),
            decisions,
        };
        let bytes: Vec<u8> = quantised.iter().map(|&w| w as u8).collect();
        header.version = version(&header, &bytes);
        Model {
            mask: (1u32 << bits) - 1,
            bias,
            scale,
            weights: quantised,
            header,
        }
    }

    /// The model as a file: one line of JSON header, then the weights.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec(&self.header).expect("a header always serialises");
        out.push(b'\n');
        out.extend(self.weights.iter().map(|&w| w as u8));
        out
    }

    pub fn version(&self) -> &str {
        &self.header.version
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn decisions(&self) -> &Decisions {
        &self.header.decisions
    }

    pub fn with_decisions(mut self, decisions: Decisions) -> Model {
        self.header.decisions = decisions;
        let bytes: Vec<u8> = self.weights.iter().map(|&w| w as u8).collect();
        self.header.version = version(&self.header, &bytes);
        self
    }

    pub fn mask(&self) -> u32 {
        self.mask
    }

    /// Every feature of a message, in order: computed once, then scored and, for reasons,
    /// traced back to the resident's words.
    pub fn features_of(
        &self,
        norm: &Normalised,
        context: &Context,
        signals: u64,
        rules: u64,
    ) -> Vec<Feature> {
        let mut out = Vec::with_capacity(norm.words.len() * 12);
        features(norm, context, signals, rules, self.mask, |f| out.push(f));
        out
    }

    /// Every head's probability for a message's features.
    pub fn score_features(&self, features: &[Feature]) -> Scores {
        let mut sum = [0i32; HEADS];
        for f in features {
            let at = f.row as usize * HEADS;
            let row: &[i8; HEADS] = self.weights[at..at + HEADS]
                .try_into()
                .expect("rows are HEADS long");
            if f.negative {
                for (s, w) in sum.iter_mut().zip(row) {
                    *s -= i32::from(*w);
                }
            } else {
                for (s, w) in sum.iter_mut().zip(row) {
                    *s += i32::from(*w);
                }
            }
        }
        let norm = if features.is_empty() {
            0.0
        } else {
            1.0 / (features.len() as f32).sqrt()
        };
        let mut raw = [0f32; HEADS];
        for h in 0..HEADS {
            raw[h] = self.bias[h] + self.scale[h] * sum[h] as f32 * norm;
        }
        squash(&raw)
    }

    /// The resident's words that pushed `head` up most, strongest first: the reasons staff
    /// see for a learned decision.
    pub fn top_words(
        &self,
        features: &[Feature],
        norm: &Normalised,
        message: &str,
        head: usize,
        max: usize,
    ) -> Vec<String> {
        let mut by_word: Vec<(usize, i32)> = Vec::new();
        for f in features {
            if f.word == usize::MAX {
                continue;
            }
            let w = i32::from(self.weights[f.row as usize * HEADS + head]);
            let w = if f.negative { -w } else { w };
            // Features come word by word, so the word is usually the last one seen.
            match by_word.iter_mut().rev().find(|(i, _)| *i == f.word) {
                Some((_, s)) => *s += w,
                None => by_word.push((f.word, w)),
            }
        }
        // Words that carry no meaning alone are never quoted as a reason.
        by_word.retain(|(i, s)| *s > 0 && !FILLER.contains(&norm.word(*i)));
        by_word.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut out: Vec<String> = Vec::new();
        for (i, _) in by_word {
            let w = norm.words[i];
            if let Some(original) = message.get(w.orig_start as usize..w.orig_end as usize)
                && !out.iter().any(|o| o == original)
            {
                out.push(original.to_owned());
            }
            if out.len() == max {
                break;
            }
        }
        out
    }
}

/// The first 12 hex digits of SHA-256 over the header (without its version) and the weights.
fn version(header: &Header, weights: &[u8]) -> String {
    let mut unversioned = header.clone();
    unversioned.version = String::new();
    let mut digest = Sha256::new();
    digest.update(serde_json::to_vec(&unversioned).expect("a header always serialises"));
    digest.update(weights);
    hex::encode(&digest.finalize()[..6])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Model {
        let bits = 8;
        let weights: Vec<f32> = (0..(1usize << bits) * HEADS)
            .map(|i| ((i * 7919) % 255) as f32 / 100.0 - 1.27)
            .collect();
        Model::quantise(
            bits,
            [0.1; HEADS],
            &weights,
            Decisions::RULES,
            "test".into(),
        )
    }

    #[test]
    fn a_model_file_reads_back_as_written_and_names_its_version() {
        let model = small();
        let bytes = model.to_bytes();
        let again = Model::from_bytes(&bytes).expect("reads back");
        assert_eq!(again, model);
        assert_eq!(again.version().len(), 12);
        // The version covers the decisions too.
        let other = model.clone().with_decisions(Decisions {
            emergency: Binary {
                with_rule: 0.1,
                with_hint: 0.5,
                alone: 0.9,
            },
            ..Decisions::RULES
        });
        assert_ne!(other.version(), model.version());
    }

    #[test]
    fn a_damaged_or_foreign_file_is_refused_with_a_reason() {
        let bytes = small().to_bytes();
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            Model::from_bytes(&flipped),
            Err(ModelError::Version { .. })
        ));
        assert!(matches!(
            Model::from_bytes(&bytes[..bytes.len() - 5]),
            Err(ModelError::Size { .. })
        ));
        assert!(matches!(
            Model::from_bytes(b"GIF89a\n\x00\x01"),
            Err(ModelError::NotAModel)
        ));
        assert!(matches!(Model::from_bytes(b""), Err(ModelError::NotAModel)));
        let text = String::from_utf8_lossy(
            &bytes[..bytes
                .iter()
                .position(|&b| b == b'\n')
                .expect("a header line")],
        )
        .replace("\"format\":1", "\"format\":9");
        let mut future = text.into_bytes();
        future.push(b'\n');
        assert!(matches!(
            Model::from_bytes(&future),
            Err(ModelError::Header(m)) if m.contains("format 9")
        ));
    }

    #[test]
    fn a_binary_decision_keeps_rule_findings_above_one_score_and_adds_its_own_above_others() {
        let d = Binary {
            with_rule: 0.2,
            with_hint: 0.5,
            alone: 0.8,
        };
        assert!(d.decide(true, false, 0.3));
        assert!(
            !d.decide(true, true, 0.1),
            "a rule finding the heads doubt strongly"
        );
        assert!(
            !d.decide(false, false, 0.6),
            "no words of the family, not sure enough"
        );
        assert!(
            d.decide(false, true, 0.6),
            "words of the family and the heads agree"
        );
        assert!(d.decide(false, false, 0.85), "the heads alone, when sure");
        assert!(Binary::RULES.decide(true, false, 0.0));
        assert!(!Binary::RULES.decide(false, true, 1.0));
    }

    #[test]
    fn the_shipped_model_loads() {
        let model = Model::from_bytes(SHIPPED).expect("the shipped model");
        assert!(
            model.header().trained.contains("tests/corpus"),
            "{:?}",
            model.header().trained
        );
    }
}
