//! Memory of live revocation: what one idle wait for a session's end
//! (`Session::ended`, as an SSE stream or a WebSocket holds it) costs, on `MemoryStore`.
//!
//! ```sh
//! cargo bench -p session-benches --bench waiters             # 10,000 waits
//! cargo bench -p session-benches --bench waiters -- --smoke  # 100, to prove it runs
//! ```
//!
//! Logs in N sessions, then opens one wait per session in a spawned task (as a long-lived
//! response does) and counts, with a counting global allocator, the bytes that stay live
//! once every task is parked: the task, its future, the hub's entry and the timer. Ending
//! the sessions must give them back.

use std::alloc::System;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use axum::routing::{get, post};
use session_runtime::{
    MemoryStore, RequireAuth, Session, SessionConfig, SessionLayer, SessionSchema, SessionStore,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tower::ServiceExt as _;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A schema with only a user id.
#[derive(SessionSchema)]
pub struct Bench {
    /// The logged-in user.
    #[session(user_id)]
    pub user_id: Option<u64>,
}

fn app(store: MemoryStore) -> Router {
    Router::new()
        .route(
            "/login/{id}",
            post(
                |s: Session<Bench>, axum::extract::Path(id): axum::extract::Path<u64>| async move {
                    s.login(id).await
                },
            ),
        )
        .route(
            "/wait",
            get(|u: RequireAuth<Bench>| async move {
                let ended = u.session().ended();
                tokio::spawn(async move {
                    let _ = ended.await;
                });
            }),
        )
        .route(
            "/logout",
            post(|s: Session<Bench>| async move { s.logout().await }),
        )
        .layer(SessionLayer::new(store, SessionConfig::default()))
}

async fn call(app: &Router, method: &str, path: &str, cookie: Option<&str>) -> Option<String> {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// Lets every spawned task run until it parks.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
}

fn live_bytes(region: &Region<'_, System>) -> isize {
    let stats = region.change();
    stats.bytes_allocated as isize - stats.bytes_deallocated as isize + stats.bytes_reallocated
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let n: usize = if smoke { 100 } else { 10_000 };
    let store = MemoryStore::new();
    let app = app(store.clone());
    let mut cookies = Vec::with_capacity(n);
    for i in 0..n {
        cookies.push(
            call(&app, "POST", &format!("/login/{i}"), None)
                .await
                .unwrap(),
        );
    }
    // Warm up the hub's map, the timer wheel and the task allocator.
    let warm = call(&app, "POST", "/login/999999999", None).await.unwrap();
    call(&app, "GET", "/wait", Some(&warm)).await;
    settle().await;

    let region = Region::new(GLOBAL);
    for cookie in &cookies {
        call(&app, "GET", "/wait", Some(cookie)).await;
    }
    settle().await;
    let held = live_bytes(&region);
    let hub = store
        .session_ends()
        .expect("the memory store tells of ends");
    assert_eq!(hub.waiting(), n + 1, "every wait is registered");
    println!(
        "{n} idle waits hold {held} bytes: {} bytes per wait",
        held / n as isize
    );

    for cookie in &cookies {
        call(&app, "POST", "/logout", Some(cookie)).await;
    }
    settle().await;
    assert_eq!(hub.waiting(), 1, "every ended session's wait is gone");
    let left = live_bytes(&region);
    println!(
        "after the {n} sessions ended: {left} bytes still held (the waits' share: {})",
        held - left
    );
}
