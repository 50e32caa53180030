//! The one application service: an inbound message in, everything it causes recorded in one
//! transaction, replies out through the outbox.
//!
//! For each message: record it (once per platform message id), load the conversation, assess
//! the message with what is known of the resident's case, take one dialog step, and write the
//! assessment, the replies (and their outbox rows), the effects (cases, events, alerts) and the
//! new state. Only after the commit does a channel deliver the outbox.

use chrono::{DateTime, Datelike, Utc};
use serde_json::json;

use crate::core::calendar::{Calendar, Deadlines};
use crate::core::dialog::{self, Dialogs, Effect, Env, Input, Reply, State};
use crate::core::policy::{Policy, Risk};
use crate::core::profile::LandlordProfile;
use crate::store::{Conversation, Inbound, Store, StoreError};

/// The longest message the bot takes in, in bytes. Longer ones are kept whole in the record,
/// assessed on their first part, and the resident is told (no message is ever lost).
pub const LONGEST_READ: usize = crate::core::policy::MAX_ASSESSED_BYTES;

/// The intake service.
#[derive(Debug, Clone)]
pub struct Intake {
    pub store: Store,
    pub policy: Policy,
    pub dialogs: Dialogs,
    pub profile: LandlordProfile,
    pub calendar: Calendar,
    /// A half-finished complaint is resumed with a reminder after this long.
    pub resume_after: chrono::Duration,
}

/// What handling one message produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub conversation: i64,
    /// The platform had delivered this message before: nothing was done again.
    pub duplicate: bool,
    pub replies: Vec<Reply>,
    pub effects: Vec<Effect>,
}

impl Intake {
    /// Handles one inbound message in one transaction.
    pub async fn handle(&self, inbound: &Inbound, input: &Input) -> Result<Handled, StoreError> {
        let now = inbound.at;
        let mut record = self.store.begin().await?;
        let conversation = record
            .conversation(
                &inbound.channel,
                &inbound.chat,
                "{}",
                dialog::DEFAULT_LOCALE,
                now,
            )
            .await?;
        let Some(message_id) = record.inbound(&conversation, inbound).await? else {
            record.commit().await?;
            return Ok(Handled {
                conversation: conversation.id,
                duplicate: true,
                replies: Vec::new(),
                effects: Vec::new(),
            });
        };
        let state: State = serde_json::from_str(&conversation.state).unwrap_or_default();
        let today = self.calendar.local_date(now);
        let assessment = self
            .policy
            .assess(&inbound.body, &state.policy_context(today));
        record.assessment(message_id, &assessment, now).await?;

        let env = Env {
            dialogs: &self.dialogs,
            locale: &conversation.locale,
            profile: &self.profile,
            deadlines: Deadlines {
                calendar: &self.calendar,
                timescales: &self.profile.timescales,
            },
            now,
            next_reference: record.next_reference(today.year()).await?,
            resume_after: self.resume_after,
        };
        let mut step = dialog::step(&state, &assessment, input, &env);
        if inbound.body.len() > LONGEST_READ {
            step.replies.push(self.dialogs_note_too_long(&conversation));
        }

        for reply in &step.replies {
            let payload = json!({ "text": reply.text, "choices": reply.choices });
            record
                .outbound(&conversation, "bot", &reply.text, &payload, now)
                .await?;
        }
        for effect in &step.effects {
            self.apply(&mut record, &conversation, effect, now).await?;
        }
        let state_json = serde_json::to_string(&step.state)?;
        record.save_state(&conversation, &state_json, now).await?;
        record.commit().await?;
        Ok(Handled {
            conversation: conversation.id,
            duplicate: false,
            replies: step.replies,
            effects: step.effects,
        })
    }

    /// Staff sent the stage 1 response (the console records it; 6.9): the resident can now
    /// ask for stage 2.
    pub async fn stage_one_response_sent(
        &self,
        conversation: &Conversation,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut record = self.store.begin().await?;
        let current = record
            .conversation(
                &conversation.channel,
                &conversation.chat,
                "{}",
                dialog::DEFAULT_LOCALE,
                now,
            )
            .await?;
        let mut state: State = serde_json::from_str(&current.state).unwrap_or_default();
        for case in state.cases.iter_mut().filter(|c| c.reference == reference) {
            case.responded = true;
        }
        record
            .event(
                &current,
                Some(reference),
                "stage1_response_sent",
                &json!({}),
                now,
            )
            .await?;
        record
            .save_state(&current, &serde_json::to_string(&state)?, now)
            .await?;
        record.commit().await
    }

    /// One run of the half-finished sweep: a resident who stopped part way through making a
    /// complaint more than `after` ago is still recorded as an expression of dissatisfaction,
    /// and staff are told, so nothing is lost. Each is logged once; returns how many.
    pub async fn sweep_half_finished(
        &self,
        now: DateTime<Utc>,
        after: chrono::Duration,
    ) -> Result<usize, StoreError> {
        let mut logged = 0;
        for idle in self.store.idle_conversations(now - after).await? {
            let mut state: State = serde_json::from_str(&idle.state).unwrap_or_default();
            if !state.half_finished() || state.half_finished_logged_at.is_some() {
                continue;
            }
            let mut record = self.store.begin().await?;
            let detail = json!({
                "heard": state.heard,
                "answers": state.answers,
                "phase": serde_json::to_value(&state.phase)?,
                "declined": false,
                "half_finished": true,
            });
            record
                .event(&idle, None, "dissatisfaction", &detail, now)
                .await?;
            record
                .alert(&idle, "half_finished", false, &state.heard, now)
                .await?;
            state.half_finished_logged_at = Some(now);
            // Keep the conversation's place so the resident can still pick up where they
            // left off; updated_at moves on, so the sweep does not look at it again.
            record
                .save_state(&idle, &serde_json::to_string(&state)?, now)
                .await?;
            record.commit().await?;
            logged += 1;
        }
        Ok(logged)
    }

    fn dialogs_note_too_long(&self, conversation: &Conversation) -> Reply {
        let locale = self.dialogs.locale(&conversation.locale);
        locale.text("too_long")
    }

    async fn apply(
        &self,
        record: &mut crate::store::Record<'_>,
        conversation: &Conversation,
        effect: &Effect,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let detail = serde_json::to_value(effect)?;
        let kind = detail["effect"].as_str().unwrap_or("effect").to_owned();
        let case = match effect {
            Effect::OpenCase(case) => {
                record.open_case(conversation, case, now).await?;
                Some(case.reference.as_str())
            }
            Effect::Escalate {
                reference,
                acknowledged_on,
                due_on,
                ..
            } => {
                record
                    .escalate(reference, *acknowledged_on, *due_on, now)
                    .await?;
                Some(reference.as_str())
            }
            Effect::JoinCase { reference, .. } => Some(reference.as_str()),
            Effect::UrgentAlert { risk, words } => {
                let name = match risk {
                    Risk::Emergency => "emergency",
                    Risk::Safeguarding => "safeguarding",
                    Risk::HealthSafety => "health_safety",
                    Risk::Vulnerability => "vulnerability",
                };
                record
                    .alert(conversation, name, true, &words.join(", "), now)
                    .await?;
                None
            }
            Effect::Alert { kind, detail } => {
                record.alert(conversation, kind, false, detail, now).await?;
                None
            }
            Effect::HandOver => {
                record
                    .alert(conversation, "person_requested", false, "", now)
                    .await?;
                None
            }
            _ => None,
        };
        record.event(conversation, case, &kind, &detail, now).await
    }
}
