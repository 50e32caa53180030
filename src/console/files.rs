//! What the console serves from the binary: its page templates, scripts and styles.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::channels::asset;

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
];
