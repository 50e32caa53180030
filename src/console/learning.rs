//! Learning from a complaint on its page (Code section 9): complaints officers and managers
//! record what was learned and what changed; managers record the complaint's case at the
//! Housing Ombudsman (referral, reference, determination, findings) and its orders and
//! recommendations with their due and completion dates. The page also lists the service
//! improvements the complaint led to. Every change is audited; a refusal says why and writes
//! nothing.
//!
//! Also the extractors the managers' pages here share ([`Manager`], [`ManagerForm`]): the
//! improvement register and the self-assessment are for managers and admins.

use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::auth::{FormToken, form_token};
use super::{Caseworker, Console, Error, Staff, StaffForm};
use crate::core::ids::ConversationId;
use crate::core::report::{Finding, OrderKind};
use crate::service::{
    LONGEST_LEARNING, LONGEST_OMBUDSMAN_REFERENCE, LONGEST_ORDER, LearningError, OmbudsmanForm,
};
use crate::staff::Session;
use crate::store::{CaseLearning, Improvement, OmbudsmanCase, Store, StoreError};

/// A manager or an admin, for the pages of learning and oversight.
pub(super) struct Manager(pub Session);

/// A form posted by a manager or an admin, its token checked.
pub(super) struct ManagerForm<F>(pub Session, pub F);

impl FromRequestParts<Console> for Manager {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Manager, Error> {
        let Staff(session) = Staff::from_request_parts(parts, console).await?;
        managers_only(&session)?;
        Ok(Manager(session))
    }
}

impl<F> FromRequest<Console> for ManagerForm<F>
where
    F: DeserializeOwned + FormToken + Send,
{
    type Rejection = Error;

    async fn from_request(request: Request, console: &Console) -> Result<ManagerForm<F>, Error> {
        let StaffForm(session, form) = StaffForm::<F>::from_request(request, console).await?;
        managers_only(&session)?;
        Ok(ManagerForm(session, form))
    }
}

fn managers_only(session: &Session) -> Result<(), Error> {
    if session.staff.role.is_manager() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "The Ombudsman's cases, the improvement register and the self-assessment are kept by managers and admins.".into(),
        ))
    }
}

impl From<LearningError> for Error {
    fn from(e: LearningError) -> Error {
        match e {
            LearningError::Refused(why) => {
                Error::Unprocessable(format!("Nothing was saved: {why}.").into())
            }
            LearningError::NotFound(why) => {
                Error::NotFound(format!("Nothing was saved: {why}.").into())
            }
            LearningError::Stale(why) => Error::Conflict(format!("Not saved: {why}.").into()),
            LearningError::Store(e) => e.into(),
        }
    }
}

/// What a complaint's panel shows of its learning, improvements and Ombudsman case.
#[derive(Debug, Default, Serialize)]
pub(super) struct CasePanel {
    learning: Option<CaseLearning>,
    improvements: Vec<Improvement>,
    ombudsman: Option<OmbudsmanCase>,
    /// The findings the form offers, as (key, label).
    findings: Vec<(&'static str, &'static str)>,
    /// The kinds the order form offers, as (key, label).
    kinds: Vec<(&'static str, &'static str)>,
    longest_learning: usize,
    longest_reference: usize,
    longest_order: usize,
}

/// A conversation's learning, improvements and Ombudsman cases, read once for its page.
pub(super) struct Panels {
    learning: Vec<CaseLearning>,
    improvements: Vec<Improvement>,
    ombudsman: Vec<OmbudsmanCase>,
}

impl Panels {
    pub(super) async fn read(
        store: &Store,
        conversation: ConversationId,
    ) -> Result<Panels, StoreError> {
        Ok(Panels {
            learning: store.case_learning(conversation).await?,
            improvements: store.improvements_of(conversation).await?,
            ombudsman: store.ombudsman_cases_of(conversation).await?,
        })
    }

    /// The panel of one complaint.
    pub(super) fn of(&self, reference: &str) -> CasePanel {
        CasePanel {
            learning: self
                .learning
                .iter()
                .find(|l| l.reference == reference)
                .cloned(),
            improvements: self
                .improvements
                .iter()
                .filter(|i| i.complaints.iter().any(|c| c == reference))
                .cloned()
                .collect(),
            ombudsman: self
                .ombudsman
                .iter()
                .find(|o| o.reference == reference)
                .cloned(),
            findings: Finding::ALL.iter().map(|f| (f.key(), f.label())).collect(),
            kinds: [OrderKind::Order, OrderKind::Recommendation]
                .iter()
                .map(|k| (k.key(), k.label()))
                .collect(),
            longest_learning: LONGEST_LEARNING,
            longest_reference: LONGEST_OMBUDSMAN_REFERENCE,
            longest_order: LONGEST_ORDER,
        }
    }
}

/// Back to the complaint on its conversation's page.
fn back_to(conversation: ConversationId, reference: &str) -> Response {
    Redirect::to(&format!(
        "/console/conversations/{conversation}#case-{reference}"
    ))
    .into_response()
}

#[derive(Debug, Deserialize)]
pub(super) struct LearningForm {
    csrf: String,
    #[serde(default)]
    learned: String,
    #[serde(default)]
    changed: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct OmbudsmanCaseForm {
    csrf: String,
    #[serde(default)]
    referred_on: String,
    #[serde(default)]
    ombudsman_reference: String,
    #[serde(default)]
    determined_on: String,
    // One checkbox per finding: a determination may make several.
    #[serde(default)]
    finding_severe_maladministration: Option<String>,
    #[serde(default)]
    finding_maladministration: Option<String>,
    #[serde(default)]
    finding_service_failure: Option<String>,
    #[serde(default)]
    finding_no_maladministration: Option<String>,
    #[serde(default)]
    finding_outside_jurisdiction: Option<String>,
    #[serde(default)]
    finding_complaint_handling_failure_order: Option<String>,
}

impl OmbudsmanCaseForm {
    fn findings(&self) -> Vec<Finding> {
        [
            (
                Finding::SevereMaladministration,
                &self.finding_severe_maladministration,
            ),
            (Finding::Maladministration, &self.finding_maladministration),
            (Finding::ServiceFailure, &self.finding_service_failure),
            (
                Finding::NoMaladministration,
                &self.finding_no_maladministration,
            ),
            (
                Finding::OutsideJurisdiction,
                &self.finding_outside_jurisdiction,
            ),
            (
                Finding::ComplaintHandlingFailureOrder,
                &self.finding_complaint_handling_failure_order,
            ),
        ]
        .into_iter()
        .filter(|(_, ticked)| ticked.is_some())
        .map(|(f, _)| f)
        .collect()
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct OrderForm {
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    due_on: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct CompletedForm {
    csrf: String,
    #[serde(default)]
    completed_on: String,
}

form_token!(LearningForm, OmbudsmanCaseForm, OrderForm, CompletedForm);

/// A complaint reference as typed in a path: capitals, no spaces.
fn reference_of(path: &str) -> String {
    path.trim().to_ascii_uppercase()
}

pub(super) async fn record_learning(
    State(console): State<Console>,
    Path(reference): Path<String>,
    Caseworker(session, form): Caseworker<LearningForm>,
) -> Result<Response, Error> {
    let reference = reference_of(&reference);
    let conversation = crate::service::record_learning(
        console.store(),
        &reference,
        &form.learned,
        &form.changed,
        &session.staff,
        Utc::now(),
    )
    .await?;
    Ok(back_to(conversation, &reference))
}

pub(super) async fn record_ombudsman_case(
    State(console): State<Console>,
    Path(reference): Path<String>,
    ManagerForm(session, form): ManagerForm<OmbudsmanCaseForm>,
) -> Result<Response, Error> {
    let reference = reference_of(&reference);
    let typed = OmbudsmanForm {
        referred_on: &form.referred_on,
        ombudsman_reference: &form.ombudsman_reference,
        determined_on: &form.determined_on,
        findings: form.findings(),
    };
    let conversation = crate::service::record_ombudsman_case(
        console.store(),
        console.intake.profile(),
        &reference,
        &typed,
        &session.staff,
        Utc::now(),
    )
    .await?;
    Ok(back_to(conversation, &reference))
}

pub(super) async fn add_ombudsman_order(
    State(console): State<Console>,
    Path(reference): Path<String>,
    ManagerForm(session, form): ManagerForm<OrderForm>,
) -> Result<Response, Error> {
    let reference = reference_of(&reference);
    let conversation = crate::service::add_ombudsman_order(
        console.store(),
        &reference,
        &form.kind,
        &form.description,
        &form.due_on,
        &session.staff,
        Utc::now(),
    )
    .await?;
    Ok(back_to(conversation, &reference))
}

pub(super) async fn complete_ombudsman_order(
    State(console): State<Console>,
    Path(id): Path<i64>,
    ManagerForm(session, form): ManagerForm<CompletedForm>,
) -> Result<Response, Error> {
    let conversation = crate::service::complete_ombudsman_order(
        console.store(),
        console.intake.profile(),
        id,
        &form.completed_on,
        &session.staff,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to(&format!("/console/conversations/{conversation}")).into_response())
}
