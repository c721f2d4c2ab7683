//! What gets written: nothing for reads, only changed fields, never a resurrection, nothing
//! on 5xx, never past the size cap.

use std::sync::Arc;

use axum::Router;
use axum::routing::post;
use session_runtime::{Session, SessionConfig, SessionError, SessionLayer, SessionStore as _};
use tokio::sync::{Barrier, Notify};

use crate::common::{AppSession, Counts, TestStore, fixture, get, post as send_post};
use serde_json::json;

#[tokio::test]
async fn read_only_requests_cost_one_load_and_zero_writes() {
    let (app, store, _) = fixture();
    let t = send_post(&app, "/login/1", None).await.token().unwrap();
    send_post(&app, "/cart/4", Some(&t)).await;
    store.counts.reset();
    for _ in 0..10 {
        assert_eq!(get(&app, "/me", Some(&t)).await.status, 200);
        assert_eq!(get(&app, "/read", Some(&t)).await.status, 200);
    }
    assert_eq!(store.counts.loads(), 20, "one load per request");
    assert_eq!(store.counts.writes(), 0, "zero writes");
}

#[tokio::test]
async fn a_write_is_one_update_of_only_the_changed_field() {
    let (app, store, _) = fixture();
    let t = send_post(&app, "/login/1", None).await.token().unwrap();
    store.counts.reset();
    send_post(&app, "/note/hi", Some(&t)).await;
    assert_eq!(store.counts.loads(), 1);
    assert_eq!(Counts::get(&store.counts.update), 1);
    assert_eq!(store.counts.writes(), 1);
}

/// Two requests on one session, each changing a different field, interleaved so that both
/// load before either saves: both changes survive.
#[tokio::test]
async fn concurrent_requests_changing_different_fields_both_keep_their_change() {
    let store = TestStore::new();
    let barrier = Arc::new(Barrier::new(2));
    let (b1, b2) = (barrier.clone(), barrier.clone());
    let app = crate::common::routes::routes()
        .route(
            "/race/note",
            post(move |s: Session<AppSession>| async move {
                b1.wait().await;
                s.set_note("from A".into())
            }),
        )
        .route(
            "/race/cart",
            post(move |s: Session<AppSession>| async move {
                b2.wait().await;
                s.update_cart(|c| c.push(77))
            }),
        )
        .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    let t = send_post(&app, "/login/1", None).await.token().unwrap();
    let (a, b) = tokio::join!(
        send_post(&app, "/race/note", Some(&t)),
        send_post(&app, "/race/cart", Some(&t))
    );
    assert_eq!((a.status.as_u16(), b.status.as_u16()), (200, 200));
    let view = get(&app, "/read", Some(&t)).await.json();
    assert_eq!(view["note"], "from A");
    assert_eq!(view["cart"], json!([77]));
}

/// A request that loaded the session before a logout elsewhere must not bring it back.
#[tokio::test]
async fn a_save_never_resurrects_a_logged_out_session() {
    let store = TestStore::new();
    let loaded = Arc::new(Notify::new());
    let go = Arc::new(Notify::new());
    let (l, g) = (loaded.clone(), go.clone());
    let app: Router = crate::common::routes::routes()
        .route(
            "/slow",
            post(move |s: Session<AppSession>| async move {
                l.notify_one();
                g.notified().await;
                s.set_note("late write".into())
            }),
        )
        .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    let t = send_post(&app, "/login/1", None).await.token().unwrap();
    let slow = {
        let app = app.clone();
        let t = t.clone();
        tokio::spawn(async move { send_post(&app, "/slow", Some(&t)).await })
    };
    loaded.notified().await;
    assert_eq!(send_post(&app, "/logout", Some(&t)).await.status, 204);
    go.notify_one();
    let r = slow.await.unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.removes_cookie(),
        "the late request learns the session is gone"
    );
    assert!(store.inner.is_empty(), "the logout wins");
    assert_eq!(get(&app, "/me", Some(&t)).await.status, 401);
}

#[tokio::test]
async fn nothing_is_saved_for_a_server_error() {
    let (app, store, _) = fixture();
    let r = send_post(&app, "/fail-after-set", None).await;
    assert_eq!(r.status, 500);
    assert!(r.set_cookie("session").is_none());
    assert!(store.inner.is_empty());

    let t = send_post(&app, "/cart/1", None).await.token().unwrap();
    store.counts.reset();
    send_post(&app, "/fail-after-set", Some(&t)).await;
    assert_eq!(store.counts.writes(), 0);
    assert_eq!(get(&app, "/read", Some(&t)).await.json()["note"], "");
}

#[tokio::test]
async fn an_emptied_session_is_deleted_not_saved_empty() {
    let (app, store, _) = fixture();
    let t = send_post(&app, "/cart/1", None).await.token().unwrap();
    send_post(&app, "/note/x", Some(&t)).await;
    assert_eq!(store.inner.len(), 1);
    let r = send_post(&app, "/clear", Some(&t)).await;
    assert_eq!(r.status, 200);
    assert!(r.removes_cookie());
    assert!(store.inner.is_empty());
}

#[tokio::test]
async fn a_logged_in_session_with_no_data_is_kept() {
    let (app, store, _) = fixture();
    let t = send_post(&app, "/login/1", None).await.token().unwrap();
    send_post(&app, "/clear", Some(&t)).await;
    assert_eq!(store.inner.len(), 1);
    assert_eq!(get(&app, "/me", Some(&t)).await.status, 200);
}

#[tokio::test]
async fn data_over_the_size_cap_is_refused_and_changes_nothing() {
    let store = TestStore::new();
    let app = crate::common::routes::app(
        store.clone(),
        SessionConfig::builder()
            .max_data_bytes(1024)
            .build()
            .unwrap(),
    );
    let t = send_post(&app, "/note/small", None).await.token().unwrap();
    let r = send_post(&app, "/big/2000", Some(&t)).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"], "session_too_large");
    assert_eq!(get(&app, "/read", Some(&t)).await.json()["note"], "small");
    assert_eq!(send_post(&app, "/big/500", Some(&t)).await.status, 200);
}

#[tokio::test]
async fn setter_error_leaves_the_value_unchanged_in_the_same_request() {
    let store = TestStore::new();
    let app: Router = Router::new()
        .route(
            "/",
            post(|s: Session<AppSession>| async move {
                s.set_note("before".into())?;
                let err = s.set_note("y".repeat(5000)).unwrap_err();
                assert!(matches!(err, SessionError::TooLarge { limit: 1024, .. }));
                assert_eq!(s.note(), "before");
                Ok::<_, SessionError>(s.note())
            }),
        )
        .layer(SessionLayer::new(
            store.clone(),
            SessionConfig::builder()
                .max_data_bytes(1024)
                .build()
                .unwrap(),
        ));
    let r = send_post(&app, "/", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "before");
    let now = std::time::SystemTime::now();
    assert_eq!(store.inner.sweep(now).await.unwrap(), 0);
}

#[tokio::test]
async fn the_size_cap_counts_names_and_values_exactly() {
    // The cap counts field names and JSON values: a stored cart `[1]` is "c" + "[1]" (4
    // bytes), and a note of n characters adds "note" and n + 2 (its quotes).
    let store = session_runtime::MemoryStore::new();
    let app: Router = Router::new()
        .route(
            "/cart",
            post(|s: Session<AppSession>| async move { s.set_cart(vec![1]) }),
        )
        .route(
            "/note/{n}",
            post(
                |s: Session<AppSession>, axum::extract::Path(n): axum::extract::Path<usize>| async move {
                    s.set_note("x".repeat(n))
                },
            ),
        )
        .layer(SessionLayer::new(
            store,
            SessionConfig::builder().max_data_bytes(40).build().unwrap(),
        ));
    let t = send_post(&app, "/cart", None).await.token().unwrap();
    assert_eq!(send_post(&app, "/note/31", Some(&t)).await.status, 413);
    assert_eq!(send_post(&app, "/note/30", Some(&t)).await.status, 200);
    assert_eq!(send_post(&app, "/note/31", Some(&t)).await.status, 413);
    assert_eq!(send_post(&app, "/note/29", Some(&t)).await.status, 200);
}
