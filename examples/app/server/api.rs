//! The JSON API under `/api`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use session_runtime::{RequireAuth, RequireStaff, RequireSuperuser, Session, SessionError};

use super::users::User;
use super::{AppSession, AppSessionHandle, Users};

/// `POST /api/login` body.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
}

/// `POST /api/cart` body.
#[derive(Debug, Deserialize)]
pub struct CartItem {
    item: u64,
}

/// Logs `user` in: new token, guest cart kept, roles copied into the session.
pub async fn sign_in(session: &Session<AppSession>, user: &User) -> Result<(), SessionError> {
    session.login(user.id).await?;
    session.set_username(Some(user.username.clone()))?;
    session.set_is_staff(user.is_staff)?;
    session.set_is_superuser(user.is_superuser)
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

pub async fn login(
    State(users): State<Arc<Users>>,
    session: Session<AppSession>,
    Json(creds): Json<Credentials>,
) -> Result<Response, SessionError> {
    let Some(user) = users.authenticate(&creds.username, &creds.password) else {
        let body =
            json!({ "error": "invalid_credentials", "message": "wrong username or password" });
        return Ok((StatusCode::UNAUTHORIZED, Json(body)).into_response());
    };
    sign_in(&session, user).await?;
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
