//! Copies by email of what staff send, for residents who asked for replies by email
//! (consent and privacy: see [`crate::code`]); when the address is unusable, or they asked for a phone call or a letter,
//! staff are alerted to reply that way. Used by case work and by the scheduler's reminders.

use chrono::{DateTime, Utc};

use super::Intake;
use crate::staff::StaffMember;
use crate::store::{Conversation, Record, StoreError, email_address_in};

/// Where a copy by email of a message to the resident should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailCopy {
    /// The resident did not ask for email.
    NotWanted,
    /// The resident asked for email, at this address.
    To(String),
    /// The resident asked for email, but what they gave is not an address: staff are told.
    Unusable(String),
    /// The resident asked for replies by phone or letter (`how`, at `detail`): staff are
    /// told to send it that way too, as the chat message alone is not what they asked for.
    AnotherWay { how: String, detail: String },
}

impl Intake {
    /// Where a copy by email of a message about complaint `reference` should go. Read before
    /// the message's transaction (on SQLite the record holds the one connection).
    pub async fn email_copy(&self, reference: &str) -> Result<EmailCopy, StoreError> {
        Ok(match self.store.case_contact(reference).await? {
            Some((contact, detail)) if contact == "email" => match email_address_in(&detail) {
                Some(address) => EmailCopy::To(address),
                None => EmailCopy::Unusable(detail),
            },
            Some((how, detail)) if how == "phone" || how == "letter" => {
                EmailCopy::AnotherWay { how, detail }
            }
            _ => EmailCopy::NotWanted,
        })
    }

    /// Staff's words on a complaint, told to the resident in its chat as a staff line, and
    /// copied by email when they asked for that (or staff alerted to send it another way),
    /// in the caller's transaction. `complaint` is its conversation and reference.
    pub fn tell_resident(
        &self,
        record: &mut Record<'_>,
        complaint: (&Conversation, &str),
        staff: &StaffMember,
        copy: &EmailCopy,
        text: &str,
        now: DateTime<Utc>,
    ) {
        let (conversation, reference) = complaint;
        record.outbound(
            conversation,
            &format!("staff:{}", staff.id),
            text,
            &serde_json::json!({ "text": text }),
            now,
        );
        self.copy_by_email(record, conversation, reference, copy, text, now);
    }

    /// Queues a copy by email of `text` when the resident asked for replies by email; when
    /// the address they gave is unusable, or they asked for a phone call or a letter, staff
    /// are alerted to reply that way.
    pub fn copy_by_email(
        &self,
        record: &mut Record<'_>,
        conversation: &Conversation,
        reference: &str,
        copy: &EmailCopy,
        text: &str,
        now: DateTime<Utc>,
    ) {
        match copy {
            EmailCopy::NotWanted => {}
            EmailCopy::To(address) => {
                let values = std::collections::BTreeMap::from([
                    ("landlord", self.profile.name.clone()),
                    ("reference", reference.to_owned()),
                ]);
                let subject = self
                    .dialogs
                    .locale(&conversation.locale)
                    .say("email_subject", &values)
                    .text;
                record.email_resident(
                    conversation.id,
                    Some(reference),
                    address,
                    &subject,
                    text,
                    now,
                );
            }
            // Alerts may go to chats and mailboxes outside the record, so they name the
            // complaint and not the resident's contact details, which are on the case.
            EmailCopy::Unusable(_) => {
                let detail = format!(
                    "The resident asked for replies to complaint {reference} by email, but what they gave is not an email address (see the case). The message went to the chat only: send it another way."
                );
                record.alert(conversation, "email_unusable", false, &detail, now);
            }
            EmailCopy::AnotherWay { how, .. } => {
                let by = if how == "phone" { "phone" } else { "letter" };
                let detail = format!(
                    "The resident asked for replies to complaint {reference} by {by} (the details are on the case). The message went to the chat; {} as well.",
                    if by == "phone" {
                        "phone them to go through it"
                    } else {
                        "send it by post"
                    }
                );
                record.alert(conversation, "reply_another_way", false, &detail, now);
            }
        }
    }
}
