//! Staff accounts (the password only as an Argon2id hash, made by `crate::staff`), their
//! console sessions (only a hash of each cookie token is kept), and the chat accounts linked
//! to them so their holders can acknowledge alerts from a chat; administering accounts (in
//! `accounts`).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, Value, millis};
use crate::core::ids::StaffId;

mod accounts;
pub use accounts::{AccountChange, Changed, StaffAuditLine, StaffListing};

/// A staff account as the record holds it; `crate::staff` reads the role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    pub id: StaffId,
    pub name: String,
    pub email: String,
    pub role: String,
    /// Disabled accounts cannot sign in, have no sessions and act on nothing; their name
    /// stays on what they did.
    pub disabled: bool,
}

/// A staff account with its password hash, for signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffCredentials {
    pub account: StaffAccount,
    /// An Argon2 PHC string.
    pub password_hash: String,
    /// The TOTP secret (base32) once the second factor is on.
    pub totp_secret: Option<String>,
}

/// A current console session: whose it is, and the token its forms carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    pub account: StaffAccount,
    pub csrf: String,
}

/// A member of staff by id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffName {
    pub id: StaffId,
    pub name: String,
}

/// The chat platforms a staff account can be linked to, so that its holder can acknowledge
/// alerts with a button in the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Telegram,
    Discord,
}

impl Platform {
    fn column_query(self) -> (&'static str, &'static str) {
        match self {
            Platform::Telegram => (
                "UPDATE staff SET telegram_user_id = $1 WHERE email = $2",
                "SELECT id, name, email, role, disabled_at FROM staff WHERE telegram_user_id = $1",
            ),
            Platform::Discord => (
                "UPDATE staff SET discord_user_id = $1 WHERE email = $2",
                "SELECT id, name, email, role, disabled_at FROM staff WHERE discord_user_id = $1",
            ),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Telegram => "telegram",
            Platform::Discord => "discord",
        }
    }
}

fn account(r: &sqlx::any::AnyRow) -> Result<StaffAccount, StoreError> {
    Ok(StaffAccount {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        role: r.try_get("role")?,
        disabled: r.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
    })
}

impl Store {
    /// The id of the account with this email (as stored: trimmed, lower case), if any.
    pub async fn staff_id_by_email(&self, email: &str) -> Result<Option<StaffId>, StoreError> {
        let row = sqlx::query("SELECT id FROM staff WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("id").map_err(StoreError::from))
            .transpose()
    }

    /// Creates a staff account, audited as made by `actor` (`None`: the command line); its id.
    pub async fn add_staff(
        &self,
        actor: Option<StaffId>,
        name: &str,
        email: &str,
        role: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<StaffId, StoreError> {
        let mut record = self.begin().await?;
        let row = sqlx::query(
            "INSERT INTO staff (name, email, role, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(name)
        .bind(email)
        .bind(role)
        .bind(password_hash)
        .bind(millis(now))
        .fetch_one(record.conn().await?)
        .await?;
        let id: StaffId = row.try_get("id")?;
        let detail = serde_json::json!({ "email": email, "role": role });
        record.staff_audit(actor, id, "account_added", &detail, now);
        record.commit().await?;
        Ok(id)
    }

    /// The account with this email and its password hash, for signing in.
    pub async fn staff_credentials(
        &self,
        email: &str,
    ) -> Result<Option<StaffCredentials>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, email, role, disabled_at, password_hash, totp_secret, \
             totp_enabled_at FROM staff WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(StaffCredentials {
                account: account(&r)?,
                password_hash: r.try_get("password_hash")?,
                totp_secret: match r.try_get::<Option<i64>, _>("totp_enabled_at")? {
                    Some(_) => r.try_get("totp_secret")?,
                    None => None,
                },
            })),
            None => Ok(None),
        }
    }

    /// Opens a console session, known by the hash of its cookie token, until `expires_at`;
    /// it is the account's last sign-in.
    pub async fn open_session(
        &self,
        token_hash: &str,
        staff: StaffId,
        csrf: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut record = self.begin().await?;
        record.queue(
            "INSERT INTO staff_sessions (token_hash, staff_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                Value::Text(token_hash.to_owned()),
                Value::Int(staff.0),
                Value::Text(csrf.to_owned()),
                Value::Int(millis(now)),
                Value::Int(millis(expires_at)),
            ],
        );
        record.queue(
            "UPDATE staff SET last_sign_in_at = $1 WHERE id = $2",
            vec![Value::Int(millis(now)), Value::Int(staff.0)],
        );
        record.commit().await
    }

    /// The session known by this token hash, if it is current at `now` and its account is
    /// not disabled (disabling deletes the sessions too; this holds if one were left).
    pub async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StaffSession>, StoreError> {
        let row = sqlx::query(
            "SELECT s.id, s.name, s.email, s.role, s.disabled_at, x.csrf FROM staff_sessions x \
             JOIN staff s ON s.id = x.staff_id \
             WHERE x.token_hash = $1 AND x.expires_at > $2 AND s.disabled_at IS NULL",
        )
        .bind(token_hash)
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(StaffSession {
                account: account(&r)?,
                csrf: r.try_get("csrf")?,
            })),
            None => Ok(None),
        }
    }

    /// Ends the session known by this token hash.
    pub async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The account with this id, if any.
    pub async fn staff_account(&self, staff: StaffId) -> Result<Option<StaffAccount>, StoreError> {
        let row = sqlx::query("SELECT id, name, email, role, disabled_at FROM staff WHERE id = $1")
            .bind(staff)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account).transpose()
    }

    /// The name of the member of staff with this id, if any.
    pub async fn staff_name(&self, staff: StaffId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT name FROM staff WHERE id = $1")
            .bind(staff)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("name").map_err(StoreError::from))
            .transpose()
    }

    /// Every member of staff's name, by id.
    pub async fn staff_names(
        &self,
    ) -> Result<std::collections::HashMap<StaffId, String>, StoreError> {
        sqlx::query("SELECT id, name FROM staff")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
            .collect()
    }

    /// Staff whose role is not `agent` (complaints officers, managers, admins), by name;
    /// not disabled accounts, which nothing can be assigned to.
    pub async fn caseworkers(&self) -> Result<Vec<StaffName>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name FROM staff WHERE role <> 'agent' AND disabled_at IS NULL \
             ORDER BY name, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StaffName {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }

    /// The email addresses of every member of staff with this role (as stored), but disabled
    /// accounts: alerts are not mailed to someone who has left.
    pub async fn staff_emails_with_role(&self, role: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT email FROM staff WHERE role = $1 AND disabled_at IS NULL")
            .bind(role)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("email")?))
            .collect()
    }

    /// The account linked to this user id on a chat platform, if any.
    pub async fn staff_linked_to(
        &self,
        platform: Platform,
        user_id: &str,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let (_, select) = platform.column_query();
        let row = sqlx::query(select)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account).transpose()
    }

    /// Links the account with this email to a user id on a chat platform; false if there is
    /// no such account.
    pub async fn link_staff(
        &self,
        platform: Platform,
        email: &str,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        let (update, _) = platform.column_query();
        let done = sqlx::query(update)
            .bind(user_id)
            .bind(email)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
