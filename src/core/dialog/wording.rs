//! The wording and the complaint questions, as data (`dialogs/<locale>/*.toml`): compiled in,
//! and replaced or added to by a landlord's folder that the shell reads
//! (`crate::wording::load`). Every locale is validated when it is built, so a broken file
//! stops the bot at start-up, named with its line, rather than in front of a resident.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use super::types::{Choice, Promise, Reply};

/// The shipped locales: (locale, file name, text).
pub(super) const SHIPPED: &[(&str, &str, &str)] = &[
    (
        "en-GB",
        "messages.toml",
        include_str!("../../../dialogs/en-GB/messages.toml"),
    ),
    (
        "en-GB",
        "complaint.toml",
        include_str!("../../../dialogs/en-GB/complaint.toml"),
    ),
];

/// The locale used when none is chosen.
pub const DEFAULT_LOCALE: &str = "en-GB";

/// The privacy notice wording version recorded with each consent.
pub const PRIVACY_VERSION: &str = "2026-11";

/// A message as the locale's file gives it, placeholders unfilled.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Template {
    pub(super) text: String,
    #[serde(default)]
    pub(super) choices: Vec<Choice>,
    /// What the words promise will happen (see `Promise`).
    #[serde(default)]
    pub(super) promise: Option<Promise>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub text: String,
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub ask_if: Option<AskIf>,
    #[serde(default)]
    pub prefill: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Text,
    Choice,
    /// How to reach the resident, checked for the way they chose (`contact`): a UK phone
    /// number, an email address, or a postal address with a postcode.
    ContactDetail,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskIf {
    pub question: String,
    pub answers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ComplaintFile {
    question: Vec<Question>,
    definition: Template,
}

/// One locale's wording and questions.
#[derive(Debug, Clone)]
pub struct Locale {
    pub(super) messages: BTreeMap<String, Template>,
    pub(super) questions: Vec<Question>,
    pub(super) definition: Template,
}

/// Every locale, validated.
#[derive(Debug, Clone)]
pub struct Dialogs {
    locales: BTreeMap<String, Locale>,
}

/// A dialog file that cannot be used: the file, and the line where TOML says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialogError {
    #[error("{file}: {detail}")]
    Syntax { file: String, detail: String },
    #[error("{file}: [{key}] is missing; every locale needs it")]
    Missing { file: String, key: String },
    #[error("{file}: [{key}] uses the placeholder {{{placeholder}}}, which the bot never fills in")]
    Placeholder {
        file: String,
        key: String,
        placeholder: String,
    },
    #[error("{file}: question {id:?}: {detail}")]
    Question {
        file: String,
        id: String,
        detail: String,
    },
    #[error("cannot read the dialogs folder {path}: {detail}")]
    Folder { path: String, detail: String },
}

/// The message keys the bot uses; each locale must have them all.
pub(super) const REQUIRED: &[&str] = &[
    "greeting",
    "greeting_emergency",
    "language_again",
    "visit_question",
    "emergency",
    "safeguarding",
    "offer",
    "offer_open_request",
    "declined",
    "service_request",
    "privacy",
    "privacy_refused",
    "confirm",
    "correct",
    "acknowledged",
    "exclusion_note",
    "status",
    "no_case",
    "stage2_acknowledged",
    "relate",
    "joined",
    "compliment",
    "thanks",
    "comment",
    "enquiry",
    "other_route",
    "other",
    "human",
    "language",
    "attachment",
    "unsupported",
    "objection",
    "erasure",
    "access",
    "rectification",
    "resume",
    "empty",
    "too_long",
    "private_only",
    "staff_joined",
    "staff_left",
    "late_update",
    "definition_updated",
    "email_subject",
    "manager_told",
    "manager_not_reached",
    "safe_contact",
    "safe_contact_recorded",
    "contact_ask",
    "contact_check",
    "contact_recorded",
    "contact_declined",
    "privacy_hint",
    "definition_corrected",
    "ask_phone",
    "ask_email",
    "ask_letter",
    "phone_missing",
    "phone_not_uk",
    "phone_not_valid",
    "email_not_valid",
    "address_no_postcode",
    "reply_by_chat",
    "reply_by_email",
    "reply_by_phone",
    "reply_by_letter",
    "reply_times",
    "request_answered",
    "interpreter_arranged",
    "request_extended",
    "request_logged",
    "request_access",
    "request_erasure",
    "request_rectification",
    "request_objection",
    "request_interpreter",
    "feedback_ask",
    "feedback_comment",
    "feedback_thanks",
    "feedback_skipped",
];

/// Placeholders the bot fills in.
const PLACEHOLDERS: &[&str] = &[
    "landlord",
    "reference",
    "received",
    "acknowledged",
    "due",
    "stage",
    "definition",
    "out_of_hours",
    "ombudsman_phone",
    "ombudsman_address",
    "ombudsman_website",
    "heard",
    "signpost",
    "privacy_version",
    "status",
    "exclusion_note",
    "question",
    "staff",
    "next_update",
    "manager_told",
    "contact",
    "language",
    "reply_by",
    "request",
    "answer",
    "reason",
];

impl Dialogs {
    /// The shipped dialogs alone.
    pub fn shipped() -> Result<Dialogs, DialogError> {
        Dialogs::with_files(Vec::new())
    }

    /// The shipped dialogs, with the `folder`'s files replacing the shipped file of the same
    /// name or adding a locale. Each is a `(path, text)` pair that the shell read from a
    /// landlord's folder: the path ends `<locale>/<file>.toml`, and an error names the file by it.
    pub fn with_files(
        folder: impl IntoIterator<Item = (PathBuf, String)>,
    ) -> Result<Dialogs, DialogError> {
        let mut files: BTreeMap<(String, String), (String, String)> = SHIPPED
            .iter()
            .map(|(locale, name, text)| {
                (
                    ((*locale).to_owned(), (*name).to_owned()),
                    (
                        format!("dialogs/{locale}/{name} (shipped)"),
                        (*text).to_owned(),
                    ),
                )
            })
            .collect();
        let name_of = |name: Option<&std::ffi::OsStr>| {
            name.map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        for (path, text) in folder {
            let locale = name_of(path.parent().and_then(Path::file_name));
            files.insert(
                (locale, name_of(path.file_name())),
                (path.display().to_string(), text),
            );
        }
        let mut locales = BTreeMap::new();
        let names: Vec<String> = files.keys().map(|(l, _)| l.clone()).collect();
        for locale in names {
            if locales.contains_key(&locale) {
                continue;
            }
            let get = |name: &str| files.get(&(locale.clone(), name.to_owned()));
            let missing = |name: &str| DialogError::Missing {
                file: format!("dialogs/{locale}/{name}"),
                key: "the whole file".to_owned(),
            };
            let (messages_file, messages_text) =
                get("messages.toml").ok_or_else(|| missing("messages.toml"))?;
            let (complaint_file, complaint_text) =
                get("complaint.toml").ok_or_else(|| missing("complaint.toml"))?;
            let messages: BTreeMap<String, Template> =
                toml::from_str(messages_text).map_err(|e| DialogError::Syntax {
                    file: messages_file.clone(),
                    detail: e.to_string(),
                })?;
            let complaint: ComplaintFile =
                toml::from_str(complaint_text).map_err(|e| DialogError::Syntax {
                    file: complaint_file.clone(),
                    detail: e.to_string(),
                })?;
            validate(messages_file, &messages, complaint_file, &complaint)?;
            locales.insert(
                locale.clone(),
                Locale {
                    messages,
                    questions: complaint.question,
                    definition: complaint.definition,
                },
            );
        }
        Ok(Dialogs { locales })
    }

    /// The locale, falling back to the default.
    pub fn locale(&self, name: &str) -> &Locale {
        self.locales
            .get(name)
            .or_else(|| self.locales.get(DEFAULT_LOCALE))
            .or_else(|| self.locales.values().next())
            .expect("the shipped locale is always loaded")
    }

    pub fn locales(&self) -> impl Iterator<Item = &str> {
        self.locales.keys().map(String::as_str)
    }
}

fn validate(
    messages_file: &str,
    messages: &BTreeMap<String, Template>,
    complaint_file: &str,
    complaint: &ComplaintFile,
) -> Result<(), DialogError> {
    for key in REQUIRED {
        if !messages.contains_key(*key) {
            return Err(DialogError::Missing {
                file: messages_file.to_owned(),
                key: (*key).to_owned(),
            });
        }
    }
    for (key, template) in messages {
        for p in placeholders(&template.text) {
            if !PLACEHOLDERS.contains(&p) {
                return Err(DialogError::Placeholder {
                    file: messages_file.to_owned(),
                    key: key.clone(),
                    placeholder: p.to_owned(),
                });
            }
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for q in &complaint.question {
        let bad = |detail: String| DialogError::Question {
            file: complaint_file.to_owned(),
            id: q.id.clone(),
            detail,
        };
        if seen.contains(&q.id.as_str()) {
            return Err(bad("appears twice".to_owned()));
        }
        if q.kind == QuestionKind::Choice && q.choices.len() < 2 {
            return Err(bad(
                "a choice question needs at least two choices".to_owned()
            ));
        }
        if let Some(cond) = &q.ask_if
            && !seen.contains(&cond.question.as_str())
        {
            return Err(bad(format!(
                "ask_if refers to {:?}, which is not an earlier question",
                cond.question
            )));
        }
        if let Some(p) = &q.prefill
            && p != "first_message"
        {
            return Err(bad(format!(
                "prefill {p:?} is unknown; use \"first_message\""
            )));
        }
        seen.push(&q.id);
    }
    for required in ["what_went_wrong", "outcome"] {
        if !seen.contains(&required) {
            return Err(DialogError::Question {
                file: complaint_file.to_owned(),
                id: required.to_owned(),
                detail: "is required: it makes the complaint definition (Code 5.6)".to_owned(),
            });
        }
    }
    for p in placeholders(&complaint.definition.text) {
        if !seen.contains(&p) {
            return Err(DialogError::Placeholder {
                file: complaint_file.to_owned(),
                key: "definition".to_owned(),
                placeholder: p.to_owned(),
            });
        }
    }
    Ok(())
}

/// The `{names}` in a template.
fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.push(&after[..close]);
        rest = &after[close + 1..];
    }
    out
}

pub(super) fn fill(text: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match values.get(name) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

impl Locale {
    /// A message with no placeholders filled in.
    pub fn text(&self, key: &str) -> Reply {
        self.say(key, &BTreeMap::new())
    }

    /// The message `key` with its placeholders filled from `values`.
    pub fn say(&self, key: &str, values: &BTreeMap<&str, String>) -> Reply {
        self.messages[key].say(values)
    }

    pub(super) fn ask(&self, index: usize) -> Reply {
        let q = &self.questions[index];
        Reply {
            text: q.text.clone(),
            choices: q.choices.clone(),
            promise: None,
        }
    }
}

impl Template {
    /// The template with its placeholders filled from `values`.
    pub(super) fn say(&self, values: &BTreeMap<&str, String>) -> Reply {
        Reply {
            text: fill(&self.text, values),
            choices: self
                .choices
                .iter()
                .map(|c| Choice {
                    key: c.key.clone(),
                    label: fill(&c.label, values),
                })
                .collect(),
            promise: self.promise,
        }
    }
}

/// A date as the resident reads it: "Monday 23 November 2026".
pub(super) fn date(d: NaiveDate) -> String {
    d.format("%A %-d %B %Y").to_string()
}
