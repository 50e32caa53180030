//! Assigning a conversation to a colleague or a team (issue 12): the panel on the
//! conversation page and its form. Who may assign to whom is `staff::may_assign`; assignment
//! is neither taking the conversation over nor naming a complaint's handler (6.13).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::auth::form_token;
use super::{Console, Error, StaffForm};
use crate::core::ids::ConversationId;
use crate::staff::{self, Assigned, Assignee, StaffMember};

/// The assignment panel of a conversation page.
#[derive(Debug, Serialize)]
pub(super) struct AssignPanel {
    /// Who it is assigned to, by name, if anyone.
    current: Option<String>,
    /// Who the viewer may assign it to.
    choices: Vec<Choice>,
}

#[derive(Debug, Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// The panel for `viewer`: the current assignment, and the choices their role allows.
pub(super) async fn panel(
    console: &Console,
    conversation: ConversationId,
    viewer: &StaffMember,
) -> Result<AssignPanel, Error> {
    let store = console.store();
    let current = store.assignment(conversation).await?.map(|a| a.assignee);
    let mut names: Vec<_> = store.staff_names().await?.into_iter().collect();
    names.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let label = |a: &Assignee| match a {
        Assignee::Staff(id) if *id == viewer.id => format!("Me ({})", viewer.name),
        Assignee::Staff(id) => names
            .iter()
            .find(|(n, _)| n == id)
            .map_or_else(|| format!("staff #{id}"), |(_, name)| name.clone()),
        Assignee::Team(team) => format!("Team {team}"),
    };
    let mut candidates: Vec<Option<Assignee>> = vec![None];
    candidates.extend(names.iter().map(|(id, _)| Some(Assignee::Staff(*id))));
    candidates.extend(
        console
            .teams
            .iter()
            .map(|t| Some(Assignee::Team(t.name.clone()))),
    );
    let choices = candidates
        .into_iter()
        .filter(|to| {
            staff::may_assign(viewer, &console.teams, current.as_ref(), to.as_ref()).is_ok()
        })
        .map(|to| Choice {
            value: to.as_ref().map(staff::assignee_value).unwrap_or_default(),
            label: to
                .as_ref()
                .map_or_else(|| "Nobody (unassigned)".to_owned(), &label),
            selected: to == current,
        })
        .collect();
    Ok(AssignPanel {
        current: current.as_ref().map(label),
        choices,
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct AssignForm {
    /// Missing, it is refused as a wrong one is (403), not as an unreadable form.
    #[serde(default)]
    csrf: String,
    /// `staff:<id>`, `team:<name>`, or empty for nobody.
    #[serde(default)]
    to: String,
}

form_token!(AssignForm);

/// Assigns a conversation (audited); staff go back to it.
pub(super) async fn assign(
    State(console): State<Console>,
    Path(id): Path<ConversationId>,
    StaffForm(session, form): StaffForm<AssignForm>,
) -> Result<Response, Error> {
    let Some(to) = staff::parse_assignee(&form.to) else {
        return Err(Error::BadRequest(
            "Choose a colleague or a team from the list.".into(),
        ));
    };
    match staff::assign(
        console.store(),
        id,
        to.as_ref(),
        &session.staff,
        &console.teams,
        Utc::now(),
    )
    .await?
    {
        Assigned::Done => {
            Ok(Redirect::to(&format!("/console/conversations/{id}#assignment")).into_response())
        }
        Assigned::Refused(why) => Err(Error::Forbidden(why.into())),
        Assigned::NoSuchConversation => {
            Err(Error::NotFound("There is no such conversation.".into()))
        }
        Assigned::NoSuchAssignee => Err(Error::BadRequest(
            "There is no such colleague or team; choose one from the list.".into(),
        )),
    }
}
