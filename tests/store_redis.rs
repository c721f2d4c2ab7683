//! The store conformance suite on `RedisStore` against a real server
//! (`SESSION_TEST_REDIS_URL`), plus what only a shared, networked store does: a server that
//! goes away and comes back, two app instances, one round trip per read, server-side expiry.
//!
//! Each test uses a key prefix of its own, deleted at the end, so tests run in parallel.

#[path = "common/mod.rs"]
mod common;

/// The session cookie's name in this binary's apps (the default name), for `common`'s helpers.
pub const COOKIE: &str = "session";
#[path = "remember_flow/mod.rs"]
mod remember_flow;
mod store_suite;

use std::time::{Duration, Instant};

use session_runtime::{RedisStore, SessionConfig, SessionStore, StoreError, StoreOp};
use store_suite::servers::{Proxy, Wire, server_url, unique_name};
use store_suite::{key, now, record, store_suite};

const URL_VAR: &str = "SESSION_TEST_REDIS_URL";

/// The test server's URL and a prefix no other test uses.
fn server() -> Option<(String, String)> {
    let url = server_url(URL_VAR)?;
    Some((url, format!("{}:", unique_name("session-test"))))
}

async fn store(url: &str, prefix: &str) -> RedisStore {
    RedisStore::builder(url)
        .prefix(prefix)
        .no_background_sweep()
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{URL_VAR} is set but the server is unreachable: {e}"))
}

async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Every key under `prefix`.
async fn keys(url: &str, prefix: &str) -> Vec<String> {
    let mut conn = raw(url).await;
    redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap()
}

async fn remove_prefix(url: &str, prefix: &str) {
    let found = keys(url, prefix).await;
    if !found.is_empty() {
        let mut conn = raw(url).await;
        let _: () = redis::cmd("DEL")
            .arg(found)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

async fn suite_store() -> Option<RedisStore> {
    let (url, prefix) = server()?;
    Some(store(&url, &prefix).await)
}

store_suite!(suite_store(), |store: RedisStore| async move {
    remove_prefix(&std::env::var(URL_VAR).unwrap(), store.prefix()).await;
});

fn target(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let host = rest.split('/').next().unwrap_or(rest);
    let host = host.rsplit('@').next().unwrap_or(host);
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:6379")
    }
}

async fn store_via(proxy: &Proxy, prefix: &str) -> RedisStore {
    RedisStore::builder(&format!("redis://{}", proxy.addr()))
        .prefix(prefix)
        .connect_timeout(Duration::from_millis(300))
        .command_timeout(Duration::from_millis(800))
        .no_background_sweep()
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_server_that_goes_away_gives_fast_503s_and_sessions_come_back() {
    let Some((url, prefix)) = server() else {
        return;
    };
    let proxy = Proxy::new(&target(&url), Wire::Redis).await;
    let store = store_via(&proxy, &prefix).await;
    let app = common::routes::app(store, SessionConfig::default());
    let token = common::post(&app, "/login/1", None).await.token().unwrap();
    assert_eq!(common::get(&app, "/me", Some(&token)).await.status, 200);

    proxy.stop();
    for _ in 0..2 {
        let started = Instant::now();
        let r = common::get(&app, "/me", Some(&token)).await;
        assert_eq!(r.status, 503, "{}", r.body);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }
    assert_eq!(common::post(&app, "/cart/1", None).await.status, 503);
    assert_eq!(common::get(&app, "/public", Some(&token)).await.status, 200);

    proxy.start().await;
    // The connection manager reconnects in the background: allow it a moment.
    let mut status = 0;
    for _ in 0..30 {
        status = common::get(&app, "/me", Some(&token)).await.status.as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "back without a restart");
    assert_eq!(
        common::post(&app, "/cart/2", Some(&token)).await.status,
        200
    );
    remove_prefix(&url, &prefix).await;
}

#[tokio::test]
async fn a_remembered_device_logs_in_again_across_two_instances() {
    let Some((url, prefix)) = server() else {
        return;
    };
    remember_flow::a_remembered_device_logs_in_again_and_a_replay_ends_everything(
        store(&url, &prefix).await,
        store(&url, &prefix).await,
    )
    .await;
    remove_prefix(&url, &prefix).await;
}

#[tokio::test]
async fn every_end_reaches_a_waiter_on_another_instance() {
    let Some((url, prefix)) = server() else {
        return;
    };
    remember_flow::every_end_reaches_a_waiter_on_another_instance(
        store(&url, &prefix).await,
        store(&url, &prefix).await,
    )
    .await;
    let mut took =
        remember_flow::end_latencies(store(&url, &prefix).await, store(&url, &prefix).await, 100)
            .await;
    let (median, max) = remember_flow::median_and_max(&mut took);
    println!(
        "Redis, two instances: 100 ends reached their waiters in median {median:?}, max {max:?}"
    );
    remove_prefix(&url, &prefix).await;
}

#[tokio::test]
async fn a_lost_subscription_ends_the_wait_with_an_error_and_comes_back() {
    let Some((url, prefix)) = server() else {
        return;
    };
    let proxy = Proxy::new(&target(&url), Wire::Redis).await;
    let clock = session_runtime::ManualClock::new();
    let users = remember_flow::Users::with_demo_users();
    let app_a = remember_flow::app(store_via(&proxy, &prefix).await, &clock, &users);
    let app_b = remember_flow::app(store(&url, &prefix).await, &clock, &users);
    let client = remember_flow::logged_in(&app_a).await;
    let mut watch = remember_flow::Watch::open(&app_a, &client).await;
    assert_eq!(watch.line(Duration::from_millis(500)).await, None);

    proxy.stop();
    let line = watch.line(Duration::from_secs(3)).await.unwrap_or_default();
    assert!(line.starts_with("error: lost the connection"), "{line:?}");

    proxy.start().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut client = loop {
        let mut client = session_runtime::testing::TestClient::new(app_a.clone());
        if client.post_json("/login/1", &()).await.status() == 200 {
            break client;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "app A never came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let id = remember_flow::current_id(&mut client).await;
    let mut watch = remember_flow::Watch::open(&app_a, &client).await;
    let mut admin = remember_flow::logged_in(&app_b).await;
    let revoke = axum::http::Request::delete(format!("/sessions/{id}"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(admin.request(revoke).await.status(), 204);
    assert_eq!(
        watch.line(Duration::from_secs(2)).await.as_deref(),
        Some("ended")
    );
    remove_prefix(&url, &prefix).await;
}

#[tokio::test]
async fn two_app_instances_share_sessions() {
    let Some((url, prefix)) = server() else {
        return;
    };
    let clock = session_runtime::ManualClock::new();
    let a = common::routes::app(store(&url, &prefix).await, common::config(&clock));
    let b = common::routes::app(store(&url, &prefix).await, common::config(&clock));
    let token = common::post(&a, "/login/5", None).await.token().unwrap();
    let me = common::get(&b, "/me", Some(&token)).await;
    assert_eq!(
        (me.status.as_u16(), me.json()["user_id"].as_i64()),
        (200, Some(5))
    );
    assert_eq!(common::post(&b, "/logout", Some(&token)).await.status, 204);
    assert_eq!(common::get(&a, "/me", Some(&token)).await.status, 401);
    remove_prefix(&url, &prefix).await;
}

#[tokio::test]
async fn a_read_only_request_is_one_round_trip_and_writes_nothing() {
    let Some((url, prefix)) = server() else {
        return;
    };
    let proxy = Proxy::new(&target(&url), Wire::Redis).await;
    let store = store_via(&proxy, &prefix).await;
    let clock = session_runtime::ManualClock::new();
    let app = common::routes::app(store, common::config(&clock));
    let token = common::post(&app, "/login/1", None).await.token().unwrap();
    assert_eq!(
        common::post(&app, "/note/same", Some(&token)).await.status,
        200
    );
    proxy.take_log();

    assert_eq!(common::get(&app, "/read", Some(&token)).await.status, 200);
    assert_eq!(
        proxy.take_log(),
        ["HGETALL"],
        "a read-only request: one round trip"
    );
    assert_eq!(
        common::post(&app, "/note/same", Some(&token)).await.status,
        200
    );
    assert_eq!(
        proxy.take_log(),
        ["HGETALL"],
        "a request that changes nothing writes nothing"
    );
    assert_eq!(
        common::post(&app, "/note/other", Some(&token)).await.status,
        200
    );
    assert_eq!(
        proxy.take_log(),
        ["HGETALL", "EVALSHA"],
        "a change: one script"
    );
    remove_prefix(&url, &prefix).await;
}

#[tokio::test]
async fn the_server_expires_sessions_and_their_indexes() {
    let Some((url, prefix)) = server() else {
        return;
    };
    let store = store(&url, &prefix).await;
    let t = now();
    let mut r = record(Some("\"ttl\""), &[("a", "1")], t);
    r.expires_at = t + Duration::from_secs(60);
    store.create(&key(), &r).await.unwrap();
    let mut conn = raw(&url).await;
    let mut found = keys(&url, &prefix).await;
    found.sort();
    assert_eq!(
        found.len(),
        4,
        "session, public id, user index, expiry index: {found:?}"
    );
    for name in found.iter().filter(|k| !k.ends_with(":exp")) {
        let at: i64 = redis::cmd("PEXPIRETIME")
            .arg(name)
            .query_async(&mut conn)
            .await
            .unwrap();
        let want = r
            .expires_at
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        assert_eq!(at as u128, want, "{name} expires with the session");
    }
    remove_prefix(&url, &prefix).await;
}

#[tokio::test]
async fn an_unreachable_server_or_bad_settings_are_errors_not_panics() {
    let err = RedisStore::builder("redis://127.0.0.1:1")
        .connect_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Backend {
                op: StoreOp::Setup,
                ..
            } | StoreError::Timeout { op: StoreOp::Setup }
        ),
        "{err}"
    );
    let err = RedisStore::builder("redis://127.0.0.1:1")
        .prefix("a*b")
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Config { .. }), "{err}");
    let err = RedisStore::connect("nope://x").await.unwrap_err();
    assert!(matches!(err, StoreError::Config { .. }), "{err}");
}
