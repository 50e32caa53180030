//! Complaint categories (issue 12; Code 9.7 asks for figures on volumes by category, and the
//! annual report of section 8 shows them): a list that is the landlord's data
//! (`[[landlord.categories]]`), and the category the policy engine suggests when a complaint
//! opens. The suggestion is only that: staff confirm or change it in the console.
//!
//! How a suggestion is made ([`suggest`]), in order:
//! 1. **The route.** A category that lists a route the engine found for the complaint (the
//!    route suggested when the resident first wrote, or the route of the complaint's own
//!    definition, or anti-social behaviour found beside a complaint about its handling) is
//!    suggested: anti-social behaviour reported is a complaint about how it was handled.
//! 2. **The words.** Otherwise the category with the most of its words in the complaint
//!    definition, read in the engine's normal form (typos, text-speak and look-alike letters
//!    already put right, so "mowld" and "MOULD" are "mould"); a word ending in `*` matches
//!    any word it begins. A tie goes to the category listed first.
//! 3. **Nothing.** No route and no word: no suggestion, and staff choose.

use serde::{Deserialize, Serialize};

use super::policy::{self, Assessment, Route};

/// One category of the landlord's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// The name in the record and the reports: lower-case letters, digits and `_`.
    pub key: String,
    /// What staff and the annual report read.
    pub label: String,
    /// Words or phrases (lower case) that suggest it; `*` at the end of a word matches any
    /// word it begins.
    #[serde(default)]
    pub words: Vec<String>,
    /// Routes of the policy engine that suggest it before any word (`asb`, `service_charge`).
    #[serde(default)]
    pub routes: Vec<Route>,
}

/// The landlord's categories, in the order staff see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Categories(pub Vec<Category>);

/// A category list that cannot be used, naming the entry at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CategoryError {
    #[error("landlord.categories needs at least two categories, so staff have a choice")]
    TooFew,
    #[error(
        "landlord.categories: key {0:?} must be lower-case letters, digits and _, starting with a letter"
    )]
    Key(String),
    #[error("landlord.categories: key {0:?} appears twice")]
    Twice(String),
    #[error("landlord.categories: {0:?} needs a label")]
    Label(String),
    #[error(
        "landlord.categories: {key:?} has the word {word:?}; words are lower case and not empty"
    )]
    Word { key: String, word: String },
    #[error("landlord.categories: the route {route} is listed by both {first:?} and {second:?}")]
    RouteTwice {
        route: Route,
        first: String,
        second: String,
    },
}

impl Categories {
    /// Every problem with the list, so they can be fixed in one go.
    pub fn check(&self) -> Vec<CategoryError> {
        let mut errors = Vec::new();
        if self.0.len() < 2 {
            errors.push(CategoryError::TooFew);
        }
        let mut seen: Vec<&str> = Vec::new();
        let mut routes: Vec<(Route, &str)> = Vec::new();
        for c in &self.0 {
            let good_key = c.key.chars().next().is_some_and(|f| f.is_ascii_lowercase())
                && c.key
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            if !good_key {
                errors.push(CategoryError::Key(c.key.clone()));
            }
            if seen.contains(&c.key.as_str()) {
                errors.push(CategoryError::Twice(c.key.clone()));
            }
            seen.push(&c.key);
            if c.label.trim().is_empty() {
                errors.push(CategoryError::Label(c.key.clone()));
            }
            for word in &c.words {
                if word.trim().is_empty() || word.to_lowercase() != *word {
                    errors.push(CategoryError::Word {
                        key: c.key.clone(),
                        word: word.clone(),
                    });
                }
            }
            for route in &c.routes {
                // One route, one category: otherwise the suggestion would depend on order.
                if let Some((_, first)) = routes.iter().find(|(r, _)| r == route) {
                    errors.push(CategoryError::RouteTwice {
                        route: *route,
                        first: (*first).to_owned(),
                        second: c.key.clone(),
                    });
                }
                routes.push((*route, &c.key));
            }
        }
        errors
    }

    /// The category named `key`.
    pub fn get(&self, key: &str) -> Option<&Category> {
        self.0.iter().find(|c| c.key == key)
    }

    /// The label of `key`, or the key itself for a category no longer in the list (a record
    /// made before the landlord changed it).
    pub fn label<'a>(&'a self, key: &'a str) -> &'a str {
        self.get(key).map_or(key, |c| c.label.as_str())
    }
}

impl Default for Categories {
    /// The categories the Housing Ombudsman's reports and most landlords' annual reports use.
    /// Damp and mould comes first: such a complaint nearly always names a repair too, and a
    /// tie goes to the category listed first, so it is not lost among repairs (the
    /// Ombudsman reports damp and mould on its own).
    fn default() -> Categories {
        let category = |key: &str, label: &str, words: &[&str], routes: &[Route]| Category {
            key: key.to_owned(),
            label: label.to_owned(),
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            routes: routes.to_vec(),
        };
        Categories(vec![
            category(
                "damp_mould",
                "Damp and mould",
                &[
                    "damp*",
                    "mould*",
                    "condensation",
                    "black spots",
                    "mildew",
                    "wet walls",
                    "musty",
                ],
                &[],
            ),
            category(
                "repairs",
                "Repairs",
                &[
                    "repair*",
                    "fix*",
                    "broken",
                    "boiler",
                    "heating",
                    "hot water",
                    "leak*",
                    "roof",
                    "window*",
                    "door*",
                    "engineer",
                    "contractor*",
                    "appointment*",
                    "toilet",
                    "shower",
                    "kitchen",
                    "electric*",
                    "lift",
                ],
                &[],
            ),
            category(
                "asb_handling",
                "ASB handling",
                &[
                    "anti social",
                    "antisocial",
                    "asb",
                    "neighbour*",
                    "noise",
                    "noisy",
                    "harass*",
                    "drug*",
                    "threat*",
                ],
                &[Route::Asb],
            ),
            category(
                "staff_conduct",
                "Staff conduct",
                &[
                    "rude",
                    "attitude",
                    "unprofessional",
                    "shouted",
                    "swore",
                    "disrespect*",
                    "patroni*",
                    "staff member",
                    "officer was",
                ],
                &[],
            ),
            category(
                "communication",
                "Communication",
                &[
                    "no reply",
                    "no response",
                    "never replied",
                    "never called",
                    "call back",
                    "called back",
                    "ignored",
                    "ignoring",
                    "chased",
                    "chasing",
                    "nobody told",
                    "no one told",
                    "kept informed",
                    "no update*",
                ],
                &[],
            ),
            category(
                "rent_charges",
                "Rent and charges",
                &[
                    "rent",
                    "charge*",
                    "arrears",
                    "bill*",
                    "invoice*",
                    "payment*",
                    "overcharg*",
                    "refund*",
                ],
                &[Route::ServiceCharge],
            ),
            category("other", "Other", &[], &[]),
        ])
    }
}

/// The category the engine suggests for a complaint (see the module's account of how):
/// `definition` is the complaint as read back to the resident, in the engine's normal form;
/// `assessment` is the engine's reading of that definition; `route` the route suggested when
/// the resident first wrote, if any.
pub fn suggest<'a>(
    categories: &'a Categories,
    definition: &str,
    assessment: &Assessment,
    route: Option<Route>,
) -> Option<&'a Category> {
    let asb_too = assessment.reasons.iter().any(|r| r.rule == policy::ASB_TOO);
    let routes = [route, Some(assessment.route), asb_too.then_some(Route::Asb)];
    if let Some(by_route) = categories
        .0
        .iter()
        .find(|c| c.routes.iter().any(|r| routes.contains(&Some(*r))))
    {
        return Some(by_route);
    }
    let words = words_of(definition);
    let mut best: Option<(&Category, usize)> = None;
    for category in &categories.0 {
        let hits = category
            .words
            .iter()
            .filter(|phrase| contains_phrase(&words, phrase))
            .count();
        if hits > 0 && best.is_none_or(|(_, most)| hits > most) {
            best = Some((category, hits));
        }
    }
    best.map(|(category, _)| category)
}

/// The words of a text, lower case, split at anything but letters and digits.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether `phrase` (one word or several; a word ending in `*` matches any word it begins)
/// occurs in `words`, word for word.
fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let wanted: Vec<&str> = phrase.split_whitespace().collect();
    if wanted.is_empty() || wanted.len() > words.len() {
        return false;
    }
    words.windows(wanted.len()).any(|window| {
        window
            .iter()
            .zip(&wanted)
            .all(|(word, want)| match want.strip_suffix('*') {
                Some(stem) => word.starts_with(stem),
                None => word == want,
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::policy::{Context, Policy};

    /// The suggestion for a definition, read as the service reads it: in the engine's
    /// normal form, with the engine's assessment of it.
    fn suggested(definition: &str, route: Option<Route>) -> Option<String> {
        let policy = Policy::shipped().expect("policy");
        let categories = Categories::default();
        let (normal, ..) = policy.prepare(definition, &Context::default());
        let assessment = policy.assess(definition, &Context::default());
        suggest(&categories, &normal.text, &assessment, route).map(|c| c.key.clone())
    }

    #[test]
    fn the_default_list_is_valid_and_has_the_usual_categories() {
        let categories = Categories::default();
        assert_eq!(categories.check(), Vec::new());
        let keys: Vec<&str> = categories.0.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "damp_mould",
                "repairs",
                "asb_handling",
                "staff_conduct",
                "communication",
                "rent_charges",
                "other"
            ]
        );
        assert_eq!(categories.label("damp_mould"), "Damp and mould");
        assert_eq!(categories.label("retired_key"), "retired_key");
    }

    #[test]
    fn damp_and_mould_words_suggest_damp_and_mould_even_in_text_speak() {
        for definition in [
            "Black mould in the bedroom for months; you want it treated.",
            "there is MOULD all over the bathroom ceiling and damp in the walls",
            "the mold is back on the window sill",
        ] {
            assert_eq!(
                suggested(definition, None).as_deref(),
                Some("damp_mould"),
                "{definition}"
            );
        }
    }

    #[test]
    fn the_asb_route_suggests_asb_handling_before_any_word() {
        // A repair word is there too, but the engine's route decides.
        assert_eq!(
            suggested("The boiler is fine but nobody answers", Some(Route::Asb)).as_deref(),
            Some("asb_handling")
        );
        assert_eq!(
            suggested(
                "My neighbour plays loud music every night and you never do anything about it",
                None
            )
            .as_deref(),
            Some("asb_handling")
        );
        assert_eq!(
            suggested(
                "The service charge went up again",
                Some(Route::ServiceCharge)
            )
            .as_deref(),
            Some("rent_charges")
        );
    }

    #[test]
    fn other_words_suggest_their_category_and_nothing_suggests_nothing() {
        assert_eq!(
            suggested("No hot water for three weeks; fix the boiler.", None).as_deref(),
            Some("repairs")
        );
        assert_eq!(
            suggested("The officer was rude and shouted at me on the phone.", None).as_deref(),
            Some("staff_conduct")
        );
        assert_eq!(
            suggested("I chased three times and nobody told me anything.", None).as_deref(),
            Some("communication")
        );
        assert_eq!(suggested("I am unhappy with you.", None), None);
    }

    #[test]
    fn words_match_whole_words_phrases_and_stems() {
        let words = words_of("The Damp-proofing failed; black spots again.");
        assert!(contains_phrase(&words, "damp*"));
        assert!(contains_phrase(&words, "black spots"));
        assert!(!contains_phrase(&words, "spots black"));
        assert!(!contains_phrase(&words, "dam"));
        assert!(!contains_phrase(&words, ""));
    }

    #[test]
    fn a_tie_goes_to_the_category_listed_first() {
        let categories = Categories(vec![
            Category {
                key: "first".to_owned(),
                label: "First".to_owned(),
                words: vec!["leak".to_owned()],
                routes: Vec::new(),
            },
            Category {
                key: "second".to_owned(),
                label: "Second".to_owned(),
                words: vec!["roof".to_owned()],
                routes: Vec::new(),
            },
        ]);
        let assessment = Policy::shipped()
            .expect("policy")
            .assess("leak roof", &Context::default());
        assert_eq!(
            suggest(&categories, "leak roof", &assessment, None).map(|c| c.key.as_str()),
            Some("first")
        );
    }

    #[test]
    fn a_list_that_cannot_be_used_is_refused_naming_each_problem() {
        let mut categories = Categories::default();
        categories.0[1].key = "Damp Mould".to_owned();
        categories.0[2].label = " ".to_owned();
        categories.0[3].words.push("Rude".to_owned());
        categories.0[4].key = "damp_mould".to_owned();
        categories.0[6].routes.push(Route::Asb);
        let errors = categories.check();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 5, "{text:?}");
        assert!(text[0].contains("Damp Mould"));
        assert!(text[1].contains("asb_handling") && text[1].contains("label"));
        assert!(text[2].contains("Rude"));
        assert!(text[3].contains("appears twice"));
        assert!(text[4].contains("asb") && text[4].contains("other"));
        assert_eq!(
            Categories(vec![Categories::default().0[0].clone()]).check(),
            vec![CategoryError::TooFew]
        );
    }
}
