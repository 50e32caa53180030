//! The model file: reading it with its version checked, writing it, quantising fitted
//! weights, and scoring a message's features with it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Decisions, Feature, HEADS, Scores, features, squash};
use crate::core::policy::Context;
use crate::core::policy::normalise::Normalised;

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
