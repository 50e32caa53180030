//! The register of service improvements made because of complaints (Code 9.1 to 9.3, and
//! 8.1(d) of the annual report), for managers and admins: the list with open improvements
//! first (the earliest target first, those past their target marked), adding one, and editing
//! one (its completion date included). Each change is audited; a refusal says why and writes
//! nothing.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::auth::form_token;
use super::learning::{Manager, ManagerForm};
use super::{Console, Error};
use crate::service::{ImprovementForm, LONGEST_LEARNING, LONGEST_TITLE};
use crate::store::{Improvement, ImprovementId};

/// An improvement as the register lists it.
#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    improvement: Improvement,
    /// Past its target and not completed.
    overdue: bool,
    /// The complaints it came from, as the edit form shows them.
    complaints_text: String,
}

#[derive(Serialize)]
struct Page<'a> {
    landlord: String,
    staff: &'a crate::staff::StaffMember,
    csrf: &'a str,
    today: NaiveDate,
    improvements: Vec<Row>,
    longest_title: usize,
    longest_text: usize,
    notice: Option<&'static str>,
}

/// What the page says after a change went through (`?done=`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    #[serde(default)]
    done: String,
}

pub(super) async fn list(
    State(console): State<Console>,
    Query(done): Query<Done>,
    Manager(session): Manager,
) -> Result<Response, Error> {
    let today = console.intake.profile().calendar().local_date(Utc::now());
    let improvements = console
        .store()
        .improvements()
        .await?
        .into_iter()
        .map(|i| Row {
            overdue: i.completed_on.is_none() && i.target_on < today,
            complaints_text: i.complaints.join(", "),
            improvement: i,
        })
        .collect();
    let notice = match done.done.as_str() {
        "added" => Some("The improvement was added to the register."),
        "saved" => Some("The improvement was saved."),
        _ => None,
    };
    let page = Page {
        landlord: console.landlord(),
        staff: &session.staff,
        csrf: &session.csrf,
        today,
        improvements,
        longest_title: LONGEST_TITLE,
        longest_text: LONGEST_LEARNING,
        notice,
    };
    Ok(console.render("improvements.html", &page))
}

#[derive(Debug, Deserialize)]
pub(super) struct ImprovementTyped {
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    what_changed: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    agreed_on: String,
    #[serde(default)]
    target_on: String,
    #[serde(default)]
    completed_on: String,
    #[serde(default)]
    complaints: String,
}

form_token!(ImprovementTyped);

impl ImprovementTyped {
    fn form(&self) -> ImprovementForm<'_> {
        ImprovementForm {
            title: &self.title,
            what_changed: &self.what_changed,
            owner: &self.owner,
            agreed_on: &self.agreed_on,
            target_on: &self.target_on,
            completed_on: &self.completed_on,
            complaints: &self.complaints,
        }
    }
}

pub(super) async fn add(
    State(console): State<Console>,
    ManagerForm(session, typed): ManagerForm<ImprovementTyped>,
) -> Result<Response, Error> {
    let id = crate::service::save_improvement(
        console.store(),
        console.intake.profile(),
        None,
        &typed.form(),
        &session.staff,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/console/improvements?done=added#improvement-{id}"
    ))
    .into_response())
}

pub(super) async fn edit(
    State(console): State<Console>,
    Path(id): Path<ImprovementId>,
    ManagerForm(session, typed): ManagerForm<ImprovementTyped>,
) -> Result<Response, Error> {
    let id = crate::service::save_improvement(
        console.store(),
        console.intake.profile(),
        Some(id),
        &typed.form(),
        &session.staff,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/console/improvements?done=saved#improvement-{id}"
    ))
    .into_response())
}
