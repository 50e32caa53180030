//! The Reports page, for managers and admins: a financial year's annual report or a month's
//! handling figures (Code 8.1, 9.7) with their charts, each figure with counts leading to the
//! complaints behind it, each table as a CSV download and the whole report as one HTML file
//! to print. The page shows the same `reports::Document` the command line prints.

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Utc};
use serde::{Deserialize, Serialize};

use super::{Console, Error, Staff};
use crate::core::report::Period;
use crate::reports::{Asked, Document, Figures, Links, parse_period};
use crate::service::ReportError;
use crate::staff::Session;

/// A manager or an admin: the reports show every complaint's figures.
pub(super) struct Manager(Session);

impl FromRequestParts<Console> for Manager {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Manager, Error> {
        let Staff(session) = Staff::from_request_parts(parts, console).await?;
        if !session.staff.role.is_manager() {
            return Err(Error::Forbidden(
                "Reports are for managers and admins.".into(),
            ));
        }
        Ok(Manager(session))
    }
}

/// The period asked for (`2025`: the financial year from 1 April 2025; `2025-07`: July
/// 2025), and for a drill-down or a CSV, the table and the row.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Picked {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    table: String,
    #[serde(default)]
    row: String,
}

impl Picked {
    /// The report asked for; with no period, this financial year's annual report.
    fn asked(&self, console: &Console) -> Result<Asked, String> {
        match self.period.as_deref().map(str::trim) {
            None | Some("") => {
                let today = console.intake.calendar().local_date(Utc::now());
                let year = Period::financial_year_of(today)
                    .map_err(|e| e.to_string())?
                    .first_day
                    .year();
                Ok(Asked::Annual(year))
            }
            Some(text) => parse_period(text).map_err(|e| format!("{}.", capitalised(&e))),
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The document for the period, from the record.
async fn document(console: &Console, asked: Asked) -> Result<Document, Error> {
    let intake = &console.intake;
    let now = Utc::now();
    let figures = Figures::read(intake.store(), intake.profile(), asked, now)
        .await
        .map_err(|e| match e {
            ReportError::Period(e) => Error::BadRequest(capitalised(&e.to_string()).into()),
            ReportError::Store(e) => Error::from(e),
        })?;
    let today = intake.calendar().local_date(now);
    Ok(Document::new(&figures, &console.landlord(), today))
}

#[derive(Serialize)]
struct Page<'a> {
    landlord: String,
    staff: &'a crate::staff::StaffMember,
    csrf: &'a str,
    /// The picker's values: the year and the month shown or typed.
    year: String,
    month: String,
    error: Option<String>,
    body: Option<String>,
}

/// `GET /console/reports`: the picker and the report for the period.
pub(super) async fn reports(
    State(console): State<Console>,
    Manager(session): Manager,
    Query(picked): Query<Picked>,
) -> Result<Response, Error> {
    let mut page = Page {
        landlord: console.landlord(),
        staff: &session.staff,
        csrf: &session.csrf,
        year: String::new(),
        month: String::new(),
        error: None,
        body: None,
    };
    let asked = match picked.asked(&console) {
        Ok(asked) => asked,
        Err(error) => {
            page.error = Some(error);
            let typed = picked.period.unwrap_or_default();
            if typed.contains('-') {
                page.month = typed;
            } else {
                page.year = typed;
            }
            let mut response = console.render("reports.html", &page);
            *response.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(response);
        }
    };
    match asked {
        Asked::Month(..) => page.month = asked.picked(),
        Asked::Annual(_) | Asked::Tsm(_) => page.year = asked.picked(),
    }
    let document = document(&console, asked).await?;
    let links = Links {
        period: asked.picked(),
    };
    page.body = Some(crate::reports::body(&document, Some(&links)).map_err(unmade)?);
    Ok(console.render("reports.html", &page))
}

/// A report page that could not be made: a bug in a template, logged; staff see a 503's
/// words without the cause.
fn unmade(e: minijinja::Error) -> Error {
    Error::Unavailable(format!("a report could not be made: {e}"))
}

#[derive(Serialize)]
struct ComplaintsPage<'a> {
    landlord: String,
    staff: &'a crate::staff::StaffMember,
    csrf: &'a str,
    period: String,
    picked: String,
    table: String,
    measure: String,
    value: String,
    counted: String,
    complaints: Vec<String>,
}

/// `GET /console/reports/complaints?period=…&table=…&row=…`: the complaints one figure
/// counts, each leading to its case.
pub(super) async fn complaints(
    State(console): State<Console>,
    Manager(session): Manager,
    Query(picked): Query<Picked>,
) -> Result<Response, Error> {
    let asked = picked
        .asked(&console)
        .map_err(|e| Error::BadRequest(e.into()))?;
    let document = document(&console, asked).await?;
    let table = document
        .table(&picked.table)
        .ok_or_else(|| Error::NotFound("The report has no such table.".into()))?;
    let row = picked
        .row
        .parse::<usize>()
        .ok()
        .and_then(|n| table.rows.get(n))
        .ok_or_else(|| Error::NotFound("The table has no such figure.".into()))?;
    let Some(complaints) = &row.complaints else {
        return Err(Error::NotFound(
            "This figure is not counted from named complaints.".into(),
        ));
    };
    Ok(console.render(
        "reports_complaints.html",
        &ComplaintsPage {
            landlord: console.landlord(),
            staff: &session.staff,
            csrf: &session.csrf,
            period: document.period.to_string(),
            picked: asked.picked(),
            table: table.title.clone(),
            measure: row.measure.clone(),
            value: row.value.clone(),
            counted: row.counted.clone(),
            complaints: complaints.clone(),
        },
    ))
}

/// `GET /console/reports/csv?period=…&table=…`: one table as a CSV file.
pub(super) async fn csv(
    State(console): State<Console>,
    Manager(_): Manager,
    Query(picked): Query<Picked>,
) -> Result<Response, Error> {
    let asked = picked
        .asked(&console)
        .map_err(|e| Error::BadRequest(e.into()))?;
    let document = document(&console, asked).await?;
    let table = document
        .table(&picked.table)
        .ok_or_else(|| Error::NotFound("The report has no such table.".into()))?;
    Ok(download(
        "text/csv; charset=utf-8",
        &format!("{}-{}.csv", document.stem, table.key),
        table.csv(),
    ))
}

/// `GET /console/reports/document?period=…`: the whole report as one HTML file, its
/// stylesheet inline, to save and print.
pub(super) async fn whole(
    State(console): State<Console>,
    Manager(_): Manager,
    Query(picked): Query<Picked>,
) -> Result<Response, Error> {
    let asked = picked
        .asked(&console)
        .map_err(|e| Error::BadRequest(e.into()))?;
    let document = document(&console, asked).await?;
    let html = crate::reports::standalone(&document).map_err(unmade)?;
    Ok(download(
        "text/html; charset=utf-8",
        &format!("{}.html", document.stem),
        html,
    ))
}

/// A file to save. The saved report has its stylesheet inline and no script: if a browser
/// shows it rather than saving it, its policy allows that style and nothing else.
fn download(kind: &'static str, name: &str, body: String) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                ),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}
