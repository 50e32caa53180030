//! Categories and resident feedback (issue 12): the category the engine suggests when a
//! complaint opens, staff confirming or changing it, and the feedback question asked once
//! when a complaint closes. Outcomes are recorded with the stage response (`case_work`).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{CaseError, Intake};
use crate::core::category;
use crate::core::dialog::{FEEDBACK_QUESTION, NewCase, Phase, State};
use crate::core::policy::Context;
use crate::staff::StaffMember;
use crate::store::{Conversation, Record, StoreError};

impl Intake {
    /// The category the engine suggests for a complaint being opened (see `core::category`):
    /// its definition read by the policy engine, and the route suggested when the resident
    /// first wrote.
    pub(super) fn suggested_category(&self, case: &NewCase) -> Option<String> {
        let context = Context::default();
        let (normal, ..) = self.policy.prepare(&case.definition, &context);
        let assessment = self.policy.assess(&case.definition, &context);
        category::suggest(
            &self.profile.categories,
            &normal.text,
            &assessment,
            case.suggested_route,
        )
        .map(|c| c.key.clone())
    }

    /// Staff confirm the suggested category of a complaint, or choose another from the
    /// landlord's list; audited, and an event in the complaint's record.
    pub async fn confirm_category(
        &self,
        reference: &str,
        category: &str,
        staff: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Conversation, CaseError> {
        let Some(chosen) = self.profile.categories.get(category.trim()) else {
            return Err(CaseError::Refused(format!(
                "{category:?} is not one of the complaint categories; choose one from the list"
            )));
        };
        let Some(case) = self.store.case_of(reference).await? else {
            return Err(CaseError::Refused(format!(
                "there is no complaint {reference}"
            )));
        };
        let conversation = self
            .store
            .conversation_by_id(case.conversation)
            .await?
            .ok_or_else(|| {
                CaseError::Refused(format!("complaint {reference} has no conversation"))
            })?;
        let mut record = self.store.begin().await?;
        record.confirm_category(reference, &chosen.key, staff.id, now);
        let detail = json!({ "category": chosen.key, "staff": staff.id });
        record.event(
            &conversation,
            Some(reference),
            "category_confirmed",
            &detail,
            now,
        );
        record.audit(
            staff.id,
            "confirm_category",
            Some(conversation.id),
            Some(reference),
            &detail,
            now,
        );
        record.commit().await?;
        Ok(conversation)
    }

    /// After a complaint closes, in the closing transaction: the resident is asked once how
    /// satisfied they were with its handling. At once when the conversation is at rest (the
    /// bot has it and is only listening); otherwise the question waits in the state until it
    /// is (`State::feedback_pending`), so a resident part way through something is not
    /// interrupted and staff holding the conversation are not talked over. `conversation`
    /// and its `state` are as read in this transaction (the state is changed here; the caller
    /// saves it); `asked_before` was read before it (on SQLite the record holds the one
    /// connection).
    pub(super) async fn ask_feedback(
        &self,
        record: &mut Record<'_>,
        (conversation, state): (&Conversation, &mut State),
        reference: &str,
        asked_before: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if asked_before {
            return Ok(());
        }
        let at_rest = conversation.claimed_by.is_none() && state.phase == Phase::Listening;
        if !at_rest {
            // Not asked yet, so nothing is recorded as asked: the dialog asks later, and the
            // record is made then (`Effect::FeedbackAsked`).
            state.feedback_pending = Some(reference.to_owned());
            return Ok(());
        }
        // Once per complaint, even when it is closed again after a stage 2.
        if !record.ask_feedback(reference, conversation.id, now).await? {
            return Ok(());
        }
        let values = std::collections::BTreeMap::from([
            ("landlord", self.profile.name.clone()),
            ("reference", reference.to_owned()),
        ]);
        let reply = self
            .dialogs
            .locale(&conversation.locale)
            .say(FEEDBACK_QUESTION, &values);
        let payload = json!({ "text": reply.text, "choices": reply.choices });
        record.outbound(conversation, "bot", &reply.text, &payload, now);
        record.event(
            conversation,
            Some(reference),
            "feedback_asked",
            &json!({}),
            now,
        );
        state.phase = Phase::Feedback {
            reference: reference.to_owned(),
        };
        Ok(())
    }
}
