//! A message's features for the heads: hashed words, pairs of words, character pieces,
//! questions, the rules' signals and conclusions, and what is known of the case.

use crate::core::policy::Context;
use crate::core::policy::normalise::{Normalised, SENTENCE_BREAK};

/// The longest word cut into character pieces: a pasted link or a row of letters says
/// nothing more after 32 bytes.
const MAX_PIECED_WORD: usize = 32;

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
