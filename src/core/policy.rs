//! The policy engine: what a resident's message means under the Complaint Handling Code.
//!
//! `Policy::assess` reads one message, with what is already known of the resident's case, and
//! says whether it expresses dissatisfaction (1.2), what the resident mainly wants, where the
//! matter would go, which risks it raises, and whether the writer acts for someone else. Every
//! conclusion carries the Code provisions it relies on and the resident's own words that led to
//! it, so staff can see why. Routes other than `complaints` are suggestions for staff, never
//! decisions (2.5).

mod language;
pub mod learned;
mod lexicon;
mod normalise;
pub mod train;

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

pub use language::ENGLISH;
pub use learned::{Decisions, Model, ModelError, Scores};
pub use lexicon::{Lexicon, LexiconError, SHIPPED as SHIPPED_LEXICON, Scope, Signal};
pub use normalise::{Normalised, normalise};

use super::profile::ExclusionRoutes;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// The dissatisfaction dealt with.
    Complaint,
    /// The landlord to act: a repair, a visit, a form (1.4).
    ServiceRequest,
    /// An existing complaint or response looked at again.
    Escalation,
    /// Unsolicited praise.
    Compliment,
    /// A thank-you closing an exchange: not a compliment.
    Thanks,
    /// A suggestion or opinion.
    Comment,
    /// A question for information.
    Enquiry,
    /// A matter for another route, which `route` names.
    ReportOther,
    /// Greetings, tests, off-topic.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Complaints,
    Asb,
    Legal,
    Insurance,
    ServiceCharge,
    OtherOrg,
    OutOfTime,
    AlreadyDecided,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Emergency,
    HealthSafety,
    Safeguarding,
    Vulnerability,
}

macro_rules! names {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s,)* }
            }
            pub const ALL: &'static [$t] = &[$(<$t>::$v,)*];
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($s => Ok(<$t>::$v),)* _ => Err(format!("unknown {}: {s:?}", stringify!($t).to_lowercase())) }
            }
        }
    };
}

names!(Intent { Complaint => "complaint", ServiceRequest => "service_request", Escalation => "escalation",
    Compliment => "compliment", Thanks => "thanks", Comment => "comment", Enquiry => "enquiry",
    ReportOther => "report_other", Other => "other" });
names!(Route { Complaints => "complaints", Asb => "asb", Legal => "legal", Insurance => "insurance",
    ServiceCharge => "service_charge", OtherOrg => "other_org", OutOfTime => "out_of_time",
    AlreadyDecided => "already_decided" });
names!(Risk { Emergency => "emergency", HealthSafety => "health_safety", Safeguarding => "safeguarding",
    Vulnerability => "vulnerability" });

/// What is already known of the resident's case when the message arrives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Context {
    pub open_service_request: bool,
    pub open_complaint: bool,
    pub stage1_response_sent: bool,
    /// Today's date in the landlord's time zone, for the 12-month test (2.3). Without it, a
    /// year named in the message is not judged.
    pub today: Option<NaiveDate>,
}

/// Why the engine concluded something: the rule, the Code provision if one applies, and the
/// resident's words that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub rule: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provision: Option<&'static str>,
    pub words: Vec<String>,
}

/// The engine's reading of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub dissatisfied: bool,
    pub intent: Intent,
    pub route: Route,
    pub risks: BTreeSet<Risk>,
    pub representative: bool,
    /// ISO 639-1 code of the message's language ("en" for English).
    pub language: &'static str,
    /// The Code provisions the assessment relies on.
    pub provisions: BTreeSet<&'static str>,
    pub reasons: Vec<Reason>,
    /// The version of the learned model that took part ("rules" when none did), so staff and
    /// the record can say which model assessed each message.
    pub model: String,
    /// What was known of the case when the message was read: a staff correction of this
    /// assessment becomes a labelled example with the same context.
    pub context: Context,
}

impl Assessment {
    pub fn has_risk(&self, risk: Risk) -> bool {
        self.risks.contains(&risk)
    }

    /// Emergencies and safeguarding concerns go to a manager at once, at any hour.
    pub fn is_urgent(&self) -> bool {
        self.has_risk(Risk::Emergency) || self.has_risk(Risk::Safeguarding)
    }
}

/// The engine, built once from the lexicon, the landlord's routes and the learned model.
#[derive(Debug, Clone)]
pub struct Policy {
    lexicon: Lexicon,
    routes: ExclusionRoutes,
    model: Option<Arc<Model>>,
}

/// The shipped model, read once.
pub fn shipped_model() -> Arc<Model> {
    static SHIPPED: OnceLock<Arc<Model>> = OnceLock::new();
    SHIPPED
        .get_or_init(|| {
            Arc::new(Model::from_bytes(learned::SHIPPED).expect("the shipped model is valid"))
        })
        .clone()
}

/// The longest message assessed in full. Longer ones are assessed on their first part, which
/// is where residents put what matters; the whole text is still kept in the record.
pub const MAX_ASSESSED_BYTES: usize = 64 * 1024;

impl Policy {
    /// The engine with the shipped model.
    pub fn new(lexicon: Lexicon, routes: ExclusionRoutes) -> Policy {
        Policy {
            lexicon,
            routes,
            model: Some(shipped_model()),
        }
    }

    /// The same engine with another model, or with the rules alone (`None`).
    pub fn with_model(mut self, model: Option<Arc<Model>>) -> Policy {
        self.model = model;
        self
    }

    pub fn model(&self) -> Option<&Model> {
        self.model.as_deref()
    }

    /// The shipped lexicon and every route enabled.
    pub fn shipped() -> Result<Policy, LexiconError> {
        Ok(Policy::new(
            Lexicon::build(&[])?,
            ExclusionRoutes::default(),
        ))
    }

    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// Assesses one message.
    pub fn assess(&self, message: &str, context: &Context) -> Assessment {
        let (norm, hits, language) = self.take_in(message);
        let read = (&norm, &hits, language);
        let Some(model) = &self.model else {
            return self.read(read, context, None, &Decisions::RULES, &[]);
        };
        let rules = self.read(read, context, None, &Decisions::RULES, &[]);
        let features = model.features_of(&norm, context, hits.present, rule_bits(&rules));
        let scores = model.score_features(&features);
        self.read(read, context, Some(&scores), model.decisions(), &features)
    }

    /// What the learned heads read of a message: its normal form, the set of lexicon signals
    /// found in it, and the rules' conclusions (see [`rule_bits`]).
    pub fn prepare(&self, message: &str, context: &Context) -> (Normalised, u64, u64) {
        let (norm, hits, language) = self.take_in(message);
        let rules = self.read(
            (&norm, &hits, language),
            context,
            None,
            &Decisions::RULES,
            &[],
        );
        let present = hits.present;
        (norm, present, rule_bits(&rules))
    }

    /// Assesses one message with given scores and decisions: how training tries decisions on
    /// scores from models that never saw the message.
    pub fn assess_scored(
        &self,
        message: &str,
        context: &Context,
        scores: Option<&Scores>,
        decisions: &Decisions,
    ) -> Assessment {
        let (norm, hits, language) = self.take_in(message);
        self.read((&norm, &hits, language), context, scores, decisions, &[])
    }

    /// One message read once, for the rules and the heads alike: its normal form (of at most
    /// the first `MAX_ASSESSED_BYTES`), the lexicon's hits and its language.
    fn take_in<'m>(&self, message: &'m str) -> (Normalised, Hits<'m>, &'static str) {
        let message = truncate_at_char(message, MAX_ASSESSED_BYTES);
        let norm = normalise(message, &self.lexicon.rewrites);
        let hits = Hits::find(&self.lexicon, &norm, message);
        let language = language::recognise(message, &norm, &self.lexicon.english);
        (norm, hits, language)
    }

    /// The rules, and the learned heads when there are scores, over one message read once:
    /// its normal form, lexicon hits and language.
    fn read(
        &self,
        (norm, hits, language): (&Normalised, &Hits<'_>, &'static str),
        context: &Context,
        scores: Option<&Scores>,
        decisions: &Decisions,
        features: &[learned::Feature],
    ) -> Assessment {
        Reading {
            hits,
            norm,
            context,
            routes: &self.routes,
            language,
            learned: scores.map(|s| Learned {
                scores: s,
                decisions,
                model: self.model.as_deref().filter(|_| !features.is_empty()),
                features,
            }),
            out: Assessment {
                dissatisfied: false,
                intent: Intent::Other,
                route: Route::Complaints,
                risks: BTreeSet::new(),
                representative: false,
                language,
                provisions: BTreeSet::new(),
                reasons: Vec::new(),
                model: self
                    .model
                    .as_ref()
                    .filter(|_| scores.is_some())
                    .map_or_else(|| "rules".to_owned(), |m| m.version().to_owned()),
                context: *context,
            },
        }
        .conclude()
    }
}

/// The rules' conclusions as bits, for the learned heads to weigh: dissatisfied, then one bit
/// per intent, per route, per risk, and representative.
pub fn rule_bits(rules: &Assessment) -> u64 {
    let mut bits = u64::from(rules.dissatisfied);
    bits |= 1 << (1 + rules.intent as u32);
    bits |= 1 << (10 + rules.route as u32);
    for r in &rules.risks {
        bits |= 1 << (18 + *r as u32);
    }
    bits |= u64::from(rules.representative) << 22;
    bits
}

/// Hits for the combinations whose every group has a word in one sentence (or clause). Each
/// spans from the first of those words to the last.
fn combined(lexicon: &Lexicon, norm: &Normalised, grouped: &[(u16, u8, usize, usize)]) -> Vec<Hit> {
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

pub(crate) fn truncate_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// One phrase found in the message.
#[derive(Debug, Clone)]
struct Hit {
    signal: Signal,
    /// First and last word index in the normal form.
    first: usize,
    last: usize,
    clause: u16,
    /// Preceded by a negating word ("no smell of gas").
    negated: bool,
    /// Byte range of the resident's own words in the message.
    span: (u32, u32),
    /// Found by a combination of words rather than one phrase.
    combined: bool,
}

impl Hit {
    fn words<'m>(&self, message: &'m str) -> &'m str {
        message
            .get(self.span.0 as usize..self.span.1 as usize)
            .unwrap_or_default()
    }
}

struct Hits<'m> {
    message: &'m str,
    all: Vec<Hit>,
    /// Bit set of the signals present (not negated).
    present: u64,
}

impl<'m> Hits<'m> {
    fn find(lexicon: &Lexicon, norm: &Normalised, message: &'m str) -> Hits<'m> {
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

    fn has(&self, s: Signal) -> bool {
        self.present & (1 << (s as u64)) != 0
    }

    fn of(&self, s: Signal) -> impl Iterator<Item = &Hit> {
        self.all.iter().filter(move |h| h.signal == s && !h.negated)
    }

    fn count(&self, s: Signal) -> usize {
        self.of(s).count()
    }

    fn words(&self, s: Signal) -> Vec<String> {
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
    fn current(&self, s: Signal, inside: Option<Signal>) -> bool {
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

/// The rules, applied in order to one message's hits.
struct Reading<'a> {
    hits: &'a Hits<'a>,
    norm: &'a Normalised,
    context: &'a Context,
    routes: &'a ExclusionRoutes,
    language: &'static str,
    learned: Option<Learned<'a>>,
    out: Assessment,
}

/// The learned heads' scores for the message and how they combine with the rules.
#[derive(Clone, Copy)]
struct Learned<'a> {
    scores: &'a Scores,
    decisions: &'a Decisions,
    /// For naming the words behind a learned decision (absent while training chooses).
    model: Option<&'a Model>,
    features: &'a [learned::Feature],
}

impl Reading<'_> {
    fn because(&mut self, rule: &'static str, provision: Option<&'static str>, signals: &[Signal]) {
        let mut words: Vec<String> = Vec::new();
        for s in signals {
            for w in self.hits.words(*s) {
                if !words.contains(&w) {
                    words.push(w);
                }
            }
        }
        if let Some(p) = provision {
            self.out.provisions.insert(p);
        }
        self.out.reasons.push(Reason {
            rule,
            provision,
            words,
        });
    }

    fn conclude(mut self) -> Assessment {
        self.risks();
        self.learned_risks();
        if self.language != language::ENGLISH {
            // 5.10: an interpreter is a reasonable adjustment; the words cannot be read here.
            self.out.provisions.insert("5.10");
            self.out.reasons.push(Reason {
                rule: "language.not_english",
                provision: Some("5.10"),
                words: vec![self.language.to_owned()],
            });
            return self.out;
        }
        self.representative();
        self.learned_representative();
        let (reasons, provisions) = (self.out.reasons.len(), self.out.provisions.clone());
        let dissatisfied = self.dissatisfied();
        self.out.dissatisfied = dissatisfied;
        self.intent_and_route(dissatisfied);
        if let Some(l) = self.learned {
            // Dissatisfied: the rules' conclusion (after their routes) and the score, combined
            // as the model's decision says; a change reads the intent and route again.
            let rule = self.out.dissatisfied;
            let hint = learned::hints(self.hits.present)[0];
            // A request in so many words to take a complaint further is never doubted (6.11).
            let explicit = self.hits.has(Signal::Escalation);
            let decided = rule && explicit
                || l.decisions
                    .dissatisfied
                    .decide(rule, hint, l.scores.dissatisfied());
            if decided != rule {
                let words = if decided {
                    self.learned_words(learned::DISSATISFIED)
                } else {
                    self.out
                        .reasons
                        .iter()
                        .filter(|r| r.rule == "dissatisfied")
                        .flat_map(|r| r.words.clone())
                        .collect()
                };
                self.out.reasons.truncate(reasons);
                self.out.provisions = provisions;
                self.set(Intent::Other, Route::Complaints);
                if decided {
                    // 1.3: whenever a resident is unhappy, the choice to complain is offered.
                    self.out.provisions.extend(["1.2", "1.3"]);
                }
                self.out.reasons.push(Reason {
                    rule: if decided {
                        "learned.dissatisfied"
                    } else {
                        "learned.not_dissatisfied"
                    },
                    provision: decided.then_some("1.2"),
                    words,
                });
                self.out.dissatisfied = decided;
                let learned_reason = self.out.reasons.len() - 1;
                self.intent_and_route(decided);
                if self.out.dissatisfied != decided {
                    // A route's own rule settled it (a neighbour's noise is not about the
                    // landlord; a charge challenged is): the learned reason goes.
                    self.out.reasons.remove(learned_reason);
                    if !self.out.dissatisfied {
                        self.out.provisions.remove("1.3");
                        if !self.out.reasons.iter().any(|r| r.provision == Some("1.2")) {
                            self.out.provisions.remove("1.2");
                        }
                    }
                }
            }
            self.learned_route_and_intent(l);
        }
        // A date more than 12 months ago is always noted for staff, whatever the message was
        // read as (an escalation, a complaint joining an open one): it may date the matter.
        // Never a refusal (2.3).
        if self.out.route != Route::OutOfTime
            && !self
                .out
                .reasons
                .iter()
                .any(|r| r.rule == "note.more_than_12_months_ago")
            && self.out_of_time()
        {
            self.because(
                "note.more_than_12_months_ago",
                Some("2.3"),
                &[Signal::PastTime],
            );
        }
        self.out
    }

    /// The resident's words behind a learned head's score, strongest first.
    fn learned_words(&self, head: usize) -> Vec<String> {
        match self.learned {
            Some(Learned {
                model: Some(model),
                features,
                ..
            }) => model.top_words(features, self.norm, self.hits.message, head, 4),
            _ => Vec::new(),
        }
    }

    /// Drops the reasons whose rule starts with `prefix`, and the provisions only they gave.
    fn forget(&mut self, prefix: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut dropped = Vec::new();
        self.out.reasons.retain(|r| {
            let keep = !r.rule.starts_with(prefix);
            if !keep {
                words.extend(r.words.iter().cloned());
                dropped.extend(r.provision);
            }
            keep
        });
        for p in dropped {
            if !self.out.reasons.iter().any(|r| r.provision == Some(p)) {
                self.out.provisions.remove(p);
            }
        }
        words
    }

    /// Each risk: the rules' finding and the score, combined as the model's decision says.
    fn learned_risks(&mut self) {
        let Some(l) = self.learned else { return };
        for &risk in Risk::ALL {
            let rule = self.out.risks.contains(&risk);
            let hint = learned::hints(self.hits.present)[1 + risk as usize];
            let decided = l
                .decisions
                .risk(risk)
                .decide(rule, hint, l.scores.risk(risk));
            if decided == rule {
                continue;
            }
            let (found, doubted, provision) = match risk {
                Risk::Emergency => ("learned.risk.emergency", "learned.doubts.emergency", None),
                Risk::HealthSafety => (
                    "learned.risk.health_safety",
                    "learned.doubts.health_safety",
                    None,
                ),
                Risk::Safeguarding => (
                    "learned.risk.safeguarding",
                    "learned.doubts.safeguarding",
                    None,
                ),
                Risk::Vulnerability => (
                    "learned.risk.vulnerability",
                    "learned.doubts.vulnerability",
                    Some("6.1"),
                ),
            };
            if decided {
                self.out.risks.insert(risk);
                let words = self.learned_words(learned::RISKS + risk as usize);
                self.out.provisions.extend(provision);
                self.out.reasons.push(Reason {
                    rule: found,
                    provision,
                    words,
                });
            } else {
                self.out.risks.remove(&risk);
                let words = self.forget(&format!("risk.{risk}"));
                self.out.reasons.push(Reason {
                    rule: doubted,
                    provision: None,
                    words,
                });
            }
        }
    }

    /// Whether the writer acts for someone else: rules and score combined (1.3).
    fn learned_representative(&mut self) {
        let Some(l) = self.learned else { return };
        let rule = self.out.representative;
        let hint = learned::hints(self.hits.present)[5];
        let decided = l
            .decisions
            .representative
            .decide(rule, hint, l.scores.representative());
        if decided == rule {
            return;
        }
        self.out.representative = decided;
        if decided {
            let words = self.learned_words(learned::REPRESENTATIVE);
            self.out.provisions.insert("1.3");
            self.out.reasons.push(Reason {
                rule: "learned.representative",
                provision: Some("1.3"),
                words,
            });
        } else {
            let words = self.forget("representative");
            self.out.reasons.push(Reason {
                rule: "learned.doubts.representative",
                provision: None,
                words,
            });
        }
    }

    /// Route, then intent: the heads' choice replaces the rules' when it is likely enough,
    /// among the choices consistent with the other fields. What the case already fixes (1.5,
    /// 6.8, 6.10: unhappiness with an open request, an open complaint or a stage 1 response)
    /// stays the rules'.
    fn learned_route_and_intent(&mut self, l: Learned<'_>) {
        let dissatisfied = self.out.dissatisfied;
        let ctx = self.context;
        // What the case fixes is the rules' (1.5, 6.8, 6.10 to 6.12), and so is a request
        // in so many words to take a complaint further.
        if dissatisfied
            && (ctx.open_service_request || ctx.open_complaint || ctx.stage1_response_sent)
            || self.out.intent == Intent::Escalation
            || self.out.route == Route::AlreadyDecided
        {
            return;
        }
        let route = Route::ALL
            .iter()
            .copied()
            .filter(|r| *r == Route::Complaints || self.routes.enabled(*r))
            // 2.2, 2.3: out of time and already decided are about a complaint.
            .filter(|r| dissatisfied || !matches!(r, Route::OutOfTime | Route::AlreadyDecided))
            .max_by(|a, b| l.scores.route(*a).total_cmp(&l.scores.route(*b)));
        if let Some(route) = route
            && route != self.out.route
            && l.scores.route(route) >= l.decisions.route.over_rule
        {
            self.forget("route.");
            for p in ["2.1", "2.5"] {
                self.out.provisions.remove(p);
            }
            self.out.route = route;
            let provision = match route {
                Route::Legal | Route::AlreadyDecided => Some("2.2"),
                Route::OutOfTime => Some("2.3"),
                _ => None,
            };
            if route != Route::Complaints {
                self.suggestion_only();
                self.forget("intent.");
                self.out.intent = match route {
                    Route::OutOfTime | Route::AlreadyDecided => Intent::Complaint,
                    _ => Intent::ReportOther,
                };
            }
            let words = self.learned_words(learned::ROUTE + route as usize);
            self.out.provisions.extend(provision);
            self.out.reasons.push(Reason {
                rule: "learned.route",
                provision,
                words,
            });
        }
        if self.out.route != Route::Complaints {
            return;
        }
        let allowed: &[Intent] = if dissatisfied {
            &[
                Intent::Complaint,
                Intent::ServiceRequest,
                Intent::Escalation,
            ]
        } else {
            &[
                Intent::ServiceRequest,
                Intent::Compliment,
                Intent::Thanks,
                Intent::Comment,
                Intent::Enquiry,
                Intent::Other,
            ]
        };
        let Some(best) = allowed
            .iter()
            .copied()
            .max_by(|a, b| l.scores.intent(*a).total_cmp(&l.scores.intent(*b)))
        else {
            return;
        };
        let current_allowed = allowed.contains(&self.out.intent);
        if best == self.out.intent
            || current_allowed && l.scores.intent(best) < l.decisions.intent.over_rule
        {
            return;
        }
        self.forget("intent.");
        self.out.provisions.remove("6.12");
        self.out.intent = best;
        let provision = match best {
            Intent::Complaint => Some("1.2"),
            Intent::ServiceRequest => Some("1.4"),
            Intent::Escalation => Some("6.11"),
            _ => None,
        };
        if best == Intent::Escalation {
            // 6.12: no reasons are needed to go to stage 2.
            self.out.provisions.insert("6.12");
        }
        let words = self.learned_words(learned::INTENT + best as usize);
        self.out.provisions.extend(provision);
        self.out.reasons.push(Reason {
            rule: "learned.intent",
            provision,
            words,
        });
    }

    fn risks(&mut self) {
        use Signal as S;
        let h = self.hits;
        for (signal, risk, rule, provision, inside) in [
            (S::Emergency, Risk::Emergency, "risk.emergency", None, None),
            (
                S::HealthSafety,
                Risk::HealthSafety,
                "risk.health_safety",
                None,
                Some(S::Emergency),
            ),
            (
                S::Safeguarding,
                Risk::Safeguarding,
                "risk.safeguarding",
                None,
                None,
            ),
            (
                S::Vulnerability,
                Risk::Vulnerability,
                "risk.vulnerability",
                Some("6.1"),
                None,
            ),
        ] {
            if h.has(signal) && h.current(signal, inside) {
                self.out.risks.insert(risk);
                self.because(rule, provision, &[signal]);
            }
        }
        // A baby or young children in a hazard (LABELS.md, 6.1).
        if !self.out.risks.contains(&Risk::Vulnerability)
            && h.has(S::Children)
            && (self.out.risks.contains(&Risk::HealthSafety)
                || self.out.risks.contains(&Risk::Emergency))
        {
            self.out.risks.insert(Risk::Vulnerability);
            self.because(
                "risk.vulnerability.children_in_hazard",
                Some("6.1"),
                &[S::Children],
            );
        }
        if !self.out.risks.contains(&Risk::Vulnerability)
            && let Some(age) = self.great_age()
        {
            self.out.risks.insert(Risk::Vulnerability);
            self.out.provisions.insert("6.1");
            self.out.reasons.push(Reason {
                rule: "risk.vulnerability.age",
                provision: Some("6.1"),
                words: vec![age],
            });
        }
    }

    /// How long something has gone on, in the resident's numbers: "for 6 weeks", "been 3
    /// months", "in 2 months". Each hints at a failure, as a weak word does.
    fn durations(&self) -> usize {
        let n = self.norm;
        (1..n.words.len().saturating_sub(1))
            .filter(|&i| {
                let number = n.word(i);
                let count = match number {
                    "a" | "one" => Some(1),
                    "two" => Some(2),
                    "three" | "few" | "several" => Some(3),
                    "four" => Some(4),
                    "five" => Some(5),
                    "six" => Some(6),
                    _ => number.parse::<u32>().ok(),
                };
                // A first report often says "for 5 days"; weeks and months are a wait.
                let long = match (count, n.word(i + 1)) {
                    (Some(c), "days") => c >= 10,
                    (Some(c), "weeks" | "wks") => c >= 2,
                    (Some(c), "month" | "months" | "mths" | "years") => c >= 1,
                    _ => false,
                };
                long && matches!(
                    n.word(i - 1),
                    "for" | "been" | "in" | "over" | "nearly" | "almost" | "took"
                )
            })
            .count()
    }

    /// An age of 75 or more given for someone ("she's 91", "my mum (87)", "aged 80").
    fn great_age(&self) -> Option<String> {
        let n = self.norm;
        (0..n.words.len()).find_map(|i| {
            let age: u32 = n.word(i).parse().ok()?;
            if !(75..=110).contains(&age) {
                return None;
            }
            let before = if i > 0 { n.word(i - 1) } else { "" };
            let after = if i + 1 < n.words.len() {
                n.word(i + 1)
            } else {
                ""
            };
            let person = matches!(
                before,
                "im" | "hes"
                    | "shes"
                    | "is"
                    | "aged"
                    | "age"
                    | "mum"
                    | "dad"
                    | "nan"
                    | "gran"
                    | "mother"
                    | "father"
                    | "grandad"
                    | "grandma"
                    | "grandmother"
                    | "grandfather"
                    | "nana"
                    | "husband"
                    | "wife"
                    | "uncle"
                    | "aunt"
            ) || matches!(after, "year" | "years" | "yr" | "yrs" | "yo");
            person.then(|| n.word(i).to_owned())
        })
    }

    fn representative(&mut self) {
        use Signal as S;
        let h = self.hits;
        let role = h.has(S::RepresentativeRole);
        let relation = h.has(S::RepresentativeRelation) && h.has(S::RepresentativeLink);
        if role || relation {
            self.out.representative = true;
            // 1.3: a complaint made by a representative is handled the same way.
            self.because(
                "representative",
                Some("1.3"),
                &[
                    S::RepresentativeRole,
                    S::RepresentativeRelation,
                    S::RepresentativeLink,
                ],
            );
        }
    }

    /// Whether the message is unhappy with the landlord, its staff or its contractors (1.2).
    fn dissatisfied(&mut self) -> bool {
        use Signal as S;
        let h = self.hits;
        let ctx = self.context;
        let in_case = ctx.open_service_request || ctx.open_complaint || ctx.stage1_response_sent;
        let complaint_word = h.has(S::ComplaintWord);
        // An angry emoji alone says little without a case to be angry about.
        let negative = h
            .of(S::NegativeJudgement)
            .filter(|n| in_case || n.words(h.message).chars().any(char::is_alphanumeric))
            .count();
        let weak = h.count(S::WeakFailure) + self.durations();
        let hazard = h.has(S::Fault) || h.has(S::HealthSafety) || h.has(S::Emergency);
        let asks = (0..self.norm.questions.len()).any(|s| self.norm.is_question(s as u16));
        let failure =
            h.count(S::Failure) > 0 || weak >= 2 || weak >= 1 && (hazard || in_case && !asks);
        let sarcasm = h.has(S::Sarcasm) && (failure || weak > 0 || negative > 0 || hazard);
        let escalation =
            h.has(S::Escalation) || ctx.stage1_response_sent && (negative > 0 || failure);

        if !(complaint_word || negative > 0 || failure || sarcasm || escalation) {
            return false;
        }
        // "Not complaining, just asking when": the resident's own word counts unless the
        // message is plainly unhappy regardless.
        if h.has(S::ComplaintNegated) && negative == 0 && h.count(S::Failure) < 2 {
            self.because("dissatisfied.declined", Some("1.2"), &[S::ComplaintNegated]);
            return false;
        }
        // Displeasure aimed only at a neighbour, the council or another organisation is not a
        // complaint about the landlord; the landlord's handling of it is.
        let about_others =
            h.has(S::ThirdParty) || h.has(S::Asb) || h.has(S::OtherOrg) || h.has(S::Agency);
        let landlord_failure = failure && h.has(S::LandlordParty)
            || complaint_word
            || escalation
            || sarcasm
            || h.has(S::Blame);
        // A leak from the flat above is still the landlord's to fix.
        if about_others && !landlord_failure && !(failure && hazard) {
            self.because(
                "dissatisfied.about_others",
                Some("1.2"),
                &[S::ThirdParty, S::Asb, S::OtherOrg],
            );
            return false;
        }
        self.because(
            "dissatisfied",
            Some("1.2"),
            &[
                S::ComplaintWord,
                S::NegativeJudgement,
                S::Failure,
                S::WeakFailure,
                S::Sarcasm,
                S::Escalation,
            ],
        );
        // 1.3: whenever a resident is unhappy, the choice to complain is offered.
        self.out.provisions.insert("1.3");
        true
    }

    fn intent_and_route(&mut self, dissatisfied: bool) {
        use Signal as S;
        let h = self.hits;
        let ctx = *self.context;

        // Escalation of an existing complaint (6.10 to 6.12), or the same matter again after
        // the end of the process (2.2).
        if dissatisfied && h.has(S::AlreadyDecided) {
            self.set(Intent::Complaint, Route::AlreadyDecided);
            self.because("route.already_decided", Some("2.2"), &[S::AlreadyDecided]);
            self.suggestion_only();
            return;
        }
        if dissatisfied && (h.has(S::Escalation) || ctx.stage1_response_sent) {
            self.set(Intent::Escalation, Route::Complaints);
            let provision = if h.has(S::Escalation) { "6.11" } else { "6.10" };
            self.because(
                "intent.escalation",
                Some(provision),
                &[S::Escalation, S::ResponseRef],
            );
            // 6.12: no reasons are needed to go to stage 2.
            self.out.provisions.insert("6.12");
            return;
        }

        // Other routes: suggestions for staff (2.5), never decisions.
        let landlord_handling = h.has(S::Failure) && h.has(S::LandlordParty)
            || h.has(S::ComplaintWord)
            || dissatisfied && h.has(S::NegativeJudgement) && h.has(S::LandlordParty);
        if h.has(S::LegalFiled) {
            self.set(Intent::ReportOther, Route::Legal);
            self.because("route.legal_proceedings", Some("2.2"), &[S::LegalFiled]);
            self.suggestion_only();
            return;
        }
        if self.routes.enabled(Route::Insurance)
            && (h.has(S::Injury) || h.has(S::BelongingsDamage))
            && h.has(S::ClaimMoney)
        {
            // Blaming the landlord for the injury or damage is dissatisfaction too.
            if !dissatisfied && (h.has(S::Blame) || h.has(S::Failure)) {
                self.out.dissatisfied = true;
                self.because("dissatisfied.blames_landlord", Some("1.2"), &[S::Blame]);
            }
            self.set(Intent::ReportOther, Route::Insurance);
            self.because(
                "route.insurance_claim",
                None,
                &[S::Injury, S::BelongingsDamage, S::ClaimMoney],
            );
            self.suggestion_only();
            return;
        }
        if self.routes.enabled(Route::ServiceCharge)
            && h.has(S::ServiceCharge)
            && h.has(S::ChargeLevel)
            && !h.has(S::NotDelivered)
        {
            // Challenging the level of a charge is unhappiness with the landlord's charges.
            self.out.dissatisfied = true;
            self.set(Intent::ReportOther, Route::ServiceCharge);
            self.because(
                "route.service_charge_level",
                None,
                &[S::ServiceCharge, S::ChargeLevel],
            );
            self.suggestion_only();
            return;
        }
        // Praise with nothing to act on is a compliment, whatever else it mentions ("the ASB
        // team sorted the problem with next door").
        if !dissatisfied && self.compliment() && !h.has(S::ActionRequest) && !h.has(S::Fault) {
            self.because("intent.compliment", None, &[S::Praise]);
            self.set(Intent::Compliment, Route::Complaints);
            return;
        }
        let asb = h.has(S::Asb) || h.has(S::Nuisance) && h.has(S::ThirdParty);
        let safeguarding_only = h.has(S::Safeguarding) && !dissatisfied && !h.has(S::ActionRequest);
        if safeguarding_only && h.has(S::Agency) && !h.has(S::Asb) {
            self.set(Intent::ReportOther, Route::OtherOrg);
            self.because("route.other_organisation", None, &[S::OtherOrg]);
            self.suggestion_only();
            return;
        }
        if self.routes.enabled(Route::Asb) && asb && !landlord_handling {
            // Unhappiness with a neighbour is not dissatisfaction with the landlord.
            self.out.dissatisfied = false;
            self.set(Intent::ReportOther, Route::Asb);
            self.because("route.asb", None, &[S::Asb, S::Nuisance, S::ThirdParty]);
            self.suggestion_only();
            return;
        }
        if safeguarding_only {
            // A disclosure: staff are alerted; there is nothing to route. A question in it
            // ("who do I tell?") is answered as an enquiry.
            let asks = (0..self.norm.questions.len()).any(|s| self.norm.is_question(s as u16))
                || h.has(S::AskHow);
            let intent = if asks { Intent::Enquiry } else { Intent::Other };
            self.set(intent, Route::Complaints);
            return;
        }
        let agency_matter = h.has(S::Agency)
            && !(h.has(S::Fault) || h.has(S::HealthSafety) || h.has(S::ActionRequest));
        if self.routes.enabled(Route::OtherOrg)
            && (h.has(S::OtherOrg) || agency_matter)
            && !landlord_handling
            && !h.has(S::ActionRequest)
        {
            // Unhappiness with another organisation is not dissatisfaction with the landlord.
            self.out.dissatisfied = false;
            self.set(Intent::ReportOther, Route::OtherOrg);
            self.because("route.other_organisation", None, &[S::OtherOrg]);
            self.suggestion_only();
            return;
        }

        if dissatisfied {
            // 2.3: more than 12 months ago and over; never a refusal, a note for staff.
            let route = if self.out_of_time() {
                self.because("route.out_of_time", Some("2.3"), &[S::PastTime]);
                self.suggestion_only();
                Route::OutOfTime
            } else {
                Route::Complaints
            };
            let intent = if ctx.open_service_request {
                // 1.5: unhappy with an open service request: offer a complaint while the
                // request carries on.
                self.because("intent.complaint_while_request_open", Some("1.5"), &[]);
                Intent::Complaint
            } else if ctx.open_complaint {
                // 6.8: a related issue raised before the stage 1 response joins the complaint.
                self.because("intent.joins_open_complaint", Some("6.8"), &[]);
                Intent::Complaint
            } else if h.has(S::ActionRequest)
                && !h.has(S::ComplaintWord)
                && h.count(S::NegativeJudgement) <= 1
                && !self.long_grievance()
            {
                self.because("intent.service_request", Some("1.4"), &[S::ActionRequest]);
                Intent::ServiceRequest
            } else {
                self.because("intent.complaint", Some("1.2"), &[S::ComplaintWord]);
                Intent::Complaint
            };
            self.set(intent, route);
            return;
        }

        let asks = (0..self.norm.questions.len()).any(|s| self.norm.is_question(s as u16))
            || h.has(S::AskHow);
        let question = asks || h.has(S::Question);
        let substance = asks
            || h.has(S::Fault)
            || h.has(S::ComplaintNegated)
            || h.has(S::ActionRequest)
            || h.has(S::EnquiryTopic)
            || h.has(S::AskHow)
            || h.has(S::Emergency)
            || h.has(S::HealthSafety)
            || h.has(S::Praise)
            || h.has(S::Thanks)
            || h.has(S::Suggestion);
        let intent = if h.has(S::Greeting) && !substance || self.norm.words.is_empty() {
            Intent::Other
        } else if h.has(S::Suggestion) && !h.has(S::Emergency) {
            self.because("intent.comment", None, &[S::Suggestion]);
            Intent::Comment
        } else if self.compliment() {
            self.because("intent.compliment", None, &[S::Praise]);
            Intent::Compliment
        } else if h.has(S::AskHow) && !h.has(S::Emergency) {
            self.because("intent.enquiry", None, &[S::AskHow]);
            Intent::Enquiry
        } else if h.has(S::ActionRequest) || h.has(S::Emergency) && !asks {
            self.because(
                "intent.service_request",
                Some("1.4"),
                &[S::ActionRequest, S::Fault],
            );
            Intent::ServiceRequest
        } else if h.has(S::Thanks) && !question {
            self.because("intent.thanks", None, &[S::Thanks]);
            Intent::Thanks
        } else if h.has(S::ComplaintNegated) && !question {
            self.because("intent.comment", None, &[S::ComplaintNegated]);
            Intent::Comment
        } else if question || h.has(S::EnquiryTopic) {
            self.because("intent.enquiry", None, &[S::Question, S::EnquiryTopic]);
            Intent::Enquiry
        } else if h.has(S::Fault) || h.has(S::HealthSafety) {
            self.because("intent.service_request", Some("1.4"), &[S::Fault]);
            Intent::ServiceRequest
        } else {
            Intent::Other
        };
        self.set(intent, Route::Complaints);
        // Not a complaint in itself, but it may date one ("it was back in 2019"): a note for
        // staff, never a refusal (2.3).
        if self.out_of_time() {
            self.because("note.more_than_12_months_ago", Some("2.3"), &[S::PastTime]);
        }
    }

    /// A long message setting out several failures is a complaint, whatever it also asks for.
    fn long_grievance(&self) -> bool {
        let h = self.hits;
        self.norm.words.len() > 80
            && h.count(Signal::Failure) + h.count(Signal::NegativeJudgement) >= 3
    }

    /// Unsolicited praise that is not sarcasm.
    fn compliment(&self) -> bool {
        let h = self.hits;
        let sarcastic = h.has(Signal::Sarcasm)
            && (h.has(Signal::Failure)
                || h.has(Signal::NegativeJudgement)
                || h.has(Signal::WeakFailure));
        h.has(Signal::Praise) && !sarcastic && self.praise_is_particular()
    }

    /// Praise says something particular (a person, a job done well), not only "thanks".
    fn praise_is_particular(&self) -> bool {
        let h = self.hits;
        let praise = h.count(Signal::Praise);
        let words = self.norm.words.len();
        // "great thanks bye", "lovely ta", "perfect thank you": a closing, not a compliment.
        !(h.has(Signal::Thanks) && praise <= 1 && words <= 7)
    }

    /// The issue happened, and ended, more than 12 months ago (2.3).
    fn out_of_time(&self) -> bool {
        use Signal as S;
        let h = self.hits;
        if h.has(S::Ongoing) {
            return false;
        }
        if h.has(S::PastTime) {
            return true;
        }
        // A year named in the message, two or more years before today.
        let Some(today) = self.context.today else {
            return false;
        };
        (0..self.norm.words.len()).any(|i| {
            let w = self.norm.word(i);
            w.len() == 4
                && w.parse::<i32>()
                    .is_ok_and(|y| (1990..=today.year() - 2).contains(&y))
        })
    }

    fn set(&mut self, intent: Intent, route: Route) {
        self.out.intent = intent;
        self.out.route = route;
    }

    /// 2.1, 2.5: each complaint on its own merits; a route is a suggestion a person confirms.
    fn suggestion_only(&mut self) {
        self.out.provisions.insert("2.1");
        self.out.provisions.insert("2.5");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn assess(text: &str) -> Assessment {
        Policy::shipped()
            .expect("lexicon")
            .assess(text, &Context::default())
    }

    #[test]
    fn sarcasm_is_dissatisfaction() {
        let a = assess("brilliant, another week with no hot water");
        assert!(a.dissatisfied);
        assert_eq!(a.intent, Intent::Complaint);
        assert!(a.has_risk(Risk::HealthSafety));
        assert!(a.provisions.contains("1.2") && a.provisions.contains("1.3"));
    }

    #[test]
    fn not_complaining_just_asking_is_an_enquiry() {
        let a = assess("not complaining, just asking when the plumber is coming");
        assert!(!a.dissatisfied);
        assert_eq!(a.intent, Intent::Enquiry);
    }

    #[test]
    fn a_gas_smell_is_an_emergency_and_reasons_quote_the_resident() {
        let a = assess("I can SMELL GAS in the kitchen");
        assert!(a.is_urgent());
        let r = a
            .reasons
            .iter()
            .find(|r| r.rule == "risk.emergency")
            .expect("reason");
        assert_eq!(r.words, vec!["SMELL GAS".to_owned()]);
    }

    #[test]
    fn everyday_and_regional_wording_of_danger_is_recognised() {
        let a = assess("awright, the gas hob's been hissin an there's a pure honkin smell o gas");
        assert!(a.has_risk(Risk::Emergency), "{a:?}");
        let a = assess("my partner gets handy when he's had a drink");
        assert!(a.has_risk(Risk::Safeguarding), "{a:?}");
        let a = assess("the light switch came off the wall n theres wires hangin out of it");
        assert!(a.has_risk(Risk::Emergency), "{a:?}");
        // The words of a combination must share a sentence.
        let a = assess("The gas engineer came on Monday. The smell of fresh paint is lovely.");
        assert!(!a.has_risk(Risk::Emergency), "{a:?}");
        let a = assess("my son pushed the shopping trolley into the lift");
        assert!(!a.has_risk(Risk::Safeguarding), "{a:?}");
    }

    #[test]
    fn neighbour_noise_and_the_landlord_ignoring_it_differ() {
        let a = assess("my neighbour plays loud music till 4am every night");
        assert!(!a.dissatisfied);
        assert_eq!((a.intent, a.route), (Intent::ReportOther, Route::Asb));
        let b = assess("ive reported the noise from next door 5 times and you have done nothing");
        assert!(b.dissatisfied);
        assert_eq!(b.route, Route::Complaints);
    }

    #[test]
    fn context_turns_unhappiness_into_escalation() {
        let policy = Policy::shipped().expect("lexicon");
        let ctx = Context {
            stage1_response_sent: true,
            ..Context::default()
        };
        let a = policy.assess("still not fixed", &ctx);
        assert_eq!(a.intent, Intent::Escalation);
        assert!(a.provisions.contains("6.12"));
    }

    #[test]
    fn a_disabled_route_is_never_suggested() {
        let mut routes = ExclusionRoutes::default();
        routes.asb.enabled = false;
        let policy = Policy::new(Lexicon::build(&[]).expect("lexicon"), routes);
        let a = policy.assess(
            "my neighbour plays loud music till 4am every night",
            &Context::default(),
        );
        assert_ne!(a.route, Route::Asb);
    }

    #[test]
    fn another_language_is_recognised() {
        let a = assess("Dzień dobry, od trzech tygodni mam pleśń w sypialni i nikt nie przyszedł");
        assert_eq!(a.language, "pl");
        assert!(a.provisions.contains("5.10"));
        assert_eq!(assess("still no boiler").language, "en");
    }

    /// Characters residents' phones really produce, mixed in to reach the tricky paths.
    fn phone_char() -> impl Strategy<Value = char> {
        prop_oneof![
            4 => any::<char>(),
            2 => prop::sample::select(vec![
                ' ', '.', '?', '!', ',', '\n', '\'', '’', '-', '\u{200b}', '\u{200d}', '\u{202e}',
                '\u{feff}', 'а', 'о', 'е', 'с', 'ο', 'ｃ', '😡', '👍', '🔥', '煤', '気', 'é', '\u{301}',
            ]),
            4 => prop::sample::select("abcdefghijklmnopqrstuvwxyz gas leak still no mould".chars().collect::<Vec<_>>()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn assess_never_panics_on_arbitrary_unicode_up_to_64_kib(
            chars in prop::collection::vec(phone_char(), 0..16_384),
            open_service_request in any::<bool>(),
            stage1_response_sent in any::<bool>(),
        ) {
            let text: String = chars.into_iter().collect();
            let policy = Policy::shipped().expect("lexicon");
            let ctx = Context { open_service_request, stage1_response_sent, ..Context::default() };
            let a = policy.assess(&text, &ctx);
            // Every quoted word really is in the message.
            for r in &a.reasons {
                for w in &r.words {
                    prop_assert!(w.len() < 3 || text.contains(w.as_str()) || r.rule.starts_with("language"));
                }
            }
        }
    }

    #[test]
    fn an_oversized_message_is_assessed_on_its_first_64_kib() {
        let text = format!("{}I can smell gas", "é".repeat(40_000));
        let a = assess(&text);
        assert!(!a.has_risk(Risk::Emergency), "past the limit, not read");
        let text = format!("I can smell gas {}", "é".repeat(40_000));
        assert!(assess(&text).has_risk(Risk::Emergency));
    }
}
