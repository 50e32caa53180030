//! `POST /chat/api/attachments`: a resident sends a photo or a document (damp and mould
//! evidence is the common case; the record keeps attachments, Code 5.12). The body is the
//! file's bytes; the name (`X-File-Name`), an optional caption read as the message's words
//! (`X-Caption`) and the page's id for the message (`X-Message-Id`) come in headers, the
//! first two percent-encoded. The same session and the same allowance as messages apply.
//!
//! Refused with a clear JSON message and nothing written: 413 over 10 MiB, 415 for anything
//! but a photo or a PDF (read from the bytes), 429 past 20 files a conversation in a day.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::PrivateCookieJar;
use chrono::Utc;

use super::files::{self, ACCEPTED};
use super::messages::{check_id, check_words, throttled};
use super::{CHANNEL, WebChat, no_session, problem, recorded, session_of, unavailable};
use crate::core::dialog::Input;
use crate::store::{Inbound, Upload};

/// The largest file: a phone's full-size photo, or a scanned letter.
pub const LARGEST_FILE: usize = 10 * 1024 * 1024;
/// Files one conversation may send in 24 hours: more evidence than a visit needs, fewer
/// than a script filling the record.
pub const FILES_A_DAY: i64 = 20;

/// A percent-encoded header's text (`encodeURIComponent` on the page), or `None` if it is
/// not valid percent-encoded UTF-8.
fn decoded(headers: &HeaderMap, name: &str) -> Option<Option<String>> {
    let Some(value) = headers.get(name) else {
        return Some(None);
    };
    let raw = value.to_str().ok()?.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hex = std::str::from_utf8(raw.get(i + 1..i + 3)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(bytes).ok().map(Some)
}

fn too_big() -> Response {
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!(
            "That file is too big to send here ({} MB at most). Please send a smaller photo, or a few pages at a time.",
            LARGEST_FILE / (1024 * 1024)
        ),
    )
}

/// Uploads one session may have in flight at once: a few photos chosen together, and no
/// more than a few files' bytes held in memory for one resident.
const AT_ONCE: usize = 3;

/// Uploads in flight, per session.
#[derive(Clone, Default)]
pub(super) struct InFlight(Arc<Mutex<HashMap<String, usize>>>);

/// One upload counted in flight until it is dropped (recorded, refused or abandoned).
struct Slot {
    of: InFlight,
    session: String,
}

impl InFlight {
    /// A slot for this session, and how many of its uploads were already in flight; `None`
    /// when it has `AT_ONCE` already.
    fn take(&self, session: &str) -> Option<(Slot, usize)> {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let n = counts.entry(session.to_owned()).or_insert(0);
        if *n >= AT_ONCE {
            return None;
        }
        let before = *n;
        *n += 1;
        Some((
            Slot {
                of: self.clone(),
                session: session.to_owned(),
            },
            before,
        ))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.of.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.session) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.session);
            }
        }
    }
}

pub(super) async fn upload(
    State(chat): State<WebChat>,
    jar: PrivateCookieJar,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Who is sending comes first: nobody without a session has 10 MB read into memory.
    let Some(session) = session_of(&jar) else {
        return no_session();
    };
    let Some((_slot, in_flight)) = chat.uploads.take(&session) else {
        return problem(
            StatusCode::TOO_MANY_REQUESTS,
            "Your other files are still sending. Please wait for them, then send this one.",
        );
    };
    let bytes = match axum::body::to_bytes(body, LARGEST_FILE + 1).await {
        Ok(bytes) if bytes.len() > LARGEST_FILE => return too_big(),
        Ok(bytes) => bytes,
        // The only error with a limit set is the body going past it, or the connection
        // ending part way.
        Err(e) if e.to_string().contains("length limit") => return too_big(),
        Err(_) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "The file did not arrive whole. Please try again.",
            );
        }
    };
    let (Some(name), Some(caption), Some(id)) = (
        decoded(&headers, "x-file-name"),
        decoded(&headers, "x-caption"),
        decoded(&headers, "x-message-id"),
    ) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "The file's name or caption could not be read. Please try again.",
        );
    };
    let caption = caption.filter(|c| !c.trim().is_empty());
    if let Err((status, message)) =
        check_id(id.as_deref()).and_then(|()| caption.as_deref().map_or(Ok(()), check_words))
    {
        return problem(status, &message);
    }
    if bytes.is_empty() {
        return problem(
            StatusCode::BAD_REQUEST,
            "That file is empty. Please choose the photo or document again.",
        );
    }
    let Some(content_type) = files::content_type(&bytes) else {
        return problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, ACCEPTED);
    };
    if let Some(refused) = throttled(&chat, &session).await {
        return (jar, refused).into_response();
    }
    let now = Utc::now();
    let day_ago = now - chrono::Duration::hours(24);
    match chat
        .intake
        .store()
        .files_received_since(CHANNEL, &session, day_ago)
        .await
    {
        // Those still being sent count too, so files sent together cannot pass the limit.
        Ok(n) if n + i64::try_from(in_flight).unwrap_or(i64::MAX) >= FILES_A_DAY => {
            return problem(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "You have sent {FILES_A_DAY} files today, which is as many as this chat takes in a day. Please send the rest tomorrow, or tell us here and we will arrange another way."
                ),
            );
        }
        Ok(_) => {}
        Err(e) => return unavailable(&e),
    }
    let upload = Upload::new(
        files::clean_name(name.as_deref().unwrap_or_default()),
        content_type,
        bytes.to_vec(),
    );
    let attachment = upload.attachment();
    // Held until the writer's transaction has taken the bytes (or refused the message).
    let staged = upload.stage();
    let input = match &caption {
        Some(words) => Input::Text(words.clone()),
        None => Input::Attachment,
    };
    let inbound = Inbound {
        channel: CHANNEL.to_owned(),
        chat: session.clone(),
        platform_message_id: id.map(|id| format!("{session}:{id}")),
        body: caption.unwrap_or_default(),
        attachments: vec![attachment],
        at: now,
    };
    let handled = chat.writer.handle(inbound, input).await;
    drop(staged);
    (jar, recorded(&chat, handled)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_session_has_a_few_uploads_in_flight_and_each_counts_until_it_ends() {
        let in_flight = InFlight::default();
        let (first, before) = in_flight.take("s1").expect("first");
        assert_eq!(before, 0);
        let (_second, before) = in_flight.take("s1").expect("second");
        assert_eq!(before, 1, "counted against the day's files while in flight");
        let (_third, _) = in_flight.take("s1").expect("third");
        assert!(
            in_flight.take("s1").is_none(),
            "a fourth at once is refused"
        );
        assert!(
            in_flight.take("s2").is_some(),
            "another resident is not held up"
        );
        drop(first);
        let (_, before) = in_flight.take("s1").expect("a slot once one ended");
        assert_eq!(before, 2);
    }

    #[test]
    fn names_and_captions_are_percent_decoded() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-file-name",
            HeaderValue::from_static("damp%20wall%20%C3%B1.jpg"),
        );
        headers.insert("x-caption", HeaderValue::from_static("%ZZ"));
        assert_eq!(
            decoded(&headers, "x-file-name"),
            Some(Some("damp wall ñ.jpg".to_owned()))
        );
        assert_eq!(
            decoded(&headers, "x-caption"),
            None,
            "bad escapes are refused"
        );
        assert_eq!(decoded(&headers, "x-message-id"), Some(None));
        headers.insert("x-caption", HeaderValue::from_static("%FF%FE"));
        assert_eq!(decoded(&headers, "x-caption"), None, "not UTF-8");
    }
}
