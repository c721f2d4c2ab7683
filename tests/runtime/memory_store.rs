//! The wire behaviour again with a plain `MemoryStore`, which the layer reads and writes
//! without going through a future (the other runtime tests wrap it in a counting store,
//! which takes the general path): saves, rolling and idle expiry, and a session deleted
//! while a request that changes it is in flight.

use std::time::Duration;

use axum::Router;
use axum::routing;
use session_runtime::{ManualClock, MemoryStore, Session, SessionError, SessionLayer};

use crate::common::{AppSession, config, get, post, routes};

const MIN: Duration = Duration::from_secs(60);

fn app() -> (Router, MemoryStore, ManualClock) {
    let store = MemoryStore::builder().no_background_sweep().build();
    let clock = ManualClock::new();
    (routes::app(store.clone(), config(&clock)), store, clock)
}

#[tokio::test]
async fn writes_are_saved_and_read_back() {
    let (app, store, _) = app();
    let t = post(&app, "/cart/1", None).await.token().unwrap();
    assert_eq!(post(&app, "/cart/2", Some(&t)).await.status, 200);
    assert_eq!(post(&app, "/note/hi", Some(&t)).await.status, 200);
    let r = get(&app, "/read", Some(&t)).await;
    assert_eq!(r.json()["cart"], serde_json::json!([1, 2]));
    assert_eq!(r.json()["note"], "hi");
    assert!(r.set_cookie("session").is_none(), "a read sets no cookie");
    assert_eq!(store.len(), 1);
}

#[tokio::test]
async fn use_extends_the_session_and_idleness_ends_it() {
    let (app, store, clock) = app();
    let t = post(&app, "/login/1", None).await.token().unwrap();
    for _ in 0..4 {
        clock.advance(20 * MIN);
        let r = get(&app, "/me", Some(&t)).await;
        assert_eq!(r.status, 200, "each use moves the idle deadline");
        assert!(
            r.set_cookie("session").is_some(),
            "the refreshed expiry is sent"
        );
    }
    clock.advance(30 * MIN);
    let r = get(&app, "/me", Some(&t)).await;
    assert_eq!(r.status, 401);
    assert!(r.removes_cookie());
    assert_eq!(store.len(), 0, "the expired record is removed when read");
}

#[tokio::test]
async fn a_session_revoked_during_a_request_that_changes_it_stays_revoked() {
    let store = MemoryStore::builder().no_background_sweep().build();
    let clock = ManualClock::new();
    let layer = SessionLayer::new(store.clone(), config(&clock));
    let admin = layer.admin::<AppSession>();
    let revoke_then_write = move |s: Session<AppSession>| {
        let admin = admin.clone();
        async move {
            let user = s.user_id().expect("logged in");
            admin.revoke_all(&user).await?;
            s.set_note("written after the revocation".to_owned())?;
            Ok::<_, SessionError>("ok")
        }
    };
    let app = routes::routes()
        .route("/revoke-then-write", routing::post(revoke_then_write))
        .layer(layer);
    let t = post(&app, "/login/1", None).await.token().unwrap();
    let r = post(&app, "/revoke-then-write", Some(&t)).await;
    assert_eq!(r.status, 200);
    assert!(r.removes_cookie(), "the request ends anonymous");
    assert_eq!(store.len(), 0, "the write did not bring the session back");
    assert_eq!(get(&app, "/me", Some(&t)).await.status, 401);
}
