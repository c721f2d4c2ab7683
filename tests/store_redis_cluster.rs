//! The store conformance suite on `RedisClusterStore` against a real Redis Cluster
//! (`SESSION_TEST_REDIS_CLUSTER_URL`: comma-separated seed nodes, 3 masters with a replica
//! each; `.ci/redis-cluster` starts one), plus what only a cluster shows: sessions spread over
//! every master, two app instances sharing per-user operations across slots, and the
//! servers' own expiry of every key. The tests that stop nodes or move slots are in
//! `store_redis_cluster_faults`, a binary of their own, so that nothing else runs meanwhile.
//!
//! Each test uses a key prefix of its own, deleted at the end, so tests run in parallel.

#[path = "common/mod.rs"]
mod common;

/// The session cookie's name in this binary's apps (the default name), for `common`'s helpers.
pub const COOKIE: &str = "session";
mod cluster;
#[path = "remember_flow/mod.rs"]
mod remember_flow;
mod store_suite;

use std::time::Duration;

use session_runtime::{ManualClock, RedisClusterStore, SessionStore, StoreError, StoreOp};
use store_suite::{key, now, record, store_suite};

async fn suite_store() -> Option<RedisClusterStore> {
    let (seeds, prefix) = cluster::cluster()?;
    Some(cluster::store(&seeds, &prefix).await)
}

store_suite!(suite_store(), |store: RedisClusterStore| async move {
    let (seeds, _) = cluster::cluster().unwrap();
    cluster::remove_prefix(&seeds, store.prefix()).await;
});

/// The hex of a token's key: what names its record.
fn hex_of(token: &str) -> String {
    use sha2::Digest as _;
    session_runtime::SessionKey::from_bytes(sha2::Sha256::digest(token.as_bytes()).into()).to_hex()
}

#[tokio::test]
async fn sessions_spread_over_every_master() {
    let Some((seeds, prefix)) = cluster::cluster() else {
        return;
    };
    let app = common::routes::app(
        cluster::store(&seeds, &prefix).await,
        session_runtime::SessionConfig::default(),
    );
    for id in 0..60 {
        let token = common::post(&app, &format!("/login/{id}"), None)
            .await
            .token()
            .unwrap();
        assert_eq!(common::get(&app, "/me", Some(&token)).await.status, 200);
    }
    let masters = cluster::masters(&seeds).await;
    assert_eq!(masters.len(), 3, "{masters:?}");
    let record_name = |k: &String| k.len() == prefix.len() + 66 && k.ends_with('}');
    for master in &masters {
        let keys = cluster::node_keys(&master.addr, &prefix).await;
        let records = keys.iter().filter(|k| record_name(k)).count();
        let indexes = keys.iter().filter(|k| k.contains("{u:")).count();
        assert!(records >= 5, "{}: {records} sessions of 48", master.addr);
        assert!(
            indexes >= 5,
            "{}: {indexes} user indexes of 48",
            master.addr
        );
    }
    cluster::remove_prefix(&seeds, &prefix).await;
}

#[tokio::test]
async fn two_app_instances_share_sessions_listings_and_revocations() {
    let Some((seeds, prefix)) = cluster::cluster() else {
        return;
    };
    let clock = ManualClock::new();
    let a = common::routes::app(
        cluster::store(&seeds, &prefix).await,
        common::config(&clock),
    );
    let b = common::routes::app(
        cluster::store(&seeds, &prefix).await,
        common::config(&clock),
    );
    let login = |app: &axum::Router| {
        let app = app.clone();
        async move { common::post(&app, "/login/5", None).await.token().unwrap() }
    };
    let (one, two, three) = (login(&a).await, login(&b).await, login(&a).await);
    // Each session is in a slot of its own; the user's index in another.
    let slots: std::collections::BTreeSet<u16> = {
        let mut s = std::collections::BTreeSet::new();
        for t in [&one, &two, &three] {
            let hex = hex_of(t);
            s.insert(cluster::slot_of(&seeds, &format!("{prefix}{{{hex}}}")).await);
        }
        s
    };
    assert_eq!(slots.len(), 3, "three slots: {slots:?}");

    let me = common::get(&b, "/me", Some(&one)).await;
    assert_eq!(
        (me.status.as_u16(), me.json()["user_id"].as_i64()),
        (200, Some(5))
    );
    let listed = common::get(&b, "/sessions", Some(&two)).await.json();
    let listed = listed.as_array().unwrap().clone();
    assert_eq!(listed.len(), 3, "{listed:?}");

    // Revoke the third session from instance b, by its public id.
    let third = common::get(&a, "/sessions", Some(&three)).await.json();
    let current = third
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = common::send(
        &b,
        common::request("DELETE", &format!("/sessions/{current}"), Some(&two))
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(revoked.status, 204, "{}", revoked.body);
    assert_eq!(common::get(&a, "/me", Some(&three)).await.status, 401);
    assert_eq!(
        common::get(&a, "/sessions", Some(&one))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Logout-others from a ends the session made on b, and keeps a's.
    assert_eq!(
        common::post(&a, "/logout-others", Some(&one)).await.status,
        200
    );
    assert_eq!(common::get(&b, "/me", Some(&two)).await.status, 401);
    assert_eq!(common::get(&b, "/me", Some(&one)).await.status, 200);
    assert_eq!(common::post(&b, "/logout", Some(&one)).await.status, 204);
    assert_eq!(common::get(&a, "/me", Some(&one)).await.status, 401);
    cluster::remove_prefix(&seeds, &prefix).await;
}

#[tokio::test]
async fn a_remembered_device_logs_in_again_across_two_instances() {
    let Some((seeds, prefix)) = cluster::cluster() else {
        return;
    };
    remember_flow::a_remembered_device_logs_in_again_and_a_replay_ends_everything(
        cluster::store(&seeds, &prefix).await,
        cluster::store(&seeds, &prefix).await,
    )
    .await;
    cluster::remove_prefix(&seeds, &prefix).await;
}

#[tokio::test]
async fn every_end_reaches_a_waiter_on_another_instance() {
    let Some((seeds, prefix)) = cluster::cluster() else {
        return;
    };
    let store = || cluster::store(&seeds, &prefix);
    remember_flow::every_end_reaches_a_waiter_on_another_instance(store().await, store().await)
        .await;
    let mut took = remember_flow::end_latencies(store().await, store().await, 100).await;
    let (median, max) = remember_flow::median_and_max(&mut took);
    println!(
        "Redis Cluster, two instances: 100 ends reached their waiters in median {median:?}, \
         max {max:?}"
    );
    cluster::remove_prefix(&seeds, &prefix).await;
}

#[tokio::test]
async fn the_servers_expire_sessions_and_their_indexes() {
    let Some((seeds, prefix)) = cluster::cluster() else {
        return;
    };
    let store = cluster::store(&seeds, &prefix).await;
    let t = now();
    let mut r = record(Some("\"ttl\""), &[("a", "1")], t);
    r.expires_at = t + Duration::from_secs(60);
    r.absolute_expires_at = t + Duration::from_secs(600);
    let k = key();
    store.create(&k, &r).await.unwrap();
    let at = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
    };
    let mut found = Vec::new();
    for master in cluster::masters(&seeds).await {
        let mut c = cluster::conn(&master.addr).await;
        for name in cluster::node_keys(&master.addr, &prefix).await {
            let expires: i64 = redis::cmd("PEXPIRETIME")
                .arg(&name)
                .query_async(&mut c)
                .await
                .unwrap();
            found.push((name, expires));
        }
    }
    found.sort();
    assert_eq!(found.len(), 3, "record, user index, expiry set: {found:?}");
    for (name, expires) in &found {
        if name.ends_with(&format!("{{{}}}", k.to_hex())) {
            assert_eq!(
                *expires,
                at(r.expires_at),
                "{name} expires with the session"
            );
        } else if name.contains("{u:") {
            assert_eq!(
                *expires,
                at(r.absolute_expires_at),
                "{name}: its sessions' latest end"
            );
        } else {
            assert!(name.contains("{x:"), "{name}");
            assert_eq!(*expires, -1, "{name}: trimmed by the sweep");
        }
    }
    cluster::remove_prefix(&seeds, &prefix).await;
}

#[tokio::test]
async fn an_index_entry_whose_session_is_gone_is_repaired_and_its_key_tombstoned() {
    let Some((seeds, prefix)) = cluster::cluster() else {
        return;
    };
    let store = cluster::store(&seeds, &prefix).await;
    let (k, t) = (key(), now());
    let user = format!("\"gone-{}\"", key().to_hex());
    let r = record(Some(&user), &[], t);
    store.create(&k, &r).await.unwrap();
    // What a create whose record step failed, or the server's own expiry, leaves behind.
    let mut raw = cluster::raw(&seeds).await;
    let _: i64 = redis::cmd("DEL")
        .arg(format!("{prefix}{{{}}}", k.to_hex()))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(store.list_user(&user, t).await.unwrap().is_empty());
    let index_keys: Vec<String> = {
        let mut all = Vec::new();
        for m in cluster::masters(&seeds).await {
            all.extend(cluster::node_keys(&m.addr, &prefix).await);
        }
        all.into_iter().filter(|k| k.contains("{u:")).collect()
    };
    assert!(
        index_keys.is_empty(),
        "the entry was removed: {index_keys:?}"
    );
    // A login whose record was about to be written under that key loses to the repair.
    let err = store.create(&k, &r).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    assert_eq!(store.delete_user(&user, None).await.unwrap(), 0);
    cluster::remove_prefix(&seeds, &prefix).await;
}

#[tokio::test]
async fn a_sweep_removes_the_index_entries_of_sessions_the_server_expired() {
    let Some((seeds, prefix)) = cluster::cluster() else {
        return;
    };
    let store = cluster::store(&seeds, &prefix).await;
    let (k, t) = (key(), now());
    let user = format!("\"expired-{}\"", key().to_hex());
    let mut r = record(Some(&user), &[], t);
    r.expires_at = t + Duration::from_secs(1);
    store.create(&k, &r).await.unwrap();
    // The server expires the record by itself; nothing lists the user afterwards.
    let mut raw = cluster::raw(&seeds).await;
    let _: i64 = redis::cmd("DEL")
        .arg(format!("{prefix}{{{}}}", k.to_hex()))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(store.sweep(t + Duration::from_secs(2)).await.unwrap(), 0);
    let mut left = Vec::new();
    for m in cluster::masters(&seeds).await {
        left.extend(cluster::node_keys(&m.addr, &prefix).await);
    }
    assert!(
        left.is_empty(),
        "the index entry and the expiry entry are gone: {left:?}"
    );
}

#[tokio::test]
async fn a_rotation_left_unfinished_ends_the_session() {
    let Some((seeds, prefix)) = cluster::cluster() else {
        return;
    };
    let store = cluster::store(&seeds, &prefix).await;
    let (k, t) = (key(), now());
    let user = format!("\"stuck-{}\"", key().to_hex());
    store
        .create(&k, &record(Some(&user), &[("a", "1")], t))
        .await
        .unwrap();
    // An app instance marked the record as moving a minute ago, then vanished.
    let began = std::time::SystemTime::now() - Duration::from_secs(60);
    let began = began
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros();
    let mut raw = cluster::raw(&seeds).await;
    let _: i64 = redis::cmd("HSET")
        .arg(format!("{prefix}{{{}}}", k.to_hex()))
        .arg("mv")
        .arg(key().to_hex())
        .arg("mvt")
        .arg(began.to_string())
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(store.load(&k, t).await.unwrap().is_none(), "reads as ended");
    assert!(
        !store
            .touch(&k, t, t + Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert!(
        !store
            .rotate(&k, &key(), &session_runtime::Update::default())
            .await
            .unwrap()
    );
    assert!(
        store.list_user(&user, t).await.unwrap().is_empty(),
        "not listed"
    );
    assert_eq!(
        store.delete_user(&user, None).await.unwrap(),
        1,
        "but ended by logout-everywhere"
    );
    cluster::remove_prefix(&seeds, &prefix).await;
}

#[tokio::test]
async fn a_user_index_outlives_a_session_touched_past_its_absolute_expiry() {
    let Some((seeds, prefix)) = cluster::cluster() else {
        return;
    };
    let store = cluster::store(&seeds, &prefix).await;
    let (k, t) = (key(), now());
    let user = format!("\"long-{}\"", key().to_hex());
    let mut r = record(Some(&user), &[], t);
    r.expires_at = t + Duration::from_secs(60);
    r.absolute_expires_at = t + Duration::from_secs(120);
    store.create(&k, &r).await.unwrap();
    // Not what the runtime does (it caps expiry at the absolute one), but a store must not
    // let a session outlive the index that logout-everywhere finds it by.
    let later = t + Duration::from_secs(600);
    assert!(store.touch(&k, t, later).await.unwrap());
    let mut raw = cluster::raw(&seeds).await;
    let index = {
        let mut all = Vec::new();
        for m in cluster::masters(&seeds).await {
            all.extend(cluster::node_keys(&m.addr, &prefix).await);
        }
        all.into_iter().find(|k| k.contains("{u:")).unwrap()
    };
    let until: i64 = redis::cmd("PEXPIRETIME")
        .arg(&index)
        .query_async(&mut raw)
        .await
        .unwrap();
    let want = later
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert_eq!(until, want);
    assert_eq!(store.delete_user(&user, None).await.unwrap(), 1);
    cluster::remove_prefix(&seeds, &prefix).await;
}

#[tokio::test]
async fn an_unreachable_cluster_or_bad_settings_are_errors_not_panics() {
    let err = RedisClusterStore::builder(["redis://127.0.0.1:1"])
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
    for prefix in ["a{b", "a}b", "a*b"] {
        let err = RedisClusterStore::builder(["redis://127.0.0.1:1"])
            .prefix(prefix)
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Config { .. }), "{prefix}: {err}");
    }
    let err = RedisClusterStore::connect(["nope://x"]).await.unwrap_err();
    assert!(matches!(err, StoreError::Config { .. }), "{err}");
    let err = RedisClusterStore::connect([" ", ""]).await.unwrap_err();
    assert!(matches!(err, StoreError::Config { .. }), "{err}");
}
