//! The one error every console handler returns, and the words staff see for it: a small
//! page in the console's style, whose refusal the console's script shows beside the form.

use std::borrow::Cow;

use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::service::{ActionError, CaseError};
use crate::store::StoreError;

/// Why a console request was not done. Each variant is one status; the words are what the
/// member of staff reads.
#[derive(Debug)]
pub enum Error {
    /// No current session (none, signed out, or expired): the way to the sign-in page.
    SignIn,
    /// The record did not answer; nothing was changed. The cause is logged, not shown.
    Unavailable(String),
    /// 400: the form asks for something else.
    BadRequest(Cow<'static, str>),
    /// 403: not for this member of staff, or the form's token is not the session's.
    Forbidden(Cow<'static, str>),
    /// 404.
    NotFound(Cow<'static, str>),
    /// 409: the conversation is not in the state the action needs.
    Conflict(Cow<'static, str>),
    /// 413.
    TooLarge(Cow<'static, str>),
    /// 422: the Code's rules refused a case action, and nothing was changed.
    Unprocessable(Cow<'static, str>),
    /// The form could not be read: axum's own answer, as before any session is looked at.
    Form(FormRejection),
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, words) = match self {
            Error::SignIn => return Redirect::to("/console/login").into_response(),
            Error::Form(rejection) => return rejection.into_response(),
            Error::Unavailable(e) => {
                tracing::error!(error = %e, "console: the record is unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Cow::Borrowed(
                        "The database is not answering. Nothing was changed; please try again in a minute.",
                    ),
                )
            }
            Error::BadRequest(words) => (StatusCode::BAD_REQUEST, words),
            Error::Forbidden(words) => (StatusCode::FORBIDDEN, words),
            Error::NotFound(words) => (StatusCode::NOT_FOUND, words),
            Error::Conflict(words) => (StatusCode::CONFLICT, words),
            Error::TooLarge(words) => (StatusCode::PAYLOAD_TOO_LARGE, words),
            Error::Unprocessable(words) => (StatusCode::UNPROCESSABLE_ENTITY, words),
        };
        (status, Html(refusal_page(&words))).into_response()
    }
}

/// The page a refused form or request leads to: the words in the console's style, in a
/// paragraph the console's script shows next to the form instead (`.refusal`), so staff with
/// script never leave the page and what they typed stays.
fn refusal_page(words: &str) -> String {
    let escaped = words
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        "<!doctype html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Not done</title><link rel=\"stylesheet\" href=\"/console/static/console.css\"></head>\
         <body><main><h1>Not done</h1><p class=\"refusal\" role=\"alert\">{escaped}</p>\
         <p>Use your browser's Back button to return to the form: what you typed is still there.</p>\
         <p><a href=\"/console\">Inbox</a></p></main></body></html>\n"
    )
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::Unavailable(e.to_string())
    }
}

impl From<ActionError> for Error {
    fn from(e: ActionError) -> Error {
        match e {
            ActionError::NoSuchConversation => {
                Error::NotFound("There is no such conversation.".into())
            }
            ActionError::HeldByAnother => Error::Forbidden(
                "Another member of staff holds this conversation; only they can reply or hand it back."
                    .into(),
            ),
            ActionError::NotHeld => {
                Error::Conflict("Take the conversation over before replying.".into())
            }
            ActionError::Store(e) => e.into(),
        }
    }
}

impl From<CaseError> for Error {
    fn from(e: CaseError) -> Error {
        match e {
            CaseError::Missing(missing) => {
                let parts: Vec<String> = missing
                    .iter()
                    .map(|m| format!("{} (Code {})", m.part, m.provision))
                    .collect();
                Error::Unprocessable(
                    format!(
                        "The response has not been sent: it still needs {}. Go back and add them.",
                        parts.join("; ")
                    )
                    .into(),
                )
            }
            CaseError::Refused(why) => {
                Error::Unprocessable(format!("Nothing was changed: {why}.").into())
            }
            CaseError::Store(e) => e.into(),
        }
    }
}
