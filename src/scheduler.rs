//! The scheduler: deadline warnings and breaches, late-response updates to residents, claims
//! left idle, escalation of urgent alerts nobody acknowledged, outstanding actions past their
//! date, half-finished conversations, the retention purge, delivery of alerts to their sinks
//! (a Telegram chat, a Discord channel, email, signed webhooks; only urgent ones outside
//! working hours) and of copies by email to residents who asked for them.
//!
//! [`Scheduler::run_once`] is one step with the clock passed in, so tests drive it with a
//! fixed clock, and [`Scheduler::next_due`] says when the next thing falls due, so the
//! service sleeps until then or until the data changes. Each job that must happen once is
//! claimed in the record first: a row in `scheduled_once` that only one replica can insert
//! (the insert takes the row's lock; a second replica's insert waits for it and then does
//! nothing), and each delivery is claimed by a conditional update, so with several replicas
//! on one PostgreSQL every alert fires once.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone as _, Utc};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::config::{AlertsConfig, Secret, SinkConfig, SinkKind};
use crate::service::Intake;
use crate::store::{RecentAlert, StoreError, from_millis, millis};

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
    pub erased: usize,
    pub delivered: usize,
    /// Copies by email sent to residents who asked for replies by email.
    pub emails_sent: usize,
    pub failed: usize,
}

/// The scheduler and the alert sender.
#[derive(Clone)]
pub struct Scheduler {
    pub intake: Intake,
    pub alerts: AlertsConfig,
    pub half_finished_after: chrono::Duration,
    pub webhook_secret: Option<Secret>,
    pub smtp_password: Option<Secret>,
    /// Personal data is erased this long after a complaint closes (and its conversation
    /// has gone quiet); anonymised counts are kept.
    pub erase_after: chrono::Duration,
    /// The bot that posts to Telegram alert chats, when a Telegram token is set.
    pub telegram: Option<teloxide::Bot>,
    /// The client that posts to Discord alert channels, when a Discord token is set.
    pub discord: Option<std::sync::Arc<serenity::http::Http>>,
    http: reqwest::Client,
}

/// An alert as a sink receives it.
#[derive(Debug, Clone, serde::Serialize)]
struct AlertMessage {
    id: i64,
    kind: String,
    urgent: bool,
    level: i64,
    detail: String,
    conversation: i64,
    channel: String,
    at: DateTime<Utc>,
    link: String,
    landlord: String,
}

impl Scheduler {
    pub fn new(
        intake: Intake,
        alerts: AlertsConfig,
        half_finished_after: chrono::Duration,
        webhook_secret: Option<Secret>,
        smtp_password: Option<Secret>,
    ) -> Scheduler {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        Scheduler {
            intake,
            alerts,
            half_finished_after,
            webhook_secret,
            smtp_password,
            erase_after: chrono::Duration::days(i64::from(crate::config::DEFAULT_RETENTION_DAYS)),
            telegram: None,
            discord: None,
            http,
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
        self.deadlines(now, &mut run).await?;
        self.idle_claims(now, &mut run).await?;
        self.escalate(now, &mut run).await?;
        self.overdue_actions(now, &mut run).await?;
        run.half_finished = self
            .intake
            .sweep_half_finished(now, self.half_finished_after)
            .await?;
        self.retention(now, &mut run).await?;
        self.deliver(now, &mut run).await?;
        self.email_residents(now, &mut run).await?;
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
                self.update_resident(&reference, conversation, stage, due, today, now, run)
                    .await?;
            }
        }
        Ok(())
    }

    /// A response that is late: the resident is told, and told again at the agreed
    /// interval until it is sent (Code 5.9), each update once.
    #[allow(clippy::too_many_arguments)]
    async fn update_resident(
        &self,
        reference: &str,
        conversation: i64,
        stage: i64,
        due: NaiveDate,
        today: NaiveDate,
        now: DateTime<Utc>,
        run: &mut Run,
    ) -> Result<(), StoreError> {
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
    /// are kept (POLICY.md 7).
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
                    alert = id,
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
            let alert = self.message_of(r);
            let acknowledged = r.acknowledged_at.is_some();
            for sink in &self.alerts.sinks {
                let takes = sink.alerts.is_empty() || sink.alerts.contains(&alert.kind);
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
            let message = self.message_of(alert);
            match self.send(sink, &message).await {
                Ok(()) => {
                    store.alert_delivered(id, now).await?;
                    run.delivered += 1;
                }
                Err(e) => {
                    tracing::warn!(sink = %sink.name, alert = alert_id, error = %e, "an alert was not delivered; it will be tried again");
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
                .smtp_send(
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
    /// retention date, or the next day (deadlines are counted in days). The service sleeps
    /// until then, or until a commit wakes it, whichever is first.
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
        Ok(found
            .into_iter()
            .flatten()
            .map(|at| from_millis(at).max(now))
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

    fn message_of(&self, r: &RecentAlert) -> AlertMessage {
        let conversation = r.conversation;
        AlertMessage {
            id: r.id,
            kind: r.kind.clone(),
            urgent: r.urgent,
            level: r.level,
            detail: external_detail(&r.kind, r.detail.clone()),
            conversation,
            channel: r.channel.clone(),
            at: r.at,
            link: format!(
                "{}/conversations/{conversation}",
                self.alerts.console_url.trim_end_matches('/')
            ),
            landlord: self.intake.profile().name.clone(),
        }
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

    async fn send(&self, sink: &SinkConfig, alert: &AlertMessage) -> Result<(), String> {
        match sink.kind {
            SinkKind::Webhook => self.send_webhook(sink, alert).await,
            SinkKind::Email => self.send_email(sink, alert).await,
            SinkKind::Telegram => self.send_telegram(sink, alert).await,
            SinkKind::Discord => self.send_discord(sink, alert).await,
        }
    }

    async fn send_webhook(&self, sink: &SinkConfig, alert: &AlertMessage) -> Result<(), String> {
        let secret = self
            .webhook_secret
            .as_ref()
            .ok_or("INTAKE_ALERT_WEBHOOK_SECRET is not set")?;
        let body = serde_json::to_vec(&json!({ "alert": alert })).map_err(|e| e.to_string())?;
        // The time of sending is signed with the body, so a captured request cannot be
        // replayed later: receivers refuse a timestamp more than five minutes off.
        let sent_at = Utc::now().timestamp();
        let response = self
            .http
            .post(&sink.to)
            .header("Content-Type", "application/json")
            .header("X-Intake-Timestamp", sent_at.to_string())
            .header("X-Intake-Signature", signature(secret, sent_at, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("the webhook answered {}", response.status()))
        }
    }

    /// An alert in a Telegram chat, with a button a linked manager presses to acknowledge it.
    async fn send_telegram(&self, sink: &SinkConfig, alert: &AlertMessage) -> Result<(), String> {
        use teloxide::payloads::SendMessageSetters as _;
        use teloxide::prelude::Requester as _;
        use teloxide::types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup};
        let bot = self
            .telegram
            .as_ref()
            .ok_or("INTAKE_TELEGRAM_TOKEN is not set, so there is no bot to post the alert")?;
        let chat: i64 = sink
            .to
            .trim()
            .parse()
            .map_err(|_| format!("{:?} is not a Telegram chat id", sink.to))?;
        let button =
            InlineKeyboardButton::callback("Acknowledge", format!("{ACKNOWLEDGE}{}", alert.id));
        bot.send_message(ChatId(chat), chat_text(&for_chat(alert)))
            .reply_markup(InlineKeyboardMarkup::new([[button]]))
            .await
            .map(|_| ())
            .map_err(|e| crate::channels::telegram::scrub(&e.to_string(), bot.token()))
    }

    /// An alert in a Discord channel, with a button a linked manager presses to acknowledge it.
    async fn send_discord(&self, sink: &SinkConfig, alert: &AlertMessage) -> Result<(), String> {
        use serenity::builder::{
            CreateActionRow, CreateAllowedMentions, CreateButton, CreateMessage,
        };
        use serenity::model::application::ButtonStyle;
        use serenity::model::id::ChannelId;
        let http = self
            .discord
            .as_ref()
            .ok_or("INTAKE_DISCORD_TOKEN is not set, so there is no bot to post the alert")?;
        let channel: u64 = sink
            .to
            .trim()
            .parse()
            .ok()
            .filter(|id| *id != 0)
            .ok_or_else(|| format!("{:?} is not a Discord channel id", sink.to))?;
        let button = CreateButton::new(format!("{ACKNOWLEDGE}{}", alert.id))
            .label("Acknowledge")
            .style(ButtonStyle::Danger);
        let message = CreateMessage::new()
            .content(chat_text(&for_chat(alert)))
            // Nothing a resident wrote can ping the server (an "@everyone" in the detail).
            .allowed_mentions(CreateAllowedMentions::new())
            .components(vec![CreateActionRow::Buttons(vec![button])]);
        ChannelId::new(channel)
            .send_message(http, message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn send_email(&self, sink: &SinkConfig, alert: &AlertMessage) -> Result<(), String> {
        let mut to = Vec::new();
        for part in sink.to.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.strip_prefix("role:") {
                Some(role) => {
                    let emails = self
                        .intake
                        .store()
                        .staff_emails_with_role(role)
                        .await
                        .map_err(|e| match e {
                            // The database's own words, as the delivery's last error.
                            StoreError::Database(e) => e.to_string(),
                            e => e.to_string(),
                        })?;
                    to.extend(emails);
                }
                None => to.push(part.to_owned()),
            }
        }
        if to.is_empty() {
            return Err(format!("nobody to email for sink {:?}", sink.name));
        }
        let subject = format!(
            "{}{} alert: {} ({})",
            if alert.urgent { "URGENT: " } else { "" },
            alert.landlord,
            alert.kind.replace('_', " "),
            alert.channel
        );
        let body = format!("{}\n\nAcknowledge it in the console.", chat_text(alert));
        self.smtp_send(&to, &subject, &body).await
    }

    /// Sends one plain-text email through the configured SMTP server.
    async fn smtp_send(&self, to: &[String], subject: &str, body: &str) -> Result<(), String> {
        use lettre::message::Mailbox;
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

        let smtp = &self.alerts.smtp;
        let host = smtp.host.as_deref().ok_or("alerts.smtp.host is not set")?;
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|e| format!("alerts.smtp.from: {e}"))?;
        let mut builder = Message::builder().from(from).subject(subject);
        for address in to {
            builder = builder.to(address
                .parse()
                .map_err(|e| format!("{address:?} is not an email address: {e}"))?);
        }
        let email = builder.body(body.to_owned()).map_err(|e| e.to_string())?;
        let mut transport = match smtp.tls.as_str() {
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            "tls" => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| e.to_string())?
            }
            _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| e.to_string())?,
        }
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(15)));
        if let (Some(user), Some(password)) = (&smtp.username, &self.smtp_password) {
            transport =
                transport.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        transport
            .build()
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

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

/// What an alert says outside the record (webhooks, email, chats). A disclosed disability
/// or support need is special category data, shown in the console only to the roles that
/// need it (5.10): outside, the alert names its kind and points to the console.
fn external_detail(kind: &str, detail: String) -> String {
    if kind == "vulnerability" {
        "A resident has disclosed a support need or vulnerability (Code 5.10). The details are \
         in the console, for complaints officers and managers."
            .to_owned()
    } else {
        detail
    }
}

/// The data of an alert's acknowledge button: this and the alert's id.
pub const ACKNOWLEDGE: &str = "ack:";

/// The longest alert detail posted in a chat: a resident's words can run to pages, chat
/// platforms refuse long messages, and the whole of it is in the console.
const LONGEST_CHAT_DETAIL: usize = 300;

/// An alert as a chat shows it: the detail cut short, with a pointer to the console.
fn for_chat(alert: &AlertMessage) -> AlertMessage {
    let mut short = alert.clone();
    if alert.detail.chars().count() > LONGEST_CHAT_DETAIL {
        short.detail = alert
            .detail
            .chars()
            .take(LONGEST_CHAT_DETAIL)
            .collect::<String>()
            + "… (the rest is in the console)";
    }
    short
}

/// An alert as text for a chat or an email body.
fn chat_text(alert: &AlertMessage) -> String {
    format!(
        "{}{} alert: {}\n{}\n\nRaised: {}{}\nConversation: {}",
        if alert.urgent { "URGENT: " } else { "" },
        alert.landlord,
        alert.kind.replace('_', " "),
        alert.detail,
        alert.at.to_rfc3339(),
        if alert.level > 0 {
            format!(" (escalated, level {})", alert.level)
        } else {
            String::new()
        },
        alert.link
    )
}

/// `sha256=` and the hex HMAC-SHA256, under the secret, of the timestamp (Unix seconds, as
/// sent in `X-Intake-Timestamp`), a full stop, and the body: what the receiver checks.
pub fn signature(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    match <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes()) {
        Ok(mut mac) => {
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        }
        Err(_) => String::new(),
    }
}
