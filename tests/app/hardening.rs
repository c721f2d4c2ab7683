//! Issue 17 item 5: hashing off the async workers, login and password-change throttling,
//! and the anti-framing headers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use serde_json::json;
use session_runtime::{ManualClock, MemoryStore};

use crate::app;
use crate::common::{Reply, get, post_json};
use crate::server::Options;
use session_runtime::testing::{TestClient, TestResponse};

/// Eight logins at once (the default test runtime has a single thread) must not hold up
/// `/healthz`: the hashes run on the blocking pool, so the health check is answered while
/// they are still being computed. Hashed inline, the logins would each run to the end
/// before the health check is even polled.
#[tokio::test(flavor = "current_thread")]
async fn healthz_answers_while_logins_hash() {
    let app = app();
    let finished = Arc::new(AtomicUsize::new(0));
    // One login per name (the throttle counts checks in flight per name): three demo users
    // and five unknown names, which cost a hash too.
    let names = ["alice", "sam", "root", "u1", "u2", "u3", "u4", "u5"];
    let logins: Vec<_> = names
        .into_iter()
        .map(|name| {
            let (app, finished) = (app.clone(), finished.clone());
            tokio::spawn(async move {
                let body = json!({"username": name, "password": format!("{name}-pass")});
                let r = post_json(&app, "/api/login", None, body).await;
                finished.fetch_add(1, Ordering::SeqCst);
                r.status
            })
        })
        .collect();
    // Let every login start (each is polled once) before asking for the health check.
    tokio::task::yield_now().await;
    let health = get(&app, "/healthz", None).await;
    let finished_first = finished.load(Ordering::SeqCst);
    assert_eq!(health.status, 200);
    assert!(
        finished_first < logins.len(),
        "/healthz waited for all {finished_first} logins"
    );
    for (name, login) in names.into_iter().zip(logins) {
        let expected = if name.starts_with('u') { 401 } else { 200 };
        assert_eq!(login.await.unwrap(), expected, "{name}");
    }
}

/// The app on a manual clock, with its own users when `fresh` (a test that changes a
/// password must not change it for the others).
fn app_on(clock: &ManualClock, fresh: bool) -> Router {
    let users = if fresh {
        Arc::new(crate::server::Users::demo().unwrap())
    } else {
        crate::USERS.clone()
    };
    let options = Options {
        clock: Arc::new(clock.clone()),
    };
    crate::server::router_with(MemoryStore::new(), users, options)
}

async fn login(app: &Router, user: &str, pass: &str) -> Reply {
    post_json(
        app,
        "/api/login",
        None,
        json!({"username": user, "password": pass}),
    )
    .await
}

/// The `Retry-After` of a `429`, in seconds.
fn retry_after(r: &Reply) -> u64 {
    assert_eq!(r.status, 429, "{}", r.body);
    r.headers["retry-after"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn five_failed_logins_lock_the_name_even_for_the_right_password() {
    let clock = ManualClock::new();
    let app = app_on(&clock, false);
    for _ in 0..5 {
        assert_eq!(login(&app, "alice", "wrong").await.status, 401);
        clock.advance(Duration::from_secs(60));
    }
    // The first failure was 5 minutes ago: 10 minutes to go.
    let r = login(&app, "alice", "alice-pass").await;
    assert_eq!(retry_after(&r), 10 * 60);
    assert_eq!(r.json()["error"], "too_many_attempts");
    assert!(r.token().is_none(), "no session");
    // The name is normalized: no way around the limit by case or spaces.
    assert_eq!(login(&app, " ALICE", "alice-pass").await.status, 429);
    // Other names are unaffected.
    assert_eq!(login(&app, "sam", "sam-pass").await.status, 200);

    clock.advance(Duration::from_secs(10 * 60 - 1));
    assert_eq!(retry_after(&login(&app, "alice", "alice-pass").await), 1);
    clock.advance(Duration::from_secs(1));
    // The first failure left the window.
    assert_eq!(login(&app, "alice", "alice-pass").await.status, 200);
}

#[tokio::test]
async fn a_successful_login_resets_the_count() {
    let clock = ManualClock::new();
    let app = app_on(&clock, false);
    for _ in 0..4 {
        assert_eq!(login(&app, "root", "wrong").await.status, 401);
    }
    assert_eq!(login(&app, "root", "root-pass").await.status, 200);
    for _ in 0..4 {
        assert_eq!(login(&app, "root", "wrong").await.status, 401);
    }
    assert_eq!(login(&app, "root", "root-pass").await.status, 200);
}

/// The form login counts against the same limit as the JSON login, and answers its `429`
/// as a page.
#[tokio::test]
async fn the_form_login_is_throttled_with_the_json_login() {
    let clock = ManualClock::new();
    let app = app_on(&clock, false);
    for _ in 0..3 {
        assert_eq!(login(&app, "sam", "wrong").await.status, 401);
    }
    let mut b = TestClient::new(app.clone());
    b.get("/login").await;
    for _ in 0..2 {
        let r = b
            .post_form("/login", &[("username", "sam"), ("password", "wrong")])
            .await;
        assert_eq!(r.status(), 401);
    }
    let r = b
        .post_form("/login", &[("username", "sam"), ("password", "sam-pass")])
        .await;
    assert_eq!(r.status(), 429, "{}", r.text());
    assert_eq!(
        r.header("retry-after").unwrap().parse::<u64>().unwrap(),
        15 * 60
    );
    assert!(
        r.text().contains("Too many failed attempts"),
        "{}",
        r.text()
    );
    assert!(b.cookie(crate::COOKIE).is_none(), "not signed in");
    assert_eq!(login(&app, "sam", "sam-pass").await.status, 429);

    clock.advance(Duration::from_secs(15 * 60));
    let r = b
        .post_form("/login", &[("username", "sam"), ("password", "sam-pass")])
        .await;
    assert_eq!(r.status(), 303);
    assert!(b.cookie(crate::COOKIE).is_some());
}

#[tokio::test]
async fn password_changes_are_throttled_per_user() {
    let clock = ManualClock::new();
    let app = app_on(&clock, true);
    let alice = login(&app, "alice", "alice-pass").await.token().unwrap();
    let change = |old: &'static str, token: String| {
        let app = app.clone();
        async move {
            let body = json!({"old": old, "new": "a-new-password"});
            post_json(&app, "/api/password", Some(&token), body).await
        }
    };
    for _ in 0..5 {
        assert_eq!(change("wrong", alice.clone()).await.status, 403);
    }
    let r = change("alice-pass", alice.clone()).await;
    assert_eq!(retry_after(&r), 15 * 60);
    assert_eq!(r.json()["error"], "too_many_attempts");
    // Not changed: the old password still logs in.
    assert_eq!(login(&app, "alice", "alice-pass").await.status, 200);
    // Another user is unaffected.
    let sam = login(&app, "sam", "sam-pass").await.token().unwrap();
    assert_eq!(change("wrong", sam.clone()).await.status, 403);

    clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(change("alice-pass", alice).await.status, 204);
    assert_eq!(login(&app, "alice", "a-new-password").await.status, 200);
}

/// Pages, API answers, the session layer's own refusals and unknown routes all forbid
/// framing.
#[tokio::test]
async fn every_response_forbids_framing() {
    let app = app();
    let mut b = TestClient::new(app.clone());
    let page = |r: TestResponse| (r.status(), r.headers().clone());
    let reply = |r: crate::common::Reply| (r.status, r.headers);
    let replies = [
        page(b.get("/").await),
        page(b.get("/login").await),
        page(b.get("/admin").await),
        page(
            b.post_form("/login", &[("username", "alice"), ("password", "wrong")])
                .await,
        ),
        reply(get(&app, "/api/me", None).await),
        reply(login(&app, "alice", "alice-pass").await),
        reply(get(&app, "/healthz", None).await),
        reply(get(&app, "/no-such-page", None).await),
    ];
    for (status, headers) in &replies {
        assert_eq!(headers["x-frame-options"], "DENY", "{status}: {headers:?}");
        assert_eq!(
            headers["content-security-policy"], "frame-ancestors 'none'",
            "{status}: {headers:?}"
        );
    }
    let statuses: Vec<u16> = replies.iter().map(|(status, _)| status.as_u16()).collect();
    assert_eq!(statuses, [200, 200, 303, 401, 401, 200, 200, 404]);
}
