//! The example's API tokens (DESIGN §5, §6): `POST /api/tokens` after a recent password
//! login, then `Authorization: Bearer TOKEN` on any route.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use serde_json::{Value, json};
use session_runtime::testing::{TestClient, TestResponse};
use session_runtime::{ManualClock, MemoryStore};

use crate::COOKIE;
use crate::server::{Options, router_with};

fn app_on(clock: &ManualClock) -> Router {
    let options = Options {
        clock: Arc::new(clock.clone()),
    };
    router_with(MemoryStore::new(), crate::USERS.clone(), options)
}

async fn login(app: &Router, remember: bool) -> TestClient {
    let mut client = TestClient::new(app.clone());
    let body = json!({"username": "sam", "password": "sam-pass", "remember": remember});
    assert_eq!(client.post_json("/api/login", &body).await.status(), 200);
    client
}

async fn bearer(app: &Router, method: &str, path: &str, token: &str) -> TestResponse {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    TestClient::new(app.clone()).request(req).await
}

#[tokio::test]
async fn a_recent_login_mints_a_token_that_works_on_every_route_without_cookies() {
    let clock = ManualClock::new();
    let app = app_on(&clock);
    let mut client = login(&app, false).await;
    let minted = client
        .post_json("/api/tokens", &json!({"name": "laptop cli"}))
        .await;
    assert_eq!(minted.status(), 201, "{}", minted.text());
    let minted: Value = minted.json();
    assert_eq!(minted["name"], "laptop cli");
    let token = minted["token"].as_str().unwrap();

    let me = bearer(&app, "GET", "/api/me", token).await;
    assert_eq!(me.status(), 200, "{}", me.text());
    assert_eq!(me.json::<Value>()["username"], "sam");
    assert!(me.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(bearer(&app, "GET", "/api/admin", token).await.status(), 200);

    // Listed as `api`, named; revoked like any session.
    let listed: Vec<Value> = client.get("/api/sessions").await.json();
    let entry = listed.iter().find(|s| s["kind"] == "api").expect("listed");
    assert_eq!(entry["device"], "laptop cli");
    let page = client.get("/sessions").await;
    assert!(page.text().contains("(API token)"), "{}", page.text());
    let id = entry["id"].as_str().unwrap();
    let revoke = Request::delete(format!("/api/sessions/{id}"))
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    assert_eq!(client.request(revoke).await.status(), 204);
    let refused = bearer(&app, "GET", "/api/me", token).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
}

#[tokio::test]
async fn an_old_or_restored_login_must_log_in_again_to_mint() {
    let clock = ManualClock::new();
    let app = app_on(&clock);
    let mut client = login(&app, true).await;
    clock.advance(Duration::from_secs(11 * 60));
    let stale = client.post_json("/api/tokens", &json!({"name": "x"})).await;
    assert_eq!(stale.status(), 401, "{}", stale.text());
    assert_eq!(stale.json::<Value>()["error"], "reauthentication_required");

    // A login restored by remember me is not recent either.
    client.remove_cookie(COOKIE);
    let restored = client.post_json("/api/tokens", &json!({"name": "x"})).await;
    assert_eq!(restored.status(), 401, "{}", restored.text());
    assert_eq!(
        restored.json::<Value>()["error"],
        "reauthentication_required"
    );
    assert!(
        client.cookie(COOKIE).is_some(),
        "the restored session is there"
    );
}

#[tokio::test]
async fn a_token_cannot_mint_tokens_and_names_are_checked() {
    let clock = ManualClock::new();
    let app = app_on(&clock);
    let mut client = login(&app, false).await;
    for name in ["", "   ", &"n".repeat(65)] {
        let r = client
            .post_json("/api/tokens", &json!({ "name": name }))
            .await;
        assert_eq!(r.status(), 400, "{name:?}");
    }
    let minted: Value = client
        .post_json("/api/tokens", &json!({"name": "ci"}))
        .await
        .json();
    let token = minted["token"].as_str().unwrap();
    let req = Request::post("/api/tokens")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"name":"more"}"#))
        .unwrap();
    let r = TestClient::new(app.clone()).request(req).await;
    assert_eq!(r.status(), 401, "{}", r.text());
}
