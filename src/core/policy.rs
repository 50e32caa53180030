//! The policy engine: what a resident's message means under the Complaint Handling Code.
//!
//! `Policy::assess` reads one message, with what is already known of the resident's case, and
//! says whether it expresses dissatisfaction (1.2), what the resident mainly wants, where the
//! matter would go, which risks it raises, and whether the writer acts for someone else. Every
//! conclusion carries the Code provisions it relies on and the resident's own words that led to
//! it, so staff can see why. Routes other than `complaints` are suggestions for staff, never
//! decisions (2.5).
//!
//! - this module: the engine and what it concludes (`Assessment` and its parts).
//! - `normalise`, `lexicon`, `language`: a message's normal form, the words the rules know,
//!   and which language it is in.
//! - `hits`: what the lexicon finds in one message.
//! - `rules`: the rules read over those hits; `conclude`: the rules combined with the learned
//!   heads' scores.
//! - `learned`, `train`: the learned layer, and how it is fitted and scored.
//! - `routes`: the routes outside complaints a landlord uses.

mod conclude;
mod hits;
mod language;
pub mod learned;
mod lexicon;
mod normalise;
mod routes;
mod rules;
pub mod train;

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use language::{ENGLISH, language_name};
pub use learned::{Decisions, Model, ModelError, Scores};
pub use lexicon::{Lexicon, LexiconError, SHIPPED as SHIPPED_LEXICON, Scope, Signal};
pub use normalise::{Normalised, normalise};
pub use routes::{ExclusionRoutes, RouteSetting};

use hits::Hits;
pub use rules::ASB_TOO;
use rules::{Learned, Reading};

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

#[cfg(test)]
mod tests;
