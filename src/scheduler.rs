//! The scheduler: deadline warnings and breaches, late-response updates to residents, claims
//! left idle, escalation of urgent alerts nobody acknowledged, outstanding actions past their
//! date, tracked requests (privacy, interpreters) near or past their date, half-finished
//! conversations, the retention purge, delivery of alerts to their sinks
//! (a Telegram chat, a Discord channel, email, signed webhooks; only urgent ones outside
//! working hours) and of copies by email to residents who asked for them. The scheduler
//! decides what is due and when; the sinks themselves, which know the platforms, are in
//! [`crate::channels::alerts`].
//!
//! [`Scheduler::run_once`] is one step with the clock passed in, so tests drive it with a
//! fixed clock, and [`Scheduler::next_due`] says when the next thing falls due, so the
//! service sleeps until then or until the data changes. Each job that must happen once is
//! claimed in the record first: a row in `scheduled_once` that only one replica can insert
//! (the insert takes the row's lock; a second replica's insert waits for it and then does
//! nothing), and each delivery is claimed by a conditional update, so with several replicas
//! on one PostgreSQL every alert fires once.
//!
//! [`summary`]: the governing body's monthly summary by email (Code 9.7), once a month.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone as _, Utc};
use serde_json::json;

use crate::channels::alerts::{Alert, Sinks};
use crate::config::{AlertsConfig, Secret};
use crate::core::ids::{ConversationId, Stage};
use crate::service::Intake;
use crate::store::{RecentAlert, StoreError, from_millis, millis};

pub mod summary;

pub use summary::{GoverningBodyMail, SentBy, SummaryError, month_to_send};

/// Runs one scheduler step, timing it for the operator.
async fn timed<T>(step: &'static str, work: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let done = work.await;
    crate::telemetry::scheduler_step(step, started.elapsed());
    done
}

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Run {
    pub deadline_warnings: usize,
    pub deadline_breaches: usize,
    /// Residents told their response is late, or told again at the agreed interval (5.9).
    pub late_updates: usize,
    pub idle_claims: usize,
    pub escalations: usize,
    pub half_finished: usize,
    pub overdue_actions: usize,
    /// Tracked requests (privacy, interpreters) due within a few days, and past due.
    pub requests_due: usize,
    pub requests_overdue: usize,
    pub erased: usize,
    pub delivered: usize,
    /// Copies by email sent to residents who asked for replies by email.
    pub emails_sent: usize,
    /// The governing body's monthly summaries sent.
    pub summaries_sent: usize,
    pub failed: usize,
}

/// The scheduler: what falls due, and when each alert goes to its sinks.
#[derive(Clone)]
pub struct Scheduler {
    pub intake: Intake,
    /// Fixed when the scheduler is built: the sinks took their SMTP settings from it then, so
    /// a later change here would reach the alert rules but not the mail server.
    alerts: AlertsConfig,
    pub half_finished_after: chrono::Duration,
    /// Personal data is erased this long after a complaint closes (and its conversation
    /// has gone quiet); anonymised counts are kept.
    pub erase_after: chrono::Duration,
    /// Where alerts and copies by email go out: the scheduler says what and when, the sinks
    /// know the platforms (their chat clients are set when the bot has the tokens).
    pub sinks: Sinks,
    /// The governing body's monthly summary, when recipients are configured.
    pub summary: Option<GoverningBodyMail>,
}

impl Scheduler {
    pub fn new(
        intake: Intake,
        alerts: AlertsConfig,
        half_finished_after: chrono::Duration,
        webhook_secret: Option<Secret>,
        smtp_password: Option<Secret>,
    ) -> Scheduler {
        let sinks = Sinks::new(
            intake.store().clone(),
            alerts.smtp.clone(),
            webhook_secret,
            smtp_password,
        );
        Scheduler {
            intake,
            alerts,
            half_finished_after,
            erase_after: chrono::Duration::days(i64::from(crate::config::DEFAULT_RETENTION_DAYS)),
            sinks,
            summary: None,
        }
    }

    /// Only the delivery of alerts: run soon after a commit, since an alert may have just
    /// been raised; the scans of [`Scheduler::run_once`] run on the timer.
    pub async fn deliver_now(&self, now: DateTime<Utc>) -> Result<Run, StoreError> {
        let mut run = Run::default();
        self.deliver(now, &mut run).await?;
        self.email_residents(now, &mut run).await?;
        Ok(run)
    }

    /// One step of every job at `now`.
    pub async fn run_once(&self, now: DateTime<Utc>) -> Result<Run, StoreError> {
        let mut run = Run::default();
        timed("deadlines", self.deadlines(now, &mut run)).await?;
        timed("idle_claims", self.idle_claims(now, &mut run)).await?;
        timed("escalate", self.escalate(now, &mut run)).await?;
        timed("overdue_actions", self.overdue_actions(now, &mut run)).await?;
        timed("tracked_requests", self.tracked_requests(now, &mut run)).await?;
        run.half_finished = timed(
            "half_finished",
            self.intake
                .sweep_half_finished(now, self.half_finished_after),
        )
        .await?;
        timed("retention", self.retention(now, &mut run)).await?;
        timed("deliver", self.deliver(now, &mut run)).await?;
        timed("email_residents", self.email_residents(now, &mut run)).await?;
        timed("summary", self.governing_body_summary(now, &mut run)).await?;
        crate::telemetry::escalations(run.escalations);
        crate::telemetry::deadline_breaches("response", run.deadline_breaches);
        crate::telemetry::deadline_breaches("request", run.requests_overdue);
        Ok(run)
    }

    /// Complaints awaiting a response: a warning the configured number of working days
    /// before the response is due, and an alert once it has passed (Code 5.8, 6.2, 6.14;
    /// the Ombudsman can find maladministration in a missed deadline).
    async fn deadlines(&self, now: DateTime<Utc>, run: &mut Run) -> Result<(), StoreError> {
        let calendar = self.intake.calendar();
        let today = calendar.local_date(now);
        for case in self.intake.store().awaiting_response().await? {
            let (reference, conversation, stage) = (case.reference, case.conversation, case.stage);
            let Ok(due) = case.due_on.parse::<NaiveDate>() else {
                continue;
            };
            // The due date is part of the key, so an extended date is warned about again.
            let key = format!("{reference}/{stage}/{due}");
            let (job, detail) = if today > due {
                (
                    "deadline_passed",
                    format!(
                        "The stage {stage} response to complaint {reference} was due on {due} and has not been sent."
                    ),
                )
            } else if calendar.working_days_between(today, due)
                <= i64::from(self.alerts.deadline_warning_working_days)
            {
                (
                    "deadline_near",
                    format!("The stage {stage} response to complaint {reference} is due on {due}."),
                )
            } else {
                continue;
            };
            let mut record = self.intake.store().begin().await?;
            if record.once(job, &key, now).await? {
                record.alert_on(conversation, job, false, &detail, now);
                record.commit().await?;
                if job == "deadline_passed" {
                    run.deadline_breaches += 1;
                } else {
                    run.deadline_warnings += 1;
                }
            } else {
                drop(record);
            }
            if job == "deadline_passed" {
                let late = Late {
                    reference: &reference,
                    conversation,
                    stage,
                    due,
                    today,
                };
                self.update_resident(late, now, run).await?;
            }
        }
        Ok(())
    }

    /// A response that is late: the resident is told, and told again at the agreed
    /// interval until it is sent (Code 5.9), each update once.
    async fn update_resident(
        &self,
        late: Late<'_>,
        now: DateTime<Utc>,
        run: &mut Run,
    ) -> Result<(), StoreError> {
        let Late {
            reference,
            conversation,
            stage,
            due,
            today,
        } = late;
        let calendar = self.intake.calendar();
        let interval = i64::from(self.alerts.update_interval_working_days.max(1));
        let late = calendar.working_days_between(due, today);
        if late < 1 {
            return Ok(());
        }
        let round = (late - 1) / interval;
        // Read before the transaction: on SQLite the record has one connection.
        let Some(found) = self.intake.store().conversation_by_id(conversation).await? else {
            return Ok(());
        };
        let next = calendar.add_working_days(today, u32::try_from(interval).unwrap_or(5));
        let values = std::collections::BTreeMap::from([
            ("landlord", self.intake.profile().name.clone()),
            ("reference", reference.to_owned()),
            ("stage", stage.to_string()),
            ("due", due.format("%A %-d %B %Y").to_string()),
            ("next_update", next.format("%A %-d %B %Y").to_string()),
            (
                "ombudsman_phone",
                self.intake.profile().ombudsman.phone.clone(),
            ),
        ]);
        let reply = self
            .intake
            .dialogs()
            .locale(&found.locale)
            .say("late_update", &values);
        let copy = self.intake.email_copy(reference).await?;
        let mut record = self.intake.store().begin().await?;
        if record
            .once(
                "late_update",
                &format!("{reference}/{stage}/{due}/{round}"),
                now,
            )
            .await?
        {
            let payload = json!({ "text": reply.text });
            record.outbound(&found, "bot", &reply.text, &payload, now);
            self.intake
                .copy_by_email(&mut record, &found, reference, &copy, &reply.text, now);
            record.event(
                &found,
                Some(reference),
                "late_update",
                &json!({ "round": round }),
                now,
            );
            record.commit().await?;
            run.late_updates += 1;
        }
        Ok(())
    }

    /// The retention purge: conversations whose complaints all closed more than
    /// `erase_after` ago, with nothing said since, lose their personal data; anonymised counts
    /// are kept (consent and privacy: see [`crate::code`]).
    async fn retention(&self, now: DateTime<Utc>, run: &mut Run) -> Result<(), StoreError> {
        let cutoff = millis(now - self.erase_after);
        for conversation in self.intake.store().erasable_conversations(cutoff).await? {
            let counts = self.intake.store().case_counts(conversation).await?;
            let mut record = self.intake.store().begin().await?;
            if record.erasable(conversation, cutoff).await?
                && record.once("erase", &conversation.to_string(), now).await?
            {
                record.erase_conversation(conversation, &counts, now);
                record.commit().await?;
                run.erased += 1;
            }
        }
        Ok(())
    }

    /// A conversation a member of staff took over, with the resident waiting longer than the
    /// configured time for an answer.
    async fn idle_claims(&self, now: DateTime<Utc>, run: &mut Run) -> Result<(), StoreError> {
        let cutoff = now - chrono::Duration::minutes(i64::from(self.alerts.claim_idle_minutes));
        for claim in self.intake.store().idle_claims(cutoff).await? {
            let (conversation, last, name) =
                (claim.conversation, claim.last_activity_at, claim.holder);
            let mut record = self.intake.store().begin().await?;
            if record
                .once("claim_idle", &format!("{conversation}/{last}"), now)
                .await?
            {
                let detail = format!(
                    "{name} holds this conversation, and the resident has been waiting over {} minutes for an answer.",
                    self.alerts.claim_idle_minutes
                );
                record.alert_on(conversation, "claim_idle", false, &detail, now);
                record.commit().await?;
                run.idle_claims += 1;
            }
        }
        Ok(())
    }

    /// An urgent alert nobody has acknowledged moves one level up the escalation chain each
    /// escalation period, as far as there are sinks.
    async fn escalate(&self, now: DateTime<Utc>, run: &mut Run) -> Result<(), StoreError> {
        let top = self
            .alerts
            .sinks
            .iter()
            .map(|s| i64::from(s.level))
            .max()
            .unwrap_or(0);
        let period = millis(now)
            - millis(
                now - chrono::Duration::minutes(i64::from(self.alerts.escalate_after_minutes)),
            );
        for alert in self.intake.store().urgent_unacknowledged(top).await? {
            let (id, level, at) = (alert.id, alert.level, alert.at);
            if millis(now) < at + period * (level + 1) {
                continue;
            }
            if self.intake.store().escalate_alert(id, level).await? {
                tracing::warn!(
                    alert = id.0,
                    level = level + 1,
                    "an urgent alert was not acknowledged; escalated"
                );
                run.escalations += 1;
            }
        }
        Ok(())
    }

    /// Sends each alert to each sink that takes it, at the alert's level: urgent ones at
    /// once, others in working hours; failures are retried with backoff, never dropped.
    async fn deliver(&self, now: DateTime<Utc>, run: &mut Run) -> Result<(), StoreError> {
        let store = self.intake.store();
        if self.alerts.sinks.is_empty() {
            return Ok(());
        }
        // Alerts of the last 30 days; older ones were dealt with or are in the console.
        let rows = store
            .recent_alerts(now - chrono::Duration::days(30))
            .await?;
        for r in &rows {
            let alert = self.alert(r);
            let acknowledged = r.acknowledged_at.is_some();
            for sink in &self.alerts.sinks {
                let takes = sink.takes(&alert.kind);
                if !takes || i64::from(sink.level) > alert.level || (sink.level > 0 && acknowledged)
                {
                    continue;
                }
                let first_try = if alert.urgent {
                    now
                } else {
                    self.next_working_moment(now)
                };
                store
                    .queue_alert_delivery(alert.id, &sink.name, i64::from(sink.level), first_try)
                    .await?;
            }
        }
        for d in store.due_alert_deliveries(now).await? {
            let (id, alert_id, sink_name, attempts) = (d.id, d.alert, d.sink, d.attempts);
            let Some(sink) = self.alerts.sinks.iter().find(|s| s.name == sink_name) else {
                // A sink taken out of the configuration: kept, with the reason, and looked at
                // again in a day in case it comes back.
                store
                    .postpone_alert_delivery(
                        id,
                        now + chrono::Duration::days(1),
                        &format!("the sink {sink_name:?} is no longer configured"),
                    )
                    .await?;
                continue;
            };
            let Some(alert) = rows.iter().find(|r| r.id == alert_id) else {
                store
                    .postpone_alert_delivery(
                        id,
                        now + chrono::Duration::days(1),
                        "the alert is over 30 days old; see it in the console",
                    )
                    .await?;
                continue;
            };
            // Claim it for longer than a send can take, so another replica does not send it
            // too; counted from the real clock, as a run may have taken a while to get here.
            if !store.claim_alert_delivery(id, now, lease_end(now)).await? {
                continue;
            }
            let message = self.alert(alert);
            match self.sinks.send(sink, &message).await {
                Ok(()) => {
                    store.alert_delivered(id, now).await?;
                    crate::telemetry::alert_delivery(sink.kind, true);
                    run.delivered += 1;
                }
                Err(e) => {
                    crate::telemetry::alert_delivery(sink.kind, false);
                    tracing::warn!(sink = %sink.name, alert = alert_id.0, error = %e, "an alert was not delivered; it will be tried again");
                    let wait = crate::channels::backoff(attempts);
                    store
                        .alert_delivery_failed(
                            id,
                            &e,
                            now + chrono::Duration::from_std(wait)
                                .unwrap_or(chrono::Duration::seconds(60)),
                        )
                        .await?;
                    run.failed += 1;
                }
            }
        }
        Ok(())
    }

    /// Outstanding actions whose promised date has passed: staff are alerted once each, so a
    /// promise made in a response is kept (6.9, 6.19).
    async fn overdue_actions(&self, now: DateTime<Utc>, run: &mut Run) -> Result<(), StoreError> {
        let today = self.intake.calendar().local_date(now);
        for action in self.intake.store().overdue_actions(today).await? {
            let mut record = self.intake.store().begin().await?;
            if record
                .once("action_overdue", &action.id.to_string(), now)
                .await?
            {
                let detail = format!(
                    "An action promised on complaint {} by {} is not marked done: {}",
                    action.case_reference, action.due_on, action.description
                );
                record.alert_on(action.conversation, "action_overdue", false, &detail, now);
                record.commit().await?;
                run.overdue_actions += 1;
            }
        }
        Ok(())
    }

    /// Tracked requests not answered: one alert when one falls due within
    /// [`REQUEST_WARNING_DAYS`], and one once its date has passed (UK GDPR art. 12(3) for
    /// personal data; Code 5.10 for an interpreter). The due date is part of the key, so an
    /// extended request is reminded again. The alerts name the request, not the resident's
    /// words: sinks may be outside the record.
    async fn tracked_requests(&self, now: DateTime<Utc>, run: &mut Run) -> Result<(), StoreError> {
        let today = self.intake.calendar().local_date(now);
        // Most overdue first, so the first one not yet near its date ends the scan.
        for request in self.intake.store().open_requests().await? {
            let due = request.due();
            let received = self.intake.calendar().local_date(request.received_at);
            let (job, detail) = if today > due {
                (
                    "request_overdue",
                    format!(
                        "The {} request received on {received} (request {}) was due on {due} and has not been answered.",
                        request.kind.as_str(),
                        request.id
                    ),
                )
            } else if (due - today).num_days() <= REQUEST_WARNING_DAYS {
                (
                    "request_due",
                    format!(
                        "The {} request received on {received} (request {}) is due on {due}.",
                        request.kind.as_str(),
                        request.id
                    ),
                )
            } else {
                break;
            };
            let mut record = self.intake.store().begin().await?;
            if record
                .once(job, &format!("{}/{due}", request.id), now)
                .await?
            {
                record.alert_on(request.conversation, job, false, &detail, now);
                record.commit().await?;
                if job == "request_overdue" {
                    run.requests_overdue += 1;
                } else {
                    run.requests_due += 1;
                }
            }
        }
        Ok(())
    }

    /// Sends the copies by email due now to residents who asked for replies by email; a
    /// failure is kept with its reason and tried again with backoff, never dropped.
    async fn email_residents(&self, now: DateTime<Utc>, run: &mut Run) -> Result<(), StoreError> {
        let store = self.intake.store();
        for email in store.due_resident_emails(now).await? {
            if !store
                .claim_resident_email(email.id, now, lease_end(now))
                .await?
            {
                continue;
            }
            match self
                .sinks
                .email(
                    std::slice::from_ref(&email.to_address),
                    &email.subject,
                    &email.body,
                )
                .await
            {
                Ok(()) => {
                    store.resident_email_tried(email.id, now, None).await?;
                    run.emails_sent += 1;
                }
                Err(e) => {
                    tracing::warn!(email = email.id, error = %e, "a copy by email to a resident was not sent; it will be tried again");
                    let wait = chrono::Duration::from_std(crate::channels::backoff(email.attempts))
                        .unwrap_or(chrono::Duration::seconds(60));
                    store
                        .resident_email_tried(email.id, now, Some((&e, now + wait)))
                        .await?;
                    run.failed += 1;
                    // Still failing after several tries: staff are told, once, so the
                    // resident is not left waiting on an address that does not work.
                    if email.attempts + 1 == EMAIL_TRIES_BEFORE_ALERT {
                        let mut record = store.begin().await?;
                        if record
                            .once("email_failing", &email.id.to_string(), now)
                            .await?
                        {
                            // The address stays on the case, out of alert sinks.
                            let detail = format!(
                                "A copy by email about complaint {} has failed {} times (last: {e}). It will keep being tried; reply to the resident another way.",
                                email.case_reference.as_deref().unwrap_or("(none)"),
                                EMAIL_TRIES_BEFORE_ALERT
                            );
                            record.alert_on(
                                email.conversation_id,
                                "email_unusable",
                                false,
                                &detail,
                                now,
                            );
                            record.commit().await?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// When the next job falls due after `now`: the next try of a delivery, the next
    /// escalation, a claim going idle, a conversation going quiet, a complaint reaching its
    /// retention date, the monthly summary, or the next day (deadlines are counted in days).
    /// The service sleeps until then, or until a commit wakes it, whichever is first.
    pub async fn next_due(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
        let store = self.intake.store();
        let after = millis(now);
        // Each: the earliest moment after now, given its offset (a moment already past is a
        // job done, or one that will never run, such as the escalation of an alert already at
        // the top of the chain).
        let period = i64::from(self.alerts.escalate_after_minutes) * 60_000;
        let idle = i64::from(self.alerts.claim_idle_minutes) * 60_000;
        let quiet = self.half_finished_after.num_milliseconds();
        let erase = self.erase_after.num_milliseconds();
        let found = [
            // Deliveries still due (a backlog beyond one run's batch) count as due now.
            store.next_alert_delivery().await?,
            store.next_resident_email().await?,
            store.next_escalation(period, after).await?,
            store.next_idle_claim(idle, after).await?,
            store
                .first_activity_after(after - quiet)
                .await?
                .map(|at| at + quiet),
            store.next_erasure(erase, after).await?,
        ];
        let tomorrow = self.next_day(now);
        let summary = self.next_summary(now).await?;
        Ok(found
            .into_iter()
            .flatten()
            .map(from_millis)
            .chain(summary)
            .map(|at| at.max(now))
            .fold(tomorrow, std::cmp::min))
    }

    /// The start of the next local day, when deadline warnings move on.
    fn next_day(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let calendar = self.intake.calendar();
        let tz = calendar.time_zone();
        let mut day = calendar.local_date(now);
        for _ in 0..3 {
            day = day.succ_opt().unwrap_or(day);
            if let Some(at) = tz
                .from_local_datetime(&day.and_time(NaiveTime::MIN))
                .earliest()
            {
                return at.with_timezone(&Utc);
            }
        }
        now + chrono::Duration::hours(24)
    }

    /// The alert `r` as it goes out to the sinks, linked to its conversation in the console.
    fn alert(&self, r: &RecentAlert) -> Alert {
        Alert::new(r, &self.alerts.console_url, &self.intake.profile().name)
    }

    /// `now` if it is within working hours on a working day, else the start of the next
    /// working day's hours.
    pub fn next_working_moment(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let calendar = self.intake.calendar();
        let tz = calendar.time_zone();
        let start = NaiveTime::parse_from_str(&self.alerts.working_hours_start, "%H:%M")
            .unwrap_or(NaiveTime::MIN);
        let end = NaiveTime::parse_from_str(&self.alerts.working_hours_end, "%H:%M")
            .unwrap_or(NaiveTime::MIN);
        let local = now.with_timezone(&tz);
        let today = local.date_naive();
        if calendar.is_working_day(today) && local.time() >= start && local.time() < end {
            return now;
        }
        let mut day = if calendar.is_working_day(today) && local.time() < start {
            today
        } else {
            calendar.add_working_days(today, 1)
        };
        loop {
            if let Some(at) = tz.from_local_datetime(&day.and_time(start)).earliest() {
                return at.with_timezone(&Utc);
            }
            day = calendar.add_working_days(day, 1);
        }
    }
}

/// Calendar days before a tracked request's date when staff are reminded of it.
const REQUEST_WARNING_DAYS: i64 = 5;

/// Failed tries of a copy by email before staff are alerted.
const EMAIL_TRIES_BEFORE_ALERT: i64 = 5;

/// How long a delivery is claimed for: longer than a send can take (the HTTP and SMTP
/// timeouts are 15 s), so that no other replica sends it meanwhile.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// When a claim made now ends: counted from the later of the run's clock and the real one,
/// since a run may have spent a while on earlier sends.
fn lease_end(now: DateTime<Utc>) -> DateTime<Utc> {
    now.max(Utc::now()) + LEASE
}

/// A response that is late, as [`Scheduler::update_resident`] tells the resident of it.
struct Late<'a> {
    reference: &'a str,
    conversation: ConversationId,
    stage: Stage,
    due: NaiveDate,
    today: NaiveDate,
}
