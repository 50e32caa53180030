//! The resident's conversation: given the state, the assessment of the message and the
//! message itself, `step` returns the next state, the replies and the effects to record.
//!
//! The wording and the complaint questions are data (`dialogs/<locale>/*.toml`), compiled in
//! and overridable from a folder. This module decides which to say when, following the Code:
//! listen first, safety first, offer the choice to complain whenever the resident is unhappy
//! (1.3), ask for consent before details (POLICY.md 7), read the complaint back (5.6),
//! acknowledge with dates (6.2, 6.3), and take a stage 2 request without reasons (6.12).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::Deadlines;
use super::policy::{Assessment, Intent, Risk, Route};
use super::profile::LandlordProfile;

/// The shipped locales: (locale, file name, text).
const SHIPPED: &[(&str, &str, &str)] = &[
    (
        "en-GB",
        "messages.toml",
        include_str!("../../dialogs/en-GB/messages.toml"),
    ),
    (
        "en-GB",
        "complaint.toml",
        include_str!("../../dialogs/en-GB/complaint.toml"),
    ),
];

/// The locale used when none is chosen.
pub const DEFAULT_LOCALE: &str = "en-GB";

/// The privacy notice wording version recorded with each consent.
pub const PRIVACY_VERSION: &str = "2026-11";

/// A reply: text, and choices to offer as buttons or numbered options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Template {
    text: String,
    #[serde(default)]
    choices: Vec<Choice>,
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
    messages: BTreeMap<String, Template>,
    questions: Vec<Question>,
    definition: Template,
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
const REQUIRED: &[&str] = &[
    "greeting",
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
    "withdraw",
    "erase",
    "access",
    "resume",
    "empty",
    "too_long",
    "private_only",
    "staff_joined",
    "staff_left",
    "late_update",
    "definition_updated",
    "email_subject",
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
];

impl Dialogs {
    /// The shipped dialogs, with any files in `dir` (`<dir>/<locale>/<file>.toml`) replacing
    /// the shipped file of the same name or adding a locale.
    pub fn load(dir: Option<&Path>) -> Result<Dialogs, DialogError> {
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
        if let Some(dir) = dir {
            let folder_error = |e: std::io::Error| DialogError::Folder {
                path: dir.display().to_string(),
                detail: e.to_string(),
            };
            for locale in std::fs::read_dir(dir).map_err(folder_error)? {
                let locale = locale.map_err(folder_error)?;
                if !locale.path().is_dir() {
                    continue;
                }
                let name = locale.file_name().to_string_lossy().into_owned();
                for file in std::fs::read_dir(locale.path()).map_err(folder_error)? {
                    let path = file.map_err(folder_error)?.path();
                    if path.extension().is_none_or(|e| e != "toml") {
                        continue;
                    }
                    let text = std::fs::read_to_string(&path).map_err(folder_error)?;
                    let file_name = path
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    files.insert(
                        (name.clone(), file_name),
                        (path.display().to_string(), text),
                    );
                }
            }
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

fn fill(text: &str, values: &BTreeMap<&str, String>) -> String {
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
        let template = &self.messages[key];
        Reply {
            text: fill(&template.text, values),
            choices: template
                .choices
                .iter()
                .map(|c| Choice {
                    key: c.key.clone(),
                    label: fill(&c.label, values),
                })
                .collect(),
        }
    }

    fn ask(&self, index: usize) -> Reply {
        let q = &self.questions[index];
        Reply {
            text: q.text.clone(),
            choices: q.choices.clone(),
        }
    }
}

/// What the resident sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Text(String),
    /// A button pressed (its key).
    Choice(String),
    /// A photo, document or voice note, kept in the record.
    Attachment,
    /// Something the bot cannot read (a sticker, a location).
    Unsupported,
}

/// Where the conversation is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Listening,
    /// The choice to complain was offered (1.3).
    Offered { open_request: bool },
    /// Asked whether a new grievance is about an existing complaint (6.8).
    Relating { reference: String },
    /// The privacy notice was shown.
    Consent,
    /// Asking complaint question `index`.
    Asking { index: usize },
    /// The complaint definition was read back (5.6).
    Confirming,
    /// The resident is correcting the definition.
    Correcting,
}

/// A complaint this conversation made, as the resident can ask about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub reference: String,
    pub stage: u8,
    pub received_on: NaiveDate,
    pub acknowledged_on: NaiveDate,
    pub due_on: NaiveDate,
    /// Whether the response for the current stage has been sent (by staff).
    pub responded: bool,
    /// Closed by staff after its final word; the retention period runs from then.
    #[serde(default)]
    pub closed: bool,
}

/// The conversation's state, kept between messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    #[serde(flatten)]
    pub phase: Phase,
    /// What the resident first said, reflected back in the offer.
    #[serde(default)]
    pub heard: String,
    #[serde(default)]
    pub received_at: Option<DateTime<Utc>>,
    /// The route the engine suggested for staff to confirm (2.5).
    #[serde(default)]
    pub suggested_route: Option<Route>,
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    #[serde(default)]
    pub consent_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub cases: Vec<CaseSummary>,
    #[serde(default)]
    pub open_service_request: bool,
    #[serde(default)]
    pub last_message_at: Option<DateTime<Utc>>,
    /// When a complaint left half-finished was logged for staff, so it is logged once.
    #[serde(default)]
    pub half_finished_logged_at: Option<DateTime<Utc>>,
}

impl State {
    /// The complaint at stage 1 still waiting for its response, if any.
    pub fn open_complaint(&self) -> Option<&CaseSummary> {
        self.cases
            .iter()
            .rev()
            .find(|c| c.stage == 1 && !c.responded)
    }

    /// The complaint whose stage 1 response was sent, so stage 2 can be asked for.
    pub fn answered_stage_one(&self) -> Option<&CaseSummary> {
        self.cases
            .iter()
            .rev()
            .find(|c| c.stage == 1 && c.responded)
    }

    /// Whether the resident stopped part way through making a complaint.
    pub fn half_finished(&self) -> bool {
        matches!(
            self.phase,
            Phase::Offered { .. }
                | Phase::Relating { .. }
                | Phase::Consent
                | Phase::Asking { .. }
                | Phase::Confirming
                | Phase::Correcting
        )
    }

    /// The context the policy engine needs (1.5, 6.8, 6.10).
    pub fn policy_context(&self, today: NaiveDate) -> super::policy::Context {
        super::policy::Context {
            open_service_request: self.open_service_request,
            open_complaint: self.open_complaint().is_some(),
            stage1_response_sent: self.answered_stage_one().is_some(),
            today: Some(today),
        }
    }
}

/// Something to record or do, in the same transaction as the replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// An emergency or safeguarding concern: a manager, at once, at any hour.
    UrgentAlert {
        risk: Risk,
        words: Vec<String>,
    },
    /// Health and safety, vulnerability, a stage 2 request: a manager, in working hours.
    Alert {
        kind: String,
        detail: String,
    },
    /// The resident asked for a person.
    HandOver,
    /// The choice to complain was offered (1.3), and later what was chosen.
    Offered,
    OfferAnswered {
        choice: String,
    },
    /// Unhappy but no complaint wanted: logged, no escalation needed (seed 000).
    Dissatisfaction {
        heard: String,
        declined: bool,
    },
    ServiceRequest {
        text: String,
    },
    Compliment {
        text: String,
    },
    Comment {
        text: String,
    },
    Enquiry {
        text: String,
    },
    /// A matter for another route, for staff to confirm (2.5).
    OtherRoute {
        route: Route,
        text: String,
    },
    Consent {
        given: bool,
        wording_version: String,
    },
    OpenCase(NewCase),
    /// A related issue joining a complaint before its stage 1 response (6.8).
    JoinCase {
        reference: String,
        text: String,
    },
    /// Stage 2 asked for (6.11, 6.12).
    Escalate {
        reference: String,
        requested_at: DateTime<Utc>,
        acknowledged_on: NaiveDate,
        due_on: NaiveDate,
    },
    Interpreter {
        language: String,
    },
    PrivacyRequest {
        kind: PrivacyKind,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewCase {
    pub reference: String,
    pub received_at: DateTime<Utc>,
    pub acknowledged_on: NaiveDate,
    pub due_on: NaiveDate,
    pub definition: String,
    pub answers: BTreeMap<String, String>,
    /// A route other than complaints that staff should confirm or reject (2.4, 2.5).
    pub suggested_route: Option<Route>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyKind {
    Withdraw,
    Erase,
    Access,
}

/// Everything `step` needs besides the state and the message.
pub struct Env<'a> {
    pub dialogs: &'a Dialogs,
    pub locale: &'a str,
    pub profile: &'a LandlordProfile,
    pub deadlines: Deadlines<'a>,
    pub now: DateTime<Utc>,
    /// The reference a new complaint would get.
    pub next_reference: String,
    /// After this long without a message, a half-finished complaint is resumed with a
    /// reminder of where it was.
    pub resume_after: chrono::Duration,
}

/// The outcome of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub state: State,
    pub replies: Vec<Reply>,
    pub effects: Vec<Effect>,
}

/// Words that ask for a person, whatever else is going on.
fn asks_for_person(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    let t = t.trim_matches(|c: char| !c.is_alphanumeric());
    matches!(
        t,
        "person" | "human" | "staff" | "agent" | "real person" | "speak to someone" | "/human"
    ) || t.contains("speak to a person")
        || t.contains("talk to a person")
        || t.contains("real person")
        || t.contains("speak to someone")
        || t.contains("talk to someone")
        || t.contains("speak to a human")
}

/// The resident's own word for a command, typed or as a slash command.
fn command(text: &str) -> Option<&'static str> {
    let t = text.trim().to_lowercase();
    let t = t
        .trim_start_matches('/')
        .trim_matches(|c: char| c == '.' || c == '!' || c == '?');
    if let Some(kind) = privacy_request(t) {
        return Some(match kind {
            PrivacyKind::Withdraw => "withdraw",
            PrivacyKind::Erase => "erase",
            PrivacyKind::Access => "access",
        });
    }
    Some(match t {
        "complaint" | "complain" | "make a complaint" | "i want to make a complaint" => "complain",
        "status" | "update" | "any update" => "status",
        "start" | "hi" | "hello" | "help" => "start",
        _ => return None,
    })
}

/// Requests about the resident's data (POLICY.md 7), in the words people use.
fn privacy_request(t: &str) -> Option<PrivacyKind> {
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if t == "stop" || has(&["withdraw my consent", "withdraw consent", "stop using my"]) {
        return Some(PrivacyKind::Withdraw);
    }
    if t == "forget me"
        || has(&[
            "delete my data",
            "delete my information",
            "delete my details",
            "erase my",
            "remove my data",
            "remove my details",
            "right to be forgotten",
        ])
    {
        return Some(PrivacyKind::Erase);
    }
    if t == "privacy"
        || has(&[
            "what information do you hold",
            "what information you hold",
            "what data do you hold",
            "what do you hold about me",
            "what you hold about me",
            "subject access",
            "copy of my data",
            "see my data",
            "information you have on me",
        ])
    {
        return Some(PrivacyKind::Access);
    }
    None
}

/// Matches an answer to a choice: the key, the label, its number, or yes/no words.
fn pick<'c>(choices: &'c [Choice], input: &Input) -> Option<&'c Choice> {
    let raw = match input {
        Input::Choice(key) => return choices.iter().find(|c| c.key == *key),
        Input::Text(t) => t.trim().to_lowercase(),
        _ => return None,
    };
    let answer = raw.trim_matches(|c: char| !c.is_alphanumeric());
    if let Ok(n) = answer.parse::<usize>() {
        return n.checked_sub(1).and_then(|i| choices.get(i));
    }
    let yes = matches!(
        answer,
        "yes"
            | "y"
            | "yeah"
            | "yep"
            | "ok"
            | "okay"
            | "agree"
            | "i agree"
            | "sure"
            | "correct"
            | "right"
            | "thats right"
    );
    let no = matches!(answer, "no" | "n" | "nope" | "nah" | "dont" | "wrong");
    choices.iter().find(|c| {
        c.key == answer
            || c.label.to_lowercase() == answer
            || (yes && c.key == "yes")
            || (no && c.key == "no")
            || (c.key == "complaint" && answer.contains("complain"))
            || (c.key == "service_request"
                && (answer.contains("sort")
                    || answer.contains("fix")
                    || answer.contains("service request")))
            || (c.key == "just_tell"
                && (answer.contains("just tell")
                    || answer.contains("only wanted")
                    || answer.contains("carry on")
                    || answer.starts_with("no ")
                    || no))
            || (c.key == "email" && answer.contains("email"))
            || (c.key == "phone" && (answer.contains("phone") || answer.contains("call")))
            || (c.key == "letter" && (answer.contains("letter") || answer.contains("post")))
            || (c.key == "chat" && (answer.contains("chat") || answer.contains("here")))
            || (c.key == "self" && (answer.contains("myself") || answer == "me"))
            || (c.key == "someone_else"
                && (answer.contains("someone")
                    || answer.contains("else")
                    || answer.contains("behalf")))
    })
}

fn date(d: NaiveDate) -> String {
    d.format("%A %-d %B %Y").to_string()
}

/// Advances the conversation by one message.
pub fn step(state: &State, assessment: &Assessment, input: &Input, env: &Env<'_>) -> Step {
    let mut next = state.clone();
    let mut replies = Vec::new();
    let mut effects = Vec::new();
    let locale = env.dialogs.locale(env.locale);
    let values = base_values(env);
    let text = match input {
        Input::Text(t) => t.trim().to_owned(),
        Input::Choice(k) => k.clone(),
        Input::Attachment => {
            replies.push(locale.say("attachment", &values));
            next.last_message_at = Some(env.now);
            return Step {
                state: next,
                replies,
                effects,
            };
        }
        Input::Unsupported => {
            replies.push(locale.say("unsupported", &values));
            next.last_message_at = Some(env.now);
            return Step {
                state: next,
                replies,
                effects,
            };
        }
    };
    let idle = state
        .last_message_at
        .is_some_and(|last| env.now - last > env.resume_after);
    next.last_message_at = Some(env.now);
    next.half_finished_logged_at = None;

    if text.is_empty() {
        replies.push(locale.say("empty", &values));
        return Step {
            state: next,
            replies,
            effects,
        };
    }

    // Safety first, in every phase: emergency numbers before any other question.
    safety(assessment, locale, &values, &mut replies, &mut effects);

    // An emergency or a safeguarding concern is never taken as the answer to a question:
    // the numbers come first, then the question again, so the complaint can carry on.
    if assessment.is_urgent() && state.phase != Phase::Listening {
        match &state.phase {
            Phase::Asking { index } => replies.push(locale.ask(*index)),
            Phase::Confirming => replies.push(confirm(state, locale, &values)),
            Phase::Consent => replies.push(locale.say("privacy", &values)),
            _ => {}
        }
        return Step {
            state: next,
            replies,
            effects,
        };
    }

    if asks_for_person(&text) {
        effects.push(Effect::HandOver);
        replies.push(locale.say("human", &values));
        return Step {
            state: next,
            replies,
            effects,
        };
    }
    match command(&text) {
        Some("status") => {
            status(state, locale, &values, &mut replies);
            return Step {
                state: next,
                replies,
                effects,
            };
        }
        Some(kind @ ("withdraw" | "erase" | "access")) => {
            let kind = match kind {
                "withdraw" => PrivacyKind::Withdraw,
                "erase" => PrivacyKind::Erase,
                _ => PrivacyKind::Access,
            };
            effects.push(Effect::PrivacyRequest { kind });
            replies.push(locale.say(
                match kind {
                    PrivacyKind::Withdraw => "withdraw",
                    PrivacyKind::Erase => "erase",
                    PrivacyKind::Access => "access",
                },
                &values,
            ));
            if kind == PrivacyKind::Withdraw {
                next.consent_at = None;
                next.phase = Phase::Listening;
            }
            return Step {
                state: next,
                replies,
                effects,
            };
        }
        _ => {}
    }

    match state.phase.clone() {
        Phase::Listening => listen(
            state,
            &mut next,
            assessment,
            &text,
            env,
            locale,
            &values,
            &mut replies,
            &mut effects,
        ),
        Phase::Offered { open_request } => {
            let template = if open_request {
                "offer_open_request"
            } else {
                "offer"
            };
            let choices = &locale.messages[template].choices;
            match pick(choices, input) {
                Some(choice) => {
                    effects.push(Effect::OfferAnswered {
                        choice: choice.key.clone(),
                    });
                    match choice.key.as_str() {
                        "complaint" => start_complaint(&mut next, locale, &values, &mut replies),
                        "service_request" => {
                            effects.push(Effect::Dissatisfaction {
                                heard: state.heard.clone(),
                                declined: true,
                            });
                            effects.push(Effect::ServiceRequest {
                                text: state.heard.clone(),
                            });
                            next.open_service_request = true;
                            next.phase = Phase::Listening;
                            replies.push(locale.say("service_request", &values));
                        }
                        _ => {
                            // Seed 000: still logged as an expression of dissatisfaction.
                            effects.push(Effect::Dissatisfaction {
                                heard: state.heard.clone(),
                                declined: true,
                            });
                            next.phase = Phase::Listening;
                            replies.push(locale.say("declined", &values));
                        }
                    }
                }
                // The resident moved on: listen to what they said instead.
                None => {
                    next.phase = Phase::Listening;
                    listen(
                        state,
                        &mut next,
                        assessment,
                        &text,
                        env,
                        locale,
                        &values,
                        &mut replies,
                        &mut effects,
                    );
                }
            }
        }
        Phase::Relating { reference } => {
            let mut v = values.clone();
            v.insert("reference", reference.clone());
            let relate = locale.say("relate", &v);
            match pick(&relate.choices, input).map(|c| c.key.as_str()) {
                Some("same") => {
                    next.phase = Phase::Listening;
                    if state
                        .open_complaint()
                        .is_some_and(|c| c.reference == reference)
                    {
                        effects.push(Effect::JoinCase {
                            reference: reference.clone(),
                            text: state.heard.clone(),
                        });
                        replies.push(locale.say("joined", &v));
                    } else {
                        escalate(
                            state,
                            &mut next,
                            env,
                            locale,
                            &values,
                            &mut replies,
                            &mut effects,
                        );
                    }
                    next.heard.clear();
                }
                Some(_) => {
                    next.phase = Phase::Listening;
                    let heard = state.heard.clone();
                    offer(
                        state,
                        &mut next,
                        assessment,
                        &heard,
                        env,
                        locale,
                        &values,
                        &mut replies,
                        &mut effects,
                    );
                }
                None => {
                    next.phase = Phase::Listening;
                    listen(
                        state,
                        &mut next,
                        assessment,
                        &text,
                        env,
                        locale,
                        &values,
                        &mut replies,
                        &mut effects,
                    );
                }
            }
        }
        Phase::Consent => {
            let choices = &locale.messages["privacy"].choices;
            match pick(choices, input).map(|c| c.key.as_str()) {
                Some("yes") => {
                    effects.push(Effect::Consent {
                        given: true,
                        wording_version: PRIVACY_VERSION.to_owned(),
                    });
                    next.consent_at = Some(env.now);
                    ask_next(&mut next, locale, 0, &mut replies);
                    if matches!(next.phase, Phase::Confirming) {
                        replies.push(confirm(&next, locale, &values));
                    }
                }
                Some(_) => {
                    effects.push(Effect::Consent {
                        given: false,
                        wording_version: PRIVACY_VERSION.to_owned(),
                    });
                    effects.push(Effect::Dissatisfaction {
                        heard: state.heard.clone(),
                        declined: true,
                    });
                    next.phase = Phase::Listening;
                    replies.push(locale.say("privacy_refused", &values));
                }
                None => replies.push(locale.say("privacy", &values)),
            }
        }
        Phase::Asking { index } => {
            if idle {
                let mut v = values.clone();
                v.insert("question", locale.questions[index].text.clone());
                replies.push(locale.say("resume", &v));
                if let Some(last) = replies.last_mut() {
                    last.choices = locale.questions[index].choices.clone();
                }
                return Step {
                    state: next,
                    replies,
                    effects,
                };
            }
            let q = &locale.questions[index];
            let answer = match q.kind {
                QuestionKind::Text => Some(text.clone()),
                QuestionKind::Choice => pick(&q.choices, input).map(|c| c.key.clone()),
            };
            match answer {
                Some(a) => {
                    // 2.3: an issue more than 12 months old is never refused here; staff
                    // are told, to use their discretion.
                    let long_ago = assessment.route == Route::OutOfTime
                        || assessment
                            .reasons
                            .iter()
                            .any(|r| r.rule == "note.more_than_12_months_ago");
                    if q.id == "when" && long_ago {
                        next.suggested_route = Some(Route::OutOfTime);
                    }
                    next.answers.insert(q.id.clone(), a);
                    ask_next(&mut next, locale, index + 1, &mut replies);
                    if matches!(next.phase, Phase::Confirming) {
                        replies.push(confirm(&next, locale, &values));
                    }
                }
                None => replies.push(locale.ask(index)),
            }
        }
        Phase::Confirming => {
            let choices = &locale.messages["confirm"].choices;
            match pick(choices, input).map(|c| c.key.as_str()) {
                Some("yes") => {
                    acknowledge(&mut next, env, locale, &values, &mut replies, &mut effects)
                }
                Some(_) => {
                    next.phase = Phase::Correcting;
                    replies.push(locale.say("correct", &values));
                }
                None => {
                    // Anything else is taken as a correction to the definition (5.6).
                    add_correction(&mut next, &text);
                    replies.push(confirm(&next, locale, &values));
                }
            }
        }
        Phase::Correcting => {
            add_correction(&mut next, &text);
            next.phase = Phase::Confirming;
            replies.push(confirm(&next, locale, &values));
        }
    }
    Step {
        state: next,
        replies,
        effects,
    }
}

fn add_correction(state: &mut State, text: &str) {
    let entry = state
        .answers
        .entry("what_went_wrong".to_owned())
        .or_default();
    if !entry.is_empty() {
        entry.push_str(" (correction: ");
        entry.push_str(text);
        entry.push(')');
    } else {
        entry.push_str(text);
    }
}

fn base_values(env: &Env<'_>) -> BTreeMap<&'static str, String> {
    let p = env.profile;
    BTreeMap::from([
        ("landlord", p.name.clone()),
        ("out_of_hours", p.out_of_hours_repairs_phone.clone()),
        ("ombudsman_phone", p.ombudsman.phone.clone()),
        ("ombudsman_address", p.ombudsman.address.clone()),
        ("ombudsman_website", p.ombudsman.website.clone()),
        ("privacy_version", PRIVACY_VERSION.to_owned()),
    ])
}

fn safety(
    assessment: &Assessment,
    locale: &Locale,
    values: &BTreeMap<&str, String>,
    replies: &mut Vec<Reply>,
    effects: &mut Vec<Effect>,
) {
    let words = |rule: &str| -> Vec<String> {
        assessment
            .reasons
            .iter()
            // The rules' words, or the words behind the learned layer's finding.
            .filter(|r| {
                r.rule.starts_with(rule)
                    || r.rule
                        .strip_prefix("learned.")
                        .is_some_and(|l| l.starts_with(rule))
            })
            .flat_map(|r| r.words.clone())
            .collect()
    };
    if assessment.has_risk(Risk::Emergency) {
        replies.push(locale.say("emergency", values));
        effects.push(Effect::UrgentAlert {
            risk: Risk::Emergency,
            words: words("risk.emergency"),
        });
    }
    if assessment.has_risk(Risk::Safeguarding) {
        replies.push(locale.say("safeguarding", values));
        effects.push(Effect::UrgentAlert {
            risk: Risk::Safeguarding,
            words: words("risk.safeguarding"),
        });
    }
    for (risk, kind) in [
        (Risk::HealthSafety, "health_safety"),
        (Risk::Vulnerability, "vulnerability"),
    ] {
        if assessment.has_risk(risk) {
            effects.push(Effect::Alert {
                kind: kind.to_owned(),
                detail: words(&format!("risk.{kind}")).join(", "),
            });
        }
    }
}

/// The safety replies and alerts for a message that does not move the conversation on (an
/// edited message): emergency numbers and alerts still come first, whatever the phase.
pub fn safety_only(assessment: &Assessment, env: &Env<'_>) -> (Vec<Reply>, Vec<Effect>) {
    let mut replies = Vec::new();
    let mut effects = Vec::new();
    let locale = env.dialogs.locale(env.locale);
    safety(
        assessment,
        locale,
        &base_values(env),
        &mut replies,
        &mut effects,
    );
    (replies, effects)
}

fn status(
    state: &State,
    locale: &Locale,
    values: &BTreeMap<&str, String>,
    replies: &mut Vec<Reply>,
) {
    match state.cases.last() {
        Some(case) => {
            let mut v = values.clone();
            v.insert("reference", case.reference.clone());
            v.insert("stage", case.stage.to_string());
            v.insert(
                "status",
                if case.closed {
                    "we have sent our response and closed the complaint".to_owned()
                } else if case.responded {
                    "we have sent our response".to_owned()
                } else {
                    "we are looking into it".to_owned()
                },
            );
            v.insert("received", date(case.received_on));
            v.insert("due", date(case.due_on));
            replies.push(locale.say("status", &v));
        }
        None => replies.push(locale.say("no_case", values)),
    }
}

#[allow(clippy::too_many_arguments)]
fn listen(
    state: &State,
    next: &mut State,
    assessment: &Assessment,
    text: &str,
    env: &Env<'_>,
    locale: &Locale,
    values: &BTreeMap<&str, String>,
    replies: &mut Vec<Reply>,
    effects: &mut Vec<Effect>,
) {
    if command(text) == Some("complain") {
        if next.heard.is_empty() {
            next.received_at = Some(env.now);
        }
        start_complaint(next, locale, values, replies);
        return;
    }
    if command(text) == Some("start") {
        replies.push(locale.say("greeting", values));
        return;
    }
    if assessment.language != super::policy::ENGLISH {
        effects.push(Effect::Interpreter {
            language: assessment.language.to_owned(),
        });
        replies.push(locale.say("language", values));
        return;
    }
    let urgent = assessment.is_urgent();
    // Asking in so many words ("stage 2", "still not happy with your response") after the
    // stage 1 response is a stage 2 request; no reasons are needed (6.12).
    let asks_stage_two = assessment.reasons.iter().any(|r| {
        matches!(r.rule, "intent.escalation" | "learned.intent") && r.provision == Some("6.11")
    });
    if asks_stage_two && state.answered_stage_one().is_some() {
        escalate(state, next, env, locale, values, replies, effects);
        return;
    }
    if assessment.dissatisfied {
        next.heard = text.to_owned();
        next.received_at = Some(env.now);
        // 6.8: a related issue before the stage 1 response joins the complaint; after the
        // response, more unhappiness about it is a stage 2 request (6.12). Only the resident
        // knows whether it is related, so ask.
        if let Some(case) = state.open_complaint().or(state.answered_stage_one()) {
            let mut v = values.clone();
            v.insert("reference", case.reference.clone());
            replies.push(locale.say("relate", &v));
            next.phase = Phase::Relating {
                reference: case.reference.clone(),
            };
            return;
        }
        offer(
            state, next, assessment, text, env, locale, values, replies, effects,
        );
        return;
    }
    match assessment.intent {
        Intent::ServiceRequest => {
            effects.push(Effect::ServiceRequest {
                text: text.to_owned(),
            });
            next.open_service_request = true;
            if !urgent {
                replies.push(locale.say("service_request", values));
            }
        }
        Intent::Compliment => {
            effects.push(Effect::Compliment {
                text: text.to_owned(),
            });
            replies.push(locale.say("compliment", values));
        }
        Intent::Thanks => replies.push(locale.say("thanks", values)),
        Intent::Comment => {
            effects.push(Effect::Comment {
                text: text.to_owned(),
            });
            replies.push(locale.say("comment", values));
        }
        Intent::Enquiry => {
            if state.cases.last().is_some() && mentions_complaint(text) {
                status(state, locale, values, replies);
            } else if text.to_lowercase().contains("my complaint") {
                // None in this chat: say so, and pass the question on, as the complaint
                // may have been made another way.
                effects.push(Effect::Enquiry {
                    text: text.to_owned(),
                });
                status(state, locale, values, replies);
            } else {
                effects.push(Effect::Enquiry {
                    text: text.to_owned(),
                });
                replies.push(locale.say("enquiry", values));
            }
        }
        Intent::ReportOther => {
            if let Some(setting) = env.profile.routes.setting(assessment.route) {
                let mut v = values.clone();
                v.insert("signpost", setting.signpost.clone());
                replies.push(locale.say("other_route", &v));
            } else {
                replies.push(locale.say("enquiry", values));
            }
            effects.push(Effect::OtherRoute {
                route: assessment.route,
                text: text.to_owned(),
            });
        }
        Intent::Complaint | Intent::Escalation => {
            start_complaint(next, locale, values, replies);
        }
        Intent::Other => {
            if !urgent {
                replies.push(locale.say("other", values));
            }
        }
    }
}

/// Offers the choice to complain (1.3); with a request still open, says it carries on (1.5).
#[allow(clippy::too_many_arguments)]
fn offer(
    state: &State,
    next: &mut State,
    assessment: &Assessment,
    text: &str,
    env: &Env<'_>,
    locale: &Locale,
    values: &BTreeMap<&str, String>,
    replies: &mut Vec<Reply>,
    effects: &mut Vec<Effect>,
) {
    next.heard = text.to_owned();
    next.received_at = next.received_at.or(Some(env.now));
    next.suggested_route = (assessment.route != Route::Complaints).then_some(assessment.route);
    if matches!(assessment.intent, Intent::ReportOther)
        && let Some(setting) = env.profile.routes.setting(assessment.route)
    {
        let mut v = values.clone();
        v.insert("signpost", setting.signpost.clone());
        replies.push(locale.say("other_route", &v));
        effects.push(Effect::OtherRoute {
            route: assessment.route,
            text: text.to_owned(),
        });
    }
    let open_request = state.open_service_request;
    let mut v = values.clone();
    v.insert("heard", reflect(text));
    replies.push(locale.say(
        if open_request {
            "offer_open_request"
        } else {
            "offer"
        },
        &v,
    ));
    next.phase = Phase::Offered { open_request };
    effects.push(Effect::Offered);
}

fn mentions_complaint(text: &str) -> bool {
    let t = text.to_lowercase();
    t.contains("complaint")
        || t.contains("happening")
        || t.contains("update")
        || t.contains("status")
}

/// The resident's words, shortened for the offer, so they see they were heard.
fn reflect(text: &str) -> String {
    const MAX: usize = 160;
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX {
        return one_line;
    }
    let cut: String = one_line.chars().take(MAX).collect();
    match cut.rfind(' ') {
        Some(i) => format!("{}…", &cut[..i]),
        None => format!("{cut}…"),
    }
}

fn start_complaint(
    next: &mut State,
    locale: &Locale,
    values: &BTreeMap<&str, String>,
    replies: &mut Vec<Reply>,
) {
    if next.consent_at.is_some() {
        ask_next(next, locale, 0, replies);
        if matches!(next.phase, Phase::Confirming) {
            replies.push(confirm(next, locale, values));
        }
        return;
    }
    next.phase = Phase::Consent;
    replies.push(locale.say("privacy", values));
}

/// Asks the next question from `from` on that applies and is not already answered by the
/// first message; when none is left, moves to confirming.
fn ask_next(next: &mut State, locale: &Locale, from: usize, replies: &mut Vec<Reply>) {
    for index in from..locale.questions.len() {
        let q = &locale.questions[index];
        if let Some(cond) = &q.ask_if {
            let answered = next.answers.get(&cond.question);
            if !answered.is_some_and(|a| cond.answers.contains(a)) {
                continue;
            }
        }
        // Already known (who they are and how to reply, from an earlier complaint).
        if next.answers.contains_key(&q.id) {
            continue;
        }
        if q.prefill.as_deref() == Some("first_message")
            && next.heard.split_whitespace().count() >= 5
            && !next.answers.contains_key(&q.id)
        {
            next.answers.insert(q.id.clone(), next.heard.clone());
            continue;
        }
        next.phase = Phase::Asking { index };
        replies.push(locale.ask(index));
        return;
    }
    next.phase = Phase::Confirming;
}

fn definition(state: &State, locale: &Locale) -> String {
    let values: BTreeMap<&str, String> = locale
        .questions
        .iter()
        .map(|q| {
            (
                q.id.as_str(),
                state
                    .answers
                    .get(&q.id)
                    .cloned()
                    .unwrap_or_else(|| "not given".to_owned()),
            )
        })
        .collect();
    fill(&locale.definition.text, &values)
}

fn confirm(state: &State, locale: &Locale, values: &BTreeMap<&str, String>) -> Reply {
    let mut v = values.clone();
    v.insert("definition", definition(state, locale));
    locale.say("confirm", &v)
}

fn acknowledge(
    next: &mut State,
    env: &Env<'_>,
    locale: &Locale,
    values: &BTreeMap<&str, String>,
    replies: &mut Vec<Reply>,
    effects: &mut Vec<Effect>,
) {
    let received_at = next.received_at.unwrap_or(env.now);
    let calendar = env.deadlines.calendar;
    // Acknowledged now, by this message; the response is due counted from today (6.3).
    let acknowledged_on = calendar.local_date(env.now);
    let due_on = env.deadlines.stage1_response_due(env.now);
    let definition = definition(next, locale);
    let case = NewCase {
        reference: env.next_reference.clone(),
        received_at,
        acknowledged_on,
        due_on,
        definition: definition.clone(),
        answers: next.answers.clone(),
        suggested_route: next.suggested_route,
    };
    let mut v = values.clone();
    v.insert("reference", case.reference.clone());
    v.insert("definition", definition);
    v.insert("received", date(calendar.local_date(received_at)));
    v.insert("acknowledged", date(acknowledged_on));
    v.insert("due", date(due_on));
    v.insert(
        "exclusion_note",
        if case.suggested_route.is_some() {
            locale.messages["exclusion_note"].text.clone()
        } else {
            String::new()
        },
    );
    replies.push(locale.say("acknowledged", &v));
    next.cases.push(CaseSummary {
        reference: case.reference.clone(),
        stage: 1,
        received_on: calendar.local_date(received_at),
        acknowledged_on,
        due_on,
        responded: false,
        closed: false,
    });
    effects.push(Effect::OpenCase(case));
    next.phase = Phase::Listening;
    // Who they are and how they want replies carry over to a later complaint; the rest is
    // this complaint's own.
    next.answers
        .retain(|id, _| matches!(id.as_str(), "name" | "contact" | "contact_detail"));
    next.heard.clear();
    next.suggested_route = None;
    next.received_at = None;
}

fn escalate(
    state: &State,
    next: &mut State,
    env: &Env<'_>,
    locale: &Locale,
    values: &BTreeMap<&str, String>,
    replies: &mut Vec<Reply>,
    effects: &mut Vec<Effect>,
) {
    let Some(case) = state.answered_stage_one() else {
        return;
    };
    let calendar = env.deadlines.calendar;
    // 6.11: acknowledged now; 6.14: response counted from the stage 2 acknowledgement.
    let acknowledged_on = calendar.local_date(env.now);
    let due_on = env.deadlines.stage2_response_due(env.now);
    let mut v = values.clone();
    v.insert("reference", case.reference.clone());
    v.insert("received", date(acknowledged_on));
    v.insert("acknowledged", date(acknowledged_on));
    v.insert("due", date(due_on));
    replies.push(locale.say("stage2_acknowledged", &v));
    effects.push(Effect::Escalate {
        reference: case.reference.clone(),
        requested_at: env.now,
        acknowledged_on,
        due_on,
    });
    effects.push(Effect::Alert {
        kind: "stage2_request".to_owned(),
        detail: case.reference.clone(),
    });
    if let Some(c) = next
        .cases
        .iter_mut()
        .find(|c| c.reference == case.reference)
    {
        c.stage = 2;
        c.responded = false;
        // Open again at stage 2: the retention period starts over when it closes.
        c.closed = false;
        c.acknowledged_on = acknowledged_on;
        c.due_on = due_on;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, locale: &str, name: &str, text: &str) {
        std::fs::create_dir_all(dir.join(locale)).expect("mkdir");
        std::fs::write(dir.join(locale).join(name), text).expect("write");
    }

    #[test]
    fn the_shipped_dialogs_load_and_fill_every_placeholder() {
        let dialogs = Dialogs::load(None).expect("shipped dialogs");
        let locale = dialogs.locale(DEFAULT_LOCALE);
        for key in REQUIRED {
            assert!(locale.messages.contains_key(*key), "{key}");
        }
        assert!(locale.questions.iter().any(|q| q.id == "what_went_wrong"));
    }

    #[test]
    fn a_broken_file_is_named_with_its_line_and_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "en-GB",
            "messages.toml",
            "[greeting]\ntext = \"Hello\n",
        );
        let err = Dialogs::load(Some(dir.path()))
            .expect_err("broken")
            .to_string();
        assert!(
            err.contains("messages.toml") && err.contains("line 2"),
            "{err}"
        );

        let shipped = SHIPPED[0].2.replace("{landlord}", "{landlrod}");
        write(dir.path(), "en-GB", "messages.toml", &shipped);
        let err = Dialogs::load(Some(dir.path()))
            .expect_err("placeholder")
            .to_string();
        assert!(err.contains("landlrod"), "{err}");

        let without = SHIPPED[0].2.replace("[too_long]", "[too_lng]");
        write(dir.path(), "en-GB", "messages.toml", &without);
        let err = Dialogs::load(Some(dir.path()))
            .expect_err("missing")
            .to_string();
        assert!(err.contains("[too_long] is missing"), "{err}");
    }

    #[test]
    fn a_landlord_can_reword_a_message_and_add_a_locale_without_code() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reworded = SHIPPED[0].2.replace(
            "Tell me what has happened, in your own words.",
            "Dywedwch wrthym beth sydd wedi digwydd.",
        );
        write(dir.path(), "cy-GB", "messages.toml", &reworded);
        write(dir.path(), "cy-GB", "complaint.toml", SHIPPED[1].2);
        let dialogs = Dialogs::load(Some(dir.path())).expect("with Welsh");
        assert!(dialogs.locales().any(|l| l == "cy-GB"));
        assert!(
            dialogs
                .locale("cy-GB")
                .text("greeting")
                .text
                .contains("Dywedwch")
        );
        assert!(
            dialogs
                .locale("en-GB")
                .text("greeting")
                .text
                .contains("in your own words")
        );
    }

    #[test]
    fn answers_are_matched_by_number_word_or_button() {
        let choices = vec![
            Choice {
                key: "complaint".to_owned(),
                label: "Make a complaint".to_owned(),
            },
            Choice {
                key: "service_request".to_owned(),
                label: "Just get it sorted".to_owned(),
            },
            Choice {
                key: "just_tell".to_owned(),
                label: "I only wanted to tell you".to_owned(),
            },
        ];
        let key = |s: &str| pick(&choices, &Input::Text(s.to_owned())).map(|c| c.key.as_str());
        assert_eq!(key("1"), Some("complaint"));
        assert_eq!(key("I want to complain"), Some("complaint"));
        assert_eq!(key("just sort it"), Some("service_request"));
        assert_eq!(key("3."), Some("just_tell"));
        assert_eq!(key("7"), None);
        assert_eq!(key("banana"), None);
        assert_eq!(
            pick(&choices, &Input::Choice("just_tell".to_owned())).map(|c| c.key.as_str()),
            Some("just_tell")
        );
    }
}
