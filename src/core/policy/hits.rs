//! What the lexicon finds in one message: each phrase and combination of words, where it is,
//! and whether it is negated ("no smell of gas") or only part of a longer phrase.

use super::{Lexicon, Normalised, Scope, Signal};

/// Hits for the combinations whose every group has a word in one sentence (or clause). Each
/// spans from the first of those words to the last.
pub(super) fn combined(
    lexicon: &Lexicon,
    norm: &Normalised,
    grouped: &[(u16, u8, usize, usize)],
) -> Vec<Hit> {
    let mut out = Vec::new();
    if grouped.is_empty() {
        return out;
    }
    for (id, combination) in lexicon.combinations.iter().enumerate() {
        let words: Vec<&(u16, u8, usize, usize)> =
            grouped.iter().filter(|g| usize::from(g.0) == id).collect();
        if words.len() < combination.groups {
            continue;
        }
        let unit = |w: usize| match combination.within {
            Scope::Sentence => norm.sentence_of[w],
            Scope::Clause => norm.clause_of[w],
        };
        let mut units: Vec<u16> = words.iter().map(|g| unit(g.2)).collect();
        units.dedup();
        for u in units {
            let here: Vec<&&(u16, u8, usize, usize)> =
                words.iter().filter(|g| unit(g.2) == u).collect();
            let all_groups =
                (0..combination.groups).all(|k| here.iter().any(|g| usize::from(g.1) == k));
            if !all_groups {
                continue;
            }
            let first = here.iter().map(|g| g.2).min().unwrap_or(0);
            let last = here.iter().map(|g| g.3).max().unwrap_or(first);
            out.push(Hit {
                signal: combination.signal,
                first,
                last,
                clause: norm.clause_of[first],
                negated: false,
                span: (norm.words[first].orig_start, norm.words[last].orig_end),
                combined: true,
            });
        }
    }
    out
}

/// One phrase found in the message.
#[derive(Debug, Clone)]
pub(super) struct Hit {
    pub(super) signal: Signal,
    /// First and last word index in the normal form.
    pub(super) first: usize,
    pub(super) last: usize,
    pub(super) clause: u16,
    /// Preceded by a negating word ("no smell of gas").
    pub(super) negated: bool,
    /// Byte range of the resident's own words in the message.
    pub(super) span: (u32, u32),
    /// Found by a combination of words rather than one phrase.
    pub(super) combined: bool,
}

impl Hit {
    pub(super) fn words<'m>(&self, message: &'m str) -> &'m str {
        message
            .get(self.span.0 as usize..self.span.1 as usize)
            .unwrap_or_default()
    }
}

pub(super) struct Hits<'m> {
    pub(super) message: &'m str,
    pub(super) all: Vec<Hit>,
    /// Bit set of the signals present (not negated).
    pub(super) present: u64,
}

impl<'m> Hits<'m> {
    pub(super) fn find(lexicon: &Lexicon, norm: &Normalised, message: &'m str) -> Hits<'m> {
        let mut all: Vec<Hit> = Vec::new();
        // Words of combinations: (combination, group, first word, last word).
        let mut grouped: Vec<(u16, u8, usize, usize)> = Vec::new();
        for m in lexicon.automaton.find_overlapping_iter(&norm.text) {
            let pattern = &lexicon.patterns[m.pattern().as_usize()];
            // The needle starts with the space before the first word.
            let first = norm.word_at(m.start() + 1);
            let last = (first + pattern.words - 1).min(norm.words.len().saturating_sub(1));
            if let Some((combination, group)) = pattern.group {
                grouped.push((combination, group, first, last));
                continue;
            }
            let (a, b) = (norm.words[first], norm.words[last]);
            all.push(Hit {
                signal: pattern.signal,
                first,
                last,
                clause: norm.clause_of[first],
                negated: false,
                span: (a.orig_start, b.orig_end),
                combined: false,
            });
        }

        all.extend(combined(lexicon, norm, &grouped));

        // A phrase straight after a negating word is negated ("no smell of gas"), unless the
        // phrase itself starts with one ("no heating") or is about negation.
        let negators: Vec<(usize, usize)> = all
            .iter()
            .filter(|h| h.signal == Signal::Negator)
            .map(|h| (h.first, h.last))
            .collect();
        let starts_negated = |i: usize| negators.iter().any(|&(a, _)| a == i);
        let ends_negator = |i: usize| negators.iter().any(|&(_, b)| b == i);
        // "Any update on my complaint?" talks about the complaints process; its "complaint"
        // is not a new one.
        let process: Vec<(usize, usize)> = all
            .iter()
            .filter(|h| h.signal == Signal::ComplaintProcess)
            .map(|h| (h.first, h.last))
            .collect();
        // "Nobody has come out" describes a failure; its "come out" is not a request.
        let failures: Vec<(usize, usize)> = all
            .iter()
            .filter(|h| matches!(h.signal, Signal::Failure | Signal::WeakFailure))
            .map(|h| (h.first, h.last))
            .collect();
        let mut present = 0u64;
        for h in &mut all {
            let about_negation = matches!(h.signal, Signal::Negator | Signal::ComplaintNegated);
            h.negated = !about_negation
                && h.first > 0
                && ends_negator(h.first - 1)
                && !starts_negated(h.first)
                || h.signal == Signal::ComplaintWord
                    && process.iter().any(|&(a, b)| h.first >= a && h.last <= b)
                || h.signal == Signal::ActionRequest
                    && failures.iter().any(|&(a, b)| h.first >= a && h.last <= b);
            if !h.negated {
                present |= 1 << (h.signal as u64);
            }
        }
        Hits {
            message,
            all,
            present,
        }
    }

    pub(super) fn has(&self, s: Signal) -> bool {
        self.present & (1 << (s as u64)) != 0
    }

    pub(super) fn of(&self, s: Signal) -> impl Iterator<Item = &Hit> {
        self.all.iter().filter(move |h| h.signal == s && !h.negated)
    }

    pub(super) fn count(&self, s: Signal) -> usize {
        self.of(s).count()
    }

    pub(super) fn words(&self, s: Signal) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for h in self.of(s) {
            let words = h.words(self.message);
            // Keep the longest phrase where matches overlap ("still" inside "still no").
            if let Some(prev) = out.last_mut()
                && (words.contains(prev.as_str()) || prev.contains(words))
            {
                if words.len() > prev.len() {
                    words.clone_into(prev);
                }
                continue;
            }
            out.push(words.to_owned());
        }
        out.dedup();
        out
    }

    /// Whether any hit of `s` is current: in a clause with no `resolved` marker ("it was
    /// fixed", "last year"), or one that also says it is happening now; and not merely a word
    /// inside a longer phrase of another signal ("leak" in "gas leak").
    pub(super) fn current(&self, s: Signal, inside: Option<Signal>) -> bool {
        self.of(s).any(|h| {
            let within = |r: &Hit| r.first <= h.first && r.last >= h.last;
            if let Some(other) = inside
                && self
                    .of(other)
                    .any(|o| !o.combined && within(o) && o.last - o.first > h.last - h.first)
            {
                return false;
            }
            let over = self
                .of(Signal::Resolved)
                .any(|r| r.clause == h.clause && !within(r));
            let now = self.of(Signal::Now).any(|n| {
                n.clause == h.clause
                    && !self
                        .of(Signal::Resolved)
                        .any(|r| r.first <= n.first && r.last >= n.last)
            });
            !over || now
        })
    }
}
