//! `/api/sessions`, `/api/logout-others`, `/api/password` and the "your sessions" page.

use axum::body::Body;
use serde_json::json;

use crate::app;
use crate::common::{Reply, get, post, post_json, request, send};

async fn login(app: &axum::Router, user: &str, pass: &str, agent: &str) -> String {
    let req = request("POST", "/api/login", None)
        .header("content-type", "application/json")
        .header("user-agent", agent)
        .body(Body::from(
            json!({"username": user, "password": pass}).to_string(),
        ))
        .unwrap();
    let r = send(app, req).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.token().unwrap()
}

async fn delete(app: &axum::Router, uri: &str, token: &str) -> Reply {
    send(
        app,
        request("DELETE", uri, Some(token))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn list_revoke_and_404_for_unknown_or_foreign_ids() {
    let app = app();
    let laptop = login(&app, "alice", "alice-pass", "Laptop").await;
    let phone = login(&app, "alice", "alice-pass", "Phone").await;
    let sam = login(&app, "sam", "sam-pass", "Sam's PC").await;

    assert_eq!(get(&app, "/api/sessions", None).await.status, 401);
    let list = get(&app, "/api/sessions", Some(&phone)).await.json();
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0]["device"].clone(), list[0]["current"].clone()),
        (json!("Phone"), json!(true))
    );
    assert_eq!(
        (list[1]["device"].clone(), list[1]["current"].clone()),
        (json!("Laptop"), json!(false))
    );

    let sams_id = get(&app, "/api/sessions", Some(&sam)).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign = delete(&app, &format!("/api/sessions/{sams_id}"), &phone).await;
    let unknown = delete(&app, "/api/sessions/nope", &phone).await;
    assert_eq!(
        (foreign.status.as_u16(), unknown.status.as_u16()),
        (404, 404)
    );
    assert_eq!(foreign.body, unknown.body, "indistinguishable");
    // Not an id at all (a NUL byte, once answered 503 by PostgreSQL): the same 404.
    let malformed = delete(&app, "/api/sessions/%00", &phone).await;
    assert_eq!(malformed.status, 404);
    assert_eq!(malformed.body, unknown.body);
    assert_eq!(get(&app, "/api/me", Some(&sam)).await.status, 200);

    let laptop_id = list[1]["id"].as_str().unwrap();
    let r = delete(&app, &format!("/api/sessions/{laptop_id}"), &phone).await;
    assert_eq!(r.status, 204);
    assert_eq!(get(&app, "/api/me", Some(&laptop)).await.status, 401);
}

#[tokio::test]
async fn logout_others_ends_every_other_session() {
    let app = app();
    let a = login(&app, "alice", "alice-pass", "A").await;
    let b = login(&app, "alice", "alice-pass", "B").await;
    let c = login(&app, "alice", "alice-pass", "C").await;
    assert_eq!(post(&app, "/api/logout-others", None).await.status, 401);
    assert_eq!(post(&app, "/api/logout-others", Some(&b)).await.status, 204);
    assert_eq!(get(&app, "/api/me", Some(&a)).await.status, 401);
    assert_eq!(get(&app, "/api/me", Some(&c)).await.status, 401);
    assert_eq!(get(&app, "/api/me", Some(&b)).await.status, 200);
}

#[tokio::test]
async fn password_change_keeps_this_session_rotated_and_ends_the_others() {
    let app = app_with_fresh_users();
    let other = login(&app, "alice", "alice-pass", "Other").await;
    let this = login(&app, "alice", "alice-pass", "This").await;

    let wrong = post_json(
        &app,
        "/api/password",
        Some(&this),
        json!({"old": "nope", "new": "new-password-1"}),
    )
    .await;
    assert_eq!(wrong.status, 403);
    let weak = post_json(
        &app,
        "/api/password",
        Some(&this),
        json!({"old": "alice-pass", "new": "short"}),
    )
    .await;
    assert_eq!(weak.status, 422);
    assert_eq!(
        get(&app, "/api/me", Some(&other)).await.status,
        200,
        "nothing changed yet"
    );

    let r = post_json(
        &app,
        "/api/password",
        Some(&this),
        json!({"old": "alice-pass", "new": "new-password-1"}),
    )
    .await;
    assert_eq!(r.status, 204);
    let rotated = r.token().expect("this session continues under a new token");
    assert_ne!(rotated, this);
    assert_eq!(get(&app, "/api/me", Some(&rotated)).await.status, 200);
    assert_eq!(
        get(&app, "/api/me", Some(&this)).await.status,
        401,
        "old token dead"
    );
    assert_eq!(
        get(&app, "/api/me", Some(&other)).await.status,
        401,
        "other sessions ended"
    );

    let old = post_json(
        &app,
        "/api/login",
        None,
        json!({"username": "alice", "password": "alice-pass"}),
    )
    .await;
    assert_eq!(old.status, 401);
    login(&app, "alice", "new-password-1", "Again").await;
}

/// Password changes mutate the user directory: use one of its own.
fn app_with_fresh_users() -> axum::Router {
    let users = std::sync::Arc::new(crate::server::Users::demo().unwrap());
    crate::server::router(session_runtime::MemoryStore::new(), users)
}

#[tokio::test]
async fn the_sessions_page_lists_and_revokes_with_buttons() {
    let app = app();
    let mut b = session_runtime::testing::TestClient::new(app.clone());
    let anon = b.get("/sessions").await;
    assert_eq!(anon.status(), 303);
    assert_eq!(anon.headers()["location"], "/login?next=/sessions");

    let other = login(&app, "alice", "alice-pass", "Other <b>browser</b>").await;
    let req = request("POST", "/api/login", None)
        .header("content-type", "application/json")
        .header("user-agent", "This browser")
        .body(Body::from(
            json!({"username": "alice", "password": "alice-pass"}).to_string(),
        ))
        .unwrap();
    let this = send(&app, req).await.token().unwrap();
    b.set_cookie(crate::COOKIE, this.clone());
    let page = b.get("/sessions").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text().contains("Other &lt;b&gt;browser&lt;/b&gt;"),
        "escaped: {}",
        page.text()
    );
    assert!(page.text().contains("this browser"));
    let start = page
        .text()
        .find("action=\"/sessions/")
        .expect("a revoke button");
    let action = &page.text()[start + 8..];
    let action = action[..action.find('"').unwrap()].to_owned();

    let r = b.post_form(&action, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/sessions");
    assert_eq!(get(&app, "/api/me", Some(&other)).await.status, 401);
    assert_eq!(get(&app, "/api/me", Some(&this)).await.status, 200);

    let missing = b.post_form("/sessions/unknown/revoke", &[]).await;
    assert_eq!(missing.status(), 404);
    let another = login(&app, "alice", "alice-pass", "Third").await;
    let r = b.post_form("/logout-others", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(get(&app, "/api/me", Some(&another)).await.status, 401);
}
