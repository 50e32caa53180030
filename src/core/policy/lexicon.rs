//! The word lists behind the rules, as data.
//!
//! The shipped lexicon (`lexicon.toml` next to this file) is compiled in. A landlord can add
//! phrases of its own (estate and contractor names, local words) in a file of the same shape;
//! they are appended to the shipped lists. Both are validated when the policy is built, and an
//! error names the file, the signal and the phrase.

use std::collections::{BTreeMap, HashMap, HashSet};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Deserialize;

use super::normalise::{Rewrites, WordSet, normalise};

/// The shipped lexicon.
pub const SHIPPED: &str = include_str!("lexicon.toml");

macro_rules! signals {
    ($($variant:ident => $name:literal: $doc:literal,)*) => {
        /// A kind of evidence the rules look for. Each has a list of phrases in the lexicon.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Signal {
            $(#[doc = $doc] $variant,)*
        }

        impl Signal {
            pub const ALL: &'static [Signal] = &[$(Signal::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(Signal::$variant => $name,)* }
            }

            pub fn describe(self) -> &'static str {
                match self { $(Signal::$variant => $doc,)* }
            }

            pub fn from_name(name: &str) -> Option<Signal> {
                match name { $($name => Some(Signal::$variant),)* _ => None }
            }
        }
    };
}

signals! {
    ComplaintWord => "complaint_word": "the resident names a complaint",
    ComplaintNegated => "complaint_negated": "the resident says they are not complaining",
    NegativeJudgement => "negative_judgement": "words of displeasure",
    Failure => "failure": "a failure of service: no-shows, delays, no reply, not fixed",
    WeakFailure => "weak_failure": "words that hint at a failure but do not show one alone (again, still, weeks)",
    ComplaintProcess => "complaint_process": "talk about the complaints process rather than a complaint",
    AskHow => "ask_how": "a question about how to do something or what is allowed",
    Nuisance => "nuisance": "noise, smells and behaviour that may be a neighbour's",
    Blame => "blame": "the landlord or its contractor named as the cause",
    Agency => "agency": "a public service such as the police, the NHS or social services",
    Children => "children": "babies and young children, who make a hazard a vulnerability",
    Praise => "praise": "words of praise",
    Thanks => "thanks": "a thank-you",
    Sarcasm => "sarcasm": "phrases that are praise in form and complaint in meaning",
    LandlordParty => "landlord_party": "the landlord, its staff or its contractors",
    ThirdParty => "third_party": "someone other than the landlord",
    ActionRequest => "action_request": "a request for the landlord to act",
    Fault => "fault": "something broken or not working",
    Question => "question": "words that open a question",
    EnquiryTopic => "enquiry_topic": "a subject people ask about",
    Suggestion => "suggestion": "a suggestion or opinion",
    Greeting => "greeting": "a greeting, a test or small talk",
    Escalation => "escalation": "asking for a complaint to be looked at again",
    ResponseRef => "response_ref": "the landlord's complaint response or decision",
    Asb => "asb": "anti-social behaviour or a neighbour dispute",
    LegalFiled => "legal_filed": "legal proceedings filed at court",
    Injury => "injury": "a personal injury",
    BelongingsDamage => "belongings_damage": "damage to the resident's belongings",
    ClaimMoney => "claim_money": "asking to be paid or compensated",
    ServiceCharge => "service_charge": "service charges",
    ChargeLevel => "charge_level": "the level or reasonableness of a charge",
    NotDelivered => "not_delivered": "a charged-for service not delivered",
    OtherOrg => "other_org": "a matter for another organisation",
    PastTime => "past_time": "something that happened long ago",
    Ongoing => "ongoing": "something still going on",
    AlreadyDecided => "already_decided": "a matter already through the complaints process",
    Emergency => "emergency": "danger now",
    HealthSafety => "health_safety": "a health and safety hazard",
    Safeguarding => "safeguarding": "abuse, self-harm, or a person at risk",
    Vulnerability => "vulnerability": "a vulnerable person",
    RepresentativeRole => "representative_role": "someone acting for another in a professional role",
    RepresentativeRelation => "representative_relation": "a relative or friend",
    RepresentativeLink => "representative_link": "words tying the matter to someone else's home",
    Resolved => "resolved": "something that is over or was put right",
    Negator => "negator": "a word that negates what follows",
    Now => "now": "something happening now",
}

// The policy engine keeps the signals found in a message as bits of a u64.
const _: () = assert!(Signal::ALL.len() <= 64);

/// The shape of a lexicon file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexiconFile {
    /// Phrases per signal: `[signals] failure = ["no one came", ...]`.
    #[serde(default)]
    pub signals: BTreeMap<String, Vec<String>>,
    /// Word rewrites applied before matching: text-speak and common misspellings.
    #[serde(default)]
    pub rewrites: BTreeMap<String, String>,
    /// Everyday English words that are not in any phrase, for recognising English.
    #[serde(default)]
    pub english: Vec<String>,
    /// Words in phrases that are not English (another language's word for gas, say).
    #[serde(default)]
    pub not_english: Vec<String>,
    /// Signals found by words that occur together rather than by a fixed phrase: "gas" and
    /// "hissing" in one sentence, however the resident put it.
    #[serde(default)]
    pub combinations: Vec<CombinationFile>,
}

/// One combination as written: a word from every group, in one sentence (or clause).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CombinationFile {
    pub signal: String,
    #[serde(default)]
    pub within: Scope,
    pub groups: Vec<Vec<String>>,
}

/// How close the words of a combination must be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    Sentence,
    Clause,
}

/// A compiled combination.
#[derive(Debug, Clone)]
pub struct Combination {
    pub signal: Signal,
    pub within: Scope,
    pub groups: usize,
}

/// A lexicon that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LexiconError {
    #[error("{file}: {detail}")]
    Syntax { file: String, detail: String },
    #[error(
        "{file}: [signals] has no signal called {name:?}; known signals: {known}",
        known = Signal::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
    )]
    UnknownSignal { file: String, name: String },
    #[error(
        "{file}: signal {signal}: phrase {phrase:?} cannot match: it has no letters or digits once normalised, or it contains . ! ? or ; (a phrase never spans a sentence break)"
    )]
    EmptyPhrase {
        file: String,
        signal: String,
        phrase: String,
    },
    #[error(
        "{file}: rewrite {from:?} = {to:?}: both sides must be single lower-case words (the target may be several words)"
    )]
    BadRewrite {
        file: String,
        from: String,
        to: String,
    },
    #[error("{file}: combination {index} ({signal}): {detail}")]
    BadCombination {
        file: String,
        index: usize,
        signal: String,
        detail: String,
    },
    #[error("the lexicon could not be compiled: {0}")]
    Build(String),
}

/// A word's place in the combinations: (combination, group within it).
pub type Group = (u16, u8);

/// One phrase, as the automaton holds it.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub signal: Signal,
    /// For a word of a combination: which combination and which of its groups.
    pub group: Option<Group>,
    /// The phrase as written in the lexicon, for the reasons.
    pub phrase: String,
    /// Number of words in the phrase.
    pub words: usize,
}

/// The compiled lexicon: one automaton over every phrase of every signal.
#[derive(Debug, Clone)]
pub struct Lexicon {
    pub automaton: AhoCorasick,
    pub patterns: Vec<Pattern>,
    pub combinations: Vec<Combination>,
    pub rewrites: Rewrites,
    /// Words known to be English: every lexicon word and the everyday list.
    pub english: WordSet,
}

impl Lexicon {
    /// The shipped lexicon, with any landlord additions, given as (file name, TOML text).
    pub fn build(additions: &[(String, String)]) -> Result<Lexicon, LexiconError> {
        let mut files = vec![("lexicon.toml (shipped)".to_owned(), SHIPPED.to_owned())];
        files.extend(additions.iter().cloned());

        let mut parsed: Vec<(String, LexiconFile)> = Vec::with_capacity(files.len());
        for (name, text) in files {
            let file: LexiconFile = toml::from_str(&text).map_err(|e| LexiconError::Syntax {
                file: name.clone(),
                detail: e.to_string(),
            })?;
            parsed.push((name, file));
        }

        // Rewrites come first: phrases are normalised with them, as messages will be.
        let mut rewrites: HashMap<String, String> = HashMap::new();
        for (name, file) in &parsed {
            for (from, to) in &file.rewrites {
                let single = |s: &str, many: bool| {
                    !s.is_empty()
                        && s.split(' ').all(|w| {
                            !w.is_empty()
                                && w.chars()
                                    .all(|c| c.is_alphanumeric() && !c.is_uppercase() || c == '_')
                        })
                        && (many || !s.contains(' '))
                };
                if !single(from, false) || !single(to, true) {
                    return Err(LexiconError::BadRewrite {
                        file: name.clone(),
                        from: from.clone(),
                        to: to.clone(),
                    });
                }
                rewrites.insert(from.clone(), to.clone());
            }
        }
        let rewrites = Rewrites::new(rewrites);

        let mut english = WordSet::default();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut needles: Vec<String> = Vec::new();
        // (signal, combination group, normalised phrase): each phrase once.
        let mut seen: HashSet<(Signal, Option<Group>, String)> = HashSet::new();
        let mut combinations: Vec<Combination> = Vec::new();
        let mut add =
            |signal: Signal, group: Option<Group>, phrase: &str, english: &mut WordSet| -> bool {
                let (body, prefix) = match phrase.strip_suffix('*') {
                    Some(body) => (body, true),
                    None => (phrase, false),
                };
                let norm = normalise(body, &rewrites);
                let words: Vec<&str> = norm.text.split_whitespace().collect();
                // A phrase never matches across a sentence break, so one containing . ! ? or
                // ; could never match at all.
                if words.is_empty() || words.contains(&"|") {
                    return false;
                }
                let joined = words.join(" ");
                if !seen.insert((signal, group, format!("{joined}{prefix}"))) {
                    return true;
                }
                english.extend(words.iter().map(|w| (*w).to_owned()));
                needles.push(if prefix {
                    format!(" {joined}")
                } else {
                    format!(" {joined} ")
                });
                patterns.push(Pattern {
                    signal,
                    group,
                    phrase: phrase.to_owned(),
                    words: words.len(),
                });
                true
            };
        for (name, file) in &parsed {
            english.extend(file.english.iter().map(|w| w.to_lowercase()));
            for (signal_name, phrases) in &file.signals {
                let signal =
                    Signal::from_name(signal_name).ok_or_else(|| LexiconError::UnknownSignal {
                        file: name.clone(),
                        name: signal_name.clone(),
                    })?;
                for phrase in phrases {
                    if !add(signal, None, phrase, &mut english) {
                        return Err(LexiconError::EmptyPhrase {
                            file: name.clone(),
                            signal: signal_name.clone(),
                            phrase: phrase.clone(),
                        });
                    }
                }
            }
            for (index, combo) in file.combinations.iter().enumerate() {
                let bad = |detail: String| LexiconError::BadCombination {
                    file: name.clone(),
                    index: index + 1,
                    signal: combo.signal.clone(),
                    detail,
                };
                let signal = Signal::from_name(&combo.signal)
                    .ok_or_else(|| bad("no signal of that name".to_owned()))?;
                if !(2..=8).contains(&combo.groups.len()) {
                    return Err(bad(format!(
                        "needs 2 to 8 groups of words, has {}",
                        combo.groups.len()
                    )));
                }
                let id = u16::try_from(combinations.len())
                    .map_err(|_| bad("too many combinations".to_owned()))?;
                for (g, words) in combo.groups.iter().enumerate() {
                    if words.is_empty() {
                        return Err(bad(format!("group {} is empty", g + 1)));
                    }
                    for w in words {
                        if !add(signal, Some((id, g as u8)), w, &mut english) {
                            return Err(bad(format!(
                                "group {}: {w:?} has no letters or digits once normalised",
                                g + 1
                            )));
                        }
                    }
                }
                combinations.push(Combination {
                    signal,
                    within: combo.within,
                    groups: combo.groups.len(),
                });
            }
        }
        for (_, file) in &parsed {
            for w in &file.not_english {
                english.remove(normalise(w, &rewrites).text.trim());
                english.remove(w);
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&needles)
            .map_err(|e| LexiconError::Build(e.to_string()))?;
        let rewrites = rewrites.with_known(english.clone());
        Ok(Lexicon {
            automaton,
            patterns,
            combinations,
            rewrites,
            english,
        })
    }

    /// How many phrases each signal has, for `check-config`.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for p in self.patterns.iter().filter(|p| p.group.is_none()) {
            *out.entry(p.signal.name()).or_insert(0) += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lexicon_builds_and_every_signal_has_phrases() {
        let lex = Lexicon::build(&[]).expect("shipped lexicon");
        let counts = lex.counts();
        for s in Signal::ALL {
            assert!(
                counts.get(s.name()).copied().unwrap_or(0) > 0,
                "{} has no phrases",
                s.name()
            );
        }
    }

    #[test]
    fn a_landlord_can_add_phrases_and_errors_name_the_file() {
        let extra = (
            "local.toml".to_owned(),
            "[signals]\nlandlord_party = [\"Acme Plumbing\"]\n".to_owned(),
        );
        let lex = Lexicon::build(&[extra]).expect("additions");
        assert!(lex.patterns.iter().any(|p| p.phrase == "Acme Plumbing"));

        let bad = (
            "local.toml".to_owned(),
            "[signals]\nlandlrd_party = [\"x\"]\n".to_owned(),
        );
        let err = Lexicon::build(&[bad])
            .expect_err("unknown signal")
            .to_string();
        assert!(
            err.contains("local.toml") && err.contains("landlrd_party"),
            "{err}"
        );

        let empty = (
            "local.toml".to_owned(),
            "[signals]\nfailure = [\"!!\"]\n".to_owned(),
        );
        let err = Lexicon::build(&[empty])
            .expect_err("empty phrase")
            .to_string();
        assert!(err.contains("failure") && err.contains("\"!!\""), "{err}");

        let combo = (
            "local.toml".to_owned(),
            "[[combinations]]\nsignal = \"emergancy\"\ngroups = [[\"a\"], [\"b\"]]\n".to_owned(),
        );
        let err = Lexicon::build(&[combo])
            .expect_err("unknown signal")
            .to_string();
        assert!(
            err.contains("local.toml") && err.contains("combination 1"),
            "{err}"
        );
        let lonely = (
            "local.toml".to_owned(),
            "[[combinations]]\nsignal = \"emergency\"\ngroups = [[\"gas\"]]\n".to_owned(),
        );
        let err = Lexicon::build(&[lonely])
            .expect_err("one group")
            .to_string();
        assert!(err.contains("2 to 8 groups"), "{err}");

        let syntax = ("local.toml".to_owned(), "[signals\n".to_owned());
        let err = Lexicon::build(&[syntax]).expect_err("syntax").to_string();
        assert!(
            err.starts_with("local.toml:") && err.contains("line 1"),
            "{err}"
        );
    }
}
