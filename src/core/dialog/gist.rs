//! What the resident said, as it is reflected back to them: the sentence that says what is
//! wrong, without the greeting and the pleasantries around it.

use super::reading::words;

/// The gist of a resident's message, to reflect back: the sentence that says what is wrong
/// (the one holding the words the engine found, else the first), without greetings and
/// pleasantries ("hi,", "sorry to bother you"), at most `max` characters.
pub(super) fn gist(text: &str, found: &[String], max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentences: Vec<String> = one_line
        .split_inclusive(['.', '!', '?'])
        .map(|s| strip_greeting(s.trim()).to_owned())
        .filter(|s| !s.is_empty() && !pleasantry(s))
        .collect();
    let found: Vec<String> = found.iter().map(|f| f.to_lowercase()).collect();
    let chosen = sentences
        .iter()
        .max_by_key(|s| {
            let lower = s.to_lowercase();
            found.iter().filter(|f| lower.contains(f.as_str())).count()
        })
        .filter(|s| {
            let lower = s.to_lowercase();
            found.iter().any(|f| lower.contains(f.as_str()))
        })
        .or(sentences.first())
        .cloned()
        .unwrap_or(one_line);
    let chosen = chosen.trim_end_matches(['.', ',', ' ']).to_owned();
    if chosen.chars().count() <= max {
        return chosen;
    }
    let cut: String = chosen.chars().take(max).collect();
    match cut.rfind(' ') {
        Some(i) => format!("{}…", &cut[..i]),
        None => format!("{cut}…"),
    }
}

/// The sentence without the greeting it opens with ("hiya,", "Good morning.").
pub(super) fn strip_greeting(sentence: &str) -> &str {
    const OPENINGS: &[&str] = &[
        "to whom it may concern",
        "dear sir or madam",
        "dear sir/madam",
        "dear sirs",
        "good morning",
        "good afternoon",
        "good evening",
        "sorry to bother you",
        "hiya",
        "hello",
        "hey",
        "hi",
        "morning",
        "afternoon",
    ];
    let mut rest = sentence;
    loop {
        let Some(after) = OPENINGS.iter().find_map(|o| after_word(rest, o)) else {
            return rest;
        };
        rest = after.trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, ',' | '.' | '!' | '-' | ':')
        });
        // "Hi there," / "hello team,"
        if let Some(after) = ["there", "team", "all"]
            .iter()
            .find_map(|filler| after_word(rest, filler))
        {
            rest = after
                .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '!'));
        }
    }
}

/// What follows `word` (ASCII, lower case) when `text` opens with it as a whole word, in any
/// case. Compared byte for byte, so a letter whose lower case is ASCII ("İ", "K") never
/// matches and the cut always falls between characters.
fn after_word<'t>(text: &'t str, word: &str) -> Option<&'t str> {
    let head = text.as_bytes().get(..word.len())?;
    if !head.eq_ignore_ascii_case(word.as_bytes()) {
        return None;
    }
    let after = text.get(word.len()..)?;
    after
        .chars()
        .next()
        .is_none_or(|c| !c.is_alphanumeric())
        .then_some(after)
}

/// A sentence that says nothing about what happened: thanks, a sign-off.
fn pleasantry(sentence: &str) -> bool {
    let w = words(sentence);
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    matches!(
        w.as_slice(),
        [] | ["thanks" | "thank" | "thx" | "ta" | "cheers" | "regards" | "kind" | "many", ..]
            if w.len() <= 4
    ) || matches!(w.as_slice(), ["hope", "you", ..] if w.len() <= 6)
}
