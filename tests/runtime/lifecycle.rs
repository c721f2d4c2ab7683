//! Login, logout, rotation and privilege changes.

use crate::common::{fixture, get, post};
use serde_json::json;

#[tokio::test]
async fn login_issues_a_new_token_kills_the_old_and_keeps_the_cart() {
    let (app, store, _) = fixture();
    let guest = post(&app, "/cart/3", None).await.token().unwrap();
    let r = post(&app, "/login/42", Some(&guest)).await;
    assert_eq!(r.status, 200);
    let user = r.token().expect("login sets a cookie");
    assert_ne!(user, guest);
    assert_eq!(r.json()["cart"], json!([3]), "guest data is carried over");
    assert_eq!(r.json()["user_id"], json!(42));
    assert_eq!(store.inner.len(), 1, "the guest record is gone");

    let replay = get(&app, "/read", Some(&guest)).await;
    assert_eq!(replay.json()["user_id"], json!(null), "old token is dead");
    assert_eq!(replay.json()["cart"], json!([]));

    let me = get(&app, "/me", Some(&user)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json(), json!({"user_id": 42, "username": "user42"}));
}

#[tokio::test]
async fn login_without_a_session_creates_one() {
    let (app, store, _) = fixture();
    let r = post(&app, "/login/1", None).await;
    assert_eq!(r.status, 200);
    assert!(r.token().is_some());
    assert_eq!(store.inner.len(), 1);
}

#[tokio::test]
async fn login_as_another_user_starts_from_empty_data() {
    let (app, _, _) = fixture();
    let a = post(&app, "/login/1", None).await.token().unwrap();
    post(&app, "/cart/9", Some(&a)).await;
    let r = post(&app, "/login/2", Some(&a)).await;
    let b = r.token().unwrap();
    assert_eq!(
        r.json()["cart"],
        json!([]),
        "user 1's cart does not leak to user 2"
    );
    assert_eq!(get(&app, "/me", Some(&b)).await.json()["user_id"], json!(2));
    assert_eq!(
        get(&app, "/read", Some(&a)).await.json()["user_id"],
        json!(null)
    );
}

#[tokio::test]
async fn login_again_as_the_same_user_keeps_data_and_rotates() {
    let (app, _, _) = fixture();
    let a = post(&app, "/login/1", None).await.token().unwrap();
    post(&app, "/cart/9", Some(&a)).await;
    let r = post(&app, "/login/1", Some(&a)).await;
    let b = r.token().unwrap();
    assert_ne!(a, b);
    assert_eq!(r.json()["cart"], json!([9]));
}

#[tokio::test]
async fn logout_deletes_the_record_and_removes_the_cookie() {
    let (app, store, _) = fixture();
    let t = post(&app, "/login/5", None).await.token().unwrap();
    let r = post(&app, "/logout", Some(&t)).await;
    assert_eq!(r.status, 204);
    assert!(r.removes_cookie());
    assert!(store.inner.is_empty());
    let replay = get(&app, "/me", Some(&t)).await;
    assert_eq!(replay.status, 401, "replaying the old cookie is anonymous");
}

#[tokio::test]
async fn logout_without_a_session_is_harmless() {
    let (app, store, _) = fixture();
    let r = post(&app, "/logout", None).await;
    assert_eq!(r.status, 204);
    assert!(r.set_cookie("session").is_none());
    assert_eq!(store.counts.writes(), 0);
}

#[tokio::test]
async fn rotate_gives_a_new_token_and_kills_the_old() {
    let (app, _, _) = fixture();
    let t = post(&app, "/login/5", None).await.token().unwrap();
    post(&app, "/cart/1", Some(&t)).await;
    let r = post(&app, "/rotate", Some(&t)).await;
    let new = r.token().expect("rotation sets a cookie");
    assert_ne!(new, t);
    assert_eq!(
        get(&app, "/read", Some(&t)).await.json()["user_id"],
        json!(null)
    );
    let after = get(&app, "/read", Some(&new)).await.json();
    assert_eq!(after["user_id"], json!(5));
    assert_eq!(after["cart"], json!([1]));
}

#[tokio::test]
async fn privilege_change_rotates_the_token_on_save() {
    let (app, store, _) = fixture();
    let t = post(&app, "/login/5", None).await.token().unwrap();
    store.counts.reset();
    let r = post(&app, "/staff/true", Some(&t)).await;
    let new = r.token().expect("privilege change rotates");
    assert_ne!(new, t);
    assert_eq!(crate::common::Counts::get(&store.counts.rotate), 1);
    assert_eq!(
        get(&app, "/admin", Some(&t)).await.status,
        401,
        "old token dead"
    );
    assert_eq!(get(&app, "/admin", Some(&new)).await.status, 200);
    // Dropping the privilege rotates too.
    let r = post(&app, "/staff/false", Some(&new)).await;
    let newer = r.token().unwrap();
    assert_eq!(get(&app, "/admin", Some(&newer)).await.status, 403);
    // Setting the same value again is no change: no rotation, no write.
    store.counts.reset();
    let r = post(&app, "/staff/false", Some(&newer)).await;
    assert!(r.token().is_none());
    assert_eq!(store.counts.writes(), 0);
}

#[tokio::test]
async fn login_in_a_failing_handler_still_sends_its_cookie() {
    let (app, store, _) = fixture();
    let r = post(&app, "/login-then-fail", None).await;
    assert_eq!(r.status, 500);
    let t = r
        .token()
        .expect("the login took effect, so the cookie is sent");
    assert_eq!(store.inner.len(), 1);
    assert_eq!(get(&app, "/me", Some(&t)).await.status, 200);
}

#[tokio::test]
async fn login_creates_the_new_record_before_deleting_the_old() {
    use session_runtime::StoreOp;
    let (app, store, _) = fixture();
    let guest = post(&app, "/cart/1", None).await.token().unwrap();
    store.take_ops();
    post(&app, "/login/3", Some(&guest)).await;
    let ops = store.take_ops();
    let create = ops.iter().position(|o| *o == StoreOp::Create).unwrap();
    let delete = ops.iter().position(|o| *o == StoreOp::Delete).unwrap();
    assert!(create < delete, "{ops:?}");
}

#[tokio::test]
async fn a_login_whose_old_session_cannot_be_deleted_fails_and_loses_nothing() {
    use std::sync::atomic::Ordering;
    let (app, store, _) = fixture();
    let guest = post(&app, "/cart/1", None).await.token().unwrap();
    store.deletes_down.store(true, Ordering::SeqCst);
    let r = post(&app, "/login/3", Some(&guest)).await;
    assert_eq!(r.status, 503);
    assert!(r.token().is_none(), "no new token is handed out");
    store.deletes_down.store(false, Ordering::SeqCst);
    let after = get(&app, "/read", Some(&guest)).await.json();
    assert_eq!(after["cart"], json!([1]), "the guest session is intact");
    assert_eq!(after["user_id"], json!(null));
}

#[tokio::test]
async fn the_device_label_comes_from_the_user_agent_truncated() {
    use session_runtime::SessionStore as _;
    let (app, store, _) = fixture();
    let ua = format!("Mozilla/5.0 (X11; Linux x86_64) {}", "x".repeat(500));
    let req = crate::common::request("POST", "/login/77", None)
        .header("user-agent", &ua)
        .body(axum::body::Body::empty())
        .unwrap();
    crate::common::send(&app, req).await;
    let list = store
        .inner
        .list_user("77", std::time::SystemTime::now())
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    let device = list[0].device.clone().unwrap();
    assert!(device.starts_with("Mozilla/5.0 (X11; Linux x86_64)"));
    assert_eq!(device.chars().count(), 120);
}

#[tokio::test]
async fn a_create_refused_as_a_conflict_is_retried_under_a_new_public_id() {
    use std::sync::atomic::Ordering;
    let (app, store, _) = fixture();
    store.conflicts.store(2, Ordering::SeqCst);
    let r = post(&app, "/login/7", None).await;
    assert_eq!(r.status, 200, "two conflicts, then the login goes through");
    let asked = store.created_ids.lock().unwrap().clone();
    assert_eq!(asked.len(), 3);
    assert!(asked[0] != asked[1] && asked[1] != asked[2] && asked[0] != asked[2]);
    assert_eq!(get(&app, "/me", r.token().as_deref()).await.status, 200);

    // Past the retries, the conflict is the store's answer: a 503, and no session.
    store.conflicts.store(10, Ordering::SeqCst);
    let r = post(&app, "/login/8", None).await;
    assert_eq!(r.status, 503);
    assert_eq!(store.inner.len(), 1);
}
