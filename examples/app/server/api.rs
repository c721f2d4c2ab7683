//! The JSON API under `/api`.

use std::fmt;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use session_runtime::{
    Identity, PublicId, RequireAuth, RequireRecentLogin, RequireStaff, RequireSuperuser, Session,
    SessionError,
};

use super::throttle::{RetryAfter, Throttle, username_key};
use super::users::{PasswordError, User};
use super::{AppSession, AppSessionHandle, AppState, Users};

/// `POST /api/login` body: `remember` (default `false`) also remembers the device. Its
/// `Debug` hides the password.
#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
    #[serde(default)]
    remember: bool,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &format_args!("<redacted>"))
            .field("remember", &self.remember)
            .finish()
    }
}

/// `POST /api/cart` body.
#[derive(Debug, Deserialize)]
pub struct CartItem {
    item: u64,
}

/// Logs `user` in: new token, guest cart kept, roles copied into the session; with
/// `remember`, the device is remembered too (a second cookie, `remember`).
pub async fn sign_in(
    session: &Session<AppSession>,
    users: &Users,
    user: &User,
    remember: bool,
) -> Result<(), SessionError> {
    session.login(user.id).await?;
    session.set_auth_hash(users.fingerprint(user.id))?;
    session.set_username(Some(user.username.clone()))?;
    session.set_is_staff(user.is_staff)?;
    session.set_is_superuser(user.is_superuser)?;
    if remember {
        session.remember_device().await?;
    }
    Ok(())
}

/// The identity fields of a session that remember me restores for user `id` (the same
/// fields a password login sets), or `None` if the user is gone.
pub fn restored_identity(users: &Users, id: i64) -> Option<Identity<AppSession>> {
    let user = users.by_id(id)?;
    Some(
        Identity::new()
            .with(AppSession::AUTH_HASH, users.fingerprint(id))
            .with(AppSession::USERNAME, Some(user.username))
            .with(AppSession::IS_STAFF, user.is_staff)
            .with(AppSession::IS_SUPERUSER, user.is_superuser),
    )
}

/// The identity JSON of a logged-in session.
fn identity(id: i64, s: &AppSessionHandle) -> Value {
    json!({
        "user_id": id,
        "username": s.username(),
        "is_staff": s.is_staff(),
        "is_superuser": s.is_superuser(),
    })
}

/// `429` with `Retry-After`, as JSON.
fn too_many_attempts(RetryAfter(secs): RetryAfter) -> Response {
    let message = format!("too many failed attempts; try again in {secs} seconds");
    let mut response = error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", &message);
    response
        .headers_mut()
        .insert(axum::http::header::RETRY_AFTER, secs.into());
    response
}

/// Checks a username and password under the login throttle: `Err` once the name has had
/// too many failures, whatever the password; `Ok(None)` for wrong credentials.
pub async fn authenticate(
    users: &Users,
    logins: &Throttle,
    username: &str,
    password: &str,
) -> Result<Option<User>, RetryAfter> {
    let attempt = logins.begin(&username_key(username))?;
    let user = users.authenticate(username, password).await;
    match &user {
        Some(_) => attempt.succeeded(),
        None => attempt.failed(),
    }
    Ok(user)
}

/// `POST /api/login`: `200` and the identity; `401` on bad credentials; `429` with
/// `Retry-After` after too many failures for this username.
pub async fn login(
    State(state): State<AppState>,
    session: Session<AppSession>,
    Json(creds): Json<Credentials>,
) -> Result<Response, SessionError> {
    let users = &state.users;
    let found = authenticate(users, &state.logins, &creds.username, &creds.password).await;
    let user = match found {
        Ok(Some(user)) => user,
        Ok(None) => {
            let body =
                json!({ "error": "invalid_credentials", "message": "wrong username or password" });
            return Ok((StatusCode::UNAUTHORIZED, Json(body)).into_response());
        }
        Err(retry) => return Ok(too_many_attempts(retry)),
    };
    sign_in(&session, users, &user, creds.remember).await?;
    Ok(Json(identity(user.id, &session)).into_response())
}

pub async fn logout(session: Session<AppSession>) -> Result<StatusCode, SessionError> {
    session.logout().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(user: RequireAuth<AppSession>) -> Json<Value> {
    Json(identity(user.user_id(), &user))
}

pub async fn admin(staff: RequireStaff<AppSession>) -> Json<Value> {
    Json(json!({ "area": "admin", "user": identity(staff.user_id(), &staff) }))
}

pub async fn root(root: RequireSuperuser<AppSession>) -> Json<Value> {
    Json(json!({ "area": "root", "user": identity(root.user_id(), &root) }))
}

pub async fn cart(session: Session<AppSession>) -> Json<Value> {
    Json(json!({ "items": session.cart() }))
}

pub async fn add_to_cart(
    session: Session<AppSession>,
    Json(body): Json<CartItem>,
) -> Result<Json<Value>, SessionError> {
    session.update_cart(|cart| cart.push(body.item))?;
    Ok(Json(json!({ "items": session.cart() })))
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}

/// `GET /api/sessions`: my sessions, this one flagged `current`.
pub async fn sessions(user: RequireAuth<AppSession>) -> Result<Json<Value>, SessionError> {
    Ok(Json(json!(user.session().list_sessions().await?)))
}

/// `DELETE /api/sessions/{id}`: `204`, or `404` for unknown and other users' ids alike.
pub async fn revoke_session(
    user: RequireAuth<AppSession>,
    Path(id): Path<String>,
) -> Result<Response, SessionError> {
    // An id that is not well formed names no session: the store need not see it.
    let revoked = match PublicId::parse(&id) {
        Some(id) => user.session().revoke_session(&id).await?,
        None => false,
    };
    if revoked {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Ok(error(StatusCode::NOT_FOUND, "not_found", "no such session"))
    }
}

/// `POST /api/tokens` body.
#[derive(Debug, Deserialize)]
pub struct NewToken {
    name: String,
}

/// `POST /api/tokens`: `201` `{"id","name","token"}` (the token shown this once) for a
/// password login in the last 10 minutes; `401` `reauthentication_required` for an older
/// or restored login, or a bearer request; `400` for a name that is empty or over 64
/// characters.
pub async fn create_token(
    user: RequireRecentLogin<AppSession, 600>,
    Json(new): Json<NewToken>,
) -> Result<Response, SessionError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        let message = "a token's name is 1 to 64 printable characters";
        return Ok(error(StatusCode::BAD_REQUEST, "invalid_name", message));
    }
    let token = user.session().create_api_token(name).await?;
    let body = json!({ "id": token.id(), "name": token.name(), "token": token.secret() });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `POST /api/logout-others`: every other session of mine ends.
pub async fn logout_others(user: RequireAuth<AppSession>) -> Result<StatusCode, SessionError> {
    user.session().logout_others().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/password` body. Its `Debug` hides both passwords.
#[derive(Deserialize)]
pub struct PasswordChange {
    old: String,
    new: String,
}

impl fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordChange")
            .field("old", &format_args!("<redacted>"))
            .field("new", &format_args!("<redacted>"))
            .finish()
    }
}

/// `POST /api/password`: `204`; this session continues under a new token and every other
/// session of mine ends. After too many wrong current passwords for this user, `429` with
/// `Retry-After`, whatever the password.
pub async fn change_password(
    State(state): State<AppState>,
    user: RequireAuth<AppSession>,
    Json(body): Json<PasswordChange>,
) -> Result<Response, SessionError> {
    let users = &state.users;
    let attempt = match state.password_changes.begin(&user.user_id().to_string()) {
        Ok(attempt) => attempt,
        Err(retry) => return Ok(too_many_attempts(retry)),
    };
    let changed = users
        .change_password(user.user_id(), &body.old, &body.new)
        .await;
    // Only a wrong current password is a failed guess.
    match &changed {
        Err(PasswordError::WrongPassword) => attempt.failed(),
        Err(PasswordError::Hashing) => drop(attempt),
        Ok(()) | Err(PasswordError::TooShort) => attempt.succeeded(),
    }
    match changed {
        Ok(()) => {}
        Err(PasswordError::WrongPassword) => {
            return Ok(error(
                StatusCode::FORBIDDEN,
                "wrong_password",
                "the current password is wrong",
            ));
        }
        Err(PasswordError::TooShort) => {
            let message = format!(
                "the new password needs at least {} characters",
                super::users::MIN_PASSWORD_LEN
            );
            return Ok(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "weak_password",
                &message,
            ));
        }
        Err(PasswordError::Hashing) => {
            return Ok(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "hashing_failed",
                "try again",
            ));
        }
    }
    user.set_auth_hash(users.fingerprint(user.user_id()))?;
    user.session().password_changed().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
