//! Case work: every action staff take on a complaint. Stage responses (6.9, 6.19),
//! extensions (6.4, 6.5, 6.15, 6.16), exclusion decisions (2.4), closing, revising the
//! complaint definition (5.6), naming who handles a complaint (6.13), remedies and outstanding
//! actions (6.9, 6.19). Each reads what the Code's rules look at, asks `core::case` (pure),
//! and writes the action in one transaction, audited; what the resident is sent goes through
//! their channel, with a copy by email when they asked for one.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::Intake;
use crate::core::calendar::Deadlines;
use crate::core::case::{self, Actor, Handling, Named, Refusal, StageResponse};
use crate::core::dialog::{self, State};
use crate::core::ids::{ActionId, CaseStatus, StaffId, Stage};
use crate::staff::{Role, StaffMember};
use crate::store::{Conversation, Record, StoreError};

/// A complaint staff can work on: its conversation, stage, status and due date, as read
/// before the action's transaction.
struct Complaint {
    conversation: Conversation,
    stage: Stage,
    status: CaseStatus,
    due_on: String,
}

impl Intake {
    /// Sends a stage response written by staff, once it has every part the Code requires
    /// (6.9, 6.19): through the resident's channel, recorded, the case marked responded.
    pub async fn send_stage_response(
        &self,
        reference: &str,
        response: &StageResponse,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, CaseError> {
        let complaint = self.case_work(reference).await?;
        let stage = complaint.stage;
        if response.stage != stage.number() {
            return Err(CaseError::Refused(format!(
                "complaint {reference} is at stage {stage}, not stage {}",
                response.stage
            )));
        }
        let missing = response.missing();
        let Some(text) = response.compose(reference, &self.profile) else {
            return Err(CaseError::Missing(missing));
        };
        // Stage 2 is handled by someone other than the stage 1 handler (6.13), and by the
        // person named to handle it, if anyone was.
        self.may_act(reference, &complaint, staff).await?;
        let copy = self.email_copy(reference).await?;
        let mut record = self.store.begin().await?;
        if !record.case_responded(reference, stage, now).await? {
            return Err(CaseError::Refused(format!(
                "complaint {reference} is not awaiting a stage {stage} response (it may have just been sent)"
            )));
        }
        // The conversation as it is now, inside this transaction.
        let conversation = record
            .conversation_on(
                &complaint.conversation.channel,
                &complaint.conversation.chat,
                now,
            )
            .await?;
        self.tell_resident(
            &mut record,
            (&conversation, reference),
            staff,
            &copy,
            &text,
            now,
        );
        let detail = json!({ "response": response, "staff": staff.id });
        let kind = if stage == Stage::Two {
            "stage2_response_sent"
        } else {
            "stage1_response_sent"
        };
        record.event(&conversation, Some(reference), kind, &detail, now);
        // What it decided, for the case panel and the reports (issue 12); `compose` refused a
        // response without an outcome.
        if let Some(outcome) = response.outcome {
            record.case_outcome(
                reference,
                stage,
                (outcome, response.compensation),
                staff.id,
                now,
            );
        }
        // The resident can now ask for stage 2 (after stage 1) in the conversation.
        mark_case(&mut record, &conversation, reference, now, |case| {
            case.responded = true
        })
        .await?;
        record.audit(
            staff.id,
            kind,
            Some(conversation.id),
            Some(reference),
            &json!({ "outcome": response.outcome, "compensation_pence": response.compensation }),
            now,
        );
        record.commit().await?;
        Ok(conversation)
    }

    /// Extends a complaint's response date, within the cap, with a reason, telling the
    /// resident with the Ombudsman's details (6.4, 6.5, 6.15, 6.16).
    pub async fn extend_deadline(
        &self,
        reference: &str,
        days: u32,
        reason: &str,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, CaseError> {
        let complaint = self.case_work(reference).await?;
        self.may_act(reference, &complaint, staff).await?;
        case::may_extend(reference, complaint.status, days)?;
        let Complaint {
            conversation,
            stage,
            due_on,
            ..
        } = complaint;
        let due: chrono::NaiveDate = due_on
            .parse()
            .map_err(|_| CaseError::Refused(format!("the due date {due_on:?} cannot be read")))?;
        let deadlines = Deadlines {
            calendar: &self.calendar,
            timescales: &self.profile.timescales,
        };
        let already = self.store.extended_days(reference, stage).await?;
        let extension = case::Extension {
            reference,
            stage,
            due_on: due,
            already,
            days,
            reason,
        };
        let (new_due, text) = case::extend(&deadlines, &self.profile, &extension)
            .map_err(|e| CaseError::Refused(e.to_string()))?;
        let copy = self.email_copy(reference).await?;
        let mut record = self.store.begin().await?;
        self.tell_resident(
            &mut record,
            (&conversation, reference),
            staff,
            &copy,
            &text,
            now,
        );
        let detail = json!({ "stage": stage, "from": due, "to": new_due, "working_days": days, "reason": reason, "staff": staff.id });
        record.event(&conversation, Some(reference), "extension", &detail, now);
        record.case_due(reference, new_due, now);
        record.audit(
            staff.id,
            "extend",
            Some(conversation.id),
            Some(reference),
            &detail,
            now,
        );
        record.commit().await?;
        Ok(conversation)
    }

    /// Staff accept or reject a suggested exclusion, with reasons the resident receives (and,
    /// when the complaint is not taken on, the right to go to the Ombudsman; 2.4).
    pub async fn decide_exclusion(
        &self,
        reference: &str,
        accept: bool,
        reasons: &str,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, CaseError> {
        let complaint = self.case_work(reference).await?;
        self.may_act(reference, &complaint, staff).await?;
        let conversation = complaint.conversation;
        let Some(text) = case::exclusion_message(&self.profile, reference, accept, reasons) else {
            return Err(CaseError::Refused(
                "give the resident the reasons for the decision (Complaint Handling Code 2.4)"
                    .to_owned(),
            ));
        };
        let copy = self.email_copy(reference).await?;
        let mut record = self.store.begin().await?;
        // Only a route the engine suggested, on a complaint still awaiting its response, is
        // decided here; the check and the decision are one statement, so two officers
        // cannot both decide (2.5).
        if !record.decide_route(reference, accept, now).await? {
            return Err(CaseError::Refused(format!(
                "complaint {reference} has no suggested route awaiting a decision, or it is no longer awaiting a response"
            )));
        }
        self.tell_resident(
            &mut record,
            (&conversation, reference),
            staff,
            &copy,
            &text,
            now,
        );
        let detail = json!({ "accepted": accept, "reasons": reasons, "staff": staff.id });
        record.event(
            &conversation,
            Some(reference),
            "exclusion_decision",
            &detail,
            now,
        );
        record.audit(
            staff.id,
            "exclusion_decision",
            Some(conversation.id),
            Some(reference),
            &detail,
            now,
        );
        record.commit().await?;
        Ok(conversation)
    }

    /// Closes a complaint once it has had its final word: a response, or a decision not to
    /// take it on. The retention period runs from here.
    pub async fn close_case(
        &self,
        reference: &str,
        reason: &str,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, CaseError> {
        let complaint = self.case_work(reference).await?;
        self.may_act(reference, &complaint, staff).await?;
        let conversation = complaint.conversation;
        let asked_before = self.store.feedback_asked(reference).await?;
        let mut record = self.store.begin().await?;
        if !record.close_case(reference, now).await? {
            return Err(CaseError::Refused(format!(
                "complaint {reference} can be closed once it has been responded to or excluded"
            )));
        }
        let detail = json!({ "reason": reason.trim(), "staff": staff.id });
        record.event(&conversation, Some(reference), "closed", &detail, now);
        // The conversation knows: "status" says it is closed. Read inside the transaction,
        // so a message committed meanwhile is not overwritten.
        let current = record
            .conversation_on(&conversation.channel, &conversation.chat, now)
            .await?;
        let mut state: State = serde_json::from_str(&current.state).unwrap_or_default();
        state
            .cases
            .iter_mut()
            .filter(|c| c.reference == reference)
            .for_each(|case| case.closed = true);
        // Then the resident is asked, once, how it was handled (issue 12).
        self.ask_feedback(
            &mut record,
            (&current, &mut state),
            reference,
            asked_before,
            now,
        )
        .await?;
        record.save_state(&current, &serde_json::to_string(&state)?, now);
        record.audit(
            staff.id,
            "close",
            Some(conversation.id),
            Some(reference),
            &detail,
            now,
        );
        record.touch(&conversation, now);
        record.commit().await?;
        Ok(conversation)
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
        let definition = case::definition(definition)?;
        let complaint = self.case_work(reference).await?;
        self.may_act(reference, &complaint, staff).await?;
        let Complaint {
            conversation,
            status,
            ..
        } = complaint;
        case::may_redefine(reference, status)?;
        let Some(before) = self.store.case(reference).await?.map(|c| c.definition) else {
            return Err(CaseError::Refused(format!(
                "there is no complaint {reference}"
            )));
        };
        case::redefines(&before, definition)?;
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
        // The resident's next words are taken as a correction to it (5.6): the promise in
        // `definition_updated` that a member of staff will see them. Read inside the
        // transaction, so a message arriving meanwhile is not overwritten.
        let current = record
            .conversation_on(&conversation.channel, &conversation.chat, now)
            .await?;
        let mut state: State = serde_json::from_str(&current.state).unwrap_or_default();
        state.definition_revised = Some(reference.to_owned());
        record.save_state(&current, &serde_json::to_string(&state)?, now);
        self.tell_resident(
            &mut record,
            (&conversation, reference),
            staff,
            &copy,
            &text,
            now,
        );
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
        handler: StaffId,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, CaseError> {
        let Complaint {
            conversation,
            stage,
            status,
            ..
        } = self.case_work(reference).await?;
        let account = self.store.staff_account(handler).await?;
        let named = account.as_ref().map(|named| Named {
            name: &named.name,
            handles_complaints: Role::parse(&named.role).is_some_and(Role::sees_adjustments),
        });
        let stage_one = self.stage_one_handlers(reference, stage).await?;
        let case = Handling {
            reference,
            stage,
            status,
            stage_one: &stage_one,
            handler: self.store.case_handler(reference).await?,
        };
        case::may_name_handler(&case, handler, named, actor(staff))?;
        let name = named.map(|n| n.name).unwrap_or_default();
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
        let description = case::case_action(kind, description, due_on)?;
        let complaint = self.case_work(reference).await?;
        self.may_act(reference, &complaint, staff).await?;
        let Complaint {
            conversation,
            stage,
            ..
        } = complaint;
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
        action: ActionId,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, CaseError> {
        // Read before the transaction: on SQLite the record holds the one connection.
        let Some(found) = self.store.action_case(action).await? else {
            return Err(CaseError::Refused(format!("there is no action {action}")));
        };
        let (conversation, reference) = (found.conversation, found.case_reference);
        let complaint = self.case_work(&reference).await?;
        self.may_act(&reference, &complaint, staff).await?;
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

    /// A complaint staff can work on: its conversation, stage, status and due date.
    async fn case_work(&self, reference: &str) -> Result<Complaint, CaseError> {
        let case = self
            .store
            .case_of(reference)
            .await?
            .ok_or_else(|| CaseError::Refused(format!("there is no complaint {reference}")))?;
        let conversation = self
            .store
            .conversation_by_id(case.conversation)
            .await?
            .ok_or_else(|| {
                CaseError::Refused(format!("complaint {reference} has no conversation"))
            })?;
        Ok(Complaint {
            conversation,
            stage: case.stage,
            status: case.status,
            due_on: case.due_on,
        })
    }

    /// Who may act on a complaint (its response, extension, exclusion decision, closure,
    /// definition, remedies and actions): not a stage 1 handler at stage 2 (6.13), and, once
    /// someone is named, that person (or a manager). The rule is `case::may_act`; this reads
    /// what it looks at.
    async fn may_act(
        &self,
        reference: &str,
        complaint: &Complaint,
        staff: &StaffMember,
    ) -> Result<(), CaseError> {
        let stage_one = self.stage_one_handlers(reference, complaint.stage).await?;
        let case = Handling {
            reference,
            stage: complaint.stage,
            status: complaint.status,
            stage_one: &stage_one,
            handler: self.store.case_handler(reference).await?,
        };
        Ok(case::may_act(&case, actor(staff))?)
    }

    /// Everyone who handled stage 1 of a complaint, read only once it is at stage 2: before
    /// that, 6.13 has nothing to say.
    async fn stage_one_handlers(
        &self,
        reference: &str,
        stage: Stage,
    ) -> Result<Vec<StaffId>, StoreError> {
        if stage == Stage::Two {
            self.store.stage_one_handlers(reference).await
        } else {
            Ok(Vec::new())
        }
    }
}

/// A member of staff as the rules on who may act read them.
fn actor(staff: &StaffMember) -> Actor {
    Actor {
        id: staff.id,
        manager: staff.role.is_manager(),
    }
}

/// Why case work could not be done.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("the response lacks parts the Code requires")]
    Missing(Vec<case::Missing>),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<serde_json::Error> for CaseError {
    fn from(e: serde_json::Error) -> CaseError {
        CaseError::Store(StoreError::from(e))
    }
}

impl From<Refusal> for CaseError {
    fn from(refusal: Refusal) -> CaseError {
        CaseError::Refused(refusal.to_string())
    }
}

/// Changes what the conversation's dialog state holds about one complaint. The state is
/// read inside `record`'s transaction: a resident's message committed since the
/// conversation was first read must not be overwritten.
async fn mark_case(
    record: &mut Record<'_>,
    conversation: &Conversation,
    reference: &str,
    now: DateTime<Utc>,
    change: impl Fn(&mut dialog::CaseSummary),
) -> Result<(), StoreError> {
    let current = record
        .conversation(
            &conversation.channel,
            &conversation.chat,
            "{}",
            &conversation.locale,
            now,
        )
        .await?;
    let mut state: State = serde_json::from_str(&current.state).unwrap_or_default();
    state
        .cases
        .iter_mut()
        .filter(|c| c.reference == reference)
        .for_each(change);
    record.save_state(&current, &serde_json::to_string(&state)?, now);
    Ok(())
}
