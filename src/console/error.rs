//! The one error every console handler returns, and the words staff see for it.

use std::borrow::Cow;

use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

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
        (status, words.into_owned()).into_response()
    }
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
