//! Case work beyond responses and extensions: revising the complaint definition (5.6), naming
//! who handles a complaint (6.13), remedies and outstanding actions (6.9, 6.19), and copies by
//! email of what staff send, for residents who asked for replies by email (POLICY.md 7).

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::{CaseError, Intake};
use crate::staff::{Role, StaffMember};
use crate::store::{Conversation, Record, StoreError, email_address_in};

/// The longest complaint definition staff may write, in characters.
const LONGEST_DEFINITION: usize = 4000;
/// The longest remedy or action description, in characters.
const LONGEST_ACTION: usize = 1000;

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

    /// Staff revise the complaint definition; the resident sees the new wording and can say if
    /// it is wrong (5.6). The old and new wording stay in the record.
    pub async fn edit_definition(
        &self,
        reference: &str,
        definition: &str,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, CaseError> {
        let definition = definition.trim();
        if definition.is_empty() {
            return Err(CaseError::Refused(
                "write the complaint definition: what went wrong and what the resident wants (Complaint Handling Code 5.6)".to_owned(),
            ));
        }
        if definition.chars().count() > LONGEST_DEFINITION {
            return Err(CaseError::Refused(format!(
                "the definition is over {LONGEST_DEFINITION} characters; keep it to what the response will answer"
            )));
        }
        let (conversation, stage, status, _) = self.case_work(reference).await?;
        self.may_act(reference, stage, staff).await?;
        if matches!(status.as_str(), "closed" | "excluded") {
            return Err(CaseError::Refused(format!(
                "complaint {reference} is {status}, so its definition can no longer change"
            )));
        }
        let Some(before) = self.store.case(reference).await?.map(|c| c.definition) else {
            return Err(CaseError::Refused(format!(
                "there is no complaint {reference}"
            )));
        };
        if before.trim() == definition {
            return Err(CaseError::Refused(
                "the definition is the same as before".to_owned(),
            ));
        }
        let copy = self.email_copy(reference).await?;
        let values = std::collections::BTreeMap::from([
            ("landlord", self.profile.name.clone()),
            ("reference", reference.to_owned()),
            ("definition", definition.to_owned()),
        ]);
        let text = self
            .dialogs
            .locale(&conversation.locale)
            .say("definition_updated", &values)
            .text;
        let mut record = self.store.begin().await?;
        record.case_definition(reference, definition, now);
        record.outbound(
            &conversation,
            &format!("staff:{}", staff.id),
            &text,
            &json!({ "text": text }),
            now,
        );
        self.copy_by_email(&mut record, &conversation, reference, &copy, &text, now);
        let detail = json!({ "from": before, "to": definition, "staff": staff.id });
        record.event(
            &conversation,
            Some(reference),
            "definition_edited",
            &detail,
            now,
        );
        record.audit(
            staff.id,
            "edit_definition",
            Some(conversation.id),
            Some(reference),
            &json!({ "characters": definition.chars().count() }),
            now,
        );
        record.commit().await?;
        Ok(conversation)
    }

    /// Names who handles a complaint at its current stage. At stage 2 it cannot be anyone
    /// who handled stage 1 (6.13); agents do not handle complaints.
    pub async fn assign_handler(
        &self,
        reference: &str,
        handler: i64,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, CaseError> {
        let (conversation, stage, status, _) = self.case_work(reference).await?;
        if status != "acknowledged" {
            return Err(CaseError::Refused(format!(
                "complaint {reference} is {status}, not awaiting a response, so it needs no handler"
            )));
        }
        let Some(named) = self.store.staff_account(handler).await? else {
            return Err(CaseError::Refused(format!(
                "there is no member of staff {handler}"
            )));
        };
        let name = named.name;
        if !Role::parse(&named.role).is_some_and(Role::sees_adjustments) {
            return Err(CaseError::Refused(format!(
                "{name} is an agent; complaints are handled by complaints officers and managers"
            )));
        }
        if stage == 2
            && self
                .store
                .stage_one_handlers(reference)
                .await?
                .contains(&handler)
        {
            return Err(CaseError::Refused(format!(
                "{name} handled stage 1 of {reference}, so someone else must handle stage 2 (Complaint Handling Code 6.13)"
            )));
        }
        match self.store.case_handler(reference).await? {
            Some(current) if current == handler => {
                return Err(CaseError::Refused(format!(
                    "{name} already handles {reference}"
                )));
            }
            // Taking a complaint from its handler is a manager's decision.
            Some(_) if !staff.role.is_manager() => {
                return Err(CaseError::Refused(format!(
                    "{reference} already has a handler; a manager can reassign it"
                )));
            }
            _ => {}
        }
        let mut record = self.store.begin().await?;
        // Only if the complaint is still at this stage and awaiting a response: an escalation
        // to stage 2 committed meanwhile clears the handler, and must not be undone (6.13).
        if !record.case_handler(reference, stage, handler, now).await? {
            return Err(CaseError::Refused(format!(
                "{reference} changed while you were naming its handler (it may have gone to stage 2); look again"
            )));
        }
        let detail = json!({ "stage": stage, "handler": handler, "name": name, "staff": staff.id });
        record.event(
            &conversation,
            Some(reference),
            "handler_assigned",
            &detail,
            now,
        );
        record.audit(
            staff.id,
            "assign_handler",
            Some(conversation.id),
            Some(reference),
            &detail,
            now,
        );
        record.commit().await?;
        Ok(conversation)
    }

    /// At stage 2, nobody who handled stage 1 works on the complaint: not its response, its
    /// definition, its deadline, its remedies or a decision not to take it on (6.13).
    pub(super) async fn not_stage_one_handler(
        &self,
        reference: &str,
        stage: i64,
        staff: &StaffMember,
    ) -> Result<(), CaseError> {
        if stage == 2
            && self
                .store
                .stage_one_handlers(reference)
                .await?
                .contains(&staff.id)
        {
            return Err(CaseError::Refused(
                "you handled stage 1, so someone else must handle stage 2 (Complaint Handling Code 6.13)".to_owned(),
            ));
        }
        Ok(())
    }

    /// Who may act on a complaint (its response, extension, exclusion decision, closure,
    /// definition, remedies and actions): not a stage 1 handler at stage 2 (6.13), and, once
    /// someone is named, that person (or a manager).
    pub(super) async fn may_act(
        &self,
        reference: &str,
        stage: i64,
        staff: &StaffMember,
    ) -> Result<(), CaseError> {
        self.not_stage_one_handler(reference, stage, staff).await?;
        match self.store.case_handler(reference).await? {
            Some(handler) if handler != staff.id && !staff.role.is_manager() => {
                Err(CaseError::Refused(format!(
                    "complaint {reference} is assigned to someone else; a manager can reassign it"
                )))
            }
            _ => Ok(()),
        }
    }

    /// Records a remedy offered or an action promised; an action may carry the date it is
    /// promised by, and is chased once that passes.
    pub async fn record_case_action(
        &self,
        reference: &str,
        kind: &str,
        description: &str,
        due_on: Option<NaiveDate>,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, CaseError> {
        let description = description.trim();
        if !matches!(kind, "remedy" | "action") {
            return Err(CaseError::Refused(format!(
                "{kind:?} is neither a remedy nor an action"
            )));
        }
        if description.is_empty() {
            return Err(CaseError::Refused(format!("describe the {kind}")));
        }
        if description.chars().count() > LONGEST_ACTION {
            return Err(CaseError::Refused(format!(
                "the description is over {LONGEST_ACTION} characters"
            )));
        }
        if kind == "remedy" && due_on.is_some() {
            return Err(CaseError::Refused(
                "a remedy has no due date; record what is still to be done as an action".to_owned(),
            ));
        }
        let (conversation, stage, ..) = self.case_work(reference).await?;
        self.may_act(reference, stage, staff).await?;
        let mut record = self.store.begin().await?;
        record.case_action(reference, kind, description, due_on, staff.id, now);
        let detail = json!({ "stage": stage, "description": description, "due_on": due_on, "staff": staff.id });
        let event = if kind == "remedy" {
            "remedy_recorded"
        } else {
            "action_recorded"
        };
        record.event(&conversation, Some(reference), event, &detail, now);
        record.audit(
            staff.id,
            event,
            Some(conversation.id),
            Some(reference),
            &json!({ "due_on": due_on }),
            now,
        );
        record.commit().await?;
        Ok(conversation)
    }

    /// Marks an outstanding action done.
    pub async fn complete_action(
        &self,
        action: i64,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, CaseError> {
        // Read before the transaction: on SQLite the record holds the one connection.
        let Some(found) = self.store.action_case(action).await? else {
            return Err(CaseError::Refused(format!("there is no action {action}")));
        };
        let (conversation, reference) = (found.conversation, found.case_reference);
        let (_, stage, ..) = self.case_work(&reference).await?;
        self.may_act(&reference, stage, staff).await?;
        let conversation = self
            .store
            .conversation_by_id(conversation)
            .await?
            .ok_or_else(|| CaseError::Refused(format!("action {action} has no conversation")))?;
        let mut record = self.store.begin().await?;
        let Some(reference) = record.action_done(action, staff.id, now).await? else {
            return Err(CaseError::Refused(
                "that action is already done, or is not an outstanding action".to_owned(),
            ));
        };
        let detail = json!({ "action": action, "staff": staff.id });
        record.event(&conversation, Some(&reference), "action_done", &detail, now);
        record.audit(
            staff.id,
            "action_done",
            Some(conversation.id),
            Some(&reference),
            &detail,
            now,
        );
        record.commit().await?;
        Ok(conversation)
    }
}
