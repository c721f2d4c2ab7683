//! The store conformance suite and the memory store's own behaviour.

mod store_suite;

use std::time::{Duration, SystemTime};

use session_runtime::{Clock, ManualClock, MemoryStore, SessionStore, StoreError};
use store_suite::{key, now, record, store_suite};

store_suite!(async { Some(MemoryStore::new()) });

#[tokio::test]
async fn the_cap_refuses_new_guests_but_not_users() {
    let store = MemoryStore::builder().max_records(2).build();
    let t = now();
    store.create(&key(), &record(None, &[], t)).await.unwrap();
    store
        .create(&key(), &record(Some("1"), &[], t))
        .await
        .unwrap();
    let err = store
        .create(&key(), &record(None, &[], t))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::CapacityExceeded { limit: 2 }),
        "{err}"
    );
    store
        .create(&key(), &record(Some("2"), &[], t))
        .await
        .unwrap();
    assert_eq!(store.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_background_sweep_removes_expired_records() {
    let store = MemoryStore::builder()
        .sweep_interval(Duration::from_secs(10))
        .build();
    let past = SystemTime::now() - Duration::from_secs(3600);
    let mut expired = record(None, &[("a", "1")], past);
    expired.expires_at = past + Duration::from_secs(1);
    store.create(&key(), &expired).await.unwrap();
    store
        .create(&key(), &record(None, &[("a", "1")], now()))
        .await
        .unwrap();
    assert_eq!(store.len(), 2);
    // Paused Tokio time: advancing it runs the sweeper's timer without sleeping.
    for _ in 0..3 {
        tokio::time::advance(Duration::from_secs(11)).await;
        tokio::task::yield_now().await;
    }
    assert_eq!(store.len(), 1, "the expired record was swept");
}

#[tokio::test]
async fn works_when_built_outside_a_runtime() {
    let store = std::thread::spawn(MemoryStore::new).join().unwrap();
    store
        .create(&key(), &record(None, &[], now()))
        .await
        .unwrap();
    assert_eq!(store.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_background_sweep_reads_the_configured_clock() {
    let clock = ManualClock::new();
    let store = MemoryStore::builder()
        .sweep_interval(Duration::from_secs(10))
        .clock(clock.clone())
        .build();
    let mut soon = record(None, &[("a", "1")], clock.now());
    soon.expires_at = clock.now() + Duration::from_secs(60);
    store.create(&key(), &soon).await.unwrap();
    tokio::time::advance(Duration::from_secs(11)).await;
    tokio::task::yield_now().await;
    assert_eq!(store.len(), 1, "not expired yet on the store's clock");
    // Only the store's clock moves past the expiry; the system clock is an hour short.
    clock.advance(Duration::from_secs(3600));
    for _ in 0..3 {
        tokio::time::advance(Duration::from_secs(11)).await;
        tokio::task::yield_now().await;
    }
    assert_eq!(store.len(), 0, "swept on the configured clock");
}
