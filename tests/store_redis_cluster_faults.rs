//! `RedisClusterStore` while the cluster changes under traffic: a master killed (its replica
//! takes over) and slots migrated between masters (`redis-cli --cluster reshard`). The app
//! keeps the same store throughout: it must recover by itself, and lose no session.
//!
//! These tests disturb the whole cluster, so they run one at a time, in a binary of their
//! own (cargo runs test binaries one after another).

#[path = "common/mod.rs"]
mod common;

/// The session cookie's name in this binary's apps (the default name), for `common`'s helpers.
pub const COOKIE: &str = "session";
mod cluster;
#[path = "remember_flow/mod.rs"]
mod remember_flow;
#[allow(unused_macros, unused_imports)] // only its `servers` helpers
mod store_suite;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use axum::Router;
use session_runtime::SessionConfig;

/// One test at a time.
static SERIAL: LazyLock<tokio::sync::Mutex<()>> = LazyLock::new(|| tokio::sync::Mutex::new(()));

/// The hex of a token's key: what names its record.
fn hex_of(token: &str) -> String {
    use sha2::Digest as _;
    session_runtime::SessionKey::from_bytes(sha2::Sha256::digest(token.as_bytes()).into()).to_hex()
}

/// Logs in `n` users, each with cart item 1; their tokens.
async fn sessions(app: &Router, n: u32) -> Vec<String> {
    let mut tokens = Vec::new();
    for id in 0..n {
        let token = common::post(app, &format!("/login/{id}"), None)
            .await
            .token()
            .unwrap();
        assert_eq!(common::post(app, "/cart/1", Some(&token)).await.status, 200);
        tokens.push(token);
    }
    tokens
}

/// Per token, the items whose save answered `200`; and every other status seen.
type Outcome = (BTreeMap<String, Vec<u64>>, Vec<u16>);

/// Traffic on every session until `stop`: each round adds the next item to each cart.
/// Returns, per token, the items whose save was answered `200`, and every other status seen.
fn traffic(
    app: Router,
    tokens: Vec<String>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Outcome> {
    tokio::spawn(async move {
        let mut saved: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        let mut other = Vec::new();
        let mut item = 2;
        while !stop.load(Ordering::Relaxed) {
            for token in &tokens {
                let r = common::post(&app, &format!("/cart/{item}"), Some(token)).await;
                match r.status.as_u16() {
                    200 => saved.entry(token.clone()).or_default().push(item),
                    status => other.push(status),
                }
            }
            item += 1;
        }
        (saved, other)
    })
}

/// Every item of every session's cart: item 1, plus each one whose save answered `200`.
async fn assert_carts(app: &Router, tokens: &[String], saved: &BTreeMap<String, Vec<u64>>) {
    for token in tokens {
        let r = common::get(app, "/read", Some(token)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let json = r.json();
        assert!(json["user_id"].is_i64(), "still logged in: {json}");
        let cart: Vec<u64> = serde_json::from_value(json["cart"].clone()).unwrap();
        let mut want = vec![1];
        want.extend(saved.get(token).into_iter().flatten());
        assert_eq!(cart, want, "a session lost a save");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_killed_under_traffic_fails_over_and_loses_no_session() {
    let _serial = SERIAL.lock().await;
    let Some((seeds, prefix)) = cluster::cluster() else {
        return;
    };
    cluster::wait_for_ok(&seeds, 3).await;
    let app = common::routes::app(
        cluster::quick_store(&seeds, &prefix).await,
        SessionConfig::default(),
    );
    let tokens = sessions(&app, 24).await;
    // Replication is asynchronous: a write not yet on the replica when its master dies is
    // lost by design (the store's docs). What is replicated must survive.
    cluster::wait_for_replicas(&seeds).await;

    let masters = cluster::masters(&seeds).await;
    let mut held = vec![0; masters.len()];
    for token in &tokens {
        let slot = cluster::slot_of(&seeds, &format!("{prefix}{{{}}}", hex_of(token))).await;
        held[masters.iter().position(|m| m.serves(slot)).unwrap()] += 1;
    }
    let (most, _) = held.iter().enumerate().max_by_key(|(_, n)| **n).unwrap();
    let victim = masters[most].clone();

    let stop = Arc::new(AtomicBool::new(false));
    let running = traffic(app.clone(), tokens.clone(), stop.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped = cluster::shut_down(&victim.addr).await;
    let killed = Instant::now();

    // Recovery without a restart of the app: every session answers again.
    loop {
        let mut up = 0;
        for token in &tokens {
            let status = common::get(&app, "/me", Some(token)).await.status;
            assert!(
                status == 200 || status == 503,
                "{status}: a session was lost"
            );
            up += usize::from(status == 200);
        }
        if up == tokens.len() {
            break;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(25),
            "{up} of {} sessions answer {:?} after the kill",
            tokens.len(),
            killed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("recovered {:?} after the kill", killed.elapsed());
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let (_, other) = running.await.unwrap();
    assert!(
        other.iter().all(|s| *s == 503),
        "only 503s during the failover: {other:?}"
    );
    // What was written before the kill and replicated is there. (A save made in the moments
    // before the kill may be lost with its master: replication is asynchronous.)
    for token in &tokens {
        let r = common::get(&app, "/read", Some(token)).await;
        assert_eq!(r.status, 200);
        let cart: Vec<u64> = serde_json::from_value(r.json()["cart"].clone()).unwrap();
        assert_eq!(cart.first(), Some(&1), "written before the kill: {cart:?}");
    }

    stopped.restart().await;
    cluster::wait_for_ok(&seeds, 3).await;
    // The restarted node is a replica now; writes work everywhere.
    for token in &tokens {
        assert_eq!(
            common::post(&app, "/cart/99", Some(token)).await.status,
            200
        );
    }
    cluster::remove_prefix(&seeds, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_migration_under_traffic_loses_nothing() {
    let _serial = SERIAL.lock().await;
    let Some((seeds, prefix)) = cluster::cluster() else {
        return;
    };
    cluster::wait_for_ok(&seeds, 3).await;
    let app = common::routes::app(
        cluster::store(&seeds, &prefix).await,
        SessionConfig::default(),
    );
    let tokens = sessions(&app, 150).await;
    // From the master with the most slots to the one with the fewest, so that reruns on
    // one cluster keep working.
    let mut masters = cluster::masters(&seeds).await;
    masters.sort_by_key(|m| {
        m.slots
            .iter()
            .map(|(a, b)| u32::from(b - a) + 1)
            .sum::<u32>()
    });
    let (from, to) = (masters[masters.len() - 1].clone(), masters[0].clone());
    let slots_of = |tokens: &[String]| {
        let (seeds, prefix) = (seeds.clone(), prefix.clone());
        let tokens = tokens.to_vec();
        async move {
            let mut slots = Vec::new();
            for token in &tokens {
                slots.push(
                    cluster::slot_of(&seeds, &format!("{prefix}{{{}}}", hex_of(token))).await,
                );
            }
            slots
        }
    };
    let slots = slots_of(&tokens).await;

    let stop = Arc::new(AtomicBool::new(false));
    let running = traffic(app.clone(), tokens.clone(), stop.clone());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let out = tokio::process::Command::new("redis-cli")
        .args(["--cluster", "reshard", &from.addr])
        .args(["--cluster-from", &from.id, "--cluster-to", &to.id])
        .args(["--cluster-slots", "1000", "--cluster-yes"])
        .output()
        .await
        .expect("redis-cli runs");
    assert!(
        out.status.success(),
        "reshard: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("resharded 1000 slots in {:?}", started.elapsed());
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let (saved, other) = running.await.unwrap();
    assert!(other.is_empty(), "every request answered 200: {other:?}");

    let now_from = cluster::masters(&seeds)
        .await
        .into_iter()
        .find(|m| m.id == from.id)
        .unwrap();
    let moved = slots
        .iter()
        .filter(|s| from.serves(**s) && !now_from.serves(**s))
        .count();
    assert!(moved > 0, "some sessions' slots moved: {slots:?}");
    assert_carts(&app, &tokens, &saved).await;
    // Listing and logout-everywhere reach sessions on moved slots.
    for token in tokens.iter().take(5) {
        assert_eq!(
            common::get(&app, "/sessions", Some(token)).await.status,
            200
        );
        assert_eq!(
            common::post(&app, "/logout-everywhere", Some(token))
                .await
                .status,
            200
        );
        assert_eq!(common::get(&app, "/me", Some(token)).await.status, 401);
    }
    cluster::remove_prefix(&seeds, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_subscribed_node_ends_waits_with_an_error_and_the_next_node_takes_over() {
    let _serial = SERIAL.lock().await;
    let Some((seeds, prefix)) = cluster::cluster() else {
        return;
    };
    cluster::wait_for_ok(&seeds, 3).await;
    let clock = session_runtime::ManualClock::new();
    let users = remember_flow::Users::with_demo_users();
    let app_a = remember_flow::app(cluster::quick_store(&seeds, &prefix).await, &clock, &users);
    let app_b = remember_flow::app(cluster::quick_store(&seeds, &prefix).await, &clock, &users);
    let client = remember_flow::logged_in(&app_a).await;
    let mut watch = remember_flow::Watch::open(&app_a, &client).await;
    assert_eq!(watch.line(Duration::from_millis(500)).await, None);

    // The node the listener subscribed on (its first seed, unless that one failed).
    let first = cluster::subscribed_node(&seeds, &format!("{prefix}ended")).await;
    let stopped = cluster::shut_down(&first).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match watch.line(Duration::from_millis(500)).await {
            Some(line) if line.starts_with("error: lost the connection") => break,
            Some(line) => seen.push(line),
            None => {}
        }
        assert!(Instant::now() < deadline, "no error line, only {seen:?}");
    }

    // Without that node (and through a failover, if it was a master), ends reach waiters
    // again: the listener is on the next seed.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut client = loop {
        let mut client = session_runtime::testing::TestClient::new(app_a.clone());
        if client.post_json("/login/1", &()).await.status() == 200 {
            break client;
        }
        assert!(Instant::now() < deadline, "app A never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let id = remember_flow::current_id(&mut client).await;
    let mut watch = remember_flow::Watch::open(&app_a, &client).await;
    let mut admin = loop {
        let mut admin = session_runtime::testing::TestClient::new(app_b.clone());
        if admin.post_json("/login/1", &()).await.status() == 200 {
            break admin;
        }
        assert!(Instant::now() < deadline, "app B never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let revoke = axum::http::Request::delete(format!("/sessions/{id}"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(admin.request(revoke).await.status(), 204);
    assert_eq!(
        watch.line(Duration::from_secs(3)).await.as_deref(),
        Some("ended")
    );

    stopped.restart().await;
    cluster::wait_for_ok(&seeds, 3).await;
    cluster::remove_prefix(&seeds, &prefix).await;
}
