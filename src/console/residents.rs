//! The resident record (issue 12): one resident's page, with their conversations across
//! channels, their complaints, the contact details and the support needs they gave (these
//! only to roles that see them, 5.10, hidden as the conversation page hides them); finding
//! a resident to link a conversation to; and the conversation page's "Resident" panel with
//! its forms. Who may link is `staff::may_link`; every link and unlink is audited there.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::auth::{CsrfForm, form_token};
use super::cases::case_rows;
use super::restrict::{RESTRICTED, line_discloses, with_corrections};
use super::{Console, Error, Staff, StaffForm};
use crate::core::ids::{CaseStatus, ConversationId, MessageId, ResidentId, Stage};
use crate::staff::{self, Linked, StaffMember};
use crate::store::Resident;

/// The "Resident" panel of a conversation page.
#[derive(Debug, Serialize)]
pub(super) struct ResidentPanel {
    /// The resident it is linked to, if staff linked it.
    linked: Option<ResidentLabel>,
    /// Whether the viewer may link and unlink.
    may_link: bool,
    /// The name the resident gave in the conversation, offered for a new resident.
    given_name: Option<String>,
}

#[derive(Debug, Serialize)]
struct ResidentLabel {
    id: ResidentId,
    name: String,
}

/// The panel for `viewer`.
pub(super) async fn panel(
    console: &Console,
    conversation: ConversationId,
    state: &str,
    viewer: &StaffMember,
) -> Result<ResidentPanel, Error> {
    let store = console.store();
    Ok(ResidentPanel {
        linked: store
            .resident_of(conversation)
            .await?
            .map(|r| ResidentLabel {
                id: r.id,
                name: r.name,
            }),
        may_link: staff::may_link(viewer).is_ok(),
        given_name: staff::given_name(store, conversation, state).await?,
    })
}

/// What a resident's page shows.
#[derive(Serialize)]
struct ResidentPage<'a> {
    landlord: String,
    staff: &'a StaffMember,
    csrf: &'a str,
    resident: ResidentView,
    conversations: Vec<ConversationRow>,
    complaints: Vec<ComplaintRow>,
    contacts: Vec<ContactRow>,
    /// Whether the viewer sees support needs (5.10).
    sees_support: bool,
    /// The support needs: what each complaint's `support` answer said, and the resident's
    /// lines disclosing a need (only for roles that see them).
    support: Vec<SupportRow>,
    /// For roles that do not see them: that some were recorded, not what.
    support_hidden: Option<&'static str>,
    may_link: bool,
}

#[derive(Serialize)]
struct ResidentView {
    id: ResidentId,
    name: String,
    created_by: String,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct ConversationRow {
    id: ConversationId,
    channel: String,
    last_activity: Option<DateTime<Utc>>,
    holder: Option<String>,
    linked_by: String,
    linked_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct ComplaintRow {
    conversation: ConversationId,
    reference: String,
    stage: Stage,
    status: CaseStatus,
    due_on: String,
    /// The confirmed category, else the suggested one marked so, by label.
    category: Option<String>,
    /// Each stage's outcome, in words.
    outcomes: Vec<String>,
}

#[derive(Serialize)]
struct ContactRow {
    conversation: ConversationId,
    reference: String,
    /// How the resident asked to be replied to (a key, labelled by the page).
    how: Option<String>,
    detail: Option<String>,
}

#[derive(Serialize)]
struct SupportRow {
    conversation: ConversationId,
    /// The complaint whose answer it is, or, for a line, its message.
    reference: Option<String>,
    message: Option<MessageId>,
    text: String,
    at: Option<DateTime<Utc>>,
}

/// One resident's page: any member of staff may read it; support needs only as their role
/// allows (5.10).
pub(super) async fn resident_page(
    State(console): State<Console>,
    Path(id): Path<ResidentId>,
    Staff(session): Staff,
) -> Result<Response, Error> {
    let store = console.store();
    let Some(resident) = store.resident(id).await? else {
        return Err(Error::NotFound(
            "There is no such resident: their last conversation was unlinked or erased.".into(),
        ));
    };
    let sees_support = session.staff.role.sees_adjustments();
    let categories = &console.intake.profile().categories;
    let linked = store.resident_conversations(id).await?;
    let mut complaints = Vec::new();
    let mut contacts = Vec::new();
    let mut support = Vec::new();
    let mut any_support = false;
    for conversation in &linked {
        let c = conversation.conversation;
        let cases = case_rows(staff::cases(store, c).await?)?;
        let handling = store.case_handling(c).await?;
        for case in &cases {
            let h = handling.iter().find(|h| h.reference == case.reference);
            let category = h.and_then(|h| match (&h.category, &h.suggested_category) {
                (Some(key), _) => Some(categories.label(key).to_owned()),
                (None, Some(key)) => Some(format!("{} (suggested)", categories.label(key))),
                (None, None) => None,
            });
            complaints.push(ComplaintRow {
                conversation: c,
                reference: case.reference.clone(),
                stage: case.stage,
                status: case.status,
                due_on: case.due_on.clone(),
                category,
                outcomes: h.map_or_else(Vec::new, |h| {
                    h.outcomes
                        .iter()
                        .map(|o| format!("Stage {}: {}", o.stage, o.outcome.label()))
                        .collect()
                }),
            });
            let answer = |key: &str| {
                case.answers[key]
                    .as_str()
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
            };
            let (how, detail) = (answer("contact"), answer("contact_detail"));
            if how.is_some() || detail.is_some() {
                contacts.push(ContactRow {
                    conversation: c,
                    reference: case.reference.clone(),
                    how,
                    detail,
                });
            }
            if let Some(text) = answer("support") {
                any_support = true;
                if sees_support {
                    support.push(SupportRow {
                        conversation: c,
                        reference: Some(case.reference.clone()),
                        message: None,
                        text,
                        at: None,
                    });
                }
            }
        }
        // The lines are read whoever views, so an agent learns that needs were disclosed in
        // words only (as the conversation page shows), never the words.
        let mut lines = staff::lines(store, c, MessageId(0)).await?;
        with_corrections(&mut lines, &staff::corrections(store, c).await?);
        for line in lines
            .into_iter()
            .filter(|l| l.from == "resident" && line_discloses(l))
        {
            any_support = true;
            if sees_support {
                support.push(SupportRow {
                    conversation: c,
                    reference: None,
                    message: Some(line.id),
                    text: line.text,
                    at: Some(line.at),
                });
            }
        }
    }
    let page = ResidentPage {
        landlord: console.landlord(),
        staff: &session.staff,
        csrf: &session.csrf,
        resident: view(resident),
        conversations: linked
            .into_iter()
            .map(|l| ConversationRow {
                id: l.conversation,
                channel: l.channel,
                last_activity: l.last_activity,
                holder: l.holder,
                linked_by: l.linked_by,
                linked_at: l.linked_at,
            })
            .collect(),
        complaints,
        contacts,
        sees_support,
        support,
        support_hidden: (any_support && !sees_support).then_some(RESTRICTED),
        may_link: staff::may_link(&session.staff).is_ok(),
    };
    Ok(console.render("resident.html", &page))
}

fn view(r: Resident) -> ResidentView {
    ResidentView {
        id: r.id,
        name: r.name,
        created_by: r.created_by,
        created_at: r.created_at,
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct FindQuery {
    #[serde(default)]
    q: String,
    /// The conversation to link the resident found to, if that is what the search is for.
    conversation: Option<ConversationId>,
}

#[derive(Serialize)]
struct FindPage<'a> {
    landlord: String,
    staff: &'a StaffMember,
    csrf: &'a str,
    typed: String,
    conversation: Option<ConversationId>,
    found: Vec<ResidentView>,
    may_link: bool,
}

/// Residents by name, complaint reference or number, each with a button linking the
/// conversation the search was made from.
pub(super) async fn find(
    State(console): State<Console>,
    Query(query): Query<FindQuery>,
    Staff(session): Staff,
) -> Result<Response, Error> {
    let typed: String = query.q.trim().chars().take(200).collect();
    let found = console.store().find_residents(&typed).await?;
    let page = FindPage {
        landlord: console.landlord(),
        staff: &session.staff,
        csrf: &session.csrf,
        typed,
        conversation: query.conversation,
        found: found.into_iter().map(view).collect(),
        may_link: staff::may_link(&session.staff).is_ok(),
    };
    Ok(console.render("residents.html", &page))
}

#[derive(Debug, Deserialize)]
pub(super) struct LinkForm {
    /// Missing, it is refused as a wrong one is (403), not as an unreadable form.
    #[serde(default)]
    csrf: String,
    /// The resident's number, as their page shows it ("12", "R12").
    #[serde(default)]
    resident: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct NewResidentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

form_token!(LinkForm, NewResidentForm);

/// Links a conversation to an existing resident.
pub(super) async fn link(
    State(console): State<Console>,
    Path(id): Path<ConversationId>,
    StaffForm(session, form): StaffForm<LinkForm>,
) -> Result<Response, Error> {
    let Ok(resident) = form
        .resident
        .trim()
        .trim_start_matches(['R', 'r', '#'])
        .parse::<ResidentId>()
    else {
        return Err(Error::BadRequest(
            "Type the resident's number as their page shows it (R12), or find them by name.".into(),
        ));
    };
    let done =
        staff::link_resident(console.store(), id, resident, &session.staff, Utc::now()).await?;
    answer(id, done)
}

/// Makes a new resident from a conversation and links it.
pub(super) async fn create(
    State(console): State<Console>,
    Path(id): Path<ConversationId>,
    StaffForm(session, form): StaffForm<NewResidentForm>,
) -> Result<Response, Error> {
    let done =
        staff::new_resident(console.store(), id, &form.name, &session.staff, Utc::now()).await?;
    answer(id, done)
}

/// Unlinks a conversation from its resident.
pub(super) async fn unlink(
    State(console): State<Console>,
    Path(id): Path<ConversationId>,
    StaffForm(session, _): StaffForm<CsrfForm>,
) -> Result<Response, Error> {
    let done = staff::unlink_resident(console.store(), id, &session.staff, Utc::now()).await?;
    answer(id, done)
}

/// Back to the conversation's panel, or the refusal in words.
fn answer(conversation: ConversationId, done: Linked) -> Result<Response, Error> {
    match done {
        Linked::Done(_) => Ok(Redirect::to(&format!(
            "/console/conversations/{conversation}#resident"
        ))
        .into_response()),
        Linked::Refused(why) => Err(Error::Forbidden(why.into())),
        Linked::NoSuchConversation => Err(Error::NotFound("There is no such conversation.".into())),
        Linked::NoSuchResident => Err(Error::NotFound(
            "There is no resident with that number; find them by name instead.".into(),
        )),
        Linked::NoName => Err(Error::BadRequest(
            "The resident gave no name in this conversation: type the name to give them.".into(),
        )),
        Linked::NameTooLong => Err(Error::BadRequest(
            format!(
                "A resident's name can be at most {} characters.",
                staff::LONGEST_RESIDENT_NAME
            )
            .into(),
        )),
        Linked::NotLinked => Err(Error::Conflict(
            "This conversation is not linked to a resident.".into(),
        )),
    }
}
