//! Administering staff accounts (issue 12), from the console by an admin or from the command
//! line by an operator: adding an account, changing its role, disabling and re-enabling it,
//! setting its password. Every change is audited with who made it; the record refuses any
//! change that would leave no admin able to sign in.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Role, SHORTEST_PASSWORD, StaffError, StaffMember, totp};
use crate::core::ids::StaffId;
use crate::store::{AccountChange, Changed, Store};

/// A staff account as the admins' page and `intake staff list` show it.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: StaffId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub disabled_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// Signs in with a code from an authenticator app as well as the password.
    pub two_step: bool,
}

/// A change to an account, as the admins' page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountAudit {
    /// The admin who made it; "the command line" for an operator.
    pub by: String,
    pub account: String,
    pub action: String,
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// Every staff account, enabled ones first.
pub async fn accounts(store: &Store) -> Result<Vec<Account>, StaffError> {
    Ok(store
        .staff_list()
        .await?
        .into_iter()
        .map(|listed| Account {
            id: listed.account.id,
            name: listed.account.name,
            email: listed.account.email,
            role: Role::parse(&listed.account.role).unwrap_or(Role::Agent),
            disabled_at: listed.disabled_at,
            last_sign_in_at: listed.last_sign_in_at,
            two_step: listed.two_step,
        })
        .collect())
}

/// The latest changes to accounts, newest first.
pub async fn recent_changes(store: &Store, most: i64) -> Result<Vec<AccountAudit>, StaffError> {
    Ok(store
        .staff_audit_lines(most)
        .await?
        .into_iter()
        .map(|line| AccountAudit {
            by: line.actor.unwrap_or_else(|| "the command line".to_owned()),
            account: line.staff,
            action: line.action,
            detail: line.detail,
            at: line.at,
        })
        .collect())
}

/// The id of the account with this email, if any (emails are kept trimmed, in lower case).
pub async fn by_email(store: &Store, email: &str) -> Result<Option<StaffId>, StaffError> {
    Ok(store
        .staff_id_by_email(&email.trim().to_lowercase())
        .await?)
}

/// A password for a new account or a reset: 20 characters from an alphabet without look-alike
/// letters and digits (about 113 bits), in groups of four so it can be read out. Shown once
/// to the admin, who passes it on; only its hash is kept.
pub fn generated_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789";
    let mut groups = Vec::with_capacity(5);
    for _ in 0..5 {
        let group: String = (0..4)
            .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
            .collect();
        groups.push(group);
    }
    groups.join("-")
}

/// The password's Argon2id hash, once it is long enough; hashed off the async workers.
async fn hash_password(password: &str) -> Result<String, StaffError> {
    if password.chars().count() < SHORTEST_PASSWORD {
        return Err(StaffError::Invalid(format!(
            "the password must be at least {SHORTEST_PASSWORD} characters"
        )));
    }
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
            .map_err(|e| StaffError::Invalid(format!("cannot make a salt: {e}")))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| StaffError::Invalid(format!("cannot hash the password: {e}")))
    })
    .await
    .map_err(|e| StaffError::Invalid(format!("cannot hash the password: {e}")))?
}

/// Creates a staff account from the command line; the password is kept only as an Argon2id
/// hash.
pub async fn add(
    store: &Store,
    name: &str,
    email: &str,
    role: Role,
    password: &str,
    now: DateTime<Utc>,
) -> Result<StaffMember, StaffError> {
    add_by(store, None, name, email, role, password, now).await
}

/// Creates a staff account, audited as made by `actor` (`None`: the command line).
pub async fn add_by(
    store: &Store,
    actor: Option<&StaffMember>,
    name: &str,
    email: &str,
    role: Role,
    password: &str,
    now: DateTime<Utc>,
) -> Result<StaffMember, StaffError> {
    let name = name.trim();
    let email = email.trim().to_lowercase();
    if name.is_empty() {
        return Err(StaffError::Invalid("a name is needed".to_owned()));
    }
    if !email.contains('@') || email.contains(char::is_whitespace) {
        return Err(StaffError::Invalid(format!(
            "{email:?} is not an email address"
        )));
    }
    let hash = hash_password(password).await?;
    if store.staff_id_by_email(&email).await?.is_some() {
        return Err(StaffError::Exists(email));
    }
    let id = store
        .add_staff(actor.map(|a| a.id), name, &email, role.as_str(), &hash, now)
        .await?;
    Ok(StaffMember {
        id,
        name: name.to_owned(),
        email,
        role,
    })
}

/// What a change did: `true` if it changed anything (an account already so is left alone).
fn outcome(changed: Changed) -> Result<bool, StaffError> {
    match changed {
        Changed::Done => Ok(true),
        Changed::Unchanged => Ok(false),
        Changed::NoSuchAccount => Err(StaffError::NoSuchAccount),
        Changed::LastAdmin => Err(StaffError::LastAdmin),
        Changed::NothingPending => Err(StaffError::Invalid(
            "start two-step sign-in again: no secret is waiting to be confirmed".to_owned(),
        )),
    }
}

/// Gives an account another role; its holder's next page already has it.
pub async fn change_role(
    store: &Store,
    actor: &StaffMember,
    account: StaffId,
    role: Role,
    now: DateTime<Utc>,
) -> Result<bool, StaffError> {
    let change = AccountChange::Role(role.as_str());
    outcome(
        store
            .change_staff(Some(actor.id), account, change, now)
            .await?,
    )
}

/// Disables an account: its sessions end at once (its next request is sent to sign in and its
/// live pages stop) and it cannot sign in until enabled again.
pub async fn disable(
    store: &Store,
    actor: Option<&StaffMember>,
    account: StaffId,
    now: DateTime<Utc>,
) -> Result<bool, StaffError> {
    let actor = actor.map(|a| a.id);
    outcome(
        store
            .change_staff(actor, account, AccountChange::Disable, now)
            .await?,
    )
}

/// Lets a disabled account sign in again.
pub async fn enable(
    store: &Store,
    actor: Option<&StaffMember>,
    account: StaffId,
    now: DateTime<Utc>,
) -> Result<bool, StaffError> {
    let actor = actor.map(|a| a.id);
    outcome(
        store
            .change_staff(actor, account, AccountChange::Enable, now)
            .await?,
    )
}

/// Sets an account's password (the rules are `staff add`'s); its sessions end, so whoever
/// held the old password is signed out. `generated` when the console made it.
pub async fn set_password(
    store: &Store,
    actor: Option<&StaffMember>,
    account: StaffId,
    password: &str,
    generated: bool,
    now: DateTime<Utc>,
) -> Result<(), StaffError> {
    let hash = hash_password(password).await?;
    let change = AccountChange::Password {
        hash: &hash,
        generated,
    };
    outcome(
        store
            .change_staff(actor.map(|a| a.id), account, change, now)
            .await?,
    )
    .map(|_| ())
}

/// Starts two-step sign-in for the holder's own account: a new secret to add to an
/// authenticator app. It counts only once a code made from it is confirmed.
pub async fn start_two_step(
    store: &Store,
    staff: &StaffMember,
    now: DateTime<Utc>,
) -> Result<String, StaffError> {
    let secret = totp::new_secret();
    let change = AccountChange::TwoStepStarted(&secret);
    if !outcome(
        store
            .change_staff(Some(staff.id), staff.id, change, now)
            .await?,
    )? {
        return Err(StaffError::Invalid(
            "two-step sign-in is already on for this account".to_owned(),
        ));
    }
    Ok(secret)
}

/// The secret of a two-step sign-in started and not yet confirmed, to show again.
pub async fn pending_two_step(
    store: &Store,
    staff: &StaffMember,
) -> Result<Option<String>, StaffError> {
    let listed = store.staff_list().await?;
    Ok(listed
        .into_iter()
        .find(|l| l.account.id == staff.id)
        .and_then(|l| l.two_step_pending))
}

/// Turns two-step sign-in on once `code` is the authenticator's code for the pending
/// secret; false (nothing changed) when it is not.
pub async fn confirm_two_step(
    store: &Store,
    staff: &StaffMember,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, StaffError> {
    let Some(secret) = pending_two_step(store, staff).await? else {
        return Err(StaffError::Invalid(
            "start two-step sign-in again: no secret is waiting to be confirmed".to_owned(),
        ));
    };
    let Some(step) = totp::check(&secret, code, now) else {
        return Ok(false);
    };
    let change = AccountChange::TwoStepOn { step };
    outcome(
        store
            .change_staff(Some(staff.id), staff.id, change, now)
            .await?,
    )
}

/// Turns two-step sign-in off (or drops one not yet confirmed): by its holder, or by an
/// admin for someone who lost their phone.
pub async fn turn_off_two_step(
    store: &Store,
    actor: &StaffMember,
    account: StaffId,
    now: DateTime<Utc>,
) -> Result<bool, StaffError> {
    let change = AccountChange::TwoStepOff;
    outcome(
        store
            .change_staff(Some(actor.id), account, change, now)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_fresh_and_readable() {
        let password = generated_password();
        assert_eq!(password.len(), 24, "{password}");
        assert!(password.chars().count() >= SHORTEST_PASSWORD);
        assert_eq!(password.split('-').count(), 5);
        assert!(
            !password.contains(['0', 'O', 'o', '1', 'l', 'I', 'i', '5', 'S', '2', 'Z']),
            "{password}"
        );
        assert_ne!(password, generated_password());
    }
}
