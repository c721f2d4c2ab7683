//! The session layer mounted around the finished router (`layer.layer(router)`), the
//! cheaper mount that `SessionLayer`'s docs describe, instead of with `Router::layer`.

use axum::Router;
use serde_json::json;
use session_runtime::{MemoryStore, SessionConfig, SessionLayer, SessionStore};
use tower::Layer as _;

use crate::common::{TestStore, config, get, post, routes};

/// The test routes with the session layer around them. The outer router only hands every
/// request to that service, so the test client's helpers drive it unchanged.
fn around(store: impl SessionStore, config: SessionConfig) -> Router {
    let wrapped = SessionLayer::new(store, config).layer(routes::routes());
    Router::new().fallback_service(wrapped)
}

#[tokio::test]
async fn a_session_lives_through_login_writes_rotation_and_logout() {
    let store = TestStore::new();
    let clock = session_runtime::ManualClock::new();
    let app = around(store.clone(), config(&clock));

    let guest = post(&app, "/cart/3", None)
        .await
        .token()
        .expect("a guest cookie");
    let login = post(&app, "/login/42", Some(&guest)).await;
    assert_eq!(login.status, 200);
    let user = login.token().expect("login sets a cookie");
    assert_ne!(user, guest);
    assert_eq!(
        login.json()["cart"],
        json!([3]),
        "guest data is carried over"
    );
    assert_eq!(store.inner.len(), 1, "the guest record is gone");

    let me = get(&app, "/me", Some(&user)).await;
    assert_eq!(me.json(), json!({"user_id": 42, "username": "user42"}));
    assert_eq!(get(&app, "/me", Some(&guest)).await.status, 401);

    let rotated = post(&app, "/rotate", Some(&user))
        .await
        .token()
        .expect("new token");
    assert_eq!(
        get(&app, "/me", Some(&user)).await.status,
        401,
        "old token dead"
    );
    let logout = post(&app, "/logout", Some(&rotated)).await;
    assert_eq!(logout.status, 204);
    assert!(logout.removes_cookie());
    assert_eq!(get(&app, "/me", Some(&rotated)).await.status, 401);
    assert_eq!(store.inner.len(), 0);
}

#[tokio::test]
async fn requests_that_never_ask_cost_the_store_nothing_even_unrouted_ones() {
    let store = TestStore::new();
    let clock = session_runtime::ManualClock::new();
    let app = around(store.clone(), config(&clock));
    let user = post(&app, "/login/1", None).await.token().unwrap();
    store.counts.reset();

    let public = get(&app, "/public", Some(&user)).await;
    assert_eq!(
        (public.status.as_u16(), public.body.as_str()),
        (200, "public")
    );
    let missing = get(&app, "/no-such-route", Some(&user)).await;
    assert_eq!(missing.status, 404);
    for reply in [&public, &missing] {
        assert_eq!(
            reply.set_cookie("session"),
            None,
            "the cookie is left alone"
        );
    }
    assert_eq!(store.counts.loads(), 0);
    assert_eq!(store.counts.writes(), 0);
}

#[tokio::test]
async fn the_memory_store_fast_path_works_around_the_router_too() {
    let store = MemoryStore::new();
    let app = around(store.clone(), SessionConfig::default());
    let user = post(&app, "/login/5", None).await.token().unwrap();
    post(&app, "/note/hello", Some(&user)).await;
    let read = get(&app, "/read", Some(&user)).await;
    assert_eq!(read.json()["note"], json!("hello"));
    assert_eq!(read.json()["user_id"], json!(5));
    assert_eq!(store.len(), 1);
}
