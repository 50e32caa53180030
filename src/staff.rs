//! Staff accounts, their console sessions, and what the console reads: the inbox and a
//! conversation with everything the record holds about it (in `reads`); assigning a
//! conversation to a colleague or a team (in `assign`); linking conversations to one resident
//! (in `residents`); administering accounts (in `accounts`) and their optional second factor
//! (in `totp`). The rules live here (password hashing, what each role may do and see); the
//! record is read and written through the store.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::Digest as _;

use crate::core::ids::{AlertId, ConversationId, MessageId, StaffId};
use crate::core::policy::Risk;
use crate::core::policy::train::Correction;
pub use crate::store::{Note, OpenAlert, Platform};
use crate::store::{StaffAccount, Store, StoreError};

mod accounts;
mod assign;
mod reads;
mod residents;
pub mod totp;
pub use accounts::{
    Account, AccountAudit, accounts, add, add_by, by_email, change_role, confirm_two_step, disable,
    enable, generated_password, pending_two_step, recent_changes, set_password, start_two_step,
    turn_off_two_step,
};
pub use assign::{
    Assigned, Assignee, Team, assign, assignee_value, may_assign, parse_assignee, teams_of,
};
pub use reads::{
    INBOX_PAGE, InboxFilter, InboxRow, QueueCounts, StaffLine, audit, cases, caseworkers,
    corrections, events, holder, inbox, inbox_restricted, inbox_total, lines, notes, open_alerts,
    queue_counts,
};
pub use residents::{
    LONGEST_RESIDENT_NAME, Linked, given_name, link_resident, may_link, new_resident,
    unlink_resident,
};

/// What a member of staff may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    ComplaintsOfficer,
    Manager,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        Some(
            match s
                .trim()
                .to_ascii_lowercase()
                .replace([' ', '-'], "_")
                .as_str()
            {
                "agent" => Role::Agent,
                "complaints_officer" | "officer" => Role::ComplaintsOfficer,
                "manager" => Role::Manager,
                "admin" => Role::Admin,
                _ => return None,
            },
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::ComplaintsOfficer => "complaints_officer",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn is_manager(self) -> bool {
        matches!(self, Role::Manager | Role::Admin)
    }

    /// Disclosed disabilities and reasonable adjustments are shared only with those who need
    /// them to handle the complaint (Code 5.10; data protection).
    pub fn sees_adjustments(self) -> bool {
        !matches!(self, Role::Agent)
    }
}

/// A member of staff, as the console knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub id: StaffId,
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// A signed-in console session.
#[derive(Debug, Clone)]
pub struct Session {
    pub staff: StaffMember,
    /// The token every form of this session carries (cross-site request forgery).
    pub csrf: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("{0}")]
    Invalid(String),
    #[error("a member of staff with the email {0} already exists")]
    Exists(String),
    #[error("there is no such staff account")]
    NoSuchAccount,
    #[error(
        "this is the last admin who can sign in: make another account an admin first, so someone can still manage accounts"
    )]
    LastAdmin,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The shortest password accepted for a staff account.
pub const SHORTEST_PASSWORD: usize = 12;
/// How long a console session lasts.
const SESSION_HOURS: i64 = 12;

/// The hash of a random password nobody knows, checked when an email is unknown so that the
/// answer takes as long as for a known one.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).ok();
        salt.and_then(|salt| {
            Argon2::default()
                .hash_password(random_token().as_bytes(), &salt)
                .ok()
                .map(|h| h.to_string())
        })
        .unwrap_or_default()
    })
}

/// A random token, hex.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// A staff account as the console knows it; a role the record holds but this version does
/// not know reads as an agent's, the role that may do least.
fn member(account: StaffAccount) -> StaffMember {
    StaffMember {
        id: account.id,
        name: account.name,
        email: account.email,
        role: Role::parse(&account.role).unwrap_or(Role::Agent),
    }
}

/// Whether `password` matches an Argon2 PHC string, computed in `memory` (grown once to the
/// hash's cost, then reused): the allocator otherwise kept each check's 19 MB, so memory
/// grew by that much with every failed sign-in.
fn verify(stored: &str, password: &[u8], memory: &mut Vec<argon2::Block>) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
        return false;
    };
    let Ok(params) = argon2::Params::try_from(&hash) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let version = match hash.version.map(argon2::Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])
        .is_ok()
        && crate::secrets::constant_time_eq(&out, expected.as_bytes())
}

/// Why a sign-in could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum LogInError {
    #[error("every password check is in use")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long a sign-in waits for a free password-checking thread before it is refused.
const FREE_THREAD_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// Password checks on a few threads of their own. Each Argon2id check takes about 19 MB;
/// on the shared blocking pool every new thread kept its own copy (the allocator holds freed
/// memory per thread), and a flood of sign-ins pushed memory past 290 MB. Here the memory
/// is bounded by the threads, and a check finds a free thread or is refused at once.
#[derive(Debug, Clone)]
pub struct PasswordChecks {
    jobs: std::sync::mpsc::SyncSender<PasswordCheck>,
}

struct PasswordCheck {
    stored: String,
    password: String,
    done: tokio::sync::oneshot::Sender<bool>,
}

impl PasswordChecks {
    /// Starts `threads` checking threads.
    pub fn start(threads: usize) -> PasswordChecks {
        // The decoy is made now, not on the first sign-in, where it would hold up a worker.
        decoy_hash();
        // A rendezvous channel: a job is taken only by a thread waiting for one.
        let (jobs, queue) = std::sync::mpsc::sync_channel::<PasswordCheck>(0);
        let queue = Arc::new(std::sync::Mutex::new(queue));
        // Each thread is waiting for work before `start` returns, so the first sign-in after
        // start-up is not refused as if every thread were busy.
        let (ready, started_all) = std::sync::mpsc::channel::<()>();
        let mut spawned = 0;
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            let ready = ready.clone();
            let started = std::thread::Builder::new()
                .name(format!("password-check-{n}"))
                .spawn(move || {
                    // This thread's working memory, kept and reused for every check.
                    let mut memory = Vec::new();
                    let _ = ready.send(());
                    loop {
                        let job = {
                            let queue = queue
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            queue.recv()
                        };
                        let Ok(job) = job else { return };
                        let matches = verify(&job.stored, job.password.as_bytes(), &mut memory);
                        let _ = job.done.send(matches);
                    }
                });
            match started {
                Ok(_) => spawned += 1,
                Err(e) => tracing::error!(error = %e, "cannot start a password-check thread"),
            }
        }
        drop(ready);
        for _ in 0..spawned {
            let _ = started_all.recv();
        }
        PasswordChecks { jobs }
    }

    /// Whether `password` matches `stored`; `None` when every checking thread stays busy for
    /// `FREE_THREAD_WAIT`. A thread that has just finished a check is back waiting for work
    /// within moments, so one sign-in after another is never refused; a flood still is,
    /// after that short wait, rather than queued.
    async fn check(&self, stored: String, password: &str) -> Option<bool> {
        let (done, result) = tokio::sync::oneshot::channel();
        let mut job = PasswordCheck {
            stored,
            password: password.to_owned(),
            done,
        };
        let until = tokio::time::Instant::now() + FREE_THREAD_WAIT;
        loop {
            match self.jobs.try_send(job) {
                Ok(()) => return result.await.ok(),
                Err(std::sync::mpsc::TrySendError::Full(back))
                    if tokio::time::Instant::now() < until =>
                {
                    job = back;
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                Err(_) => return None,
            }
        }
    }
}

/// What a sign-in came to.
#[derive(Debug)]
pub enum SignIn {
    /// A wrong email or password, a disabled account, or a wrong second-factor code: which
    /// one is not said.
    Refused,
    /// Signed in: the session's cookie token and the session.
    SignedIn(String, Session),
    /// The password was right and the account has two-step sign-in: the code from its
    /// authenticator is awaited, under this token (kept in a cookie of the sign-in form).
    CodeNeeded(String),
}

/// How long a sign-in waits for its second-factor code.
const CODE_MINUTES: i64 = 5;

/// Checks an email and password; on success opens a session and returns its cookie token,
/// or, for an account with two-step sign-in, asks for its code. A wrong email, a wrong
/// password and a disabled account take the same work, so timing does not tell which.
/// `Err(Busy)` when every password-checking thread is in use.
pub async fn log_in(
    store: &Store,
    checks: &PasswordChecks,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<SignIn, LogInError> {
    let found = store
        .staff_credentials(&email.trim().to_lowercase())
        .await?;
    let stored: String = match &found {
        Some(found) => found.password_hash.clone(),
        None => decoy_hash().to_owned(),
    };
    // Argon2 is slow on purpose: it runs on the checking threads, not the async workers,
    // so sign-ins cannot stall the chat.
    let matches = checks
        .check(stored, password)
        .await
        .ok_or(LogInError::Busy)?;
    let (Some(found), true) = (found, matches) else {
        return Ok(SignIn::Refused);
    };
    if found.account.disabled {
        return Ok(SignIn::Refused);
    }
    if found.totp_secret.is_some() {
        let challenge = random_token();
        store
            .open_sign_in_challenge(
                &token_hash(&challenge),
                found.account.id,
                now + chrono::Duration::minutes(CODE_MINUTES),
            )
            .await?;
        return Ok(SignIn::CodeNeeded(challenge));
    }
    Ok(open_session(store, member(found.account), now).await?)
}

/// The email of the account a pending sign-in (a `CodeNeeded` challenge) is for, if the
/// challenge is current: its code attempts count against that email, as its passwords do.
pub async fn pending_sign_in(
    store: &Store,
    challenge: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let found = store.sign_in_challenge(&token_hash(challenge), now).await?;
    Ok(found.map(|account| account.email))
}

/// The second step of a sign-in: the code from the account's authenticator, for the
/// challenge `log_in` gave. A code is accepted once (RFC 6238 section 5.2); a wrong one
/// leaves the challenge open until it expires, and the caller slows and limits guesses as
/// for a wrong password.
pub async fn log_in_with_code(
    store: &Store,
    challenge: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<SignIn, StoreError> {
    let hash = token_hash(challenge);
    let Some(account) = store.sign_in_challenge(&hash, now).await? else {
        return Ok(SignIn::Refused);
    };
    let Some(secret) = store
        .staff_credentials(&account.email)
        .await?
        .and_then(|c| c.totp_secret)
    else {
        return Ok(SignIn::Refused);
    };
    let Some(step) = totp::check(&secret, code, now) else {
        return Ok(SignIn::Refused);
    };
    if !store.use_totp_step(account.id, step).await? {
        return Ok(SignIn::Refused);
    }
    store.end_sign_in_challenge(&hash, now).await?;
    open_session(store, member(account), now).await
}

/// Opens a session for a member of staff who has proved who they are.
async fn open_session(
    store: &Store,
    staff: StaffMember,
    now: DateTime<Utc>,
) -> Result<SignIn, StoreError> {
    let token = random_token();
    let csrf = random_token();
    store
        .open_session(
            &token_hash(&token),
            staff.id,
            &csrf,
            now,
            now + chrono::Duration::hours(SESSION_HOURS),
        )
        .await?;
    Ok(SignIn::SignedIn(token, Session { staff, csrf }))
}

/// The session a cookie token opens, if it is current.
pub async fn session(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>, StoreError> {
    let hash = token_hash(token);
    let Some(found) = current(store, &hash, now).await? else {
        return Ok(None);
    };
    // The console is watched while someone uses it: a page opened or an action taken (at
    // most one write a minute). A live page left open does not count (`still_signed_in`).
    store.session_seen(&hash, now).await?;
    Ok(Some(found))
}

/// Whether the session is still current, without counting as use of the console: a live
/// page left open overnight is not a manager watching it.
pub async fn still_signed_in(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(current(store, &token_hash(token), now).await?.is_some())
}

async fn current(
    store: &Store,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>, StoreError> {
    Ok(store.session(hash, now).await?.map(|found| Session {
        staff: member(found.account),
        csrf: found.csrf,
    }))
}

/// Ends a session.
pub async fn log_out(store: &Store, token: &str) -> Result<(), StoreError> {
    store.end_session(&token_hash(token)).await
}

/// A manager acknowledges an alert: it stops moving up the escalation chain. Audited. False
/// if it was already acknowledged.
pub async fn acknowledge(
    store: &Store,
    alert: AlertId,
    staff: &StaffMember,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    acknowledge_from(store, alert, staff, "console", now).await
}

/// A manager acknowledges every open alert of one kind on a conversation at once (three
/// health and safety alerts about one leak are one matter). Audited with the alerts' ids;
/// how many were acknowledged.
pub async fn acknowledge_group(
    store: &Store,
    conversation: ConversationId,
    kind: &str,
    staff: &StaffMember,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut record = store.begin().await?;
    let done = record
        .acknowledge_alerts(conversation, kind, staff.id, now)
        .await?;
    if !done.is_empty() {
        record.audit(
            staff.id,
            "acknowledge_alerts",
            Some(conversation),
            None,
            &serde_json::json!({ "alerts": done, "kind": kind, "from": "console" }),
            now,
        );
    }
    record.commit().await?;
    Ok(done.len())
}

/// Acknowledges an alert from the console or a chat (`from`), audited with where from.
async fn acknowledge_from(
    store: &Store,
    alert: AlertId,
    staff: &StaffMember,
    from: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut record = store.begin().await?;
    let done = record.acknowledge_alert(alert, staff.id, now).await?;
    if done {
        record.audit(
            staff.id,
            "acknowledge_alert",
            None,
            None,
            &serde_json::json!({ "alert": alert, "from": from }),
            now,
        );
    }
    record.commit().await?;
    Ok(done)
}

impl Platform {
    /// Checks a user id as given on the command line (a positive number).
    pub fn check_user_id(self, user_id: &str) -> Result<(), StaffError> {
        let user_id = user_id.trim();
        if user_id.is_empty() || !user_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(StaffError::Invalid(format!(
                "{user_id:?} is not a {} user id (a number)",
                self.as_str()
            )));
        }
        Ok(())
    }
}

/// Links a staff account to its holder's user id on a chat platform (their numeric Telegram
/// or Discord user id). False if there is no account with that email.
pub async fn link(
    store: &Store,
    email: &str,
    platform: Platform,
    user_id: &str,
) -> Result<bool, StaffError> {
    platform.check_user_id(user_id)?;
    let user_id = user_id.trim();
    let email = email.trim().to_lowercase();
    if let Some(holder) = store.staff_linked_to(platform, user_id).await?
        && holder.email != email
    {
        return Err(StaffError::Invalid(format!(
            "{} user {user_id} is already linked to {}",
            platform.as_str(),
            holder.email
        )));
    }
    Ok(store.link_staff(platform, &email, user_id).await?)
}

/// What pressing an alert's Acknowledge button in a chat did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatAcknowledgement {
    /// Acknowledged by this member of staff.
    Done(String),
    /// Someone had already acknowledged it.
    Already,
    /// The person who pressed is not linked to a manager's account.
    NotAManager,
}

/// A button press on an alert in a Telegram chat or Discord channel: acknowledged (and
/// audited) when the platform user is linked to a manager's or admin's account.
pub async fn acknowledge_from_chat(
    store: &Store,
    platform: Platform,
    user_id: &str,
    alert: AlertId,
    now: DateTime<Utc>,
) -> Result<ChatAcknowledgement, StoreError> {
    let linked = store.staff_linked_to(platform, user_id).await?;
    // A disabled account acts on nothing, from a chat either.
    let Some(staff) = linked.filter(|a| !a.disabled).map(member) else {
        return Ok(ChatAcknowledgement::NotAManager);
    };
    if !staff.role.is_manager() {
        return Ok(ChatAcknowledgement::NotAManager);
    }
    let done = acknowledge_from(store, alert, &staff, platform.as_str(), now).await?;
    Ok(if done {
        ChatAcknowledgement::Done(staff.name)
    } else {
        ChatAcknowledgement::Already
    })
}

/// The words a chat shows after an Acknowledge button is pressed.
pub fn acknowledgement_words(outcome: &ChatAcknowledgement, alert: AlertId) -> String {
    match outcome {
        ChatAcknowledgement::Done(name) => format!("Alert {alert} acknowledged by {name}."),
        ChatAcknowledgement::Already => format!("Alert {alert} was already acknowledged."),
        ChatAcknowledgement::NotAManager => "Only a manager whose account is linked in intake can acknowledge alerts here (intake staff link). Nothing was changed.".to_owned(),
    }
}

/// Adds an internal note to a conversation (audited).
pub async fn add_note(
    store: &Store,
    conversation: ConversationId,
    staff: &StaffMember,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut record = store.begin().await?;
    record.note(conversation, staff.id, body, now);
    record.audit(
        staff.id,
        "note",
        Some(conversation),
        None,
        &serde_json::json!({ "characters": body.chars().count() }),
        now,
    );
    record.commit().await
}

/// What became of a correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corrected {
    Recorded,
    /// No such assessed resident message in the conversation.
    NotFound,
    /// About support needs, which this member of staff's role does not see (5.10).
    Restricted,
}

/// Records a member of staff's correction of a resident message's assessment.
pub async fn add_correction(
    store: &Store,
    conversation: ConversationId,
    message: MessageId,
    staff: &StaffMember,
    correction: &Correction,
    now: DateTime<Utc>,
) -> Result<Corrected, StoreError> {
    let Some(assessment) = store.inbound_assessment(conversation, message).await? else {
        return Ok(Corrected::NotFound);
    };
    if !staff.role.sees_adjustments() {
        let about_support = matches!(correction, Correction::Risk(Risk::Vulnerability, _))
            || assessment.contains("\"vulnerability\"")
            || assessment.contains("learned.doubts.vulnerability");
        let marked = store.vulnerability_marks(message).await?;
        if about_support || marked > 0 {
            return Ok(Corrected::Restricted);
        }
    }
    let mut record = store.begin().await?;
    record.correction(message, staff.id, correction, now);
    record.audit(
        staff.id,
        "assessment_corrected",
        Some(conversation),
        None,
        &serde_json::json!({ "message": message, "field": correction.field(), "value": correction.value() }),
        now,
    );
    record.commit().await?;
    Ok(Corrected::Recorded)
}
