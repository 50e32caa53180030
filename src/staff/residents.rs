//! One resident across conversations and channels (issue 12): staff link a conversation to a
//! resident, or make a new resident from it, and unlink it. Never the bot: two people may share
//! a name and one person may write from several accounts, so only a person can say that two
//! conversations are the same resident. Every link and unlink is audited.
//!
//! Complaints officers, managers and admins link and unlink; agents see a resident's page (the
//! history of who they are talking to) but do not link. A wrong link puts one person's
//! complaints, contact details and support needs on another's page, so linking is left to
//! the staff who handle complaints and already see support needs (5.10), not to every agent.

use chrono::{DateTime, Utc};

use super::{Role, StaffMember};
use crate::core::ids::{ConversationId, ResidentId};
use crate::store::{Store, StoreError, resident_name};

/// The longest name staff may give a resident.
pub const LONGEST_RESIDENT_NAME: usize = 200;

/// Whether `by` may link or unlink conversations; if not, why, in words for staff.
pub fn may_link(by: &StaffMember) -> Result<(), &'static str> {
    match by.role {
        Role::Agent => Err(
            "Linking conversations to a resident is for complaints officers and managers: a wrong link shows one person's complaints and support needs on another's page.",
        ),
        Role::ComplaintsOfficer | Role::Manager | Role::Admin => Ok(()),
    }
}

/// What became of a link or an unlink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linked {
    /// Linked to (or, unlinking, unlinked from) this resident.
    Done(ResidentId),
    /// Not for this member of staff (why, in words for staff).
    Refused(&'static str),
    NoSuchConversation,
    NoSuchResident,
    /// A new resident needs a name, and none was typed or given in the conversation.
    NoName,
    /// The name is longer than [`LONGEST_RESIDENT_NAME`].
    NameTooLong,
    /// Unlinking a conversation that is not linked.
    NotLinked,
}

/// Links a conversation to an existing resident, in place of any other (audited, with the
/// resident it was linked to before; that resident is removed if this was their last
/// conversation).
pub async fn link_resident(
    store: &Store,
    conversation: ConversationId,
    resident: ResidentId,
    by: &StaffMember,
    now: DateTime<Utc>,
) -> Result<Linked, StoreError> {
    if let Err(why) = may_link(by) {
        return Ok(Linked::Refused(why));
    }
    if store.conversation_by_id(conversation).await?.is_none() {
        return Ok(Linked::NoSuchConversation);
    }
    if store.resident(resident).await?.is_none() {
        return Ok(Linked::NoSuchResident);
    }
    let before = store.resident_of(conversation).await?.map(|r| r.id);
    let mut record = store.begin().await?;
    record.link_resident(conversation, resident, by.id, now);
    record.audit(
        by.id,
        "resident_linked",
        Some(conversation),
        None,
        &serde_json::json!({ "resident": resident, "from": before }),
        now,
    );
    record.commit().await?;
    Ok(Linked::Done(resident))
}

/// Makes a new resident from a conversation and links it: named as staff typed, or, typed
/// empty, with the name the resident gave in it (their complaint's answer). Audited.
pub async fn new_resident(
    store: &Store,
    conversation: ConversationId,
    typed_name: &str,
    by: &StaffMember,
    now: DateTime<Utc>,
) -> Result<Linked, StoreError> {
    if let Err(why) = may_link(by) {
        return Ok(Linked::Refused(why));
    }
    let Some(found) = store.conversation_by_id(conversation).await? else {
        return Ok(Linked::NoSuchConversation);
    };
    let name = match typed_name.trim() {
        "" => given_name(store, conversation, &found.state).await?,
        typed => Some(typed.to_owned()),
    };
    let Some(name) = name else {
        return Ok(Linked::NoName);
    };
    if name.chars().count() > LONGEST_RESIDENT_NAME {
        return Ok(Linked::NameTooLong);
    }
    let before = store.resident_of(conversation).await?.map(|r| r.id);
    let mut record = store.begin().await?;
    let resident = record.add_resident(&name, by.id, now).await?;
    record.link_resident(conversation, resident, by.id, now);
    record.audit(
        by.id,
        "resident_created",
        Some(conversation),
        None,
        &serde_json::json!({ "resident": resident, "from": before }),
        now,
    );
    record.commit().await?;
    Ok(Linked::Done(resident))
}

/// Unlinks a conversation from its resident (audited); the resident is removed if this was
/// their last conversation, so no resident is kept without a record behind them.
pub async fn unlink_resident(
    store: &Store,
    conversation: ConversationId,
    by: &StaffMember,
    now: DateTime<Utc>,
) -> Result<Linked, StoreError> {
    if let Err(why) = may_link(by) {
        return Ok(Linked::Refused(why));
    }
    if store.conversation_by_id(conversation).await?.is_none() {
        return Ok(Linked::NoSuchConversation);
    }
    let Some(resident) = store.resident_of(conversation).await? else {
        return Ok(Linked::NotLinked);
    };
    let last = store.resident_conversations(resident.id).await?.len() <= 1;
    let mut record = store.begin().await?;
    record.unlink_resident(conversation);
    record.audit(
        by.id,
        "resident_unlinked",
        Some(conversation),
        None,
        &serde_json::json!({ "resident": resident.id, "resident_removed": last }),
        now,
    );
    record.commit().await?;
    Ok(Linked::Done(resident.id))
}

/// The name the resident gave in a conversation: in the complaint they are making, or in
/// their latest complaint.
pub async fn given_name(
    store: &Store,
    conversation: ConversationId,
    state: &str,
) -> Result<Option<String>, StoreError> {
    let cases = store.conversation_cases(conversation).await?;
    Ok(resident_name(state, cases.last().map(|c| &c.answers)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ids::StaffId;

    #[test]
    fn only_those_who_handle_complaints_link_residents() {
        let member = |role| StaffMember {
            id: StaffId(1),
            name: "Staff".into(),
            email: "s@example.org".into(),
            role,
        };
        assert!(may_link(&member(Role::Agent)).is_err());
        for role in [Role::ComplaintsOfficer, Role::Manager, Role::Admin] {
            assert_eq!(may_link(&member(role)), Ok(()));
        }
    }
}
