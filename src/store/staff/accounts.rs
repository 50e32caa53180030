//! Administering staff accounts (issue 12): the list admins see, each change to an account
//! with its audit line in the same transaction, the rule that the last admin stays one, and
//! the second factor's sign-in challenges and used steps.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{StaffAccount, account};
use crate::core::ids::StaffId;
use crate::store::{Backend, Record, Store, StoreError, Value, from_millis, millis};

/// A staff account as the admins' list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffListing {
    pub account: StaffAccount,
    pub disabled_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// Whether the account signs in with a second factor.
    pub two_step: bool,
    /// A second factor started but not yet confirmed with a code.
    pub two_step_pending: Option<String>,
}

/// A change to a staff account, as the record takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange<'a> {
    Role(&'a str),
    Disable,
    Enable,
    /// A new password (its Argon2 PHC string); `generated` when the console made it.
    Password {
        hash: &'a str,
        generated: bool,
    },
    /// A TOTP secret (base32) waiting to be confirmed with a code.
    TwoStepStarted(&'a str),
    /// The pending secret confirmed by a code for `step`, which is then used.
    TwoStepOn {
        step: i64,
    },
    TwoStepOff,
}

/// What became of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    Done,
    /// The account is already so: nothing written, nothing audited.
    Unchanged,
    NoSuchAccount,
    /// Refused: it would leave no admin who can sign in.
    LastAdmin,
    /// The second factor cannot be turned on: none was started.
    NothingPending,
}

/// A change to a staff account: who made it, to whose account, what, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAuditLine {
    /// The admin's name; `None` for the command line.
    pub actor: Option<String>,
    pub staff: String,
    pub action: String,
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Every staff account: enabled ones first, each by name.
    pub async fn staff_list(&self) -> Result<Vec<StaffListing>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, email, role, disabled_at, last_sign_in_at, totp_secret, \
             totp_enabled_at FROM staff \
             ORDER BY CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END, name, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let enabled_at: Option<i64> = r.try_get("totp_enabled_at")?;
                let secret: Option<String> = r.try_get("totp_secret")?;
                Ok(StaffListing {
                    account: account(r)?,
                    disabled_at: r.try_get::<Option<i64>, _>("disabled_at")?.map(from_millis),
                    last_sign_in_at: r
                        .try_get::<Option<i64>, _>("last_sign_in_at")?
                        .map(from_millis),
                    two_step: enabled_at.is_some(),
                    two_step_pending: secret.filter(|_| enabled_at.is_none()),
                })
            })
            .collect()
    }

    /// Changes a staff account and audits it as done by `actor` (`None`: the command line),
    /// in one transaction. Disabling or a new password also ends every session and pending
    /// sign-in of the account, so its next request is refused and its live pages stop.
    /// Nothing may leave the record without an enabled admin: the admins' rows are locked
    /// first on PostgreSQL, so two admins demoting each other at once cannot both succeed
    /// (SQLite runs one writer at a time).
    pub async fn change_staff(
        &self,
        actor: Option<StaffId>,
        target: StaffId,
        change: AccountChange<'_>,
        now: DateTime<Utc>,
    ) -> Result<Changed, StoreError> {
        let mut record = self.begin().await?;
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let admins: Vec<StaffId> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM staff WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id{lock}"
        )))
        .fetch_all(record.conn().await?)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, name, email, role, disabled_at, totp_secret, totp_enabled_at \
             FROM staff WHERE id = $1{lock}"
        )))
        .bind(target)
        .fetch_optional(record.conn().await?)
        .await?
        else {
            return Ok(Changed::NoSuchAccount);
        };
        let current = account(&row)?;
        let secret: Option<String> = row.try_get("totp_secret")?;
        let two_step = row.try_get::<Option<i64>, _>("totp_enabled_at")?.is_some();
        let stops_being_admin = match change {
            AccountChange::Role(role) => role != "admin",
            AccountChange::Disable => true,
            _ => false,
        };
        if stops_being_admin && admins == [target] {
            return Ok(Changed::LastAdmin);
        }
        let id = Value::Int(target.0);
        let email = current.email.clone();
        let (action, detail) = match change {
            AccountChange::Role(role) if role == current.role => return Ok(Changed::Unchanged),
            AccountChange::Role(role) => {
                record.queue(
                    "UPDATE staff SET role = $1 WHERE id = $2",
                    vec![Value::Text(role.to_owned()), id],
                );
                let detail =
                    serde_json::json!({ "email": email, "from": current.role, "to": role });
                ("role_changed", detail)
            }
            AccountChange::Disable if current.disabled => return Ok(Changed::Unchanged),
            AccountChange::Disable => {
                record.queue(
                    "UPDATE staff SET disabled_at = $1 WHERE id = $2",
                    vec![Value::Int(millis(now)), id],
                );
                end_sign_ins(&mut record, target);
                ("disabled", serde_json::json!({ "email": email }))
            }
            AccountChange::Enable if !current.disabled => return Ok(Changed::Unchanged),
            AccountChange::Enable => {
                record.queue(
                    "UPDATE staff SET disabled_at = NULL WHERE id = $1",
                    vec![id],
                );
                ("enabled", serde_json::json!({ "email": email }))
            }
            AccountChange::Password { hash, generated } => {
                record.queue(
                    "UPDATE staff SET password_hash = $1 WHERE id = $2",
                    vec![Value::Text(hash.to_owned()), id],
                );
                end_sign_ins(&mut record, target);
                let detail = serde_json::json!({ "email": email, "generated": generated });
                ("password_set", detail)
            }
            AccountChange::TwoStepStarted(_) if two_step => return Ok(Changed::Unchanged),
            AccountChange::TwoStepStarted(new_secret) => {
                record.queue(
                    "UPDATE staff SET totp_secret = $1, totp_last_step = NULL WHERE id = $2",
                    vec![Value::Text(new_secret.to_owned()), id],
                );
                ("two_step_started", serde_json::json!({ "email": email }))
            }
            AccountChange::TwoStepOn { .. } if two_step => return Ok(Changed::Unchanged),
            AccountChange::TwoStepOn { .. } if secret.is_none() => {
                return Ok(Changed::NothingPending);
            }
            AccountChange::TwoStepOn { step } => {
                record.queue(
                    "UPDATE staff SET totp_enabled_at = $1, totp_last_step = $2 WHERE id = $3",
                    vec![Value::Int(millis(now)), Value::Int(step), id],
                );
                ("two_step_on", serde_json::json!({ "email": email }))
            }
            AccountChange::TwoStepOff if secret.is_none() => return Ok(Changed::Unchanged),
            AccountChange::TwoStepOff => {
                record.queue(
                    "UPDATE staff SET totp_secret = NULL, totp_enabled_at = NULL, \
                     totp_last_step = NULL WHERE id = $1",
                    vec![id],
                );
                ("two_step_off", serde_json::json!({ "email": email }))
            }
        };
        record.staff_audit(actor, target, action, &detail, now);
        record.commit().await?;
        Ok(Changed::Done)
    }

    /// The latest changes to staff accounts, newest first.
    pub async fn staff_audit_lines(&self, most: i64) -> Result<Vec<StaffAuditLine>, StoreError> {
        let rows = sqlx::query(
            "SELECT actor.name AS actor, s.name AS staff, a.action, a.detail, a.at \
             FROM staff_audit a JOIN staff s ON s.id = a.staff_id \
             LEFT JOIN staff actor ON actor.id = a.actor_id ORDER BY a.id DESC LIMIT $1",
        )
        .bind(most)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StaffAuditLine {
                    actor: r.try_get("actor")?,
                    staff: r.try_get("staff")?,
                    action: r.try_get("action")?,
                    detail: serde_json::from_str(&r.try_get::<String, _>("detail")?)?,
                    at: from_millis(r.try_get("at")?),
                })
            })
            .collect()
    }

    /// Takes a 30-second step's code for the account: true only the first time, so a code
    /// seen over someone's shoulder cannot be used again (RFC 6238 section 5.2).
    pub async fn use_totp_step(&self, staff: StaffId, step: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE staff SET totp_last_step = $1 \
             WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(staff)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Opens a sign-in that waits for its second factor, known by the hash of a cookie token.
    pub async fn open_sign_in_challenge(
        &self,
        token_hash: &str,
        staff: StaffId,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO staff_sign_in_challenges (token_hash, staff_id, expires_at) \
             VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(staff)
        .bind(millis(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The account a pending sign-in is for, if it is current and the account enabled.
    pub async fn sign_in_challenge(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let row = sqlx::query(
            "SELECT s.id, s.name, s.email, s.role, s.disabled_at \
             FROM staff_sign_in_challenges c JOIN staff s ON s.id = c.staff_id \
             WHERE c.token_hash = $1 AND c.expires_at > $2 AND s.disabled_at IS NULL",
        )
        .bind(token_hash)
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(account).transpose()
    }

    /// Ends a pending sign-in, and any that have expired.
    pub async fn end_sign_in_challenge(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM staff_sign_in_challenges WHERE token_hash = $1 OR expires_at <= $2",
        )
        .bind(token_hash)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Ends every session and pending sign-in of an account.
fn end_sign_ins(record: &mut Record<'_>, staff: StaffId) {
    record.queue(
        "DELETE FROM staff_sessions WHERE staff_id = $1",
        vec![Value::Int(staff.0)],
    );
    record.queue(
        "DELETE FROM staff_sign_in_challenges WHERE staff_id = $1",
        vec![Value::Int(staff.0)],
    );
}

impl Record<'_> {
    /// Appends a line to the audit of staff accounts.
    pub fn staff_audit(
        &mut self,
        actor: Option<StaffId>,
        staff: StaffId,
        action: &str,
        detail: &serde_json::Value,
        now: DateTime<Utc>,
    ) {
        self.queue(
            "INSERT INTO staff_audit (actor_id, staff_id, action, detail, at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                Value::MaybeInt(actor.map(|a| a.0)),
                Value::Int(staff.0),
                Value::Text(action.to_owned()),
                Value::Text(detail.to_string()),
                Value::Int(millis(now)),
            ],
        );
    }
}
