//! Standard messages edited in the console by managers and admins (issue 12): the list with
//! who changed each last and when, adding one, a message's page with its edit form and every
//! version, retiring one (hidden from the reply box, kept in the history) and restoring it.
//! Each edit is a new version; each change is audited. A message is checked as the file
//! loader checks one (the placeholders the console can fill), with a length limit, and a
//! refusal is shown beside the form with what was typed kept. Agents and complaints officers
//! use the messages in the reply box but cannot change them.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::auth::{CsrfForm, FormToken, form_token};
use super::standard::{
    LONGEST_STANDARD_NAME, LONGEST_STANDARD_TEXT, STANDARD_PLACEHOLDERS, check_typed, seed_once,
};
use super::{Console, Error, Staff, StaffForm};
use crate::staff::{Session, StaffMember};
use crate::store::{
    StandardAuditLine, StandardChange, StandardChanged, StandardMessageId, StandardVersion,
    StoredStandardMessage,
};

/// Changes the list page shows.
const RECENT_CHANGES: i64 = 30;

/// A manager or an admin, for the pages that edit standard messages.
pub(super) struct Manager(Session);

/// A form posted by a manager or an admin, its token checked.
pub(super) struct ManagerForm<F>(Session, F);

impl FromRequestParts<Console> for Manager {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Manager, Error> {
        let Staff(session) = Staff::from_request_parts(parts, console).await?;
        managers_only(&session)?;
        Ok(Manager(session))
    }
}

impl<F> FromRequest<Console> for ManagerForm<F>
where
    F: DeserializeOwned + FormToken + Send,
{
    type Rejection = Error;

    async fn from_request(request: Request, console: &Console) -> Result<ManagerForm<F>, Error> {
        let StaffForm(session, form) = StaffForm::<F>::from_request(request, console).await?;
        managers_only(&session)?;
        Ok(ManagerForm(session, form))
    }
}

fn managers_only(session: &Session) -> Result<(), Error> {
    if session.staff.role.is_manager() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "Standard messages are edited by managers and admins; you can still use them in the reply box.".into(),
        ))
    }
}

/// A message as typed into the add or edit form, shown again after a refusal.
#[derive(Debug, Default, Deserialize, Serialize)]
pub(super) struct MessageForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    text: String,
    /// The version the editor started from (the edit form only).
    #[serde(default)]
    version: i64,
    #[serde(default, skip_serializing)]
    csrf: String,
}

form_token!(MessageForm);

/// One message as the list shows it.
#[derive(Serialize)]
struct Row {
    id: StandardMessageId,
    name: String,
    /// The start of its text.
    opening: String,
    version: i64,
    by: String,
    at: DateTime<Utc>,
    retired: bool,
}

/// A change, as the pages list it.
#[derive(Serialize)]
struct Change {
    at: DateTime<Utc>,
    words: String,
}

/// What the pages share: who is looking, and the rules a message must keep.
#[derive(Serialize)]
struct Common<'a> {
    landlord: String,
    staff: &'a StaffMember,
    csrf: &'a str,
    placeholders: Vec<String>,
    longest_text: usize,
    longest_name: usize,
    /// A refusal, shown beside the form it came from.
    error: Option<String>,
    /// Said after a change went through.
    notice: Option<&'static str>,
}

impl Common<'_> {
    fn new<'a>(
        console: &Console,
        session: &'a Session,
        error: Option<String>,
        notice: Option<&'static str>,
    ) -> Common<'a> {
        Common {
            landlord: console.landlord(),
            staff: &session.staff,
            csrf: &session.csrf,
            placeholders: STANDARD_PLACEHOLDERS
                .iter()
                .map(|p| format!("{{{p}}}"))
                .collect(),
            longest_text: LONGEST_STANDARD_TEXT,
            longest_name: LONGEST_STANDARD_NAME,
            error,
            notice,
        }
    }
}

#[derive(Serialize)]
struct ListPage<'a> {
    #[serde(flatten)]
    common: Common<'a>,
    messages: Vec<Row>,
    changes: Vec<Change>,
    add: MessageForm,
}

#[derive(Serialize)]
struct MessagePage<'a> {
    #[serde(flatten)]
    common: Common<'a>,
    message: StoredStandardMessage,
    /// Newest first.
    versions: Vec<StandardVersion>,
    changes: Vec<Change>,
    /// The edit form: the current version, or what was typed when it was refused.
    form: MessageForm,
}

/// What the page says after a change went through (`?done=`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    #[serde(default)]
    done: String,
}

impl Done {
    fn notice(&self) -> Option<&'static str> {
        match self.done.as_str() {
            "added" => Some("The message was added; the reply box offers it from now on."),
            "saved" => Some("A new version was saved; the reply box offers it from now on."),
            "unchanged" => Some("Nothing was changed: the name and text were already so."),
            "retired" => Some(
                "The message was retired: the reply box no longer offers it. Its history is kept.",
            ),
            "restored" => Some("The message was restored: the reply box offers it again."),
            _ => None,
        }
    }
}

fn change_words(line: &StandardAuditLine) -> String {
    let what = match line.action.as_str() {
        "standard_message_added" => "added",
        "standard_message_edited" => "edited",
        "standard_message_retired" => "retired",
        "standard_message_restored" => "restored",
        other => other,
    };
    let version = match (line.action.as_str(), line.version) {
        ("standard_message_edited", Some(v)) => format!(" (version {v})"),
        _ => String::new(),
    };
    format!(
        "{} {what} \u{201c}{}\u{201d}{version}.",
        line.staff, line.name
    )
}

fn changes(lines: Vec<StandardAuditLine>) -> Vec<Change> {
    lines
        .iter()
        .map(|l| Change {
            at: l.at,
            words: change_words(l),
        })
        .collect()
}

/// Who made a message's current version or its last change.
fn by(who: Option<String>) -> String {
    who.unwrap_or_else(|| "From the standard messages file".to_owned())
}

/// The list of standard messages with the add form, `error` beside it (what was typed kept).
async fn list_page(
    console: &Console,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
    notice: Option<&'static str>,
    add: MessageForm,
) -> Result<Response, Error> {
    seed_once(console).await?;
    let store = console.store();
    let messages = store
        .standard_messages(true)
        .await?
        .into_iter()
        .map(|m| Row {
            id: m.id,
            opening: opening(&m.text),
            name: m.name,
            version: m.version,
            by: by(m.updated_by),
            at: m.updated_at,
            retired: m.retired_at.is_some(),
        })
        .collect();
    let page = ListPage {
        common: Common::new(console, session, error, notice),
        messages,
        changes: changes(store.standard_message_audit(None, RECENT_CHANGES).await?),
        add,
    };
    let mut response = console.render("standard_messages.html", &page);
    *response.status_mut() = status;
    Ok(response)
}

/// The first words of a text, for the list.
fn opening(text: &str) -> String {
    const SHOWN: usize = 100;
    if text.chars().count() <= SHOWN {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(SHOWN).collect();
    cut.push('…');
    cut
}

/// A message's page: its edit form (`form`, or the current version), `error` beside it, and
/// every version.
async fn message_page(
    console: &Console,
    session: &Session,
    id: StandardMessageId,
    status: StatusCode,
    error: Option<String>,
    notice: Option<&'static str>,
    form: Option<MessageForm>,
) -> Result<Response, Error> {
    let store = console.store();
    let Some(message) = store.standard_message(id).await? else {
        return Err(Error::NotFound("There is no such standard message.".into()));
    };
    let form = form.unwrap_or_else(|| MessageForm {
        name: message.name.clone(),
        text: message.text.clone(),
        version: message.version,
        csrf: String::new(),
    });
    let page = MessagePage {
        common: Common::new(console, session, error, notice),
        versions: store.standard_message_versions(id).await?,
        changes: changes(store.standard_message_audit(Some(id), 0).await?),
        message,
        form,
    };
    let mut response = console.render("standard_message.html", &page);
    *response.status_mut() = status;
    Ok(response)
}

pub(super) async fn list(
    State(console): State<Console>,
    Query(done): Query<Done>,
    Manager(session): Manager,
) -> Result<Response, Error> {
    list_page(
        &console,
        &session,
        StatusCode::OK,
        None,
        done.notice(),
        MessageForm::default(),
    )
    .await
}

pub(super) async fn add(
    State(console): State<Console>,
    ManagerForm(session, form): ManagerForm<MessageForm>,
) -> Result<Response, Error> {
    let refused = |status, why: String| {
        list_page(
            &console,
            &session,
            status,
            Some(format!("Not added: {why}.")),
            None,
            MessageForm {
                name: form.name.clone(),
                text: form.text.clone(),
                ..MessageForm::default()
            },
        )
    };
    if let Err(why) = check_typed(&form.name, &form.text) {
        return refused(StatusCode::UNPROCESSABLE_ENTITY, why).await;
    }
    // The file seeds the record before the first message is added, so it is not lost.
    seed_once(&console).await?;
    match console
        .store()
        .add_standard_message(session.staff.id, form.name.trim(), &form.text, Utc::now())
        .await?
    {
        StandardChanged::Done(id, _) => Ok(Redirect::to(&format!(
            "/console/standard-messages/{id}?done=added"
        ))
        .into_response()),
        StandardChanged::NameTaken => refused(StatusCode::CONFLICT, name_taken()).await,
        other => Err(Error::Unavailable(format!(
            "adding a standard message answered {other:?}"
        ))),
    }
}

fn name_taken() -> String {
    "another message in the reply box already has that name; choose another".to_owned()
}

pub(super) async fn message(
    State(console): State<Console>,
    Path(id): Path<StandardMessageId>,
    Query(done): Query<Done>,
    Manager(session): Manager,
) -> Result<Response, Error> {
    message_page(
        &console,
        &session,
        id,
        StatusCode::OK,
        None,
        done.notice(),
        None,
    )
    .await
}

pub(super) async fn edit(
    State(console): State<Console>,
    Path(id): Path<StandardMessageId>,
    ManagerForm(session, form): ManagerForm<MessageForm>,
) -> Result<Response, Error> {
    if let Err(why) = check_typed(&form.name, &form.text) {
        return message_page(
            &console,
            &session,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(format!("Not saved: {why}.")),
            None,
            Some(form),
        )
        .await;
    }
    let change = StandardChange::Edit {
        based_on: form.version,
        name: form.name.trim(),
        text: &form.text,
    };
    let changed = console
        .store()
        .change_standard_message(session.staff.id, id, change, Utc::now())
        .await?;
    let (status, why, form) = match changed {
        StandardChanged::Done(..) => {
            return Ok(done(id, "saved"));
        }
        StandardChanged::Unchanged => return Ok(done(id, "unchanged")),
        StandardChanged::NoSuchMessage => {
            return Err(Error::NotFound("There is no such standard message.".into()));
        }
        StandardChanged::NameTaken => (StatusCode::CONFLICT, name_taken(), form),
        StandardChanged::Stale { current } => (
            StatusCode::CONFLICT,
            format!(
                "someone else saved version {current} while you were editing. Their version is \
                 in the history below; what you typed is still here, and saving again replaces theirs"
            ),
            // Saving again is a deliberate choice to write over theirs.
            MessageForm {
                version: current,
                ..form
            },
        ),
    };
    message_page(
        &console,
        &session,
        id,
        status,
        Some(format!("Not saved: {why}.")),
        None,
        Some(form),
    )
    .await
}

fn done(id: StandardMessageId, what: &str) -> Response {
    Redirect::to(&format!("/console/standard-messages/{id}?done={what}")).into_response()
}

pub(super) async fn retire(
    State(console): State<Console>,
    Path(id): Path<StandardMessageId>,
    ManagerForm(session, _): ManagerForm<CsrfForm>,
) -> Result<Response, Error> {
    retire_or_restore(&console, &session, id, StandardChange::Retire).await
}

pub(super) async fn restore(
    State(console): State<Console>,
    Path(id): Path<StandardMessageId>,
    ManagerForm(session, _): ManagerForm<CsrfForm>,
) -> Result<Response, Error> {
    retire_or_restore(&console, &session, id, StandardChange::Restore).await
}

async fn retire_or_restore(
    console: &Console,
    session: &Session,
    id: StandardMessageId,
    change: StandardChange<'_>,
) -> Result<Response, Error> {
    let what = if change == StandardChange::Retire {
        "retired"
    } else {
        "restored"
    };
    match console
        .store()
        .change_standard_message(session.staff.id, id, change, Utc::now())
        .await?
    {
        StandardChanged::Done(..) | StandardChanged::Unchanged => Ok(done(id, what)),
        StandardChanged::NoSuchMessage => {
            Err(Error::NotFound("There is no such standard message.".into()))
        }
        StandardChanged::NameTaken => {
            message_page(
                console,
                session,
                id,
                StatusCode::CONFLICT,
                Some(
                    "Not restored: another message in the reply box now has its name. Rename this \
                     one or retire the other first."
                        .to_owned(),
                ),
                None,
                None,
            )
            .await
        }
        StandardChanged::Stale { .. } => Err(Error::Unavailable(
            "retiring or restoring a standard message answered Stale".to_owned(),
        )),
    }
}
