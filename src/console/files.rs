//! What the console serves: its page templates, scripts and styles from the binary, and the
//! files residents sent (photos and PDFs from the web chat, part of the record: Code 5.12),
//! to signed-in staff only.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::restrict::restricted_lines;
use super::{Console, Error, Staff};
use crate::channels::asset;
use crate::channels::web::{content_type, shown_inline, size_in_words};
use crate::staff::StaffLine;
use crate::store::StoredFile;

/// The console's scripts and styles, served as files: the content security policy allows
/// no inline script or style, so injected markup cannot run.
const STATIC: &[(&str, &str, &str)] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("console.css"),
    ),
    (
        "inbox.js",
        "text/javascript; charset=utf-8",
        include_str!("inbox.js"),
    ),
    (
        "conversation.js",
        "text/javascript; charset=utf-8",
        include_str!("conversation.js"),
    ),
    (
        "forms.js",
        "text/javascript; charset=utf-8",
        include_str!("forms.js"),
    ),
    (
        "report.css",
        "text/css; charset=utf-8",
        crate::reports::STYLESHEET,
    ),
];

pub(super) async fn static_file(Path(file): Path<String>) -> Response {
    match STATIC.iter().find(|(name, ..)| *name == file) {
        Some((_, kind, body)) => asset(kind, body),
        None => (StatusCode::NOT_FOUND, "No such file.").into_response(),
    }
}

/// The page templates (minijinja; `.html` names escape everything by default).
pub(super) const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("layout.html")),
    ("login.html", include_str!("login.html")),
    ("inbox.html", include_str!("inbox.html")),
    ("conversation.html", include_str!("conversation.html")),
    ("requests.html", include_str!("requests.html")),
    ("requests_panel.html", include_str!("requests_panel.html")),
    ("search.html", include_str!("search.html")),
    ("resident.html", include_str!("resident.html")),
    ("residents.html", include_str!("residents.html")),
    ("not_found.html", include_str!("not_found.html")),
    ("case_learning.html", include_str!("case_learning.html")),
    ("improvements.html", include_str!("improvements.html")),
    ("self_assessment.html", include_str!("self_assessment.html")),
    ("login_code.html", include_str!("login_code.html")),
    ("accounts.html", include_str!("accounts.html")),
    (
        "account_password.html",
        include_str!("account_password.html"),
    ),
    ("account.html", include_str!("account.html")),
    ("summary.html", include_str!("summary.html")),
    (
        "standard_messages.html",
        include_str!("standard_messages.html"),
    ),
    (
        "standard_message.html",
        include_str!("standard_message.html"),
    ),
    ("reports.html", include_str!("reports.html")),
    (
        "reports_complaints.html",
        include_str!("reports_complaints.html"),
    ),
];

/// A resident's file as the conversation page shows it: a thumbnail for a photo a browser
/// can draw, a link with its name and size for anything else.
#[derive(Debug, Clone, Serialize)]
pub(super) struct FileView {
    /// The file's token: its address is `/console/files/{token}`.
    pub token: String,
    pub name: String,
    pub size: String,
    /// "Photo" or "PDF document" (or "HEIC photo", which most browsers cannot show).
    pub kind: &'static str,
    pub thumbnail: bool,
}

/// The files of each line, by the line's id, for the lines staff may see: a line hidden from
/// this role (5.10) has had its attachments taken away, and shows none. The line's own
/// mention of a file shown here is dropped, so it is not listed twice.
pub(super) fn file_views(
    files: &[StoredFile],
    lines: &mut [StaffLine],
) -> std::collections::BTreeMap<String, Vec<FileView>> {
    let mut views = std::collections::BTreeMap::new();
    for line in lines {
        if line.attachments.is_empty() {
            continue;
        }
        let mine: Vec<&StoredFile> = files.iter().filter(|f| f.message_id == line.id).collect();
        line.attachments
            .retain(|a| !mine.iter().any(|f| a.contains(f.token.as_str())));
        if mine.is_empty() {
            continue;
        }
        let shown = mine
            .into_iter()
            .map(|f| FileView {
                token: f.token.clone(),
                name: f.name.clone(),
                size: size_in_words(u64::try_from(f.size).unwrap_or_default()),
                kind: match f.content_type.as_str() {
                    "application/pdf" => "PDF document",
                    "image/heic" | "image/heif" => "HEIC photo",
                    _ => "Photo",
                },
                thumbnail: shown_inline(&f.content_type),
            })
            .collect();
        views.insert(line.id.to_string(), shown);
    }
    views
}

/// A resident's file, for signed-in staff (anyone else is sent to sign in). It is served as
/// the type read from its bytes when it arrived, never as HTML, and sandboxed, so a file that
/// is more than it seems cannot run in the console's origin; photos open in the browser,
/// documents download. A role that does not see support needs gets no file from a line
/// hidden from it (5.10).
pub(super) async fn resident_file(
    State(console): State<Console>,
    Path(token): Path<String>,
    Staff(session): Staff,
) -> Result<Response, Error> {
    let missing = || Error::NotFound("There is no such file.".into());
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(missing());
    }
    let store = console.store();
    let Some(content) = store.file(&token).await? else {
        return Err(missing());
    };
    if !session.staff.role.sees_adjustments() {
        let lines = restricted_lines(
            store,
            content.file.conversation_id,
            crate::core::ids::MessageId(0),
        )
        .await?;
        if !lines
            .iter()
            .any(|l| l.id == content.file.message_id && !l.attachments.is_empty())
        {
            return Err(Error::Forbidden(
                "Only complaints officers and managers see what residents disclose about support needs (Code 5.10).".into(),
            ));
        }
    }
    // The type as read from the bytes again: only a photo or a PDF is ever served as one.
    let kind = content_type(&content.bytes).unwrap_or("application/octet-stream");
    let disposition = if shown_inline(kind) {
        "inline"
    } else {
        "attachment"
    };
    let name = content.file.name.replace(['"', '\\'], "_");
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        percent_encoded(&name)
    );
    let value =
        |v: &str| HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox"),
            ),
            (header::CONTENT_DISPOSITION, value(&disposition)),
            // Personal data: kept out of shared caches and the browser's disk.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        content.bytes,
    )
        .into_response())
}

/// `text` with everything but unreserved ASCII percent-encoded (RFC 5987's `filename*`).
fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
