//! Staff corrections of an assessment, and the labelled examples they become.

use std::collections::BTreeSet;

use crate::core::policy::{Intent, Risk, Route};

use super::{CorpusContext, Expect, Labelled};

/// A member of staff's correction of one field of an assessment (issue 10: "not a complaint",
/// "was a complaint", "wrong risk"). Kept as a labelled example for the landlord's own model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    Dissatisfied(bool),
    Intent(Intent),
    Route(Route),
    Risk(Risk, bool),
    Representative(bool),
}

impl Correction {
    /// Every correction the console offers, in the order it lists them.
    pub fn all() -> Vec<Correction> {
        let mut out = vec![
            Correction::Dissatisfied(false),
            Correction::Dissatisfied(true),
        ];
        for risk in Risk::ALL {
            out.push(Correction::Risk(*risk, true));
            out.push(Correction::Risk(*risk, false));
        }
        out.push(Correction::Representative(true));
        out.push(Correction::Representative(false));
        out.extend(Intent::ALL.iter().map(|i| Correction::Intent(*i)));
        out.extend(Route::ALL.iter().map(|r| Correction::Route(*r)));
        out
    }

    pub fn field(&self) -> &'static str {
        match self {
            Correction::Dissatisfied(_) => "dissatisfied",
            Correction::Intent(_) => "intent",
            Correction::Route(_) => "route",
            Correction::Risk(risk, _) => risk.as_str(),
            Correction::Representative(_) => "representative",
        }
    }

    pub fn value(&self) -> String {
        match self {
            Correction::Dissatisfied(v)
            | Correction::Risk(_, v)
            | Correction::Representative(v) => v.to_string(),
            Correction::Intent(i) => i.to_string(),
            Correction::Route(r) => r.to_string(),
        }
    }

    /// `field:value`, as the console's form sends it.
    pub fn key(&self) -> String {
        format!("{}:{}", self.field(), self.value())
    }

    pub fn parse(field: &str, value: &str) -> Option<Correction> {
        let yes = match value {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
        Some(match field {
            "dissatisfied" => Correction::Dissatisfied(yes?),
            "representative" => Correction::Representative(yes?),
            "intent" => Correction::Intent(value.parse().ok()?),
            "route" => Correction::Route(value.parse().ok()?),
            risk => Correction::Risk(risk.parse().ok()?, yes?),
        })
    }

    pub fn from_key(key: &str) -> Option<Correction> {
        let (field, value) = key.split_once(':')?;
        Correction::parse(field, value)
    }

    /// What staff read: "Not a complaint", "Was an emergency", "Intent should be enquiry".
    pub fn describe(&self) -> String {
        match self {
            Correction::Dissatisfied(false) => "Not a complaint (not unhappy with us)".to_owned(),
            Correction::Dissatisfied(true) => "Was a complaint (unhappy with us)".to_owned(),
            Correction::Risk(risk, true) => format!("Was {}", risk_words(*risk)),
            Correction::Risk(risk, false) => format!("Not {}", risk_words(*risk)),
            Correction::Representative(true) => "Written for someone else".to_owned(),
            Correction::Representative(false) => "Not written for someone else".to_owned(),
            Correction::Intent(i) => format!("Intent should be {}", i.as_str().replace('_', " ")),
            Correction::Route(r) => format!("Route should be {}", r.as_str().replace('_', " ")),
        }
    }
}

fn risk_words(risk: Risk) -> &'static str {
    match risk {
        Risk::Emergency => "an emergency",
        Risk::HealthSafety => "a health and safety hazard",
        Risk::Safeguarding => "a safeguarding concern",
        Risk::Vulnerability => "a vulnerability",
    }
}

/// A corrected message as a labelled example: only the corrected fields are labelled, except
/// that a corrected risk labels every risk (the assessed ones, as corrected), since staff saw
/// them all. Later corrections of a field replace earlier ones.
pub fn corrected_example(
    id: String,
    text: String,
    context: CorpusContext,
    assessed_risks: &BTreeSet<Risk>,
    corrections: &[Correction],
) -> Labelled {
    let mut expect = Expect {
        language: None,
        ..Expect::default()
    };
    for c in corrections {
        match *c {
            Correction::Dissatisfied(v) => expect.dissatisfied = Some(v),
            Correction::Intent(i) => expect.intent = Some(i),
            Correction::Route(r) => expect.route = Some(r),
            Correction::Representative(v) => expect.representative = Some(v),
            Correction::Risk(risk, v) => {
                let risks = expect.risks.get_or_insert_with(|| assessed_risks.clone());
                if v {
                    risks.insert(risk);
                } else {
                    risks.remove(&risk);
                }
            }
        }
    }
    Labelled {
        id,
        text,
        context,
        expect,
        why: "corrected by staff in the console".to_owned(),
    }
}
