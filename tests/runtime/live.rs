//! Live revocation (DESIGN §7) on the memory store: a long-lived response hears every way
//! its session ends, and expiry.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::{get, post};
use futures_util::{StreamExt as _, stream};
use session_runtime::testing::TestClient;
use session_runtime::{MemoryStore, RequireAuth, Session, SessionConfig, SessionLayer};

use crate::common::AppSession;
use crate::remember_flow::{
    end_latencies, every_end_reaches_a_waiter_on_another_instance, median_and_max,
};

#[tokio::test]
async fn every_end_reaches_a_waiter_and_a_rotation_does_not() {
    let store = MemoryStore::new();
    let took = every_end_reaches_a_waiter_on_another_instance(store.clone(), store).await;
    assert_eq!(took.len(), 6);
}

#[tokio::test]
async fn ends_arrive_quickly_on_the_memory_store() {
    let store = MemoryStore::new();
    let mut took = end_latencies(store.clone(), store, 100).await;
    let (median, max) = median_and_max(&mut took);
    println!(
        "memory store: end of 100 sessions reached their waiters in median {median:?}, max {max:?}"
    );
    assert!(max < Duration::from_secs(2));
}

/// An app whose sessions idle out after 2 s on the system clock, with a `/watch` stream.
fn short_idle_app(store: MemoryStore) -> Router {
    let config = SessionConfig::builder()
        .idle_timeout(Duration::from_secs(2))
        .touch_interval(Duration::from_secs(1))
        .build()
        .unwrap();
    Router::new()
        .route(
            "/login",
            post(|s: Session<AppSession>| async move { s.login(5).await }),
        )
        .route(
            "/watch",
            get(|u: RequireAuth<AppSession>| async move {
                let ended = u.session().ended();
                let hello = stream::once(async {
                    Ok::<_, std::convert::Infallible>(Bytes::from("hello\n"))
                });
                let end = stream::once(async move {
                    Ok(Bytes::from(match ended.await {
                        Ok(()) => "ended\n".to_owned(),
                        Err(e) => format!("error: {e}\n"),
                    }))
                });
                Body::from_stream(hello.chain(end))
            }),
        )
        .layer(SessionLayer::new(store, config))
}

#[tokio::test]
async fn expiry_ends_the_wait_without_any_request() {
    let store = MemoryStore::new();
    let app = short_idle_app(store.clone());
    let mut client = TestClient::new(app.clone());
    client.post_json("/login", &()).await;
    let started = std::time::Instant::now();
    let mut watch = crate::remember_flow::Watch::open_at(&app, &client, "/watch").await;
    let line = watch.line(Duration::from_secs(5)).await;
    assert_eq!(line.as_deref(), Some("ended"));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1500),
        "{took:?}: not before the idle timeout"
    );
    assert_eq!(
        session_runtime::SessionStore::session_ends(&store)
            .unwrap()
            .waiting(),
        0,
        "the wait withdrew"
    );
}

#[tokio::test]
async fn a_dropped_wait_leaves_nothing_behind() {
    let store = MemoryStore::new();
    let app = short_idle_app(store.clone());
    let mut client = TestClient::new(app.clone());
    client.post_json("/login", &()).await;
    let watch = crate::remember_flow::Watch::open_at(&app, &client, "/watch").await;
    // The body's stream polls the wait once it is read past `hello`; give it a moment.
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(watch);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        session_runtime::SessionStore::session_ends(&store)
            .unwrap()
            .waiting(),
        0
    );
}
