//! Turning a message as typed on a phone into words the rules can match.
//!
//! Residents write in capitals, with no punctuation, in text-speak, with emoji, and sometimes
//! (by accident or to slip past filters) with zero-width characters and look-alike letters from
//! other alphabets. The normal form is a string of lower-case words separated by single spaces,
//! with ` | ` between sentences and a space at each end, so a phrase matches on whole words with
//! a plain substring search. Each word remembers where it came from in the original message, so
//! the reasons shown to staff quote the resident's own words.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The sentence separator in the normal form.
pub const SENTENCE_BREAK: &str = "|";

/// A message in normal form.
#[derive(Debug, Clone, Default)]
pub struct Normalised {
    /// ` word word | word ` : words, with sentence breaks, padded with spaces.
    pub text: String,
    /// For each word (and sentence break) in `text`: its byte range in `text` and in the original.
    pub words: Vec<Word>,
    /// Sentence index of each word.
    pub sentence_of: Vec<u16>,
    /// Clause index of each word: clauses end at commas, sentence ends and "but".
    pub clause_of: Vec<u16>,
    /// Whether each sentence ended with a question mark.
    pub questions: Vec<bool>,
    /// Letters counted by script, for language recognition.
    pub latin_letters: usize,
    pub other_letters: usize,
    clause: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word {
    pub norm_start: u32,
    pub norm_end: u32,
    pub orig_start: u32,
    pub orig_end: u32,
}

impl Normalised {
    /// The word index whose normal-form range starts at or contains `byte`.
    pub fn word_at(&self, byte: usize) -> usize {
        let byte = byte as u32;
        match self.words.binary_search_by(|w| w.norm_start.cmp(&byte)) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// The normal form of word `i`.
    pub fn word(&self, i: usize) -> &str {
        let w = self.words[i];
        &self.text[w.norm_start as usize..w.norm_end as usize]
    }

    pub fn is_question(&self, sentence: u16) -> bool {
        self.questions
            .get(usize::from(sentence))
            .copied()
            .unwrap_or(false)
    }
}

/// FNV-1a, a fast hash for the short words looked up for every word of every message. The
/// tables are fixed word lists, so SipHash's defence against crafted collisions is not needed.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A set of words, hashed with FNV.
pub type WordSet = HashSet<String, BuildHasherDefault<Fnv>>;

/// Word-level rewrites: text-speak and common misspellings to the words the lexicon uses.
#[derive(Debug, Clone, Default)]
pub struct Rewrites {
    map: HashMap<String, String, BuildHasherDefault<Fnv>>,
    /// Known English words, to tell "noooo" (no) from "tooooo" (too).
    known: WordSet,
}

impl Rewrites {
    pub fn new(map: HashMap<String, String>) -> Rewrites {
        Rewrites {
            map: map.into_iter().collect(),
            known: WordSet::default(),
        }
    }

    /// Sets the words known to be English, used when squeezing emphasis.
    pub fn with_known(mut self, known: WordSet) -> Rewrites {
        self.known = known;
        self
    }

    pub fn get(&self, word: &str) -> Option<&str> {
        self.map.get(word).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Characters that carry no letter: zero-width spaces and joiners, direction marks, the byte
/// order mark, soft hyphens, variation selectors. Removed so "comp\u{200b}laint" is "complaint".
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{E0000}'..='\u{E007F}')
}

/// Cyrillic and Greek letters that look like Latin ones. Applied only inside words that also
/// hold Latin letters, so a word written wholly in Russian or Greek keeps its own letters.
fn latin_look_alike(c: char) -> Option<char> {
    Some(match c {
        'а' | 'α' => 'a',
        'в' | 'β' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ε' | 'ё' => 'e',
        'һ' | 'н' => 'h',
        'і' | 'ι' | 'ї' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'п' | 'η' => 'n',
        'о' | 'ο' | 'σ' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' => 'u',
        'ν' => 'v',
        'ԝ' | 'ω' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        'ʐ' => 'z',
        _ => return None,
    })
}

/// Emoji that say something the rules can use, as words.
fn emoji_word(c: char) -> Option<&'static str> {
    Some(match c {
        '😡' | '🤬' | '😠' | '😤' | '👿' => "emojiangry",
        '😭' | '😢' | '😞' | '😔' | '☹' | '🙁' | '😩' | '😫' => "emojisad",
        '🤦' | '🙄' | '🤷' => "emojiexasperated",
        '👎' | '💩' => "emojithumbsdown",
        '👍' | '👌' => "emojithumbsup",
        '🙏' => "emojithanks",
        '❤' | '😍' | '🥰' | '💕' | '💖' | '😊' | '🙂' | '😀' | '😃' | '😁' => {
            "emojihappy"
        }
        '🔥' => "emojifire",
        '💧' | '🌊' => "emojiwater",
        '🥶' => "emojicold",
        '🐀' | '🐁' => "emojirat",
        _ => return None,
    })
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30FF}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7AF}')
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | '`' | 'ʼ' | '′')
}

fn ends_sentence(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | ';' | '\n' | '。' | '！' | '？' | '؟')
}

/// Puts `message` into normal form, applying `rewrites` word by word.
pub fn normalise(message: &str, rewrites: &Rewrites) -> Normalised {
    let mut out = Normalised {
        text: String::with_capacity(message.len() + 8),
        words: Vec::with_capacity(message.len() / 4 + 2),
        sentence_of: Vec::with_capacity(message.len() / 4 + 2),
        clause_of: Vec::with_capacity(message.len() / 4 + 2),
        questions: vec![false],
        ..Normalised::default()
    };
    out.text.push(' ');

    let mut word = String::new();
    let mut scratch = String::new();
    let mut word_start = 0usize;
    let mut word_end = 0usize;
    let mut sentence: u16 = 0;
    let mut sentence_has_words = false;

    for (at, c) in message.char_indices() {
        if is_invisible(c) {
            continue;
        }
        let end = at + c.len_utf8();
        if c.is_alphanumeric() && !is_cjk(c) {
            if word.is_empty() {
                word_start = at;
            }
            word.push(c);
            word_end = end;
            continue;
        }
        // An apostrophe inside a word is dropped: "don't" is "dont", "mum's" is "mums".
        if is_apostrophe(c) && !word.is_empty() {
            continue;
        }
        if !word.is_empty() {
            push_word(
                &mut out,
                &word,
                word_start,
                word_end,
                sentence,
                rewrites,
                &mut scratch,
            );
            sentence_has_words = true;
            word.clear();
        }
        if is_cjk(c) {
            let mut buf = [0u8; 4];
            push_word(
                &mut out,
                c.encode_utf8(&mut buf),
                at,
                end,
                sentence,
                rewrites,
                &mut scratch,
            );
            sentence_has_words = true;
        } else if let Some(w) = emoji_word(c) {
            push_raw(&mut out, w, at, end, sentence);
            sentence_has_words = true;
        } else if matches!(c, ',' | ':' | '–' | '—') {
            out.clause = out.clause.saturating_add(1);
        } else if ends_sentence(c) {
            if matches!(c, '?' | '？' | '؟') {
                out.questions[usize::from(sentence)] = true;
            }
            if sentence_has_words {
                push_raw(&mut out, SENTENCE_BREAK, at, end, sentence);
                sentence = sentence.saturating_add(1);
                out.questions.push(false);
                sentence_has_words = false;
            }
        }
    }
    if !word.is_empty() {
        push_word(
            &mut out,
            &word,
            word_start,
            word_end,
            sentence,
            rewrites,
            &mut scratch,
        );
    }
    out
}

fn push_raw(out: &mut Normalised, w: &str, orig_start: usize, orig_end: usize, sentence: u16) {
    let norm_start = out.text.len();
    out.text.push_str(w);
    let norm_end = out.text.len();
    out.text.push(' ');
    out.words.push(Word {
        norm_start: norm_start as u32,
        norm_end: norm_end as u32,
        orig_start: orig_start as u32,
        orig_end: orig_end as u32,
    });
    out.sentence_of.push(sentence);
    if w == SENTENCE_BREAK || w == "but" {
        out.clause = out.clause.saturating_add(1);
    }
    out.clause_of.push(out.clause);
}

/// Folds one word: compatibility forms (fullwidth letters), accents, look-alike letters, case,
/// letters repeated for emphasis; then applies a rewrite ("u" is "you", "recieved" is
/// "received"). A rewrite may give several words ("wanna" is "want to").
fn push_word(
    out: &mut Normalised,
    raw: &str,
    orig_start: usize,
    orig_end: usize,
    sentence: u16,
    rewrites: &Rewrites,
    folded: &mut String,
) {
    folded.clear();
    if raw.is_ascii() {
        out.latin_letters += raw.bytes().filter(u8::is_ascii_alphabetic).count();
        folded.extend(raw.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        let has_latin = raw.chars().any(|c| c.is_ascii_alphabetic());
        for c in raw.nfkd() {
            if is_combining_mark(c) || is_invisible(c) {
                continue;
            }
            let c = if has_latin {
                latin_look_alike(c.to_lowercase().next().unwrap_or(c)).unwrap_or(c)
            } else {
                c
            };
            if c.is_ascii_alphabetic() {
                out.latin_letters += 1;
            } else if c.is_alphabetic() {
                out.other_letters += 1;
            }
            folded.extend(c.to_lowercase());
        }
    }
    if has_long_run(folded) {
        let squeezed = squeeze_repeats(folded, &rewrites.known);
        folded.clear();
        folded.push_str(&squeezed);
    }
    match rewrites.get(folded) {
        Some(word) => {
            for part in word.split(' ').filter(|p| !p.is_empty()) {
                push_raw(out, part, orig_start, orig_end, sentence);
            }
        }
        None => push_raw(out, folded, orig_start, orig_end, sentence),
    }
}

/// Whether a letter repeats three times in a row.
fn has_long_run(word: &str) -> bool {
    let b = word.as_bytes();
    b.windows(3).any(|w| w[0] == w[1] && w[1] == w[2])
}

/// Letters repeated three times or more are emphasis: "stilllll" is "still", "heeeelp" is
/// "help", "nooooo" is "no". Each run is cut to two letters; then, if that is not a known word
/// and the word with the run cut to one letter is (or is known after a rewrite), that one wins.
fn squeeze_repeats(word: &str, known: &WordSet) -> String {
    let mut runs: Vec<(char, usize)> = Vec::with_capacity(word.len());
    for c in word.chars() {
        match runs.last_mut() {
            Some((last, n)) if *last == c => *n += 1,
            _ => runs.push((c, 1)),
        }
    }
    let spell = |cap_long_runs_at: usize| -> String {
        runs.iter()
            .flat_map(|&(c, n)| std::iter::repeat_n(c, if n >= 3 { cap_long_runs_at } else { n }))
            .collect()
    };
    let double = spell(2);
    if known.contains(&double) {
        return double;
    }
    let single = spell(1);
    if known.contains(&single) {
        single
    } else {
        double
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let known = ["still", "no", "help", "so", "too", "week"].map(str::to_owned);
        let rw = Rewrites::new(HashMap::from([
            ("u".to_owned(), "you".to_owned()),
            ("wanna".to_owned(), "want to".to_owned()),
        ]))
        .with_known(known.into_iter().collect());
        normalise(s, &rw).text
    }

    #[test]
    fn words_are_lower_cased_and_split_on_punctuation() {
        assert_eq!(
            norm("STILL no hot-water!! Why?"),
            " still no hot water | why | "
        );
    }

    #[test]
    fn apostrophes_join_and_text_speak_is_expanded() {
        assert_eq!(
            norm("I don't wanna wait, u know"),
            " i dont want to wait you know "
        );
        assert_eq!(norm("my mum’s flat"), " my mums flat ");
    }

    #[test]
    fn invisible_characters_and_look_alikes_are_removed() {
        assert_eq!(norm("comp\u{200b}laint"), " complaint ");
        assert_eq!(norm("\u{0441}omplaint b\u{043e}iler"), " complaint boiler ");
        assert_eq!(norm("ｃｏｍｐｌａｉｎｔ"), " complaint ");
        assert_eq!(norm("compláint"), " complaint ");
        // A word wholly in Cyrillic keeps its letters.
        assert_eq!(norm("газ"), " газ ");
    }

    #[test]
    fn emphasis_is_squeezed() {
        assert_eq!(norm("stilllll nooooo heeeelp"), " still no help ");
        assert_eq!(norm("sooooo fed up"), " so fed up ");
        assert_eq!(norm("still soon"), " still soon ");
        assert_eq!(norm("tooooo weeeeks"), " too weeks ");
    }

    #[test]
    fn emoji_become_words_and_reasons_keep_original_spans() {
        let rw = Rewrites::default();
        let n = normalise("Boiler 😡 broken", &rw);
        assert_eq!(n.text, " boiler emojiangry broken ");
        let w = n.words[2];
        assert_eq!(
            &"Boiler 😡 broken"[w.orig_start as usize..w.orig_end as usize],
            "broken"
        );
    }

    #[test]
    fn questions_are_noted_per_sentence() {
        let n = normalise("Hi. When is the plumber coming?", &Rewrites::default());
        assert!(!n.is_question(0));
        assert!(n.is_question(1));
    }
}
