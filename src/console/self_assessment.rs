//! The annual self-assessment against the Complaint Handling Code (appendix A, 8.1(a)) for a
//! financial year, for managers and admins: every provision with whether the landlord
//! complies and the evidence. The product fills in the provisions it can judge from the
//! record (6.2, 6.3, 6.11, 6.14); a manager answers the rest and writes the commentary, and
//! records the governing body's response (8.2). Each save is a new version (earlier ones are
//! listed, none is lost) and is audited; a save from an out-of-date page is refused.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::auth::form_token;
use super::learning::{Manager, ManagerForm};
use super::{Console, Error};
use crate::core::report::{Answer, Assessed, GOVERNING_BODY, Period};
use crate::service::{AnswerForm, LONGEST_COMMENTARY, ReportError};
use crate::store::AnswerVersion;

/// The first financial year the page offers: the record holds nothing older.
const FIRST_YEAR: i32 = 2000;

#[derive(Debug, Default, Deserialize)]
pub(super) struct Asked {
    #[serde(default)]
    year: Option<String>,
    #[serde(default)]
    done: String,
}

/// One item as the page shows it.
#[derive(Serialize)]
struct Item {
    #[serde(flatten)]
    assessed: Assessed,
    complies: Option<bool>,
    /// The version the edit form starts from (0: not answered yet).
    version: i64,
    /// The versions before the current one, newest first.
    earlier: Vec<AnswerVersion>,
}

#[derive(Serialize)]
struct GoverningBodyView {
    answer: Option<Answer>,
    version: i64,
    earlier: Vec<AnswerVersion>,
}

#[derive(Serialize)]
struct Page<'a> {
    landlord: String,
    staff: &'a crate::staff::StaffMember,
    csrf: &'a str,
    year: i32,
    label: String,
    items: Vec<Item>,
    governing_body: GoverningBodyView,
    governing_body_item: &'static str,
    /// How many provisions comply, do not, and are not answered yet.
    yes: usize,
    no: usize,
    open: usize,
    longest: usize,
    notice: Option<&'static str>,
}

/// The financial year asked for, or the one today falls in.
fn year_of(asked: &Asked, now: DateTime<Utc>, console: &Console) -> Result<i32, Error> {
    let bad = |text: &str| {
        Error::BadRequest(
            format!(
                "The year must be a number from {FIRST_YEAR}, such as 2025 (the year starting 1 April 2025), not {:?}.",
                text.chars().take(20).collect::<String>()
            )
            .into(),
        )
    };
    match asked.year.as_deref().map(str::trim) {
        None | Some("") => {
            let today = console.intake.profile().calendar().local_date(now);
            let period = Period::financial_year_of(today).map_err(|e| bad(&e.to_string()))?;
            Ok(chrono::Datelike::year(&period.first_day))
        }
        Some(text) => match text.parse::<i32>() {
            Ok(year) if (FIRST_YEAR..=9998).contains(&year) => Ok(year),
            _ => Err(bad(text)),
        },
    }
}

fn earlier(versions: &[AnswerVersion], item: &str, current: i64) -> Vec<AnswerVersion> {
    versions
        .iter()
        .filter(|v| v.item == item && v.version != current)
        .cloned()
        .collect()
}

pub(super) async fn page(
    State(console): State<Console>,
    Query(asked): Query<Asked>,
    Manager(session): Manager,
) -> Result<Response, Error> {
    let year = year_of(&asked, Utc::now(), &console)?;
    let store = console.store();
    let assessment = crate::service::self_assessment_for(store, console.intake.profile(), year)
        .await
        .map_err(|e| match e {
            ReportError::Period(e) => Error::BadRequest(e.to_string().into()),
            ReportError::Store(e) => e.into(),
        })?;
    let versions = store.self_assessment_versions(year).await?;
    let items: Vec<Item> = assessment
        .provisions
        .into_iter()
        .map(|assessed| {
            let version = assessed.answer.as_ref().map_or(0, |a| a.version);
            Item {
                complies: assessed.complies(),
                version,
                earlier: earlier(&versions, assessed.provision.number, version),
                assessed,
            }
        })
        .collect();
    let count = |want: Option<bool>| items.iter().filter(|i| i.complies == want).count();
    let (yes, no, open) = (count(Some(true)), count(Some(false)), count(None));
    let version = assessment.governing_body.as_ref().map_or(0, |a| a.version);
    let page = Page {
        landlord: console.landlord(),
        staff: &session.staff,
        csrf: &session.csrf,
        year,
        label: assessment.period.to_string(),
        governing_body: GoverningBodyView {
            earlier: earlier(&versions, GOVERNING_BODY, version),
            answer: assessment.governing_body,
            version,
        },
        governing_body_item: GOVERNING_BODY,
        items,
        yes,
        no,
        open,
        longest: LONGEST_COMMENTARY,
        notice: match asked.done.as_str() {
            "saved" => Some("Saved as a new version; the earlier one is kept below it."),
            "unchanged" => Some("Nothing was saved: it was already so."),
            _ => None,
        },
    };
    Ok(console.render("self_assessment.html", &page))
}

#[derive(Debug, Deserialize)]
pub(super) struct AnswerTyped {
    csrf: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    complies: String,
    #[serde(default)]
    commentary: String,
}

form_token!(AnswerTyped);

pub(super) async fn save(
    State(console): State<Console>,
    ManagerForm(session, typed): ManagerForm<AnswerTyped>,
) -> Result<Response, Error> {
    let asked = Asked {
        year: Some(typed.year.clone()),
        done: String::new(),
    };
    let year = year_of(&asked, Utc::now(), &console)?;
    let based_on = typed.version.trim().parse::<i64>().map_err(|_| {
        Error::BadRequest("The form lost its version number; reload the page and try again.".into())
    })?;
    let saved = crate::service::save_answer(
        console.store(),
        &AnswerForm {
            year,
            item: typed.item.trim(),
            based_on,
            complies: &typed.complies,
            commentary: &typed.commentary,
        },
        &session.staff,
        Utc::now(),
    )
    .await?;
    let done = if saved.is_some() {
        "saved"
    } else {
        "unchanged"
    };
    Ok(Redirect::to(&format!(
        "/console/self-assessment?year={year}&done={done}#item-{}",
        typed.item.trim()
    ))
    .into_response())
}
