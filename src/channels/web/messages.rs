//! `POST /chat/api/messages`: a typed message or a button pressed, checked before anything is
//! written, then recorded by the writer; 202 once it is durably recorded.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::PrivateCookieJar;
use chrono::Utc;
use serde::Deserialize;

use super::{BODY_LIMIT, CHANNEL, LONGEST_MESSAGE, WebChat, no_session, problem, session_of};
use super::{recorded, unavailable};
use crate::core::dialog::Input;
use crate::store::Inbound;

/// A message from the page.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Posted {
    #[serde(default)]
    pub text: Option<String>,
    /// The key of a button the resident pressed.
    #[serde(default)]
    pub choice: Option<String>,
    /// The page's own id for this message, so a retried post is recorded once.
    #[serde(default)]
    pub id: Option<String>,
}

/// What a post asks for, once checked: typed words, or a press of the button with this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    Text(String),
    Press(String),
}

/// The page's id for a message: 1 to 64 characters.
pub(super) fn check_id(id: Option<&str>) -> Result<(), (StatusCode, String)> {
    if let Some(id) = id
        && (id.is_empty() || id.len() > 64)
    {
        return Err((
            StatusCode::BAD_REQUEST,
            "The message id must be 1 to 64 characters.".to_owned(),
        ));
    }
    Ok(())
}

/// Typed words within the length limit.
pub(super) fn check_words(text: &str) -> Result<(), (StatusCode, String)> {
    if text.chars().count() > LONGEST_MESSAGE {
        return Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "That message is too long to send here ({LONGEST_MESSAGE} characters at most). Please split it into shorter messages."
            ),
        ));
    }
    Ok(())
}

/// Checks a post before anything is written: a clear refusal for an empty message, one
/// over the length limit, a malformed button key or message id.
pub fn check_post(posted: &Posted) -> Result<Said, (StatusCode, String)> {
    check_id(posted.id.as_deref())?;
    match (&posted.text, &posted.choice) {
        (_, Some(key)) => {
            if key.is_empty()
                || key.len() > 64
                || !key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "That choice is not one the bot offered.".to_owned(),
                ));
            }
            Ok(Said::Press(key.clone()))
        }
        (Some(text), None) if !text.trim().is_empty() => {
            check_words(text)?;
            Ok(Said::Text(text.clone()))
        }
        _ => Err((
            StatusCode::BAD_REQUEST,
            "Please type a message before sending.".to_owned(),
        )),
    }
}

/// The session's message allowance: `None` if this one may go, or the 429 to answer (with
/// `Retry-After`). Messages and files share it.
pub(super) async fn throttled(chat: &WebChat, session: &str) -> Option<Response> {
    let wait = chat.per_session.check(session).await?;
    let seconds = wait.as_secs().max(1);
    let mut response = problem(
        StatusCode::TOO_MANY_REQUESTS,
        &format!(
            "You are sending messages very quickly. Please wait {seconds} seconds and try again; your earlier messages are safe."
        ),
    );
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Some(response)
}

pub(super) async fn receive(
    State(chat): State<WebChat>,
    jar: PrivateCookieJar,
    body: Result<Json<Posted>, JsonRejection>,
) -> Response {
    let posted = match body {
        Ok(Json(posted)) => posted,
        Err(rejection) => return unreadable(&rejection),
    };
    let said = match check_post(&posted) {
        Ok(said) => said,
        Err((status, message)) => return problem(status, &message),
    };
    // Sessions are only made by opening the page, so a script cannot mint a new one for
    // every message to get round the limits.
    let Some(session) = session_of(&jar) else {
        return no_session();
    };
    if let Some(refused) = throttled(&chat, &session).await {
        return (jar, refused).into_response();
    }
    let (text, input) = match said {
        Said::Press(key) => {
            // The record keeps the label the bot showed, whatever the client sends with it.
            let offered = match chat.intake.store().offered_choices(CHANNEL, &session).await {
                Ok(offered) => offered,
                Err(e) => return unavailable(&e),
            };
            let Some(choice) = offered.into_iter().find(|c| c.key == key) else {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "That choice is not one the bot offered.",
                );
            };
            (choice.label, Input::Choice(key))
        }
        Said::Text(text) => (text.clone(), Input::Text(text)),
    };
    let inbound = Inbound {
        channel: CHANNEL.to_owned(),
        chat: session.clone(),
        // Ids are the page's own, so they are kept apart per session.
        platform_message_id: posted.id.as_ref().map(|id| format!("{session}:{id}")),
        body: text,
        attachments: Vec::new(),
        at: Utc::now(),
    };
    let handled = chat.writer.handle(inbound, input).await;
    (jar, recorded(&chat, handled)).into_response()
}

/// The refusal for a body that is not a message: too large, not JSON, or malformed.
fn unreadable(rejection: &JsonRejection) -> Response {
    let status = rejection.status();
    let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
        format!(
            "That message is too long to send here (the limit is {} KB). Please split it into shorter messages.",
            BODY_LIMIT / 1024
        )
    } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        "Send messages as JSON (Content-Type: application/json).".to_owned()
    } else {
        format!(
            "That message could not be read: {}. Send {{\"text\": \"your message\"}}.",
            rejection.body_text()
        )
    };
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    problem(status, &message)
}
