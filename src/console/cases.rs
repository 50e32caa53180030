//! Case work on a complaint, for complaints officers and managers (not agents): stage
//! responses (with their outcome and compensation), extensions, exclusions, closing, the
//! definition, the handler, remedies and actions, the category; and what the case panel of a
//! conversation shows (the resident's feedback to managers only).
//!
//! The Code's rules (what a response must contain, who may handle stage 2) are enforced by
//! the service; a refusal comes back as a 422 saying what to change, and nothing is changed.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::auth::{CsrfForm, form_token};
use super::{Caseworker, Console, Error};
use crate::core::case::StageResponse;
use crate::core::category::Categories;
use crate::core::ids::{ActionId, CaseStatus, StaffId, Stage};
use crate::core::outcome::{Outcome, Pence};
use crate::service::CaseError;
use crate::store::{CaseAction, CaseHandling, Feedback, ResidentEmail, StoreError};

/// A complaint as `staff::cases` reads it: reference, stage, status, due date, definition,
/// the resident's answers, the suggested route, and its handler.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(super) struct CaseRow {
    pub reference: String,
    pub stage: Stage,
    pub status: CaseStatus,
    pub due_on: String,
    pub definition: String,
    /// The resident's answers, by question (`support` among them, restricted by 5.10).
    pub answers: serde_json::Value,
    pub suggested_route: Option<String>,
    pub handler_id: Option<StaffId>,
    /// The handler's name.
    pub handler: Option<String>,
}

/// The complaints as `staff::cases` gives them (JSON), typed at the console's edge.
pub(super) fn case_rows(cases: Vec<serde_json::Value>) -> Result<Vec<CaseRow>, StoreError> {
    cases
        .into_iter()
        .map(|c| serde_json::from_value(c).map_err(StoreError::from))
        .collect()
}

/// What the case panel shows of a complaint: the complaint, and its work.
#[derive(Debug, Serialize)]
pub(super) struct CaseView {
    #[serde(flatten)]
    pub case: CaseRow,
    /// Its remedies and actions.
    actions: Vec<CaseAction>,
    /// The response form's remedy text, made from the remedies (6.9).
    remedy_text: String,
    /// The response form's outstanding-action text, made from the actions not yet done.
    actions_text: String,
    /// Its copies by email, and how their sending went.
    emails: Vec<ResidentEmail>,
    /// Who may be named to handle it.
    handlers: Vec<Handler>,
    /// Its category, outcomes and (for managers) the resident's feedback.
    handling: HandlingView,
    /// What was learned from it, the improvements it led to, its Ombudsman case (section 9).
    learning: super::learning::CasePanel,
}

/// What the case panel shows of a complaint's category, outcomes and feedback.
#[derive(Debug, Default, Serialize)]
struct HandlingView {
    /// The category the engine suggested, by label.
    suggested: Option<String>,
    /// The category staff confirmed, by key and label, with who and when.
    category_key: Option<String>,
    category: Option<String>,
    category_by: Option<String>,
    category_at: Option<chrono::DateTime<Utc>>,
    /// The choices for the category form, as (key, label); the confirmed one, else the
    /// suggested one, is selected.
    choices: Vec<(String, String)>,
    selected: Option<String>,
    /// Each stage's outcome: stage, label, compensation in pounds, who, when.
    outcomes: Vec<OutcomeView>,
    /// The resident's feedback: shown to managers only (see `with_handling`).
    feedback: Option<Feedback>,
}

#[derive(Debug, Serialize)]
struct OutcomeView {
    stage: Stage,
    outcome: &'static str,
    compensation: String,
    by: String,
    at: chrono::DateTime<Utc>,
}

/// A member of staff who could be named to handle a complaint.
#[derive(Debug, Serialize)]
struct Handler {
    id: StaffId,
    name: String,
    /// They handled it at stage 1, so may not at stage 2 (6.13).
    handled_stage_one: bool,
}

impl CaseView {
    /// What the case panel shows of a complaint's work: its remedies and actions (and the
    /// response form's remedy and outstanding-action text made from them, 6.9), its copies by
    /// email, and who may be named to handle it (not a stage 1 handler at stage 2, 6.13).
    pub(super) fn new(
        case: CaseRow,
        actions: &[CaseAction],
        emails: &[ResidentEmail],
        workers: &[(StaffId, String)],
        excluded: &[StaffId],
    ) -> CaseView {
        let reference = case.reference.as_str();
        let mine: Vec<CaseAction> = actions
            .iter()
            .filter(|a| a.case_reference == reference)
            .cloned()
            .collect();
        let remedy_text: Vec<String> = mine
            .iter()
            .filter(|a| a.kind == "remedy")
            .map(|a| format!("- {}", a.description))
            .collect();
        let actions_text: Vec<String> = mine
            .iter()
            .filter(|a| a.kind == "action" && a.done_at.is_none())
            .map(|a| match &a.due_on {
                Some(due) => format!("- {} (by {due})", a.description),
                None => format!("- {}", a.description),
            })
            .collect();
        let emails = emails
            .iter()
            .filter(|e| e.case_reference.as_deref() == Some(reference))
            .cloned()
            .collect();
        let handlers = workers
            .iter()
            .map(|(id, name)| Handler {
                id: *id,
                name: name.clone(),
                handled_stage_one: excluded.contains(id),
            })
            .collect();
        CaseView {
            case,
            actions: mine,
            remedy_text: remedy_text.join("\n"),
            actions_text: actions_text.join("\n"),
            emails,
            handlers,
            handling: HandlingView::default(),
            learning: super::learning::CasePanel::default(),
        }
    }

    /// Adds what was learned from the complaint, its improvements and its Ombudsman case.
    pub(super) fn with_learning(mut self, panels: &super::learning::Panels) -> CaseView {
        self.learning = panels.of(&self.case.reference);
        self
    }

    /// Adds the complaint's category, outcomes and feedback from `handling` (the
    /// conversation's, read once). The feedback summary is shown to managers only: it is the
    /// resident's judgement of the people who handled the complaint, for the managers who
    /// review handling and learn from it (Code 9), not a figure for the officer it judges to
    /// work towards. The resident's answer stays in the transcript like every line they
    /// write; this is what the case panel shows, not a restriction like 5.10's.
    pub(super) fn with_handling(
        mut self,
        handling: &[CaseHandling],
        categories: &Categories,
        manager: bool,
    ) -> CaseView {
        let choices = categories
            .0
            .iter()
            .map(|c| (c.key.clone(), c.label.clone()))
            .collect();
        let Some(h) = handling.iter().find(|h| h.reference == self.case.reference) else {
            self.handling.choices = choices;
            return self;
        };
        let label = |key: &Option<String>| key.as_deref().map(|k| categories.label(k).to_owned());
        self.handling = HandlingView {
            suggested: label(&h.suggested_category),
            category_key: h.category.clone(),
            category: label(&h.category),
            category_by: h.category_by.clone(),
            category_at: h.category_at,
            choices,
            selected: h.category.clone().or_else(|| h.suggested_category.clone()),
            outcomes: h
                .outcomes
                .iter()
                .map(|o| OutcomeView {
                    stage: o.stage,
                    outcome: o.outcome.label(),
                    compensation: o.compensation.to_string(),
                    by: o.recorded_by.clone(),
                    at: o.recorded_at,
                })
                .collect(),
            feedback: h.feedback.clone().filter(|_| manager),
        };
        self
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ResponseForm {
    csrf: String,
    stage: u8,
    definition: String,
    decision: String,
    reasons: String,
    remedy: String,
    outstanding_actions: String,
    /// `upheld`, `partly_upheld` or `not_upheld`; missing, the response is refused.
    #[serde(default)]
    outcome: String,
    /// Pounds and pence, or empty for none.
    #[serde(default)]
    compensation: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct CategoryForm {
    csrf: String,
    /// A key of the landlord's categories.
    category: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct ExtendForm {
    csrf: String,
    working_days: u32,
    reason: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct ExclusionForm {
    csrf: String,
    /// `accept` (the complaint is not taken on) or `reject`.
    decision: String,
    reasons: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct CloseForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct DefinitionForm {
    csrf: String,
    definition: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct HandlerForm {
    csrf: String,
    handler: StaffId,
}

#[derive(Debug, Deserialize)]
pub(super) struct CaseActionForm {
    csrf: String,
    /// `remedy` or `action`.
    kind: String,
    description: String,
    /// YYYY-MM-DD, or empty.
    #[serde(default)]
    due_on: String,
}

form_token!(
    ResponseForm,
    ExtendForm,
    ExclusionForm,
    CloseForm,
    DefinitionForm,
    HandlerForm,
    CaseActionForm,
    CategoryForm,
);

pub(super) async fn respond(
    State(console): State<Console>,
    Path(reference): Path<String>,
    Caseworker(session, form): Caseworker<ResponseForm>,
) -> Result<Response, Error> {
    let compensation =
        Pence::parse(&form.compensation).map_err(|e| CaseError::Refused(e.to_string()))?;
    let response = StageResponse {
        stage: form.stage,
        definition: form.definition,
        decision: form.decision,
        reasons: form.reasons,
        remedy: form.remedy,
        outstanding_actions: form.outstanding_actions,
        // None when not chosen: refused with the other missing parts.
        outcome: form.outcome.parse::<Outcome>().ok(),
        compensation,
    };
    let done = console
        .intake
        .send_stage_response(&reference, &response, &session.staff, Utc::now())
        .await?;
    Ok(console.action_done(done))
}

/// Staff confirm the suggested category or choose another.
pub(super) async fn confirm_category(
    State(console): State<Console>,
    Path(reference): Path<String>,
    Caseworker(session, form): Caseworker<CategoryForm>,
) -> Result<Response, Error> {
    let done = console
        .intake
        .confirm_category(&reference, &form.category, &session.staff, Utc::now())
        .await?;
    Ok(console.action_done(done))
}

pub(super) async fn extend(
    State(console): State<Console>,
    Path(reference): Path<String>,
    Caseworker(session, form): Caseworker<ExtendForm>,
) -> Result<Response, Error> {
    let done = console
        .intake
        .extend_deadline(
            &reference,
            form.working_days,
            &form.reason,
            &session.staff,
            Utc::now(),
        )
        .await?;
    Ok(console.action_done(done))
}

pub(super) async fn exclusion(
    State(console): State<Console>,
    Path(reference): Path<String>,
    Caseworker(session, form): Caseworker<ExclusionForm>,
) -> Result<Response, Error> {
    let done = console
        .intake
        .decide_exclusion(
            &reference,
            form.decision == "accept",
            &form.reasons,
            &session.staff,
            Utc::now(),
        )
        .await?;
    Ok(console.action_done(done))
}

pub(super) async fn close(
    State(console): State<Console>,
    Path(reference): Path<String>,
    Caseworker(session, form): Caseworker<CloseForm>,
) -> Result<Response, Error> {
    let done = console
        .intake
        .close_case(&reference, &form.reason, &session.staff, Utc::now())
        .await?;
    Ok(console.action_done(done))
}

pub(super) async fn edit_definition(
    State(console): State<Console>,
    Path(reference): Path<String>,
    Caseworker(session, form): Caseworker<DefinitionForm>,
) -> Result<Response, Error> {
    let done = console
        .intake
        .edit_definition(&reference, &form.definition, &session.staff, Utc::now())
        .await?;
    Ok(console.action_done(done))
}

pub(super) async fn assign_handler(
    State(console): State<Console>,
    Path(reference): Path<String>,
    Caseworker(session, form): Caseworker<HandlerForm>,
) -> Result<Response, Error> {
    let done = console
        .intake
        .assign_handler(&reference, form.handler, &session.staff, Utc::now())
        .await?;
    Ok(console.action_done(done))
}

pub(super) async fn add_case_action(
    State(console): State<Console>,
    Path(reference): Path<String>,
    Caseworker(session, form): Caseworker<CaseActionForm>,
) -> Result<Response, Error> {
    let due_on = match form.due_on.trim() {
        "" => None,
        date => match date.parse::<chrono::NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                return Err(CaseError::Refused(format!(
                    "{date:?} is not a date such as 2026-12-18"
                ))
                .into());
            }
        },
    };
    let done = console
        .intake
        .record_case_action(
            &reference,
            &form.kind,
            &form.description,
            due_on,
            &session.staff,
            Utc::now(),
        )
        .await?;
    Ok(console.action_done(done))
}

pub(super) async fn mark_action_done(
    State(console): State<Console>,
    Path(id): Path<ActionId>,
    Caseworker(session, _): Caseworker<CsrfForm>,
) -> Result<Response, Error> {
    let done = console
        .intake
        .complete_action(id, &session.staff, Utc::now())
        .await?;
    Ok(console.action_done(done))
}
