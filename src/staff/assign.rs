//! Assigning a conversation to a colleague or a team, and who may (issue 12). Assignment says
//! whose queue a conversation is in; it is not taking it over from the bot (a claim), and it
//! does not name a complaint's handler, so the 6.13 rule on stage 2 handlers is untouched.
//!
//! Agents may take a conversation for themselves or for a team they are in (and let go of
//! one that is theirs or their team's); complaints officers, managers and admins, who already
//! name complaint handlers, may assign to anyone. Every change is audited.

use chrono::{DateTime, Utc};

use super::{Role, StaffMember};
use crate::core::ids::{ConversationId, StaffId};
pub use crate::store::Assignee;
use crate::store::{Store, StoreError};

/// A team from the configuration (`[[console.teams]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub name: String,
    /// Its members' email addresses, lower-case.
    pub members: Vec<String>,
}

impl Team {
    pub fn new(name: &str, members: &[String]) -> Team {
        Team {
            name: name.trim().to_owned(),
            members: members.iter().map(|m| m.trim().to_lowercase()).collect(),
        }
    }

    pub fn has(&self, staff: &StaffMember) -> bool {
        self.members.contains(&staff.email.to_lowercase())
    }
}

/// The names of the teams `staff` is in.
pub fn teams_of(staff: &StaffMember, teams: &[Team]) -> Vec<String> {
    teams
        .iter()
        .filter(|t| t.has(staff))
        .map(|t| t.name.clone())
        .collect()
}

/// An assignment as a form sends it: `staff:<id>`, `team:<name>`, or empty for nobody.
pub fn parse_assignee(value: &str) -> Option<Option<Assignee>> {
    let value = value.trim();
    if value.is_empty() {
        return Some(None);
    }
    if let Some(id) = value.strip_prefix("staff:") {
        return id.parse().ok().map(|id| Some(Assignee::Staff(StaffId(id))));
    }
    value
        .strip_prefix("team:")
        .filter(|t| !t.trim().is_empty())
        .map(|t| Some(Assignee::Team(t.trim().to_owned())))
}

/// The form value of an assignee.
pub fn assignee_value(assignee: &Assignee) -> String {
    match assignee {
        Assignee::Staff(id) => format!("staff:{id}"),
        Assignee::Team(name) => format!("team:{name}"),
    }
}

/// Whether `by` may change a conversation's assignment from `current` to `to`; if not, why,
/// in words for staff.
pub fn may_assign(
    by: &StaffMember,
    teams: &[Team],
    current: Option<&Assignee>,
    to: Option<&Assignee>,
) -> Result<(), &'static str> {
    if by.role != Role::Agent {
        return Ok(());
    }
    let own = |a: &Assignee| match a {
        Assignee::Staff(id) => *id == by.id,
        Assignee::Team(name) => teams.iter().any(|t| &t.name == name && t.has(by)),
    };
    match to {
        Some(a) if own(a) => Ok(()),
        Some(_) => Err(
            "An agent may assign a conversation to themself or to a team they are in; a complaints officer or a manager can assign it to anyone.",
        ),
        None if current.is_none_or(own) => Ok(()),
        None => Err(
            "This conversation is assigned to someone else; only they, a complaints officer or a manager can take it out of their queue.",
        ),
    }
}

/// What became of an assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assigned {
    Done,
    /// Not for this member of staff (why, in words for staff).
    Refused(&'static str),
    NoSuchConversation,
    /// No such colleague, or no team of that name in the configuration.
    NoSuchAssignee,
}

/// Assigns a conversation to a colleague or a team, or to nobody (audited, with whom it was
/// assigned to before).
pub async fn assign(
    store: &Store,
    conversation: ConversationId,
    to: Option<&Assignee>,
    by: &StaffMember,
    teams: &[Team],
    now: DateTime<Utc>,
) -> Result<Assigned, StoreError> {
    if store.conversation_by_id(conversation).await?.is_none() {
        return Ok(Assigned::NoSuchConversation);
    }
    let exists = match to {
        None => true,
        Some(Assignee::Staff(id)) => store.staff_name(*id).await?.is_some(),
        Some(Assignee::Team(name)) => teams.iter().any(|t| &t.name == name),
    };
    if !exists {
        return Ok(Assigned::NoSuchAssignee);
    }
    let current = store.assignment(conversation).await?.map(|a| a.assignee);
    if let Err(why) = may_assign(by, teams, current.as_ref(), to) {
        return Ok(Assigned::Refused(why));
    }
    let mut record = store.begin().await?;
    record.assign(conversation, to, by.id, now);
    record.audit(
        by.id,
        if to.is_some() { "assign" } else { "unassign" },
        Some(conversation),
        None,
        &serde_json::json!({
            "to": to.map(assignee_value),
            "from": current.as_ref().map(assignee_value),
        }),
        now,
    );
    record.commit().await?;
    Ok(Assigned::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: i64, role: Role) -> StaffMember {
        StaffMember {
            id: StaffId(id),
            name: format!("Staff {id}"),
            email: format!("s{id}@example.org"),
            role,
        }
    }

    #[test]
    fn agents_assign_to_themselves_or_their_teams_and_others_to_anyone() {
        let teams = [
            Team::new("Repairs", &["S1@example.org".to_owned()]),
            Team::new("Lettings", &["s2@example.org".to_owned()]),
        ];
        let agent = member(1, Role::Agent);
        let me = Assignee::Staff(StaffId(1));
        let colleague = Assignee::Staff(StaffId(2));
        let repairs = Assignee::Team("Repairs".into());
        let lettings = Assignee::Team("Lettings".into());
        assert_eq!(may_assign(&agent, &teams, None, Some(&me)), Ok(()));
        assert_eq!(may_assign(&agent, &teams, None, Some(&repairs)), Ok(()));
        assert!(may_assign(&agent, &teams, None, Some(&colleague)).is_err());
        assert!(may_assign(&agent, &teams, None, Some(&lettings)).is_err());
        assert_eq!(may_assign(&agent, &teams, Some(&repairs), None), Ok(()));
        assert!(may_assign(&agent, &teams, Some(&colleague), None).is_err());
        for role in [Role::ComplaintsOfficer, Role::Manager, Role::Admin] {
            let by = member(3, role);
            assert_eq!(may_assign(&by, &teams, Some(&me), Some(&lettings)), Ok(()));
            assert_eq!(may_assign(&by, &teams, Some(&me), None), Ok(()));
        }
        assert_eq!(teams_of(&agent, &teams), ["Repairs"]);
    }

    #[test]
    fn form_values_read_back() {
        for a in [
            Assignee::Staff(StaffId(12)),
            Assignee::Team("Repairs".into()),
        ] {
            assert_eq!(parse_assignee(&assignee_value(&a)), Some(Some(a.clone())));
        }
        assert_eq!(parse_assignee(""), Some(None));
        assert_eq!(parse_assignee("staff:x"), None);
        assert_eq!(parse_assignee("team: "), None);
        assert_eq!(parse_assignee("someone"), None);
    }
}
