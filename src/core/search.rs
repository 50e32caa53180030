//! What staff type in the console's search box, read once into words the record can look up
//! safely on either database, and the matched words marked in a line for the results page.
//!
//! Whatever is typed (quotes, `*`, `-`, `OR`, brackets, emoji, ten thousand characters) is
//! reduced to at most [`MOST_TERMS`] words of letters and digits, so neither FTS5 nor
//! PostgreSQL's `to_tsquery` ever sees an operator: odd input finds nothing rather than
//! failing. Every word must match, as the start of a word in the text ("leak" finds
//! "leaking"), on both databases alike.

/// Words looked up at most; more are ignored.
pub const MOST_TERMS: usize = 8;
/// Characters of a word kept at most.
const LONGEST_TERM: usize = 40;
/// Characters of the box read at most (the rest cannot add a word worth looking for).
const LONGEST_QUERY: usize = 400;

/// A search, read from what was typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    /// The words to find, lower-case letters and digits only.
    pub terms: Vec<String>,
    /// A complaint reference typed in full (`C2026-00002`), upper-case.
    pub reference: Option<String>,
    /// The digits of a phone number typed with or without spaces, when there are at least
    /// six (a contact detail is found however it was spaced).
    pub digits: Option<String>,
}

impl SearchQuery {
    pub fn parse(typed: &str) -> SearchQuery {
        let typed: String = typed.chars().take(LONGEST_QUERY).collect();
        let mut terms: Vec<String> = Vec::new();
        for word in typed
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            let word: String = word
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric())
                .take(LONGEST_TERM)
                .collect();
            if !word.is_empty() && !terms.contains(&word) && terms.len() < MOST_TERMS {
                terms.push(word);
            }
        }
        let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
        let phone_like = typed
            .trim()
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'));
        SearchQuery {
            terms,
            reference: reference(typed.trim()),
            digits: (phone_like && digits.len() >= 6).then_some(digits),
        }
    }

    /// Nothing to look for: the box was empty, or held no letter or digit.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The FTS5 query: each word quoted (so no word is read as an operator) and matched as
    /// the start of a word, all of them required.
    pub fn fts5(&self) -> String {
        self.terms
            .iter()
            .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The `to_tsquery` text: each word as a prefix, all of them required. The words hold
    /// only letters and digits, none of which the tsquery syntax reads as an operator.
    pub fn tsquery(&self) -> String {
        self.terms
            .iter()
            .map(|t| format!("{t}:*"))
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// Whether `text` holds every word, each as the start of a word (as the index matches).
    pub fn matches(&self, text: &str) -> bool {
        !self.terms.is_empty() && {
            let words = words_of(text);
            self.terms
                .iter()
                .all(|t| words.iter().any(|(_, _, w)| w.starts_with(t.as_str())))
        }
    }
}

/// A complaint reference as the record writes them: `C`, a year, `-`, five digits.
fn reference(typed: &str) -> Option<String> {
    let upper = typed.to_ascii_uppercase();
    let (year, number) = upper.strip_prefix('C')?.split_once('-')?;
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    (digits(year, 4) && digits(number, 5)).then_some(upper)
}

/// The words of `text` with their byte offsets (start, end), lower-cased.
fn words_of(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i, text[s..i].to_lowercase()));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// A piece of a line on the results page: marked when it is a word that matched.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Piece {
    pub text: String,
    pub marked: bool,
}

/// `text` cut to about `around` characters either side of the first match, in pieces with
/// each matched word marked. The template escapes every piece, so a line cannot inject
/// markup; only the marking is the page's own.
pub fn mark(text: &str, query: &SearchQuery, around: usize) -> Vec<Piece> {
    let hits: Vec<(usize, usize)> = words_of(text)
        .into_iter()
        .filter_map(|(at, end, word)| {
            query
                .terms
                .iter()
                .filter(|t| word.starts_with(t.as_str()))
                .map(|t| {
                    (
                        at,
                        end.min(at + prefix_bytes(&text[at..], t.chars().count())),
                    )
                })
                .max_by_key(|(from, to)| to - from)
        })
        .collect();
    let first = hits.first().map_or(0, |(at, _)| *at);
    let from = back_chars(text, first, around);
    let to = forward_chars(text, first, around * 2);
    let mut pieces = Vec::new();
    if from > 0 {
        pieces.push(plain("…"));
    }
    let mut at = from;
    for (start, end) in hits
        .into_iter()
        .filter(|(start, end)| *start >= from && *end <= to)
    {
        if start > at {
            pieces.push(plain(&text[at..start]));
        }
        pieces.push(Piece {
            text: text[start..end].to_owned(),
            marked: true,
        });
        at = end;
    }
    if to > at {
        pieces.push(plain(&text[at..to]));
    }
    if to < text.len() {
        pieces.push(plain("…"));
    }
    pieces
}

fn plain(text: &str) -> Piece {
    Piece {
        text: text.to_owned(),
        marked: false,
    }
}

/// Bytes of the first `chars` characters of `text`.
fn prefix_bytes(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

/// The byte offset `chars` characters before `at`.
fn back_chars(text: &str, at: usize, chars: usize) -> usize {
    text[..at]
        .char_indices()
        .rev()
        .nth(chars.saturating_sub(1))
        .map_or(0, |(i, _)| i)
}

/// The byte offset `chars` characters after `at`.
fn forward_chars(text: &str, at: usize, chars: usize) -> usize {
    text[at..]
        .char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn odd_input_becomes_plain_words_or_nothing() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   ", &[]),
            ("\"\"\"", &[]),
            ("*", &[]),
            ("🙂🔥", &[]),
            ("((boiler", &["boiler"]),
            ("boiler -leak", &["boiler", "leak"]),
            ("mould OR damp", &["mould", "or", "damp"]),
            ("\"no hot water\"", &["no", "hot", "water"]),
            ("Boiler boiler BOILER", &["boiler"]),
            ("don't", &["don", "t"]),
            ("C2026-00002", &["c2026", "00002"]),
            ("Zoë", &["zoë"]),
        ];
        for (typed, terms) in cases {
            assert_eq!(SearchQuery::parse(typed).terms, *terms, "{typed:?}");
        }
        assert_eq!(
            SearchQuery::parse(&"word ".repeat(2000)).terms,
            ["word"],
            "ten thousand characters"
        );
        assert_eq!(
            SearchQuery::parse("a b c d e f g h i j k").terms.len(),
            MOST_TERMS
        );
    }

    #[test]
    fn queries_quote_every_word_and_need_them_all() {
        let q = SearchQuery::parse("mould OR \"damp");
        assert_eq!(q.fts5(), "\"mould\"* AND \"or\"* AND \"damp\"*");
        assert_eq!(q.tsquery(), "mould:* & or:* & damp:*");
    }

    #[test]
    fn references_and_phone_numbers_are_recognised() {
        assert_eq!(
            SearchQuery::parse(" c2026-00002 ").reference.as_deref(),
            Some("C2026-00002")
        );
        assert_eq!(SearchQuery::parse("C2026-0002").reference, None);
        assert_eq!(SearchQuery::parse("C2026-00002 leak").reference, None);
        assert_eq!(
            SearchQuery::parse("07700 900 123").digits.as_deref(),
            Some("07700900123")
        );
        assert_eq!(
            SearchQuery::parse("+44 (0)7700-900123").digits.as_deref(),
            Some("4407700900123")
        );
        assert_eq!(SearchQuery::parse("flat 12345").digits, None);
        assert_eq!(SearchQuery::parse("12345").digits, None);
    }

    #[test]
    fn words_match_at_their_start() {
        let q = SearchQuery::parse("leak kitch");
        assert!(q.matches("The KITCHEN is leaking again"));
        assert!(!q.matches("The kitchen is fine"));
        assert!(!q.matches("bleak kitchen"), "not inside a word");
        assert!(!SearchQuery::parse("").matches("anything"));
    }

    #[test]
    fn matched_words_are_marked_and_long_lines_cut_around_the_first() {
        let q = SearchQuery::parse("leak");
        assert_eq!(
            mark("<b>Leaking</b> roof", &q, 40),
            [
                plain("<b>"),
                Piece {
                    text: "Leak".into(),
                    marked: true
                },
                plain("ing</b> roof")
            ]
        );
        let long = format!(
            "{} the roof is leaking {}",
            "x".repeat(300),
            "y".repeat(300)
        );
        let pieces = mark(&long, &q, 20);
        assert_eq!(pieces.first(), Some(&plain("…")));
        assert_eq!(pieces.last(), Some(&plain("…")));
        assert!(pieces.iter().any(|p| p.marked && p.text == "leak"));
        let shown: usize = pieces.iter().map(|p| p.text.chars().count()).sum();
        assert!(shown < 80, "{shown}");
    }

    proptest! {
        #[test]
        fn any_input_gives_safe_words_and_pieces_that_rebuild_the_text(typed in "\\PC{0,300}") {
            let q = SearchQuery::parse(&typed);
            prop_assert!(q.terms.len() <= MOST_TERMS);
            for t in &q.terms {
                prop_assert!(!t.is_empty() && t.chars().all(char::is_alphanumeric));
            }
            let pieces = mark(&typed, &q, 1000);
            let rebuilt: String = pieces.iter().map(|p| p.text.as_str()).collect();
            prop_assert_eq!(rebuilt, typed);
        }
    }
}
