//! Signing in and out, and who is asking: the session behind the cookie, and the form token
//! every form of a session carries against cross-site request forgery.
//!
//! Handlers start from one of five extractors, so none of them can forget a check:
//! [`Staff`] for pages and streams, [`StaffForm`] for a form any member of staff may post,
//! [`Caseworker`] for case work, [`Admin`] and [`AdminForm`] for managing staff accounts.
//! An account with two-step sign-in gives the code from its authenticator after the
//! password (RFC 6238), under a short-lived challenge cookie of the sign-in form. A form's token is in its body, so the form extractors read
//! the body first (a form that cannot be read is refused as before), then the session, then
//! the token, then the role.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Form, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Console, Error};
use crate::secrets::constant_time_eq;
use crate::staff::{self, Role, Session, SignIn};
use crate::store::Store;

/// The session cookie.
const COOKIE: &str = "intake_staff";
/// The sign-in form's token cookie, sent back only with the form itself.
const LOGIN_COOKIE: &str = "intake_login";
/// A sign-in waiting for its second-factor code: the challenge's token.
const CODE_COOKIE: &str = "intake_code";
/// A wrong password costs this long, so guessing is slow.
const WRONG_PASSWORD_DELAY: Duration = Duration::from_secs(1);

/// A signed-in member of staff: the session behind the request's cookie. Without one, staff
/// are sent to sign in.
pub struct Staff(pub Session);

/// A form posted by a signed-in member of staff, its token checked against the session's.
pub struct StaffForm<F>(pub Session, pub F);

/// A form posted by a member of staff who may do case work (not agents), its token checked.
pub struct Caseworker<F>(pub Session, pub F);

/// An admin, for the pages that manage staff accounts; anyone else is refused.
pub struct Admin(pub Session);

/// A form posted by an admin, its token checked.
pub struct AdminForm<F>(pub Session, pub F);

/// A form that carries its session's token (cross-site request forgery).
pub trait FormToken {
    fn csrf(&self) -> &str;
}

/// A form with nothing but its token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// Implements [`FormToken`] for forms whose token is their `csrf` field.
macro_rules! form_token {
    ($($form:ty),* $(,)?) => {
        $(impl $crate::console::auth::FormToken for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })*
    };
}
pub(super) use form_token;

form_token!(CsrfForm);

impl FromRequestParts<Console> for Staff {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Staff, Error> {
        let jar = CookieJar::from_headers(&parts.headers);
        session(console, &jar).await.map(Staff)
    }
}

impl<F> FromRequest<Console> for StaffForm<F>
where
    F: DeserializeOwned + FormToken + Send,
{
    type Rejection = Error;

    async fn from_request(request: Request, console: &Console) -> Result<StaffForm<F>, Error> {
        let jar = CookieJar::from_headers(request.headers());
        let Form(form) = Form::<F>::from_request(request, console)
            .await
            .map_err(Error::Form)?;
        let session = session(console, &jar).await?;
        if !csrf_ok(&session, form.csrf()) {
            return Err(Error::Forbidden(
                "This form has expired. Go back, reload the page and try again.".into(),
            ));
        }
        Ok(StaffForm(session, form))
    }
}

impl<F> FromRequest<Console> for Caseworker<F>
where
    F: DeserializeOwned + FormToken + Send,
{
    type Rejection = Error;

    async fn from_request(request: Request, console: &Console) -> Result<Caseworker<F>, Error> {
        let StaffForm(session, form) = StaffForm::<F>::from_request(request, console).await?;
        if !session.staff.role.sees_adjustments() {
            return Err(Error::Forbidden(
                "Case work is for complaints officers and managers.".into(),
            ));
        }
        Ok(Caseworker(session, form))
    }
}

impl FromRequestParts<Console> for Admin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Admin, Error> {
        let Staff(session) = Staff::from_request_parts(parts, console).await?;
        admin_only(&session)?;
        Ok(Admin(session))
    }
}

impl<F> FromRequest<Console> for AdminForm<F>
where
    F: DeserializeOwned + FormToken + Send,
{
    type Rejection = Error;

    async fn from_request(request: Request, console: &Console) -> Result<AdminForm<F>, Error> {
        let StaffForm(session, form) = StaffForm::<F>::from_request(request, console).await?;
        admin_only(&session)?;
        Ok(AdminForm(session, form))
    }
}

fn admin_only(session: &Session) -> Result<(), Error> {
    if session.staff.role == Role::Admin {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "Staff accounts are managed by admins.".into(),
        ))
    }
}

/// The session token in the request's cookie, if any.
pub(super) fn token(jar: &CookieJar) -> Option<String> {
    jar.get(COOKIE).map(|c| c.value().to_owned())
}

/// The signed-in session, or the way to the sign-in page.
async fn session(console: &Console, jar: &CookieJar) -> Result<Session, Error> {
    let Some(token) = token(jar) else {
        return Err(Error::SignIn);
    };
    match staff::session(console.store(), &token, Utc::now()).await {
        Ok(Some(session)) => Ok(session),
        Ok(None) => Err(Error::SignIn),
        Err(e) => Err(e.into()),
    }
}

/// Whether the session behind a live stream is still current.
pub(super) async fn signed_in(store: &Store, token: &str) -> bool {
    matches!(
        staff::still_signed_in(store, token, Utc::now()).await,
        Ok(true)
    )
}

/// Checks a form's token against the session's, in constant time.
fn csrf_ok(session: &Session, given: &str) -> bool {
    constant_time_eq(session.csrf.as_bytes(), given.as_bytes())
}

impl Console {
    fn cookie(&self, token: String) -> Cookie<'static> {
        Cookie::build((COOKIE, token))
            .path("/console")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure_cookies)
            .build()
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    email: String,
    password: String,
    /// The sign-in form's own token, matched against its cookie, so another site cannot
    /// sign a member of staff in to an account of its choosing (login CSRF).
    #[serde(default)]
    csrf: String,
}

/// What the sign-in page shows.
#[derive(Serialize)]
struct LoginPage<'a> {
    landlord: String,
    error: &'a str,
    csrf: &'a str,
}

/// The sign-in page, with `error` (if any) and the form token (kept from the cookie when
/// there is one, so a re-shown form still matches).
fn login_form(console: &Console, jar: CookieJar, status: StatusCode, error: &str) -> Response {
    let token = jar
        .get(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|t| t.len() == 64)
        .unwrap_or_else(staff::random_token);
    let cookie = Cookie::build((LOGIN_COOKIE, token.clone()))
        .path("/console/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(console.secure_cookies)
        .build();
    let page = LoginPage {
        landlord: console.landlord(),
        error,
        csrf: &token,
    };
    let mut response =
        (status, jar.add(cookie), console.render("login.html", &page)).into_response();
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    }
    response
}

pub(super) async fn login_page(State(console): State<Console>, jar: CookieJar) -> Response {
    login_form(&console, jar, StatusCode::OK, "")
}

pub(super) async fn log_in(
    State(console): State<Console>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, Error> {
    let email = form.email.trim().to_lowercase();
    let expected = jar
        .get(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return Ok(login_form(
            &console,
            jar,
            StatusCode::FORBIDDEN,
            "This sign-in form has expired. Please try again.",
        ));
    }
    // Limits first, before any hashing: per address, then per email from this address.
    let address = peer.ip().to_string();
    if console.attempts_by_address.check(&address).await.is_some()
        || console
            .attempts
            .check(&format!("{email} from {address}"))
            .await
            .is_some()
    {
        return Ok(login_form(
            &console,
            jar,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts. Wait a minute and try again.",
        ));
    }
    let checked = staff::log_in(
        console.store(),
        &console.checks,
        &email,
        &form.password,
        Utc::now(),
    )
    .await;
    Ok(match checked {
        Ok(SignIn::SignedIn(token, session)) => signed_in_as(&console, jar, token, &session),
        Ok(SignIn::CodeNeeded(challenge)) => {
            let cookie = Cookie::build((CODE_COOKIE, challenge))
                .path("/console/login")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(console.secure_cookies)
                .build();
            code_form(&console, jar.add(cookie), StatusCode::OK, "")
        }
        Ok(SignIn::Refused) => {
            tokio::time::sleep(WRONG_PASSWORD_DELAY).await;
            login_form(
                &console,
                jar,
                StatusCode::UNAUTHORIZED,
                "That email and password do not match an account.",
            )
        }
        Err(staff::LogInError::Busy) => login_form(
            &console,
            jar,
            StatusCode::SERVICE_UNAVAILABLE,
            "Signing in is busy just now. Please try again in a moment.",
        ),
        Err(staff::LogInError::Store(e)) => return Err(e.into()),
    })
}

/// A session opened: the sign-in form's cookies go, the session's cookie comes.
fn signed_in_as(console: &Console, jar: CookieJar, token: String, session: &Session) -> Response {
    tracing::info!(staff = session.staff.id.0, "console: signed in");
    let jar = jar
        .remove(Cookie::build(LOGIN_COOKIE).path("/console/login"))
        .remove(Cookie::build(CODE_COOKIE).path("/console/login"));
    (jar.add(console.cookie(token)), Redirect::to("/console")).into_response()
}

/// The second step of signing in: the form asking for the authenticator's code.
fn code_form(console: &Console, jar: CookieJar, status: StatusCode, error: &str) -> Response {
    let csrf = jar
        .get(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let page = LoginPage {
        landlord: console.landlord(),
        error,
        csrf: &csrf,
    };
    (status, jar, console.render("login_code.html", &page)).into_response()
}

#[derive(Debug, Deserialize)]
pub(super) struct CodeForm {
    code: String,
    #[serde(default)]
    csrf: String,
}

/// The code from an authenticator app, after the password (two-step sign-in). A wrong code
/// is refused and slowed and limited exactly as a wrong password is.
pub(super) async fn log_in_with_code(
    State(console): State<Console>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(form): Form<CodeForm>,
) -> Result<Response, Error> {
    let expected = jar
        .get(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let challenge = jar.get(CODE_COOKIE).map(|c| c.value().to_owned());
    let Some(challenge) = challenge.filter(|_| {
        !expected.is_empty() && constant_time_eq(expected.as_bytes(), form.csrf.as_bytes())
    }) else {
        return Ok(login_form(
            &console,
            jar,
            StatusCode::FORBIDDEN,
            "This sign-in form has expired. Please try again.",
        ));
    };
    let Some(email) = staff::pending_sign_in(console.store(), &challenge, Utc::now()).await? else {
        return Ok(login_form(
            &console,
            jar,
            StatusCode::UNAUTHORIZED,
            "That sign-in has expired. Please sign in again.",
        ));
    };
    // The same limits as a password: per address, then per email from this address.
    let address = peer.ip().to_string();
    if console.attempts_by_address.check(&address).await.is_some()
        || console
            .attempts
            .check(&format!("{email} from {address}"))
            .await
            .is_some()
    {
        return Ok(code_form(
            &console,
            jar,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts. Wait a minute and try again.",
        ));
    }
    match staff::log_in_with_code(console.store(), &challenge, &form.code, Utc::now()).await? {
        SignIn::SignedIn(token, session) => Ok(signed_in_as(&console, jar, token, &session)),
        _ => {
            tokio::time::sleep(WRONG_PASSWORD_DELAY).await;
            Ok(code_form(
                &console,
                jar,
                StatusCode::UNAUTHORIZED,
                "That code does not match. Type the code your authenticator app shows now; after five minutes, sign in again.",
            ))
        }
    }
}

pub(super) async fn log_out(
    State(console): State<Console>,
    jar: CookieJar,
    _: StaffForm<CsrfForm>,
) -> Result<Response, Error> {
    if let Some(token) = token(&jar) {
        staff::log_out(console.store(), &token).await?;
    }
    Ok((
        jar.remove(Cookie::build(COOKIE).path("/console")),
        Redirect::to("/console/login"),
    )
        .into_response())
}
