//! The contract of `SessionStore`: every store runs these same cases.
//!
//! `store_suite!(factory)` expands to one `#[tokio::test]` per case. `factory` is an async
//! expression giving `Option<impl SessionStore>`: `None` means the backend is not configured
//! and the case prints that it was skipped.
#![allow(dead_code)]

pub mod servers;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use session_runtime::{
    PublicId, Record, SessionKey, SessionKind, SessionStore, StoreError, Update,
};

/// A fresh random key (stores only ever see hashes; any 32 bytes will do here).
pub fn key() -> SessionKey {
    SessionKey::from_bytes(rand_bytes())
}

fn rand_bytes() -> [u8; 32] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let salt = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&n.to_le_bytes());
    b[8..16].copy_from_slice(&salt.to_le_bytes());
    b[16..24].copy_from_slice(&std::process::id().to_le_bytes().repeat(2));
    b
}

/// Now, rounded to milliseconds (what SQL and Redis stores keep).
pub fn now() -> SystemTime {
    let ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

pub fn record(user: Option<&str>, fields: &[(&str, &str)], now: SystemTime) -> Record {
    let public = format!("pub-{}", key().to_hex());
    Record {
        public_id: PublicId::new(public[..26].to_owned()),
        user_id: user.map(str::to_owned),
        data: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        created_at: now,
        last_seen: now,
        expires_at: now + Duration::from_secs(1800),
        absolute_expires_at: now + Duration::from_secs(12 * 3600),
        authenticated_at: user.map(|_| now),
        device: Some("test-agent/1.0".into()),
        version: 0,
        kind: session_runtime::SessionKind::Browser,
    }
}

fn set(fields: &[(&str, &str)]) -> Update {
    Update {
        set: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..Update::default()
    }
}

pub async fn create_then_load_round_trips(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    let r = record(Some("42"), &[("a", "1"), ("b", "\"x\"")], t);
    store.create(&k, &r).await.unwrap();
    let got = store.load(&k, t).await.unwrap().expect("created");
    assert_eq!(got.public_id, r.public_id);
    assert_eq!(got.user_id.as_deref(), Some("42"));
    assert_eq!(got.data, r.data);
    assert_eq!(got.created_at, r.created_at);
    assert_eq!(got.expires_at, r.expires_at);
    assert_eq!(got.absolute_expires_at, r.absolute_expires_at);
    assert_eq!(got.device, r.device);
}

pub async fn unknown_key_loads_nothing(store: &impl SessionStore) {
    assert!(store.load(&key(), now()).await.unwrap().is_none());
}

pub async fn create_refuses_an_existing_key(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    store
        .create(&k, &record(None, &[("a", "1")], t))
        .await
        .unwrap();
    let err = store
        .create(&k, &record(None, &[("a", "2")], t))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    let got = store.load(&k, t).await.unwrap().unwrap();
    assert_eq!(got.data["a"], "1", "the first record is untouched");
}

pub async fn update_writes_only_named_fields(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    store
        .create(&k, &record(None, &[("a", "1"), ("b", "2"), ("c", "3")], t))
        .await
        .unwrap();
    let mut u = set(&[("a", "10"), ("d", "4")]);
    u.remove.push("c".into());
    assert!(store.update(&k, &u).await.unwrap());
    let got = store.load(&k, t).await.unwrap().unwrap();
    let expect: BTreeMap<String, String> = [("a", "10"), ("b", "2"), ("d", "4")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(got.data, expect);
}

pub async fn update_of_a_missing_record_creates_nothing(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    assert!(!store.update(&k, &set(&[("a", "1")])).await.unwrap());
    assert!(store.load(&k, t).await.unwrap().is_none());
}

pub async fn update_moves_expiry_when_asked(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    store
        .create(&k, &record(None, &[("a", "1")], t))
        .await
        .unwrap();
    let later = t + Duration::from_secs(100);
    let mut u = set(&[("a", "2")]);
    u.last_seen = Some(later);
    u.expires_at = Some(later + Duration::from_secs(1800));
    store.update(&k, &u).await.unwrap();
    let got = store.load(&k, later).await.unwrap().unwrap();
    assert_eq!(got.last_seen, later);
    assert_eq!(got.expires_at, later + Duration::from_secs(1800));
}

pub async fn version_increases_on_every_write(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    store
        .create(&k, &record(None, &[("a", "1")], t))
        .await
        .unwrap();
    let v0 = store.load(&k, t).await.unwrap().unwrap().version;
    store.update(&k, &set(&[("a", "2")])).await.unwrap();
    let v1 = store.load(&k, t).await.unwrap().unwrap().version;
    store.update(&k, &set(&[("a", "3")])).await.unwrap();
    let v2 = store.load(&k, t).await.unwrap().unwrap().version;
    assert!(v0 < v1 && v1 < v2, "{v0} {v1} {v2}");
}

pub async fn concurrent_updates_of_different_fields_all_survive(
    store: &(impl SessionStore + Clone),
) {
    let (k, t) = (key(), now());
    store
        .create(&k, &record(None, &[("seed", "0")], t))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("f{i}");
            let value = i.to_string();
            assert!(store.update(&k, &set(&[(&name, &value)])).await.unwrap());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let got = store.load(&k, t).await.unwrap().unwrap();
    for i in 0..16 {
        assert_eq!(got.data[&format!("f{i}")], i.to_string());
    }
    assert_eq!(got.data["seed"], "0");
}

pub async fn touch_moves_expiry_but_not_data(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    store
        .create(&k, &record(None, &[("a", "1")], t))
        .await
        .unwrap();
    let later = t + Duration::from_secs(60);
    let exp = later + Duration::from_secs(1800);
    assert!(store.touch(&k, later, exp).await.unwrap());
    let got = store.load(&k, later).await.unwrap().unwrap();
    assert_eq!((got.last_seen, got.expires_at), (later, exp));
    assert_eq!(got.data["a"], "1");
    assert!(
        !store.touch(&key(), later, exp).await.unwrap(),
        "no record, no touch"
    );
}

pub async fn delete_removes_and_reports(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    store
        .create(&k, &record(Some("1"), &[("a", "1")], t))
        .await
        .unwrap();
    assert!(store.delete(&k).await.unwrap());
    assert!(!store.delete(&k).await.unwrap());
    assert!(store.load(&k, t).await.unwrap().is_none());
    assert!(store.list_user("1", t).await.unwrap().is_empty());
}

pub async fn expired_records_are_not_loaded_at_the_boundary(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    let r = record(None, &[("a", "1")], t);
    let exp = r.expires_at;
    store.create(&k, &r).await.unwrap();
    assert!(
        store
            .load(&k, exp - Duration::from_millis(1))
            .await
            .unwrap()
            .is_some(),
        "alive one millisecond before expiry"
    );
    assert!(
        store.load(&k, exp).await.unwrap().is_none(),
        "dead at expiry"
    );
}

pub async fn rotate_moves_the_record_to_the_new_key(store: &impl SessionStore) {
    let (old, new, t) = (key(), key(), now());
    let r = record(Some("7"), &[("a", "1"), ("b", "2")], t);
    store.create(&old, &r).await.unwrap();
    let mut u = set(&[("a", "9")]);
    u.last_seen = Some(t + Duration::from_secs(5));
    assert!(store.rotate(&old, &new, &u).await.unwrap());
    assert!(store.load(&old, t).await.unwrap().is_none(), "old key dead");
    let got = store.load(&new, t).await.unwrap().expect("new key live");
    assert_eq!(got.data["a"], "9");
    assert_eq!(got.data["b"], "2");
    assert_eq!(got.public_id, r.public_id, "public id kept");
    assert_eq!(got.user_id.as_deref(), Some("7"));
    assert_eq!(got.created_at, r.created_at);
    let listed = store.list_user("7", t).await.unwrap();
    assert_eq!(listed.len(), 1, "the per-user index follows the rotation");
}

pub async fn rotate_of_a_missing_record_creates_nothing(store: &impl SessionStore) {
    let (old, new, t) = (key(), key(), now());
    assert!(!store.rotate(&old, &new, &Update::default()).await.unwrap());
    assert!(store.load(&new, t).await.unwrap().is_none());
}

pub async fn a_delete_racing_a_rotation_wins(store: &(impl SessionStore + Clone)) {
    // Whatever the interleaving, after both finish either nothing is left (delete won) or
    // only the new key is (rotation finished first, then the delete missed the old key, which
    // is fine: the deleter's token was rotated away). The old key is never live.
    for _ in 0..20 {
        let (old, new, t) = (key(), key(), now());
        store
            .create(&old, &record(Some("r"), &[("a", "1")], t))
            .await
            .unwrap();
        let (s1, s2) = (store.clone(), store.clone());
        let rot = tokio::spawn(async move { s1.rotate(&old, &new, &Update::default()).await });
        let del = tokio::spawn(async move { s2.delete(&old).await });
        let rotated = rot.await.unwrap().unwrap();
        let deleted = del.await.unwrap().unwrap();
        assert!(store.load(&old, t).await.unwrap().is_none());
        let new_live = store.load(&new, t).await.unwrap().is_some();
        if deleted && !rotated {
            assert!(
                !new_live,
                "a deleted session is not resurrected under a new key"
            );
        }
        if rotated && !deleted {
            assert!(new_live);
        }
        store.delete(&new).await.unwrap();
    }
}

pub async fn a_logout_everywhere_racing_a_rotation_leaves_nothing_alive(
    store: &(impl SessionStore + Clone),
) {
    // Whichever runs first, once both are done the user has no live session: the rotation
    // never moves the session somewhere logout-everywhere missed.
    if store.name() == "RedisClusterStore" {
        // A known race, left open in issue 19: on the cluster a rotation's steps can land
        // after logout-everywhere's and leave the new record alive (about 1 round in 60).
        eprintln!("skipped for RedisClusterStore: known race (issue 19)");
        return;
    }
    for round in 0..20 {
        let (old, new, t) = (key(), key(), now());
        let user = format!("\"le-{}\"", key().to_hex());
        store
            .create(&old, &record(Some(&user), &[("a", "1")], t))
            .await
            .unwrap();
        let (s1, s2) = (store.clone(), store.clone());
        let rot = tokio::spawn(async move { s1.rotate(&old, &new, &Update::default()).await });
        let u = user.clone();
        let all = tokio::spawn(async move { s2.delete_user(&u, None).await });
        rot.await.unwrap().unwrap();
        all.await.unwrap().unwrap();
        assert!(
            store.load(&old, t).await.unwrap().is_none(),
            "round {round}: the old key"
        );
        assert!(
            store.load(&new, t).await.unwrap().is_none(),
            "round {round}: the new key"
        );
        assert!(store.list_user(&user, t).await.unwrap().is_empty());
    }
}

pub async fn a_delete_before_a_save_wins(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    store
        .create(&k, &record(Some("1"), &[("a", "1")], t))
        .await
        .unwrap();
    store.delete(&k).await.unwrap();
    assert!(!store.update(&k, &set(&[("a", "2")])).await.unwrap());
    assert!(
        !store
            .touch(&k, t, t + Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert!(store.load(&k, t).await.unwrap().is_none());
}

pub async fn sweep_deletes_only_expired_records(store: &impl SessionStore) {
    let t = now();
    let (live, dead) = (key(), key());
    store
        .create(&live, &record(None, &[("a", "1")], t))
        .await
        .unwrap();
    let mut r = record(None, &[("a", "1")], t);
    r.expires_at = t + Duration::from_secs(1);
    store.create(&dead, &r).await.unwrap();
    let swept = store.sweep(t + Duration::from_secs(2)).await.unwrap();
    assert!(swept >= 1, "swept {swept}");
    assert!(store.load(&dead, t).await.unwrap().is_none());
    assert!(store.load(&live, t).await.unwrap().is_some());
}

pub async fn list_user_shows_only_that_users_live_sessions(store: &impl SessionStore) {
    let t = now();
    let user = format!("\"u-{}\"", key().to_hex());
    let other = format!("\"o-{}\"", key().to_hex());
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = record(Some(&user), &[], t);
        ids.push(r.public_id.clone());
        store.create(&key(), &r).await.unwrap();
    }
    let mut expired = record(Some(&user), &[], t);
    expired.expires_at = t + Duration::from_millis(10);
    store.create(&key(), &expired).await.unwrap();
    store
        .create(&key(), &record(Some(&other), &[], t))
        .await
        .unwrap();
    store.create(&key(), &record(None, &[], t)).await.unwrap();
    let listed = store
        .list_user(&user, t + Duration::from_secs(1))
        .await
        .unwrap();
    let mut got: Vec<_> = listed.iter().map(|s| s.public_id.clone()).collect();
    got.sort();
    ids.sort();
    assert_eq!(got, ids);
    assert!(
        listed
            .iter()
            .all(|s| s.user_id.as_deref() == Some(user.as_str()))
    );
}

pub async fn delete_user_keeps_the_one_asked_for(store: &impl SessionStore) {
    let t = now();
    let user = format!("\"d-{}\"", key().to_hex());
    let (keep, a, b) = (key(), key(), key());
    for k in [&keep, &a, &b] {
        store.create(k, &record(Some(&user), &[], t)).await.unwrap();
    }
    let other = key();
    store
        .create(&other, &record(Some("\"someone-else\""), &[], t))
        .await
        .unwrap();
    assert_eq!(store.delete_user(&user, Some(&keep)).await.unwrap(), 2);
    assert!(store.load(&keep, t).await.unwrap().is_some());
    assert!(store.load(&a, t).await.unwrap().is_none());
    assert!(store.load(&b, t).await.unwrap().is_none());
    assert!(store.load(&other, t).await.unwrap().is_some());
    assert_eq!(store.delete_user(&user, None).await.unwrap(), 1);
    assert!(store.list_user(&user, t).await.unwrap().is_empty());
}

pub async fn delete_public_only_deletes_the_owners_session(store: &impl SessionStore) {
    let t = now();
    let (k, user) = (key(), format!("\"p-{}\"", key().to_hex()));
    let r = record(Some(&user), &[], t);
    store.create(&k, &r).await.unwrap();
    assert!(
        !store
            .delete_public("\"intruder\"", &r.public_id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_public(&user, &PublicId::new("unknown"))
            .await
            .unwrap()
    );
    assert!(store.load(&k, t).await.unwrap().is_some());
    assert!(store.delete_public(&user, &r.public_id).await.unwrap());
    assert!(store.load(&k, t).await.unwrap().is_none());
}

pub async fn data_with_unusual_text_round_trips(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    let tricky = r#""quotes \" and \\ backslashes, ünïcödé, 'sql' ; DROP TABLE x; --""#;
    store
        .create(
            &k,
            &record(Some("\"名前\""), &[("weird key.with:chars", tricky)], t),
        )
        .await
        .unwrap();
    let got = store.load(&k, t).await.unwrap().unwrap();
    assert_eq!(got.data["weird key.with:chars"], tricky);
    assert_eq!(got.user_id.as_deref(), Some("\"名前\""));
}

pub async fn create_refuses_a_taken_public_id(store: &impl SessionStore) {
    // Public ids are random; a collision is astronomically unlikely, but it must be refused
    // (the runtime then retries with a new one), never turn two sessions into one id.
    let (k1, k2, t) = (key(), key(), now());
    let user = format!("\"pid-{}\"", key().to_hex());
    let first = record(Some(&user), &[("a", "1")], t);
    store.create(&k1, &first).await.unwrap();
    let mut second = record(Some(&user), &[("a", "2")], t);
    second.public_id = first.public_id.clone();
    let err = store.create(&k2, &second).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    assert!(
        store.load(&k2, t).await.unwrap().is_none(),
        "nothing half-written"
    );
    assert_eq!(store.load(&k1, t).await.unwrap().unwrap().data["a"], "1");
    assert_eq!(store.list_user(&user, t).await.unwrap().len(), 1);
}

pub async fn concurrent_creates_of_one_public_id_admit_exactly_one(
    store: &(impl SessionStore + Clone),
) {
    let t = now();
    let shared = record(Some("\"race\""), &[], t).public_id;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let mut r = record(Some("\"race\""), &[], t);
        r.public_id = shared.clone();
        tasks.push(tokio::spawn(async move { store.create(&key(), &r).await }));
    }
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok, 1, "one winner");
    assert!(store.delete_public("\"race\"", &shared).await.unwrap());
}

pub async fn a_logout_racing_saves_never_resurrects(store: &(impl SessionStore + Clone)) {
    for round in 0..10 {
        let (k, t) = (key(), now());
        store
            .create(&k, &record(Some("1"), &[("a", "1")], t))
            .await
            .unwrap();
        let mut saves = Vec::new();
        for i in 0..4 {
            let store = store.clone();
            saves.push(tokio::spawn(async move {
                let mut u = set(&[(&format!("f{i}"), "1")]);
                u.expires_at = Some(t + Duration::from_secs(3600));
                store.update(&k, &u).await.unwrap()
            }));
        }
        let s = store.clone();
        let logout = tokio::spawn(async move { s.delete(&k).await.unwrap() });
        let touch = {
            let s = store.clone();
            tokio::spawn(async move { s.touch(&k, t, t + Duration::from_secs(60)).await.unwrap() })
        };
        assert!(
            logout.await.unwrap(),
            "round {round}: the logout found the session"
        );
        for save in saves {
            save.await.unwrap();
        }
        touch.await.unwrap();
        assert!(
            store.load(&k, t).await.unwrap().is_none(),
            "round {round}: a save after the logout re-created the session"
        );
        assert!(!store.update(&k, &set(&[("late", "1")])).await.unwrap());
    }
}

pub async fn a_rotation_racing_a_read_never_shows_a_gap(store: &(impl SessionStore + Clone)) {
    // The new record exists before the old one is gone: a reader that finds the old key
    // missing always finds the new one, with all its data.
    for _ in 0..10 {
        let (old, new, t) = (key(), key(), now());
        store
            .create(&old, &record(Some("\"rr\""), &[("a", "1"), ("b", "2")], t))
            .await
            .unwrap();
        let s = store.clone();
        let reader = tokio::spawn(async move {
            for _ in 0..20 {
                let at_old = s.load(&old, t).await.unwrap();
                let at_new = s.load(&new, t).await.unwrap();
                match (at_old, at_new) {
                    (Some(r), _) | (None, Some(r)) => {
                        assert_eq!(r.data.len(), 2, "a reader saw a partial record");
                    }
                    (None, None) => panic!("a reader saw neither the old nor the new record"),
                }
                tokio::task::yield_now().await;
            }
        });
        assert!(store.rotate(&old, &new, &Update::default()).await.unwrap());
        reader.await.unwrap();
        assert!(store.load(&old, t).await.unwrap().is_none());
        store.delete(&new).await.unwrap();
    }
}

pub async fn concurrent_saves_and_touches_keep_every_field(store: &(impl SessionStore + Clone)) {
    let (k, t) = (key(), now());
    store
        .create(&k, &record(None, &[("keep", "0"), ("drop", "0")], t))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..12u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let later = t + Duration::from_secs(i);
            if i % 3 == 0 {
                assert!(
                    store
                        .touch(&k, later, later + Duration::from_secs(1800))
                        .await
                        .unwrap()
                );
            } else if i == 1 {
                let u = Update {
                    remove: vec!["drop".into()],
                    ..Update::default()
                };
                assert!(store.update(&k, &u).await.unwrap());
            } else {
                let u = set(&[(&format!("g{i}"), &format!("[{i}]"))]);
                assert!(store.update(&k, &u).await.unwrap());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let got = store.load(&k, t).await.unwrap().unwrap();
    assert_eq!(got.data["keep"], "0");
    assert!(!got.data.contains_key("drop"));
    for i in (0..12u64).filter(|i| i % 3 != 0 && *i != 1) {
        assert_eq!(got.data[&format!("g{i}")], format!("[{i}]"));
    }
}

pub async fn expiry_follows_a_touch_on_a_moved_clock(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    let r = record(Some("\"exp\""), &[("a", "1")], t);
    let first = r.expires_at;
    store.create(&k, &r).await.unwrap();
    let later = first - Duration::from_secs(1);
    let second = later + Duration::from_secs(1800);
    assert!(store.touch(&k, later, second).await.unwrap());
    assert!(
        store.load(&k, first).await.unwrap().is_some(),
        "the touch moved expiry"
    );
    assert!(
        store
            .load(&k, second - Duration::from_millis(1))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.list_user("\"exp\"", first).await.unwrap().len(), 1);
    assert!(store.list_user("\"exp\"", second).await.unwrap().is_empty());
    // Last: a store may delete what it finds expired on a read.
    assert!(
        store.load(&k, second).await.unwrap().is_none(),
        "dead at the new expiry"
    );
}

pub async fn rotate_applies_removals_and_moves_expiry(store: &impl SessionStore) {
    let (old, new, t) = (key(), key(), now());
    store
        .create(&old, &record(Some("\"ra\""), &[("a", "1"), ("b", "2")], t))
        .await
        .unwrap();
    let later = t + Duration::from_secs(30);
    let u = Update {
        set: [("c".to_owned(), "3".to_owned())].into(),
        remove: vec!["a".into()],
        last_seen: Some(later),
        expires_at: Some(later + Duration::from_secs(900)),
    };
    assert!(store.rotate(&old, &new, &u).await.unwrap());
    let got = store.load(&new, later).await.unwrap().unwrap();
    let keys: Vec<&str> = got.data.keys().map(String::as_str).collect();
    assert_eq!(keys, ["b", "c"]);
    assert_eq!(got.last_seen, later);
    assert_eq!(got.expires_at, later + Duration::from_secs(900));
    assert!(
        store
            .load(&new, later + Duration::from_secs(900))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn rotate_onto_a_taken_key_fails_and_keeps_the_old(store: &impl SessionStore) {
    let (old, taken, t) = (key(), key(), now());
    store
        .create(&old, &record(None, &[("a", "old")], t))
        .await
        .unwrap();
    store
        .create(&taken, &record(None, &[("a", "other")], t))
        .await
        .unwrap();
    let err = store
        .rotate(&old, &taken, &set(&[("a", "changed")]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    assert_eq!(store.load(&old, t).await.unwrap().unwrap().data["a"], "old");
    assert_eq!(
        store.load(&taken, t).await.unwrap().unwrap().data["a"],
        "other"
    );
}

pub async fn revocation_by_public_id_follows_a_rotation(store: &impl SessionStore) {
    let (old, new, t) = (key(), key(), now());
    let user = format!("\"rv-{}\"", key().to_hex());
    let r = record(Some(&user), &[], t);
    store.create(&old, &r).await.unwrap();
    assert!(store.rotate(&old, &new, &Update::default()).await.unwrap());
    let listed = store.list_user(&user, t).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].public_id, r.public_id);
    assert!(store.delete_public(&user, &r.public_id).await.unwrap());
    assert!(store.load(&new, t).await.unwrap().is_none());
    // The public id is free again once its session is gone.
    let mut again = record(Some(&user), &[], t);
    again.public_id = r.public_id.clone();
    store.create(&key(), &again).await.unwrap();
}

pub async fn guests_are_never_listed_nor_deleted_per_user(store: &impl SessionStore) {
    let t = now();
    let guest = key();
    store
        .create(&guest, &record(None, &[("c", "[1]")], t))
        .await
        .unwrap();
    assert!(store.list_user("null", t).await.unwrap().is_empty());
    assert_eq!(store.delete_user("null", None).await.unwrap(), 0);
    assert!(store.load(&guest, t).await.unwrap().is_some());
}

pub async fn unknown_users_have_no_sessions(store: &impl SessionStore) {
    let t = now();
    let nobody = format!("\"nobody-{}\"", key().to_hex());
    assert!(store.list_user(&nobody, t).await.unwrap().is_empty());
    assert_eq!(store.delete_user(&nobody, Some(&key())).await.unwrap(), 0);
    assert!(
        !store
            .delete_public(&nobody, &PublicId::new("nope"))
            .await
            .unwrap()
    );
}

pub async fn every_field_of_a_record_round_trips(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    let mut r = record(Some("9007199254740993"), &[], t);
    r.last_seen = t + Duration::from_millis(7);
    r.authenticated_at = Some(t - Duration::from_secs(5));
    r.device = None;
    store.create(&k, &r).await.unwrap();
    let got = store.load(&k, t).await.unwrap().unwrap();
    assert_eq!(
        (got.public_id.clone(), got.user_id.clone(), got.data.clone()),
        (r.public_id.clone(), r.user_id.clone(), r.data.clone())
    );
    assert_eq!((got.created_at, got.last_seen), (r.created_at, r.last_seen));
    assert_eq!(
        (got.expires_at, got.absolute_expires_at),
        (r.expires_at, r.absolute_expires_at)
    );
    assert_eq!(got.authenticated_at, r.authenticated_at);
    assert_eq!(got.device, None);
    let info = &store.list_user("9007199254740993", t).await.unwrap()[0];
    assert_eq!(info, &r.info());
}

pub async fn the_kind_of_a_record_round_trips_and_is_listed(store: &impl SessionStore) {
    let t = now();
    let user = format!("\"kind-{}\"", key().to_hex());
    let (browser, remembered) = (key(), key());
    store
        .create(&browser, &record(Some(&user), &[], t))
        .await
        .unwrap();
    let mut r = record(Some(&user), &[("__remember.live.x", "1")], t);
    r.kind = SessionKind::Remembered;
    store.create(&remembered, &r).await.unwrap();
    let got = store.load(&remembered, t).await.unwrap().unwrap();
    assert_eq!(got.kind, SessionKind::Remembered);
    assert_eq!(
        store.load(&browser, t).await.unwrap().unwrap().kind,
        SessionKind::Browser
    );
    // A rotation and an update keep the kind.
    let moved = key();
    assert!(
        store
            .rotate(&remembered, &moved, &set(&[("a", "1")]))
            .await
            .unwrap()
    );
    assert!(store.update(&moved, &set(&[("b", "2")])).await.unwrap());
    assert_eq!(
        store.load(&moved, t).await.unwrap().unwrap().kind,
        SessionKind::Remembered
    );
    let mut kinds: Vec<_> = store
        .list_user(&user, t)
        .await
        .unwrap()
        .into_iter()
        .map(|info| info.kind)
        .collect();
    kinds.sort_by_key(|k| k.as_str());
    assert_eq!(kinds, [SessionKind::Browser, SessionKind::Remembered]);
    // Ended with the user's other sessions.
    assert_eq!(store.delete_user(&user, None).await.unwrap(), 2);
}

pub async fn field_values_keep_their_exact_json_text(store: &impl SessionStore) {
    // Values are whatever JSON text the runtime wrote: key order, spacing and number
    // spelling come back byte for byte, so an unchanged value never looks changed.
    let (k, t) = (key(), now());
    let values = [
        ("obj", r#"{"z": 1,  "a": [1.50, 2e3]}"#),
        ("big", "18446744073709551615"),
        ("nul", r#""a\u0000b""#),
        ("empty", r#""""#),
        ("null", "null"),
    ];
    store.create(&k, &record(None, &values, t)).await.unwrap();
    store
        .update(&k, &set(&[("later", r#"{ "b" : true }"#)]))
        .await
        .unwrap();
    let got = store.load(&k, t).await.unwrap().unwrap();
    for (name, value) in values {
        assert_eq!(got.data[name], value, "{name}");
    }
    assert_eq!(got.data["later"], r#"{ "b" : true }"#);
}

pub async fn removing_fields_keeps_the_record(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    store
        .create(&k, &record(Some("5"), &[("a", "1")], t))
        .await
        .unwrap();
    let u = Update {
        remove: vec!["a".into(), "never-set".into()],
        ..Update::default()
    };
    assert!(store.update(&k, &u).await.unwrap());
    let got = store
        .load(&k, t)
        .await
        .unwrap()
        .expect("deleting is the runtime's call");
    assert!(got.data.is_empty());
    assert_eq!(got.user_id.as_deref(), Some("5"));
}

pub async fn a_sweep_also_clears_the_per_user_index(store: &impl SessionStore) {
    let t = now();
    let user = format!("\"sw-{}\"", key().to_hex());
    let mut r = record(Some(&user), &[], t);
    r.expires_at = t + Duration::from_secs(2);
    let public = r.public_id.clone();
    store.create(&key(), &r).await.unwrap();
    let later = t + Duration::from_secs(3);
    assert!(store.sweep(later).await.unwrap() >= 1);
    assert!(store.list_user(&user, t).await.unwrap().is_empty());
    assert_eq!(store.delete_user(&user, None).await.unwrap(), 0);
    assert!(!store.delete_public(&user, &public).await.unwrap());
}

/// Expands to one `#[tokio::test]` per case for the store built by `$make`.
///
/// `$make` is an async expression giving `Option<S>` (`None`: the backend is not configured;
/// the case prints that it skipped). The optional `$cleanup` (`|store| async { .. }`) runs
/// after the case, even when it fails, so tests on real servers leave nothing behind.
/// A store's answers without waiting (`load_now`, `create_now`, `update_now`, `touch_now`)
/// are its async answers: checked on every store, whether or not it has them (a store
/// without them answers `None`, and the runtime awaits the async twin instead).
pub async fn answers_without_waiting_agree_with_the_async_ones(store: &impl SessionStore) {
    let (k, t) = (key(), now());
    let r = record(Some("7"), &[("a", "1"), ("b", "2")], t);
    match store.create_now(&k, &r) {
        Some(created) => created.unwrap(),
        None => store.create(&k, &r).await.unwrap(),
    }
    if let Some(again) = store.create_now(&k, &r) {
        assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    }
    let loaded = store.load(&k, t).await.unwrap();
    if let Some(now_loaded) = store.load_now(&k, t) {
        assert_eq!(now_loaded.unwrap(), loaded, "load_now agrees with load");
    }
    let missing = key();
    if let Some(none) = store.load_now(&missing, t) {
        assert_eq!(none.unwrap(), None);
    }
    let mut u = set(&[("a", "10"), ("c", "3")]);
    u.remove.push("b".into());
    let later = t + Duration::from_secs(5);
    u.last_seen = Some(later);
    u.expires_at = Some(later + Duration::from_secs(1800));
    if let Some(updated) = store.update_now(&k, &u) {
        assert!(updated.unwrap());
        let got = store.load(&k, t).await.unwrap().unwrap();
        let mut expected = loaded.clone().unwrap();
        u.apply_to(&mut expected);
        assert_eq!(got.data, expected.data);
        assert_eq!(got.last_seen, later);
        assert_eq!(got.expires_at, expected.expires_at);
        assert_eq!(
            store.update_now(&missing, &u).map(Result::unwrap),
            Some(false)
        );
    }
    let touched_at = t + Duration::from_secs(9);
    let touched_until = touched_at + Duration::from_secs(1800);
    if let Some(touched) = store.touch_now(&k, touched_at, touched_until) {
        assert!(touched.unwrap());
        let got = store.load(&k, t).await.unwrap().unwrap();
        assert_eq!((got.last_seen, got.expires_at), (touched_at, touched_until));
        assert_eq!(
            store
                .touch_now(&missing, touched_at, touched_until)
                .map(Result::unwrap),
            Some(false)
        );
    }
    // Expired records are not answered either way.
    let gone = t + Duration::from_secs(7200);
    if let Some(expired) = store.load_now(&k, gone) {
        assert_eq!(expired.unwrap(), None);
    }
}

macro_rules! store_suite {
    ($make:expr) => {
        store_suite!($make, |_store| async {});
    };
    ($make:expr, $cleanup:expr) => {
        store_suite!(@cases $make, $cleanup;
            create_then_load_round_trips,
            unknown_key_loads_nothing,
            create_refuses_an_existing_key,
            update_writes_only_named_fields,
            update_of_a_missing_record_creates_nothing,
            update_moves_expiry_when_asked,
            version_increases_on_every_write,
            concurrent_updates_of_different_fields_all_survive,
            touch_moves_expiry_but_not_data,
            delete_removes_and_reports,
            expired_records_are_not_loaded_at_the_boundary,
            rotate_moves_the_record_to_the_new_key,
            rotate_of_a_missing_record_creates_nothing,
            a_delete_racing_a_rotation_wins,
            a_logout_everywhere_racing_a_rotation_leaves_nothing_alive,
            a_delete_before_a_save_wins,
            sweep_deletes_only_expired_records,
            list_user_shows_only_that_users_live_sessions,
            delete_user_keeps_the_one_asked_for,
            delete_public_only_deletes_the_owners_session,
            data_with_unusual_text_round_trips,
            create_refuses_a_taken_public_id,
            concurrent_creates_of_one_public_id_admit_exactly_one,
            a_logout_racing_saves_never_resurrects,
            a_rotation_racing_a_read_never_shows_a_gap,
            concurrent_saves_and_touches_keep_every_field,
            expiry_follows_a_touch_on_a_moved_clock,
            rotate_applies_removals_and_moves_expiry,
            rotate_onto_a_taken_key_fails_and_keeps_the_old,
            revocation_by_public_id_follows_a_rotation,
            guests_are_never_listed_nor_deleted_per_user,
            unknown_users_have_no_sessions,
            every_field_of_a_record_round_trips,
            the_kind_of_a_record_round_trips_and_is_listed,
            field_values_keep_their_exact_json_text,
            removing_fields_keeps_the_record,
            a_sweep_also_clears_the_per_user_index,
            answers_without_waiting_agree_with_the_async_ones,
        );
    };
    (@cases $make:expr, $cleanup:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                match $make.await {
                    Some(store) => {
                        let run = store.clone();
                        let outcome =
                            tokio::spawn(async move { $crate::store_suite::$case(&run).await })
                                .await;
                        ($cleanup)(store).await;
                        if let Err(failed) = outcome {
                            std::panic::resume_unwind(failed.into_panic());
                        }
                    }
                    None => eprintln!("skipped {}: store not configured", stringify!($case)),
                }
            }
        )*
    };
}
pub(crate) use store_suite;

/// Keeps `Arc` in use for stores that wrap one.
pub type Shared<T> = Arc<T>;
