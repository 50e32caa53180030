//! The governing body's monthly summary (Code 9.7), for managers and admins: who receives it,
//! whether it goes out by itself, the sends so far, and a form that sends a month's summary
//! now. Each send is kept with who sent it, the month and the recipients.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};

use super::auth::form_token;
use super::{Console, Error, Staff, StaffForm};
use crate::scheduler::{SentBy, SummaryError, month_to_send};
use crate::staff::{Session, StaffMember};

/// Sends the page lists.
const RECENT_SENDS: i64 = 24;

#[derive(Debug, Deserialize)]
pub(super) struct SendForm {
    #[serde(default)]
    month: String,
    csrf: String,
}

form_token!(SendForm);

/// One send, as the page lists it.
#[derive(Serialize)]
struct SendLine {
    month: String,
    by: String,
    to: String,
    at: DateTime<Utc>,
    error: Option<String>,
}

#[derive(Serialize)]
struct SummaryPage<'a> {
    landlord: String,
    staff: &'a StaffMember,
    csrf: &'a str,
    recipients: Vec<String>,
    automatic: bool,
    /// The month the form offers: the one typed, or last month.
    month: String,
    sends: Vec<SendLine>,
    notice: Option<String>,
    error: Option<String>,
}

fn managers_only(session: &Session) -> Result<(), Error> {
    if session.staff.role.is_manager() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "The governing body's summary is sent by managers and admins.".into(),
        ))
    }
}

pub(super) async fn summary_page(
    State(console): State<Console>,
    Staff(session): Staff,
) -> Result<Response, Error> {
    managers_only(&session)?;
    page(&console, &session, None, None, None).await
}

/// How long after a send the same month is refused as a double submit.
const RESEND_AFTER_MINUTES: i64 = 2;

pub(super) async fn send_summary(
    State(console): State<Console>,
    StaffForm(session, form): StaffForm<SendForm>,
) -> Result<Response, Error> {
    managers_only(&session)?;
    let Some(mail) = console.summary.clone() else {
        return Err(Error::Conflict(
            "No one receives the summary: set reports.governing_body in the configuration.".into(),
        ));
    };
    let now = Utc::now();
    let today = console.intake.calendar().local_date(now);
    let month = match month_to_send(&form.month, today) {
        Ok(month) => month,
        Err(refused) => {
            let shown = page(&console, &session, Some(&form.month), None, Some(refused)).await?;
            return Ok((StatusCode::BAD_REQUEST, shown).into_response());
        }
    };
    // A second press of the button (or two managers at once) within a couple of minutes of
    // a send is a double submit, not a wish to send the governing body the same email twice.
    let key = format!("{:04}-{:02}", month.0, month.1);
    if let Some(sent_at) = console
        .intake
        .store()
        .summary_month(&key)
        .await?
        .and_then(|m| m.sent_at)
        .filter(|at| now - *at < chrono::Duration::minutes(RESEND_AFTER_MINUTES))
    {
        let refused = format!(
            "The summary for that month was sent at {} UTC, moments ago; it was not sent again. \
             Wait {RESEND_AFTER_MINUTES} minutes if you do mean to send it twice.",
            sent_at.format("%H:%M")
        );
        let shown = page(&console, &session, Some(&form.month), None, Some(refused)).await?;
        return Ok((StatusCode::CONFLICT, shown).into_response());
    }
    let by = SentBy::Staff {
        id: session.staff.id,
        name: session.staff.name.clone(),
    };
    match mail.send(&console.intake, month, &by, now).await {
        Ok(sent) => {
            let notice = format!(
                "The summary for {} was sent to {}.",
                sent.label,
                mail.recipients().join(", ")
            );
            page(&console, &session, Some(&form.month), Some(notice), None).await
        }
        Err(SummaryError::NotSent(why)) => {
            let refused = format!("The summary was not sent: {why}. Nothing was sent; try again.");
            let shown = page(&console, &session, Some(&form.month), None, Some(refused)).await?;
            Ok((StatusCode::BAD_GATEWAY, shown).into_response())
        }
        Err(SummaryError::Store(e)) => Err(e.into()),
        Err(SummaryError::Report(e)) => Err(Error::BadRequest(e.to_string().into())),
    }
}

async fn page(
    console: &Console,
    session: &Session,
    month: Option<&str>,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, Error> {
    let last_month = console
        .intake
        .calendar()
        .local_date(Utc::now())
        .checked_sub_months(Months::new(1))
        .map(|d| d.format("%Y-%m").to_string())
        .unwrap_or_default();
    let sends = console
        .store()
        .summary_sends(RECENT_SENDS)
        .await?
        .into_iter()
        .map(|s| SendLine {
            month: s.month,
            by: s.sent_by,
            to: s.recipients,
            at: s.at,
            error: s.error,
        })
        .collect();
    let view = SummaryPage {
        landlord: console.landlord(),
        staff: &session.staff,
        csrf: &session.csrf,
        recipients: console
            .summary
            .as_ref()
            .map(|m| m.recipients().to_vec())
            .unwrap_or_default(),
        automatic: console.summary.as_ref().is_some_and(|m| m.automatic),
        month: month.map_or(last_month, str::to_owned),
        sends,
        notice,
        error,
    };
    Ok(console.render("summary.html", &view))
}
