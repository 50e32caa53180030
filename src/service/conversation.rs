//! What staff do in a resident's conversation: take it over (the bot goes silent), reply in
//! it through the resident's channel, and hand it back to the bot. Each is one transaction,
//! audited.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::Intake;
use crate::core::ids::ConversationId;
use crate::staff::StaffMember;
use crate::store::{Conversation, Record, StoreError};

impl Intake {
    /// A member of staff takes the conversation over: the bot goes silent in it and the
    /// resident is told a person has joined. Fails if someone else holds it.
    pub async fn take_over(
        &self,
        conversation: ConversationId,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, ActionError> {
        let conversation = self.held_conversation(conversation).await?;
        let mut record = self.store.begin().await?;
        match record.claim(&conversation, staff.id, now).await? {
            None => return Err(ActionError::HeldByAnother),
            Some(true) => self.tell(&mut record, &conversation, "staff_joined", staff, now),
            // Already theirs (a second click): the resident is not told twice.
            Some(false) => {}
        }
        record.audit(
            staff.id,
            "take_over",
            Some(conversation.id),
            None,
            &json!({}),
            now,
        );
        record.touch(&conversation, now);
        record.commit().await?;
        Ok(conversation)
    }

    /// A reply from the member of staff who holds the conversation, sent through the
    /// resident's channel.
    pub async fn staff_reply(
        &self,
        conversation: ConversationId,
        staff: &StaffMember,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Conversation, ActionError> {
        let conversation = self.held_conversation(conversation).await?;
        if conversation.claimed_by != Some(staff.id) {
            return Err(if conversation.claimed_by.is_some() {
                ActionError::HeldByAnother
            } else {
                ActionError::NotHeld
            });
        }
        let mut record = self.store.begin().await?;
        let payload = json!({ "text": text });
        record.outbound(
            &conversation,
            &format!("staff:{}", staff.id),
            text,
            &payload,
            now,
        );
        record.claim_active(&conversation, now);
        record.audit(
            staff.id,
            "reply",
            Some(conversation.id),
            None,
            &json!({ "characters": text.chars().count() }),
            now,
        );
        record.touch(&conversation, now);
        record.commit().await?;
        Ok(conversation)
    }

    /// Hands the conversation back to the bot, which carries on from the state it was in.
    pub async fn hand_back(
        &self,
        conversation: ConversationId,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, ActionError> {
        let conversation = self.held_conversation(conversation).await?;
        match conversation.claimed_by {
            Some(holder) if holder == staff.id || staff.role.is_manager() => {}
            Some(_) => return Err(ActionError::HeldByAnother),
            None => return Err(ActionError::NotHeld),
        }
        let mut record = self.store.begin().await?;
        record.release(&conversation);
        self.tell(&mut record, &conversation, "staff_left", staff, now);
        record.audit(
            staff.id,
            "hand_back",
            Some(conversation.id),
            None,
            &json!({}),
            now,
        );
        record.touch(&conversation, now);
        record.commit().await?;
        Ok(conversation)
    }

    async fn held_conversation(&self, id: ConversationId) -> Result<Conversation, ActionError> {
        self.store
            .conversation_by_id(id)
            .await?
            .ok_or(ActionError::NoSuchConversation)
    }

    /// A message to the resident about who is in the conversation.
    fn tell(
        &self,
        record: &mut Record<'_>,
        conversation: &Conversation,
        key: &str,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) {
        let values = std::collections::BTreeMap::from([
            ("landlord", self.profile.name.clone()),
            ("staff", staff.name.clone()),
        ]);
        let reply = self.dialogs.locale(&conversation.locale).say(key, &values);
        let payload = json!({ "text": reply.text });
        record.outbound(conversation, "bot", &reply.text, &payload, now);
    }
}

/// Why a staff action could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("there is no such conversation")]
    NoSuchConversation,
    #[error("another member of staff holds this conversation")]
    HeldByAnother,
    #[error("take the conversation over first")]
    NotHeld,
    #[error(transparent)]
    Store(#[from] StoreError),
}
