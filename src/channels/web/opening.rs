//! `GET /chat/api/opening`: what the page shows before the resident writes: the landlord's
//! greeting (the dialogs' `greeting`), the emergency numbers (safety first: a resident in
//! danger must not have to type to find them), and when the office is closed, when it opens
//! again, so nobody waits for an answer that cannot come until then.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Serialize;

use super::WebChat;
use crate::core::calendar::{Office, office_at};

/// One number to call, and when.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Emergency {
    pub when: String,
    pub phone: String,
}

/// What the page opens with.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Opening {
    pub landlord: String,
    pub greeting: String,
    pub emergency: Vec<Emergency>,
    /// Whether the office is open now.
    pub open: bool,
    /// When it is closed: that it is, when it opens, and what to do meanwhile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_hours: Option<String>,
}

/// The opening at `now`.
pub fn opening(chat: &WebChat, now: chrono::DateTime<Utc>) -> Opening {
    let profile = chat.intake.profile();
    let out_of_hours_phone = profile.out_of_hours_repairs_phone.clone();
    let values: std::collections::BTreeMap<&str, String> = [
        ("landlord", profile.name.clone()),
        ("out_of_hours", out_of_hours_phone.clone()),
    ]
    .into_iter()
    .collect();
    let greeting = chat
        .intake
        .dialogs()
        .locale(crate::core::dialog::DEFAULT_LOCALE)
        .say("greeting", &values)
        .text;
    let office = office_at(chat.intake.calendar(), chat.office, now);
    let out_of_hours = match office {
        Office::Open => None,
        Office::Closed { opens } => Some(format!(
            "Our office is closed now. It opens again on {} at {}. For an emergency repair call {out_of_hours_phone}. You can still write here; everything you send is kept and a member of staff will read it when we open.",
            opens.format("%A %-d %B"),
            opens.format("%H:%M"),
        )),
    };
    Opening {
        landlord: profile.name.clone(),
        greeting,
        emergency: vec![
            Emergency {
                when: "If anyone is in danger".to_owned(),
                phone: "999".to_owned(),
            },
            Emergency {
                when: "If you smell gas (National Gas Emergency)".to_owned(),
                phone: "0800 111 999".to_owned(),
            },
            Emergency {
                when: "For an emergency repair, at any hour".to_owned(),
                phone: out_of_hours_phone,
            },
        ],
        open: office == Office::Open,
        out_of_hours,
    }
}

pub(super) async fn opening_now(State(chat): State<WebChat>) -> Response {
    Json(opening(&chat, Utc::now())).into_response()
}
