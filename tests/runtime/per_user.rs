//! A user's sessions: listing, revocation, logging out others or everywhere, exclusive
//! login, the per-user cap, and the admin handle.

use std::time::Duration;

use axum::body::Body;
use serde_json::{Value, json};
use session_runtime::{MemoryStore, PublicId, SessionAdmin, SessionConfig, SessionLayer};

use crate::common::{AppSession, TestStore, fixture, get, post, request, routes, send};

async fn login_as(app: &axum::Router, id: i64, agent: &str) -> String {
    let req = request("POST", &format!("/login/{id}"), None)
        .header("user-agent", agent)
        .body(Body::empty())
        .unwrap();
    send(app, req).await.token().unwrap()
}

async fn delete(app: &axum::Router, uri: &str, token: &str) -> crate::common::Reply {
    send(
        app,
        request("DELETE", uri, Some(token))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_user_lists_their_sessions_with_the_current_one_flagged() {
    let (app, _, clock) = fixture();
    let laptop = login_as(&app, 1, "Laptop Firefox").await;
    clock.advance(Duration::from_secs(5));
    let phone = login_as(&app, 1, "Phone Safari").await;
    login_as(&app, 2, "Someone else").await;

    let r = get(&app, "/sessions", Some(&phone)).await;
    assert_eq!(r.status, 200);
    let list = r.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "only user 1's sessions: {list:?}");
    assert_eq!(list[0]["current"], true);
    assert_eq!(list[0]["device"], "Phone Safari");
    assert_eq!(list[1]["current"], false);
    assert_eq!(list[1]["device"], "Laptop Firefox");
    for s in list {
        assert_eq!(
            s["id"].as_str().unwrap().len(),
            22,
            "public ids are 128-bit base64url"
        );
        assert!(s["created_at"].as_str().unwrap().ends_with('Z'));
        assert!(s["last_seen"].is_string());
    }
    let listed_from_laptop = get(&app, "/sessions", Some(&laptop)).await.json();
    assert_eq!(listed_from_laptop[0]["device"], "Laptop Firefox");
    assert_eq!(get(&app, "/sessions", None).await.status, 401);
}

#[tokio::test]
async fn revoking_a_session_kills_it_at_once() {
    let (app, _, _) = fixture();
    let laptop = login_as(&app, 1, "Laptop").await;
    let phone = login_as(&app, 1, "Phone").await;
    let list = get(&app, "/sessions", Some(&phone)).await.json();
    let laptop_id = list[1]["id"].as_str().unwrap().to_owned();
    let r = delete(&app, &format!("/sessions/{laptop_id}"), &phone).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        get(&app, "/me", Some(&laptop)).await.status,
        401,
        "revoked at once"
    );
    assert_eq!(get(&app, "/me", Some(&phone)).await.status, 200);
    let again = delete(&app, &format!("/sessions/{laptop_id}"), &phone).await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn unknown_and_other_users_ids_are_indistinguishable_404s() {
    let (app, _, _) = fixture();
    let mine = login_as(&app, 1, "Mine").await;
    let theirs = login_as(&app, 2, "Theirs").await;
    let their_id = get(&app, "/sessions", Some(&theirs)).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = delete(&app, &format!("/sessions/{their_id}"), &mine).await;
    let unknown = delete(&app, "/sessions/AAAAAAAAAAAAAAAAAAAAAA", &mine).await;
    assert_eq!(other.status, 404);
    assert_eq!(unknown.status, 404);
    assert_eq!(other.body, unknown.body);
    assert_eq!(
        get(&app, "/me", Some(&theirs)).await.status,
        200,
        "untouched"
    );
}

#[tokio::test]
async fn revoking_the_current_session_logs_it_out() {
    let (app, _, _) = fixture();
    let t = login_as(&app, 1, "Only").await;
    let id = get(&app, "/sessions", Some(&t)).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = delete(&app, &format!("/sessions/{id}"), &t).await;
    assert_eq!(r.status, 204);
    assert!(r.removes_cookie());
    assert_eq!(get(&app, "/me", Some(&t)).await.status, 401);
}

#[tokio::test]
async fn logout_others_keeps_only_this_session() {
    let (app, _, _) = fixture();
    let a = login_as(&app, 1, "A").await;
    let b = login_as(&app, 1, "B").await;
    let c = login_as(&app, 1, "C").await;
    let other_user = login_as(&app, 2, "X").await;
    let r = post(&app, "/logout-others", Some(&c)).await;
    assert_eq!(r.json(), json!(2));
    assert_eq!(get(&app, "/me", Some(&a)).await.status, 401);
    assert_eq!(get(&app, "/me", Some(&b)).await.status, 401);
    assert_eq!(get(&app, "/me", Some(&c)).await.status, 200);
    assert_eq!(get(&app, "/me", Some(&other_user)).await.status, 200);
}

#[tokio::test]
async fn logout_everywhere_ends_this_session_too() {
    let (app, _, _) = fixture();
    let a = login_as(&app, 1, "A").await;
    let b = login_as(&app, 1, "B").await;
    let r = post(&app, "/logout-everywhere", Some(&b)).await;
    assert_eq!(r.json(), json!(2));
    assert!(r.removes_cookie());
    assert_eq!(get(&app, "/me", Some(&a)).await.status, 401);
    assert_eq!(get(&app, "/me", Some(&b)).await.status, 401);
}

#[tokio::test]
async fn exclusive_login_per_call_ends_older_sessions() {
    let (app, _, _) = fixture();
    let a = login_as(&app, 1, "A").await;
    let b = login_as(&app, 1, "B").await;
    let c = post(&app, "/login-exclusive/1", None)
        .await
        .token()
        .unwrap();
    assert_eq!(get(&app, "/me", Some(&a)).await.status, 401);
    assert_eq!(get(&app, "/me", Some(&b)).await.status, 401);
    assert_eq!(get(&app, "/me", Some(&c)).await.status, 200);
    assert_eq!(
        get(&app, "/sessions", Some(&c))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn exclusive_login_as_a_config_default() {
    let app = routes::app(
        TestStore::new(),
        SessionConfig::builder()
            .exclusive_login(true)
            .build()
            .unwrap(),
    );
    let a = login_as(&app, 1, "A").await;
    let b = login_as(&app, 1, "B").await;
    assert_eq!(get(&app, "/me", Some(&a)).await.status, 401);
    assert_eq!(get(&app, "/me", Some(&b)).await.status, 200);
}

#[tokio::test]
async fn the_per_user_cap_evicts_the_least_recently_used() {
    let clock = session_runtime::ManualClock::new();
    let app = routes::app(
        TestStore::new(),
        SessionConfig::builder()
            .clock(clock.clone())
            .max_sessions_per_user(2)
            .build()
            .unwrap(),
    );
    let a = login_as(&app, 1, "A").await;
    clock.advance(Duration::from_secs(120));
    let b = login_as(&app, 1, "B").await;
    clock.advance(Duration::from_secs(120));
    // A is used again (touched), so B is now the least recently used.
    assert_eq!(get(&app, "/me", Some(&a)).await.status, 200);
    clock.advance(Duration::from_secs(120));
    let c = login_as(&app, 1, "C").await;
    assert_eq!(get(&app, "/me", Some(&b)).await.status, 401, "LRU evicted");
    assert_eq!(get(&app, "/me", Some(&a)).await.status, 200);
    assert_eq!(get(&app, "/me", Some(&c)).await.status, 200);
    assert!(
        SessionConfig::builder()
            .max_sessions_per_user(0)
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn the_admin_handle_lists_and_revokes_outside_requests() {
    let store = MemoryStore::new();
    let layer = SessionLayer::new(store.clone(), SessionConfig::default());
    let app = routes::routes().layer(layer.clone());
    let a = login_as(&app, 7, "A").await;
    let b = login_as(&app, 7, "B").await;
    let other = login_as(&app, 8, "C").await;

    let admin = layer.admin::<AppSession>();
    let list = admin.list(&7).await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|s| !s.current));

    let one: PublicId = list[0].id.clone();
    assert!(admin.revoke(&7, &one).await.unwrap());
    assert!(
        !admin.revoke(&8, &list[1].id).await.unwrap(),
        "not user 8's session"
    );
    assert_eq!(admin.revoke_all(&7).await.unwrap(), 1);
    assert_eq!(get(&app, "/me", Some(&a)).await.status, 401);
    assert_eq!(get(&app, "/me", Some(&b)).await.status, 401);
    assert_eq!(get(&app, "/me", Some(&other)).await.status, 200);

    // Built from the store alone, it sees the same sessions.
    let standalone = SessionAdmin::<AppSession>::new(store);
    assert_eq!(standalone.list(&8).await.unwrap().len(), 1);
    let v: Value = serde_json::to_value(&standalone.list(&8).await.unwrap()[0]).unwrap();
    assert_eq!(v["device"], "C");
}

#[tokio::test]
async fn an_id_that_is_not_a_public_id_answers_404_without_asking_the_store() {
    let (app, store, _) = fixture();
    let token = login_as(&app, 1, "Laptop").await;
    let own = get(&app, "/sessions", Some(&token)).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for bad in [
        "%00".to_owned(),                    // a NUL byte
        format!("{}%00", &own[..21]),        // right length, one byte not base64url
        format!("{own}A"),                   // one character too many
        own[..21].to_owned(),                // one too few
        "AAAAAAAAAAAAAAAAAAAAAB".to_owned(), // base64url, but not canonical
        "%E2%9C%93".repeat(8),               // not ASCII
    ] {
        store.take_ops();
        let r = delete(&app, &format!("/sessions/{bad}"), &token).await;
        assert_eq!(r.status, 404, "{bad}");
        assert!(
            !store
                .take_ops()
                .contains(&session_runtime::StoreOp::PerUser),
            "{bad} reached the store"
        );
    }
    // A well-formed id of nobody's session is the store's to answer, the same 404.
    store.take_ops();
    let r = delete(&app, "/sessions/AAAAAAAAAAAAAAAAAAAAAA", &token).await;
    assert_eq!(r.status, 404);
    assert!(
        store
            .take_ops()
            .contains(&session_runtime::StoreOp::PerUser)
    );
    assert_eq!(get(&app, "/me", Some(&token)).await.status, 200);

    // The admin handle refuses the same way.
    let admin: SessionAdmin<AppSession> = SessionAdmin::new(store.clone());
    store.take_ops();
    assert!(!admin.revoke(&1, &PublicId::new("\0")).await.unwrap());
    assert!(store.take_ops().is_empty());
    assert!(PublicId::parse(&own).is_some());
    assert!(PublicId::parse("\0").is_none());
}
