//! The one application service, split by who acts:
//!
//! - `writer`: a resident's message in, everything it causes recorded in one transaction,
//!   replies out through the outbox; messages arriving together share a commit. Edited
//!   messages and the half-finished sweep are recorded here too.
//! - `conversation`: staff in a resident's conversation (take over, reply, hand back).
//! - `case_work`: staff on a complaint, every stage action, with the Code's rules on who may act
//!   (6.13, the named handler) and on what they write decided in `core::case`.
//! - `outcomes`: a complaint's category (suggested, then confirmed by staff) and the resident's
//!   feedback once it closes.
//! - `email`: copies by email of what staff send, for residents who asked for them.
//! - `summary`: the governing body's monthly summary (9.7), as an email body and a CSV file.
//! - `requests`: staff on a tracked request (privacy requests, interpreters): the answer, and
//!   the one extension UK GDPR art. 12(3) allows.
//! - `learning`: learning from complaints, the improvement register, the Ombudsman's cases
//!   and the self-assessment (Code section 9, 8.1, appendix A), checked before anything is
//!   written; the period summary and the self-assessment from the pure model.
//!
//! `Intake` holds what they share: the record, the policy engine, the dialogs, the landlord's
//! profile and calendar. Only the service writes through them; others read what they need
//! through the accessors.

use std::sync::Arc;

use anyhow::Context as _;

use crate::config::Config;
use crate::core::calendar::Calendar;
use crate::core::dialog::{Dialogs, Reach};
use crate::core::policy::Policy;
use crate::core::profile::LandlordProfile;
use crate::store::Store;

mod case_work;
mod conversation;
mod email;
mod learning;
mod outcomes;
mod report;
mod requests;
mod writer;

pub use case_work::CaseError;
pub use conversation::ActionError;
pub use email::EmailCopy;
pub use learning::{
    AnswerForm, ImprovementForm, LONGEST_COMMENTARY, LONGEST_LEARNING, LONGEST_OMBUDSMAN_REFERENCE,
    LONGEST_ORDER, LONGEST_TITLE, LearningError, OmbudsmanForm, add_ombudsman_order,
    complete_ombudsman_order, learning, record_learning, record_ombudsman_case, references,
    save_answer, save_improvement, self_assessment_for,
};
pub use report::{ReportError, annual, handling, tsm};
pub use requests::{LONGEST_REQUEST_TEXT, LogRequest, RequestError, may_act as may_act_on_request};
pub use writer::{Handled, LONGEST_READ, SAFE_CONTACT_RULE, Writer};

/// The intake service. Cloning it is cheap: every channel, route and connection shares one
/// policy engine, one set of dialogs and one profile (a copy per connection cost about 17 MB).
#[derive(Debug, Clone)]
pub struct Intake {
    store: Store,
    policy: Arc<Policy>,
    dialogs: Arc<Dialogs>,
    profile: Arc<LandlordProfile>,
    calendar: Arc<Calendar>,
    /// A half-finished complaint is resumed with a reminder after this long.
    resume_after: chrono::Duration,
    /// What the configuration lets the bot promise.
    reach: Reach,
}

impl Intake {
    /// The service over `store`, with the landlord's profile (and its calendar); a
    /// half-finished complaint is resumed with a reminder after `resume_after`. The policy,
    /// dialogs and profile may come already shared (`Arc`) or be shared from here.
    pub fn new(
        store: Store,
        policy: impl Into<Arc<Policy>>,
        dialogs: impl Into<Arc<Dialogs>>,
        profile: impl Into<Arc<LandlordProfile>>,
        resume_after: chrono::Duration,
    ) -> Intake {
        let profile = profile.into();
        Intake {
            store,
            policy: policy.into(),
            dialogs: dialogs.into(),
            calendar: profile.calendar().into(),
            profile,
            resume_after,
            reach: Reach::default(),
        }
    }

    /// The service with what its configuration lets the bot promise (`Config::reach`); by
    /// default, nothing: no alert reaches a manager and nothing is sent by email.
    pub fn with_reach(mut self, reach: Reach) -> Intake {
        self.reach = reach;
        self
    }

    /// Builds the intake service: the record, the dialogs, the policy and the calendar.
    pub async fn from_config(config: &Config, policy: Policy) -> anyhow::Result<Intake> {
        let dialogs = crate::wording::load(config.dialogs_dir.as_deref())?;
        let store = Store::connect(&config.database_url)
            .await
            .context("opening the database")?;
        Ok(Intake::new(
            store,
            policy,
            dialogs,
            config.landlord.clone(),
            chrono::Duration::hours(i64::from(config.conversation.resume_after_hours)),
        )
        .with_reach(config.reach()))
    }

    /// The record.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The landlord's profile: its name, timescales and the Ombudsman's details.
    pub fn profile(&self) -> &LandlordProfile {
        &self.profile
    }

    /// The landlord's calendar of working days.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// What the bot says, in each locale.
    pub fn dialogs(&self) -> &Dialogs {
        &self.dialogs
    }
}
