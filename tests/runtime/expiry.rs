//! Idle and absolute expiry on a manual clock, and the cheap touch.

use std::time::Duration;

use crate::common::{Counts, fixture, get, post};
use serde_json::json;

const MIN: Duration = Duration::from_secs(60);

fn max_age(header: &str) -> u64 {
    header
        .split(';')
        .map(str::trim)
        .find_map(|a| a.strip_prefix("Max-Age="))
        .expect("Max-Age")
        .parse()
        .unwrap()
}

#[tokio::test]
async fn idle_sessions_expire_and_are_anonymous() {
    let (app, _, clock) = fixture();
    let t = post(&app, "/login/1", None).await.token().unwrap();
    clock.advance(30 * MIN);
    let r = get(&app, "/me", Some(&t)).await;
    assert_eq!(r.status, 401, "expired exactly at the idle timeout");
    assert!(r.removes_cookie());
}

#[tokio::test]
async fn use_extends_the_idle_timeout() {
    let (app, _, clock) = fixture();
    let t = post(&app, "/login/1", None).await.token().unwrap();
    for _ in 0..5 {
        clock.advance(20 * MIN);
        let r = get(&app, "/me", Some(&t)).await;
        assert_eq!(r.status, 200);
        let header = r.set_cookie("session").expect("refreshed cookie");
        assert_eq!(
            max_age(&header),
            30 * 60,
            "Max-Age mirrors the idle timeout"
        );
    }
}

#[tokio::test]
async fn touches_happen_at_most_once_per_interval_and_do_not_rewrite_data() {
    let (app, store, clock) = fixture();
    let t = post(&app, "/login/1", None).await.token().unwrap();
    store.counts.reset();
    clock.advance(Duration::from_secs(30));
    let r = get(&app, "/read", Some(&t)).await;
    assert!(r.set_cookie("session").is_none());
    assert_eq!(
        store.counts.writes(),
        0,
        "within the touch interval: no write"
    );

    clock.advance(Duration::from_secs(31));
    let r = get(&app, "/read", Some(&t)).await;
    assert!(r.set_cookie("session").is_some(), "Max-Age refreshed");
    assert_eq!(Counts::get(&store.counts.touch), 1);
    assert_eq!(
        Counts::get(&store.counts.update),
        0,
        "a touch is not a data write"
    );
    assert_eq!(store.counts.writes(), 1);

    // Straight after the touch, nothing again.
    let r = get(&app, "/read", Some(&t)).await;
    assert!(r.set_cookie("session").is_none());
    assert_eq!(store.counts.writes(), 1);
}

#[tokio::test]
async fn absolute_timeout_ends_even_an_active_session() {
    let (app, _, clock) = fixture();
    let t = post(&app, "/login/1", None).await.token().unwrap();
    // Active every 25 minutes for 11h40m.
    for _ in 0..28 {
        clock.advance(25 * MIN);
        assert_eq!(get(&app, "/me", Some(&t)).await.status, 200);
    }
    // 20 minutes before the absolute deadline the cookie lives 20 minutes, not 30.
    let r = get(&app, "/me", Some(&t)).await;
    assert_eq!(r.status, 200);
    clock.advance(MIN);
    let r2 = get(&app, "/me", Some(&t)).await;
    let header = r2
        .set_cookie("session")
        .or_else(|| r.set_cookie("session"))
        .expect("a refreshed cookie near the deadline");
    assert!(
        max_age(&header) <= 20 * 60,
        "capped by the absolute deadline: {header}"
    );
    clock.advance(19 * MIN);
    assert_eq!(get(&app, "/me", Some(&t)).await.status, 401);
}

#[tokio::test]
async fn expired_guest_sessions_lose_their_data() {
    let (app, _, clock) = fixture();
    let t = post(&app, "/cart/1", None).await.token().unwrap();
    clock.advance(31 * MIN);
    assert_eq!(get(&app, "/read", Some(&t)).await.json()["cart"], json!([]));
}
