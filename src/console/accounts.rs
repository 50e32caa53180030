//! Staff accounts in the console (issue 12). Admins list every account, add one, change a
//! role, disable and re-enable an account (disabling ends its sessions at once) and reset a
//! password; a new or reset password is generated and shown once, to the admin, who passes
//! it on. The last admin who can sign in cannot be demoted or disabled. Every member of staff
//! may turn on two-step sign-in for their own account (RFC 6238), and an admin may turn it
//! off for someone who lost their phone. Every change is audited (`staff_audit`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::auth::{Admin, AdminForm, CsrfForm, form_token};
use super::{Console, Error, Staff, StaffForm};
use crate::core::ids::StaffId;
use crate::staff::{self, Account, Role, StaffError, StaffMember, totp};

/// Changes to accounts the page lists.
const RECENT_CHANGES: i64 = 30;

/// The roles, as the forms offer them.
const ROLES: [Role; 4] = [
    Role::Agent,
    Role::ComplaintsOfficer,
    Role::Manager,
    Role::Admin,
];

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Agent => "Agent",
        Role::ComplaintsOfficer => "Complaints officer",
        Role::Manager => "Manager",
        Role::Admin => "Admin",
    }
}

#[derive(Serialize)]
struct RoleOption {
    value: &'static str,
    label: &'static str,
}

fn role_options() -> Vec<RoleOption> {
    ROLES
        .iter()
        .map(|r| RoleOption {
            value: r.as_str(),
            label: role_label(*r),
        })
        .collect()
}

/// A time as staff read it, in the landlord's time zone: "Tue 1 Dec 2026, 15:04".
fn when(console: &Console, at: DateTime<Utc>) -> String {
    let tz: Tz = console
        .intake
        .profile()
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Europe::London);
    at.with_timezone(&tz)
        .format("%a %-d %b %Y, %H:%M")
        .to_string()
}

/// One account as the list shows it.
#[derive(Serialize)]
struct Row {
    id: StaffId,
    name: String,
    email: String,
    role: &'static str,
    role_label: &'static str,
    /// When it was disabled, if it is.
    disabled: Option<String>,
    last_sign_in: String,
    two_step: bool,
    /// The admin's own row.
    is_you: bool,
}

/// What the form to add an account shows again after a refusal.
#[derive(Debug, Default, Deserialize, Serialize)]
pub(super) struct AddForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default, skip_serializing)]
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct RoleForm {
    role: String,
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct CodeForm {
    #[serde(default)]
    code: String,
    csrf: String,
}

form_token!(AddForm, RoleForm, CodeForm);

#[derive(Serialize)]
struct AccountsPage<'a> {
    landlord: String,
    staff: &'a StaffMember,
    csrf: &'a str,
    accounts: Vec<Row>,
    roles: Vec<RoleOption>,
    changes: Vec<String>,
    /// A refusal, shown at the top and beside the form it came from.
    error: Option<String>,
    /// Which form refused: "add", or an account's id.
    error_at: Option<String>,
    /// Said after a change went through.
    notice: Option<String>,
    add: AddForm,
}

/// The admins' page of accounts, with `error` beside the form that was refused (its input
/// kept) or a `notice` of what was done.
async fn accounts_page(
    console: &Console,
    session: &staff::Session,
    status: StatusCode,
    error: Option<(String, String)>,
    notice: Option<String>,
    add: AddForm,
) -> Result<Response, Error> {
    let accounts = staff::accounts(console.store())
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|a: Account| Row {
            id: a.id,
            is_you: a.id == session.staff.id,
            name: a.name,
            email: a.email,
            role: a.role.as_str(),
            role_label: role_label(a.role),
            disabled: a.disabled_at.map(|at| when(console, at)),
            last_sign_in: a
                .last_sign_in_at
                .map(|at| when(console, at))
                .unwrap_or_else(|| "never".to_owned()),
            two_step: a.two_step,
        })
        .collect();
    let changes = staff::recent_changes(console.store(), RECENT_CHANGES)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|c| {
            let what = match c.action.as_str() {
                "account_added" => format!(
                    "added {}'s account as {}",
                    c.account,
                    Role::parse(c.detail["role"].as_str().unwrap_or_default())
                        .map_or("?", role_label)
                ),
                "role_changed" => format!(
                    "made {} {} (was {})",
                    c.account,
                    Role::parse(c.detail["to"].as_str().unwrap_or_default())
                        .map_or("?", role_label),
                    Role::parse(c.detail["from"].as_str().unwrap_or_default())
                        .map_or("?", role_label)
                ),
                "disabled" => format!("disabled {}'s account", c.account),
                "enabled" => format!("enabled {}'s account", c.account),
                "password_set" if c.detail["generated"] == true => {
                    format!("reset {}'s password", c.account)
                }
                "password_set" => format!("set {}'s password", c.account),
                "two_step_started" => format!("started two-step sign-in for {}", c.account),
                "two_step_on" => format!("turned on two-step sign-in for {}", c.account),
                "two_step_off" => format!("turned off two-step sign-in for {}", c.account),
                other => format!("{other}: {}", c.account),
            };
            format!("{}: {} {what}.", when(console, c.at), c.by)
        })
        .collect();
    let (error, error_at) = error.map_or((None, None), |(at, words)| (Some(words), Some(at)));
    let page = AccountsPage {
        landlord: console.landlord(),
        staff: &session.staff,
        csrf: &session.csrf,
        accounts,
        roles: role_options(),
        changes,
        error,
        error_at,
        notice,
        add,
    };
    let mut response = console.render("accounts.html", &page);
    *response.status_mut() = status;
    Ok(response)
}

fn unavailable(e: StaffError) -> Error {
    match e {
        StaffError::Store(e) => e.into(),
        other => Error::Unavailable(other.to_string()),
    }
}

/// A refused change, in the words and status the page shows it with; `None` for a failure
/// of the record (the console's own error page).
fn refusal(e: StaffError) -> Result<(StatusCode, String), Error> {
    match e {
        StaffError::Store(e) => Err(e.into()),
        StaffError::NoSuchAccount => Err(Error::NotFound("There is no such account.".into())),
        StaffError::LastAdmin => Ok((
            StatusCode::CONFLICT,
            "Nothing was changed: this is the last admin who can sign in. Make another account an admin first, so someone can still manage accounts.".to_owned(),
        )),
        StaffError::Exists(email) => Ok((
            StatusCode::CONFLICT,
            format!("Nothing was changed: there is already an account for {email}."),
        )),
        StaffError::Invalid(why) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Nothing was changed: {why}."),
        )),
    }
}

/// What the page says after a change went through (`?done=`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    #[serde(default)]
    done: String,
}

pub(super) async fn accounts(
    State(console): State<Console>,
    Query(done): Query<Done>,
    Admin(session): Admin,
) -> Result<Response, Error> {
    let notice = match done.done.as_str() {
        "role" => Some("The role was changed. It applies from that person's next page."),
        "disabled" => Some("The account was disabled and its sessions ended."),
        "enabled" => Some("The account was enabled: its holder can sign in again."),
        "two-step-off" => Some("Two-step sign-in was turned off for that account."),
        _ => None,
    };
    accounts_page(
        &console,
        &session,
        StatusCode::OK,
        None,
        notice.map(str::to_owned),
        AddForm::default(),
    )
    .await
}

/// What the page showing a new password once holds.
#[derive(Serialize)]
struct PasswordPage<'a> {
    landlord: String,
    staff: &'a StaffMember,
    csrf: &'a str,
    name: String,
    email: String,
    password: String,
    added: bool,
}

/// The page that shows a generated password, once: it is never stored or shown again.
fn password_page(
    console: &Console,
    session: &staff::Session,
    holder: (String, String),
    password: String,
    added: bool,
) -> Response {
    let (name, email) = holder;
    console.render(
        "account_password.html",
        &PasswordPage {
            landlord: console.landlord(),
            staff: &session.staff,
            csrf: &session.csrf,
            name,
            email,
            password,
            added,
        },
    )
}

pub(super) async fn add(
    State(console): State<Console>,
    AdminForm(session, form): AdminForm<AddForm>,
) -> Result<Response, Error> {
    let Some(role) = Role::parse(&form.role) else {
        let words = "Nothing was changed: choose a role.".to_owned();
        return accounts_page(
            &console,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(("add".to_owned(), words)),
            None,
            form,
        )
        .await;
    };
    let password = staff::generated_password();
    let added = staff::add_by(
        console.store(),
        Some(&session.staff),
        &form.name,
        &form.email,
        role,
        &password,
        Utc::now(),
    )
    .await;
    match added {
        Ok(member) => {
            tracing::info!(
                staff = member.id.0,
                by = session.staff.id.0,
                "console: account added"
            );
            Ok(password_page(
                &console,
                &session,
                (member.name, member.email),
                password,
                true,
            ))
        }
        Err(e) => {
            let (status, words) = refusal(e)?;
            accounts_page(
                &console,
                &session,
                status,
                Some(("add".to_owned(), words)),
                None,
                form,
            )
            .await
        }
    }
}

/// After a change to one account: the page again with what was done, or the refusal beside
/// that account.
async fn after_change(
    console: &Console,
    session: &staff::Session,
    account: StaffId,
    changed: Result<bool, StaffError>,
    done: &str,
) -> Result<Response, Error> {
    match changed {
        Ok(true) => Ok(
            Redirect::to(&format!("/console/accounts?done={done}#account-{account}"))
                .into_response(),
        ),
        Ok(false) => {
            Ok(Redirect::to(&format!("/console/accounts#account-{account}")).into_response())
        }
        Err(e) => {
            let (status, words) = refusal(e)?;
            let at = account.to_string();
            accounts_page(
                console,
                session,
                status,
                Some((at, words)),
                None,
                AddForm::default(),
            )
            .await
        }
    }
}

pub(super) async fn change_role(
    State(console): State<Console>,
    Path(account): Path<StaffId>,
    AdminForm(session, form): AdminForm<RoleForm>,
) -> Result<Response, Error> {
    let Some(role) = Role::parse(&form.role) else {
        return Err(Error::BadRequest("Choose a role.".into()));
    };
    let changed =
        staff::change_role(console.store(), &session.staff, account, role, Utc::now()).await;
    after_change(&console, &session, account, changed, "role").await
}

pub(super) async fn disable(
    State(console): State<Console>,
    Path(account): Path<StaffId>,
    AdminForm(session, _): AdminForm<CsrfForm>,
) -> Result<Response, Error> {
    let changed = staff::disable(console.store(), Some(&session.staff), account, Utc::now()).await;
    after_change(&console, &session, account, changed, "disabled").await
}

pub(super) async fn enable(
    State(console): State<Console>,
    Path(account): Path<StaffId>,
    AdminForm(session, _): AdminForm<CsrfForm>,
) -> Result<Response, Error> {
    let changed = staff::enable(console.store(), Some(&session.staff), account, Utc::now()).await;
    after_change(&console, &session, account, changed, "enabled").await
}

/// Resets a password to a generated one, shown once; the account's sessions end.
pub(super) async fn reset_password(
    State(console): State<Console>,
    Path(account): Path<StaffId>,
    AdminForm(session, _): AdminForm<CsrfForm>,
) -> Result<Response, Error> {
    let holder = staff::accounts(console.store())
        .await
        .map_err(unavailable)?
        .into_iter()
        .find(|a| a.id == account)
        .ok_or_else(|| Error::NotFound("There is no such account.".into()))?;
    let password = staff::generated_password();
    let set = staff::set_password(
        console.store(),
        Some(&session.staff),
        account,
        &password,
        true,
        Utc::now(),
    )
    .await;
    match set {
        Ok(()) => Ok(password_page(
            &console,
            &session,
            (holder.name, holder.email),
            password,
            false,
        )),
        Err(e) => after_change(&console, &session, account, Err(e), "").await,
    }
}

/// An admin turns off two-step sign-in for someone who can no longer make codes.
pub(super) async fn turn_off_two_step_for(
    State(console): State<Console>,
    Path(account): Path<StaffId>,
    AdminForm(session, _): AdminForm<CsrfForm>,
) -> Result<Response, Error> {
    let changed =
        staff::turn_off_two_step(console.store(), &session.staff, account, Utc::now()).await;
    after_change(&console, &session, account, changed, "two-step-off").await
}

/// A member of staff's own account: two-step sign-in.
#[derive(Serialize)]
struct OwnPage<'a> {
    landlord: String,
    staff: &'a StaffMember,
    csrf: &'a str,
    two_step: bool,
    /// The secret waiting to be confirmed, as base32 and as an `otpauth://` URI.
    secret: Option<String>,
    uri: Option<String>,
    error: Option<String>,
}

async fn own_page(
    console: &Console,
    session: &staff::Session,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, Error> {
    let two_step = staff::accounts(console.store())
        .await
        .map_err(unavailable)?
        .iter()
        .any(|a| a.id == session.staff.id && a.two_step);
    let secret = staff::pending_two_step(console.store(), &session.staff)
        .await
        .map_err(unavailable)?;
    let uri = secret
        .as_deref()
        .map(|s| totp::uri(s, &console.landlord(), &session.staff.email));
    let page = OwnPage {
        landlord: console.landlord(),
        staff: &session.staff,
        csrf: &session.csrf,
        two_step,
        secret,
        uri,
        error,
    };
    let mut response = console.render("account.html", &page);
    *response.status_mut() = status;
    Ok(response)
}

pub(super) async fn own_account(
    State(console): State<Console>,
    Staff(session): Staff,
) -> Result<Response, Error> {
    own_page(&console, &session, StatusCode::OK, None).await
}

pub(super) async fn start_two_step(
    State(console): State<Console>,
    StaffForm(session, _): StaffForm<CsrfForm>,
) -> Result<Response, Error> {
    match staff::start_two_step(console.store(), &session.staff, Utc::now()).await {
        Ok(_) => Ok(Redirect::to("/console/account").into_response()),
        Err(e) => {
            let (status, words) = refusal(e)?;
            own_page(&console, &session, status, Some(words)).await
        }
    }
}

pub(super) async fn confirm_two_step(
    State(console): State<Console>,
    StaffForm(session, form): StaffForm<CodeForm>,
) -> Result<Response, Error> {
    match staff::confirm_two_step(console.store(), &session.staff, &form.code, Utc::now()).await {
        Ok(true) => Ok(Redirect::to("/console/account").into_response()),
        Ok(false) => {
            let words = "That code does not match: type the code the app shows now.".to_owned();
            own_page(
                &console,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(words),
            )
            .await
        }
        Err(e) => {
            let (status, words) = refusal(e)?;
            own_page(&console, &session, status, Some(words)).await
        }
    }
}

pub(super) async fn turn_off_own_two_step(
    State(console): State<Console>,
    StaffForm(session, _): StaffForm<CsrfForm>,
) -> Result<Response, Error> {
    let me = session.staff.id;
    match staff::turn_off_two_step(console.store(), &session.staff, me, Utc::now()).await {
        Ok(_) => Ok(Redirect::to("/console/account").into_response()),
        Err(e) => {
            let (status, words) = refusal(e)?;
            own_page(&console, &session, status, Some(words)).await
        }
    }
}
