//! The writer: a resident's message in, everything it causes recorded in one transaction,
//! replies out through the outbox; messages arriving together share a commit (group commit).
//! Also what the record takes in without a step of the dialog: an edited message, and the
//! half-finished sweep.
//!
//! For each message: record it (once per platform message id), load the conversation, assess
//! the message with what is known of the resident's case, take one dialog step, and write the
//! assessment, the replies (and their outbox rows), the effects (cases, events, alerts) and the
//! new state. Only after the commit does a channel deliver the outbox.

use chrono::{DateTime, Datelike, Utc};
use serde_json::json;
use std::sync::Arc;

use super::Intake;
use crate::core::calendar::Deadlines;
use crate::core::dialog::{self, Effect, Env, HandOverWhy, Input, Outcome, Reach, Reply, State};
use crate::core::ids::ConversationId;
use crate::core::policy::Assessment;
use crate::store::{Conversation, Inbound, Record, StoreError};
use tokio::sync::{mpsc, oneshot};

/// How far back, beyond the half-finished cutoff, the sweep looks for quiet conversations.
const HALF_FINISHED_LOOKBACK_DAYS: i64 = 30;

/// The longest message the bot takes in, in bytes. Longer ones are kept whole in the record,
/// assessed on their first part, and the resident is told (no message is ever lost).
pub const LONGEST_READ: usize = crate::core::policy::MAX_ASSESSED_BYTES;

/// A manager active in the console within this long sees an urgent alert at once, so the bot
/// may say a manager was told.
const CONSOLE_WATCHED: chrono::Duration = chrono::Duration::minutes(5);

/// The reason that marks a resident's answer about safe contact (5.10).
pub const SAFE_CONTACT_RULE: &str = "dialog.safe_contact";

/// The reason recorded with a resident's answer about safe contact (5.10).
fn safe_contact_reason() -> crate::core::policy::Reason {
    crate::core::policy::Reason {
        rule: SAFE_CONTACT_RULE,
        provision: Some("5.10"),
        words: Vec::new(),
    }
}

/// What handling one message produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub conversation: ConversationId,
    /// The platform had delivered this message before: nothing was done again.
    pub duplicate: bool,
    pub replies: Vec<Reply>,
    pub effects: Vec<Effect>,
    /// What the policy engine made of the message (none for a duplicate).
    pub assessment: Option<Assessment>,
}

impl Intake {
    /// Handles one inbound message in one transaction.
    pub async fn handle(&self, inbound: &Inbound, input: &Input) -> Result<Handled, StoreError> {
        let mut record = self.store.begin().await?;
        let handled = self.process(&mut record, inbound, input).await?;
        record.commit().await?;
        observed(&inbound.channel, &handled);
        Ok(handled)
    }

    /// Everything one message causes, written into `record` (committed by the caller).
    pub async fn process(
        &self,
        record: &mut Record<'_>,
        inbound: &Inbound,
        input: &Input,
    ) -> Result<Handled, StoreError> {
        let inbound = &recordable(inbound);
        let now = inbound.at;
        let conversation = record
            .conversation_on(&inbound.channel, &inbound.chat, now)
            .await?;
        let Some(message_id) = record.inbound(&conversation, inbound).await? else {
            return Ok(Handled {
                conversation: conversation.id,
                duplicate: true,
                replies: Vec::new(),
                effects: Vec::new(),
                assessment: None,
            });
        };
        // A web chat upload's bytes are written with its message (5.12), or not at all.
        record
            .attach_staged(message_id, &conversation, inbound)
            .await?;
        let state: State = serde_json::from_str(&conversation.state).unwrap_or_default();
        let today = self.calendar.local_date(now);
        let assessment = self
            .policy
            .assess(&inbound.body, &state.policy_context(today));
        let reach = self.reach_now(record, &assessment, now).await?;
        if conversation.claimed_by.is_some() {
            // A person holds this conversation: the bot stays silent, but safety still comes
            // first (emergency numbers and urgent alerts), and the inbox sees the message. An
            // answer to "is it safe to contact you?", asked before, is still that answer.
            let env = self.env(&conversation.locale, now, reach);
            let (held, replies, effects) = dialog::held(&state, &assessment, &inbound.body, &env);
            self.mark_and_assess(record, message_id, &assessment, &effects, now)?;
            self.write(&mut *record, &conversation, &replies, &effects, now)?;
            record.save_state(&conversation, &serde_json::to_string(&held)?, now);
            return Ok(Handled {
                conversation: conversation.id,
                duplicate: false,
                replies,
                effects,
                assessment: Some(assessment),
            });
        }

        let env = self.env(&conversation.locale, now, reach);
        let mut step = match dialog::step(&state, &assessment, input, &env) {
            Outcome::Done(step) => step,
            // A reference is handed out only when a complaint is opened, so residents see
            // references without gaps.
            Outcome::OpensCase(opening) => {
                opening.open(record.allocate_reference(today.year()).await?)
            }
        };
        self.mark_and_assess(record, message_id, &assessment, &step.effects, now)?;
        // A photo with a caption: the caption is read as words, and the resident is still told
        // the file was received and kept.
        if !inbound.attachments.is_empty() && matches!(input, Input::Text(_)) {
            let locale = self.dialogs.locale(&conversation.locale);
            step.replies.insert(0, locale.text("attachment"));
        }
        if inbound.body.len() > LONGEST_READ {
            step.replies.push(self.dialogs_note_too_long(&conversation));
        }

        self.write(
            &mut *record,
            &conversation,
            &step.replies,
            &step.effects,
            now,
        )?;
        let state_json = serde_json::to_string(&step.state)?;
        record.save_state(&conversation, &state_json, now);
        Ok(Handled {
            conversation: conversation.id,
            duplicate: false,
            replies: step.replies,
            effects: step.effects,
            assessment: Some(assessment),
        })
    }

    /// A resident edited a message they sent before. The new version is recorded beside the
    /// original, never over it (5.12), with its own assessment. The conversation does not move
    /// on (the bot may already have asked its next question), but an emergency or a
    /// safeguarding concern in the new words still alerts managers at once. Returns false when
    /// this version was recorded before.
    pub async fn record_edit(&self, inbound: &Inbound, original: &str) -> Result<bool, StoreError> {
        let inbound = &recordable(inbound);
        let now = inbound.at;
        // Read before the transaction: on SQLite the record has one connection.
        let before = self
            .store
            .assessment_of_platform_message(&inbound.channel, original)
            .await?;
        let mut record = self.store.begin().await?;
        let conversation = record
            .conversation_on(&inbound.channel, &inbound.chat, now)
            .await?;
        let Some(message_id) = record.inbound(&conversation, inbound).await? else {
            return Ok(false);
        };
        let state: State = serde_json::from_str(&conversation.state).unwrap_or_default();
        let assessment = self.policy.assess(
            &inbound.body,
            &state.policy_context(self.calendar.local_date(now)),
        );
        // An edited answer about safe contact stays hidden as the original is (5.10).
        let was_marked = before.as_ref().is_some_and(|b| {
            b["reasons"]
                .as_array()
                .is_some_and(|rs| rs.iter().any(|r| r["rule"] == SAFE_CONTACT_RULE))
        });
        if was_marked {
            let mut marked = assessment.clone();
            marked.reasons.push(safe_contact_reason());
            record.assessment(message_id, &marked, now)?;
        } else {
            record.assessment(message_id, &assessment, now)?;
        }
        record.event(
            &conversation,
            None,
            "message_edited",
            &json!({ "original": original, "version": inbound.platform_message_id }),
            now,
        );
        let reach = self.reach_now(&mut record, &assessment, now).await?;
        let env = self.env(&conversation.locale, now, reach);
        // Only what the edit adds: a typo fixed in a message about gas does not raise the
        // alarm a second time.
        let mut new_only = assessment.clone();
        if let Some(before) = before {
            new_only.risks.retain(|r| {
                !before["risks"]
                    .as_array()
                    .is_some_and(|old| old.iter().any(|o| o.as_str() == Some(r.as_str())))
            });
        }
        let (replies, effects) = dialog::safety_only(&new_only, &env);
        self.write(&mut record, &conversation, &replies, &effects, now)?;
        record.commit().await?;
        Ok(true)
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
        // The sweep runs at least daily, so a conversation is looked at within a day of going
        // quiet; looking back a month, not over the whole record, keeps each run's cost to
        // the recently active (the index on updated_at answers it), and still covers a
        // scheduler that was down for weeks.
        let since = now - after - chrono::Duration::days(HALF_FINISHED_LOOKBACK_DAYS);
        for idle in self.store.idle_conversations(since, now - after).await? {
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
            record.event(&idle, None, "dissatisfaction", &detail, now);
            record.alert(&idle, "half_finished", false, &state.heard, now);
            state.half_finished_logged_at = Some(now);
            // Keep the conversation's place so the resident can still pick up where they
            // left off; updated_at moves on, so the sweep does not look at it again.
            record.save_state(&idle, &serde_json::to_string(&state)?, now);
            record.commit().await?;
            logged += 1;
        }
        Ok(logged)
    }

    /// Queues the bot's replies (each with its outbox row) and what the effects change.
    fn write(
        &self,
        record: &mut Record<'_>,
        conversation: &Conversation,
        replies: &[Reply],
        effects: &[Effect],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for reply in replies {
            let payload = json!({ "text": reply.text, "choices": reply.choices });
            record.outbound(conversation, "bot", &reply.text, &payload, now);
        }
        // An emergency's repair is the urgent alert's to deal with, at once: no second,
        // morning alert for the same report.
        let urgent = effects
            .iter()
            .any(|e| matches!(e, Effect::UrgentAlert { .. }));
        for effect in effects {
            self.apply(record, conversation, (effect, urgent), now)?;
        }
        Ok(())
    }

    /// Records the message's assessment. Whether, how and when it is safe to contact a
    /// resident at risk is seen only by staff who may see support needs (5.10): an answer to
    /// that question is marked so, and the console hides lines marked so.
    fn mark_and_assess(
        &self,
        record: &mut Record<'_>,
        message: crate::core::ids::MessageId,
        assessment: &crate::core::policy::Assessment,
        effects: &[Effect],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if effects
            .iter()
            .any(|e| matches!(e, Effect::SafeContact { .. }))
        {
            let mut marked = assessment.clone();
            marked.reasons.push(safe_contact_reason());
            record.assessment(message, &marked, now)
        } else {
            record.assessment(message, assessment, now)
        }
    }

    /// What the bot may promise for this message: as configured, and, for an emergency or a
    /// safeguarding concern with no alert sink reaching a manager, whether a manager is
    /// watching the console now (signed in and active within `CONSOLE_WATCHED`).
    async fn reach_now(
        &self,
        record: &mut Record<'_>,
        assessment: &crate::core::policy::Assessment,
        now: DateTime<Utc>,
    ) -> Result<Reach, StoreError> {
        let mut reach = self.reach;
        if !reach.manager && assessment.is_urgent() {
            reach.manager = record.manager_watching(now - CONSOLE_WATCHED).await?;
        }
        Ok(reach)
    }

    /// What the dialog step needs to know of the world.
    fn env<'a>(&'a self, locale: &'a str, now: DateTime<Utc>, reach: Reach) -> Env<'a> {
        Env {
            dialogs: &self.dialogs,
            locale,
            profile: &self.profile,
            deadlines: Deadlines {
                calendar: &self.calendar,
                timescales: &self.profile.timescales,
            },
            now,
            resume_after: self.resume_after,
            reach,
        }
    }

    fn dialogs_note_too_long(&self, conversation: &Conversation) -> Reply {
        let locale = self.dialogs.locale(&conversation.locale);
        locale.text("too_long")
    }

    /// Queues what an effect changes (a case, an alert) and its event in the record.
    /// Alerts name what happened, not the resident's words, except where a person must act on
    /// them at once (an emergency's contact details): the words are on the conversation's
    /// page, where what a role may not see is hidden (5.10), and not in every inbox row and
    /// alert sink.
    fn apply(
        &self,
        record: &mut Record<'_>,
        conversation: &Conversation,
        (effect, urgent_too): (&Effect, bool),
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let detail = serde_json::to_value(effect)?;
        let kind = detail["effect"].as_str().unwrap_or("effect").to_owned();
        let case = match effect {
            Effect::OpenCase(case) => {
                record.open_case(conversation, case, now)?;
                // Suggested for staff to confirm in the console (issue 12).
                let category = self.suggested_category(case);
                record.suggest_category(&case.reference, category.as_deref());
                Some(case.reference.as_str())
            }
            Effect::FeedbackAsked { reference } => {
                record.feedback_asked_now(reference, conversation.id, now);
                Some(reference.as_str())
            }
            Effect::FeedbackScore { reference, score } => {
                record.feedback_score(reference, *score, now);
                Some(reference.as_str())
            }
            Effect::FeedbackComment { reference, text } => {
                record.feedback_comment(reference, text);
                Some(reference.as_str())
            }
            Effect::FeedbackSkipped { reference } => {
                record.feedback_skipped(reference, now);
                Some(reference.as_str())
            }
            Effect::Escalate {
                reference,
                acknowledged_on,
                due_on,
                ..
            } => {
                record.escalate(reference, *acknowledged_on, *due_on, now);
                Some(reference.as_str())
            }
            Effect::JoinCase { reference, .. } => Some(reference.as_str()),
            Effect::UrgentAlert { risk, words } => {
                record.alert(conversation, risk.as_str(), true, &words.join(", "), now);
                None
            }
            Effect::Alert { kind, detail } => {
                record.alert(conversation, kind, false, detail, now);
                None
            }
            Effect::HandOver { why } => {
                let kind = match why {
                    HandOverWhy::Asked => "person_requested",
                    HandOverWhy::Question => "question",
                };
                record.alert(conversation, kind, false, "", now);
                None
            }
            // Passed to the team the signpost names, for staff to confirm (2.5).
            Effect::OtherRoute { route, .. } => {
                record.alert(conversation, "other_route", false, route.as_str(), now);
                None
            }
            // The repairs team hears of it where staff look: the inbox.
            Effect::ServiceRequest { .. } => {
                if !urgent_too {
                    record.alert(conversation, "service_request", false, "", now);
                }
                None
            }
            // Seen by those who may see support needs (5.10): the console restricts it.
            Effect::SafeContact { .. } => {
                record.alert(conversation, "safe_contact", false, "", now);
                None
            }
            Effect::ContactDetails { text, urgent } => {
                if *urgent {
                    record.alert(conversation, "emergency_contact", true, text, now);
                } else {
                    record.alert(conversation, "contact_details", false, "", now);
                }
                None
            }
            Effect::CaseCorrection { reference, .. } => {
                record.alert(conversation, "definition_disputed", false, reference, now);
                Some(reference.as_str())
            }
            Effect::TrackedRequest {
                kind,
                detail,
                due_on,
            } => {
                let (alert, said) = if kind.is_privacy() {
                    (
                        "privacy_request",
                        format!("{} (due {due_on})", kind.as_str()),
                    )
                } else {
                    // The language named, so staff book the right interpreter.
                    ("interpreter", format!("{detail} (due {due_on})"))
                };
                record.alert(conversation, alert, false, &said, now);
                record.tracked_request(conversation, *kind, detail, *due_on, now);
                None
            }
            _ => None,
        };
        record.event(conversation, case, &kind, &detail, now);
        Ok(())
    }
}

/// The message as it is kept: a NUL character (which PostgreSQL cannot store in text) is
/// shown as the replacement character rather than refused, so nothing a resident sends is lost.
fn recordable(inbound: &Inbound) -> std::borrow::Cow<'_, Inbound> {
    if inbound.body.contains('\0') {
        let mut clean = inbound.clone();
        clean.body = clean.body.replace('\0', "\u{FFFD}");
        std::borrow::Cow::Owned(clean)
    } else {
        std::borrow::Cow::Borrowed(inbound)
    }
}

/// One message waiting for the writer.
struct Job {
    inbound: Inbound,
    input: Input,
    done: oneshot::Sender<Result<Handled, StoreError>>,
}

/// A message counted as in flight while its sender still holds it.
struct Taken<'a> {
    count: &'a std::sync::atomic::AtomicUsize,
    held: bool,
}

impl<'a> Taken<'a> {
    fn count(count: &'a std::sync::atomic::AtomicUsize) -> Taken<'a> {
        count.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Taken { count, held: true }
    }

    /// The writer has it, and uncounts it once committed.
    fn handed_over(mut self) {
        self.held = false;
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if self.held {
            self.count.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        }
    }
}

/// Group commit: messages arriving together are handled one after another in one database
/// transaction, each in its own savepoint, and committed with a single sync to disk. Each
/// message is still all-or-nothing, and no reply is released before the commit.
#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// Messages taken and not yet committed (or refused).
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("inbound", &self.inbound)
            .finish()
    }
}

impl Writer {
    /// Starts the writer; up to `max_batch` messages share a commit.
    pub fn start(intake: Intake, max_batch: usize) -> Writer {
        let (jobs, mut queue) = mpsc::channel::<Job>(max_batch.max(1) * 4);
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let done = in_flight.clone();
        tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                let mut batch = vec![first];
                while batch.len() < max_batch {
                    match queue.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let n = batch.len();
                commit_together(&intake, batch).await;
                done.fetch_sub(n, std::sync::atomic::Ordering::AcqRel);
            }
        });
        Writer { jobs, in_flight }
    }

    /// Waits (at most `within`) until every message taken is committed or refused; false if
    /// some were still being written. Called at shutdown, once nothing new is coming in.
    pub async fn drained(&self, within: std::time::Duration) -> bool {
        let until = tokio::time::Instant::now() + within;
        while self.in_flight.load(std::sync::atomic::Ordering::Acquire) > 0 {
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        true
    }

    /// Handles one message; returns once it is durably recorded.
    pub async fn handle(&self, inbound: Inbound, input: Input) -> Result<Handled, StoreError> {
        let (done, result) = oneshot::channel();
        // Counted from now; until the writer has the job, a dropped or failed send uncounts it.
        let taken = Taken::count(&self.in_flight);
        self.jobs
            .send(Job {
                inbound,
                input,
                done,
            })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        taken.handed_over();
        result.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// A committed message, counted for the operator (never before its commit).
fn observed(channel: &str, handled: &Handled) {
    if !handled.duplicate {
        crate::telemetry::message_recorded(channel, handled.assessment.as_ref(), &handled.effects);
    }
}

async fn commit_together(intake: &Intake, batch: Vec<Job>) {
    let mut outer = match intake.store.begin().await {
        Ok(record) => record,
        Err(e) => {
            crate::telemetry::database_error("commit");
            let reason = e.to_string();
            for job in batch {
                let _ = job.done.send(Err(StoreError::Group(reason.clone())));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let result = match outer.nested().await {
            Ok(mut inner) => match intake.process(&mut inner, &job.inbound, &job.input).await {
                Ok(handled) => inner.commit().await.map(|()| handled),
                // Dropping the savepoint undoes this message alone.
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        results.push((job.inbound.channel, job.done, result));
    }
    match outer.commit().await {
        Ok(()) => {
            for (channel, done, result) in results {
                if let Ok(handled) = &result {
                    observed(&channel, handled);
                }
                let _ = done.send(result);
            }
        }
        Err(e) => {
            crate::telemetry::database_error("commit");
            let reason = e.to_string();
            for (_, done, _) in results {
                let _ = done.send(Err(StoreError::Group(reason.clone())));
            }
        }
    }
}
