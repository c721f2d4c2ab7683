//! `#[session(privileged)]`: changing such a field rotates the token when the session is
//! saved, as changing a `staff` or `superuser` field does; an ordinary field does not.

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use session_runtime::{
    ManualClock, MemoryStore, Session, SessionError, SessionLayer, SessionSchema,
};

use crate::common::{self, Reply};

/// A schema with a tenant switch and a role list, both privileged.
#[derive(SessionSchema)]
pub struct TenantSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    #[session(privileged)]
    pub tenant: Option<String>,
    #[session(privileged, rename = "r")]
    pub roles: Vec<String>,
    pub theme: Option<String>,
}

type S = Session<TenantSession>;

fn view(s: &S) -> Json<Value> {
    Json(json!({
        "user_id": s.user_id(),
        "tenant": s.tenant(),
        "roles": s.roles(),
        "theme": s.theme(),
    }))
}

fn app() -> Router {
    async fn login(s: S, Path(id): Path<i64>) -> Result<(), SessionError> {
        s.login(id).await
    }
    async fn tenant(s: S, Path(name): Path<String>) -> Result<(), SessionError> {
        s.set_tenant(Some(name))
    }
    async fn leave_tenant(s: S) -> Result<(), SessionError> {
        s.remove_tenant()
    }
    async fn grant(s: S, Path(role): Path<String>) -> Result<(), SessionError> {
        s.update_roles(|roles| roles.push(role))
    }
    async fn theme(s: S, Path(name): Path<String>) -> Result<(), SessionError> {
        s.set_theme(Some(name))
    }
    async fn read(s: S) -> Json<Value> {
        view(&s)
    }
    let routes = Router::new()
        .route("/login/{id}", post(login))
        .route("/tenant/{name}", post(tenant))
        .route("/leave-tenant", post(leave_tenant))
        .route("/grant/{role}", post(grant))
        .route("/theme/{name}", post(theme))
        .route("/read", get(read));
    routes.layer(SessionLayer::new(
        MemoryStore::new(),
        common::config(&ManualClock::new()),
    ))
}

/// The new token a response sets; fails the test if it sets none.
fn rotated(r: &Reply, what: &str) -> String {
    assert_eq!(r.status, 200, "{what}: {}", r.body);
    r.token()
        .unwrap_or_else(|| panic!("{what} should rotate the token"))
}

#[test]
fn the_keys_say_which_fields_are_privileged() {
    assert!(TenantSession::TENANT.is_privileged());
    assert!(TenantSession::ROLES.is_privileged());
    assert!(!TenantSession::THEME.is_privileged());
}

#[tokio::test]
async fn setting_a_privileged_field_rotates_the_token_and_keeps_the_data() {
    let app = app();
    let old = common::post(&app, "/login/7", None).await.token().unwrap();
    let r = common::post(&app, "/theme/dark", Some(&old)).await;
    assert_eq!(r.status, 200);
    assert!(r.token().is_none(), "an ordinary field keeps the token");

    let new = rotated(
        &common::post(&app, "/tenant/acme", Some(&old)).await,
        "a tenant switch",
    );
    assert_ne!(new, old);
    let replay = common::get(&app, "/read", Some(&old)).await.json();
    assert_eq!(
        replay["user_id"],
        json!(null),
        "the old token no longer loads"
    );
    assert_eq!(replay["tenant"], json!(null));
    assert_eq!(
        common::get(&app, "/read", Some(&new)).await.json(),
        json!({"user_id": 7, "tenant": "acme", "roles": [], "theme": "dark"}),
        "the data is kept under the new token"
    );
}

#[tokio::test]
async fn updating_and_removing_a_privileged_field_rotate_too() {
    let app = app();
    let a = common::post(&app, "/login/7", None).await.token().unwrap();
    let b = rotated(
        &common::post(&app, "/grant/admin", Some(&a)).await,
        "a role grant",
    );
    let c = rotated(
        &common::post(&app, "/tenant/acme", Some(&b)).await,
        "a tenant switch",
    );
    let d = rotated(
        &common::post(&app, "/leave-tenant", Some(&c)).await,
        "leaving the tenant",
    );
    for dead in [&a, &b, &c] {
        let replay = common::get(&app, "/read", Some(dead)).await.json();
        assert_eq!(replay["user_id"], json!(null), "every old token is dead");
    }
    assert_eq!(
        common::get(&app, "/read", Some(&d)).await.json(),
        json!({"user_id": 7, "tenant": null, "roles": ["admin"], "theme": null})
    );
}

#[tokio::test]
async fn setting_a_privileged_field_to_its_current_value_keeps_the_token() {
    let app = app();
    let a = common::post(&app, "/login/7", None).await.token().unwrap();
    let b = rotated(
        &common::post(&app, "/tenant/acme", Some(&a)).await,
        "a tenant switch",
    );
    let r = common::post(&app, "/tenant/acme", Some(&b)).await;
    assert_eq!(r.status, 200);
    assert!(r.token().is_none(), "no change, no rotation");
    assert_eq!(
        common::get(&app, "/read", Some(&b)).await.json()["tenant"],
        json!("acme")
    );
}
