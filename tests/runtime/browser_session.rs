//! Browser-session cookies (`SessionConfigBuilder::browser_session_cookie`): no `Max-Age` or
//! `Expires` on the cookie, the same idle and absolute timeouts on the server.

use std::time::Duration;

use session_runtime::{ManualClock, SessionConfig};

use crate::common::{TestStore, get, post, routes};

const MIN: Duration = Duration::from_secs(60);

/// The test router with browser-session cookies, on a manual clock.
fn browser_session_fixture() -> (axum::Router, TestStore, ManualClock) {
    let store = TestStore::new();
    let clock = ManualClock::new();
    let config = SessionConfig::builder()
        .browser_session_cookie()
        .clock(clock.clone())
        .build()
        .expect("valid config");
    (routes::app(store.clone(), config), store, clock)
}

fn has_lifetime(header: &str) -> bool {
    header.split(';').map(str::trim).any(|attr| {
        let name = attr.split('=').next().unwrap_or_default();
        name.eq_ignore_ascii_case("max-age") || name.eq_ignore_ascii_case("expires")
    })
}

#[tokio::test]
async fn the_cookie_has_no_max_age_or_expires_with_the_option() {
    let (app, _, _) = browser_session_fixture();
    let r = post(&app, "/login/1", None).await;
    let header = r.set_cookie("session").expect("a session cookie");
    assert!(!has_lifetime(&header), "{header}");
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(header.contains(attr), "{header} lacks {attr}");
    }
    // A guest session's cookie, and the one a rotation issues, are browser-session too.
    let guest = post(&app, "/cart/1", None).await.set_cookie("session");
    assert!(!has_lifetime(&guest.expect("a guest cookie")));
    let t = r.token().unwrap();
    let rotated = post(&app, "/rotate", Some(&t)).await.set_cookie("session");
    assert!(!has_lifetime(&rotated.expect("a rotated cookie")));
}

#[tokio::test]
async fn the_cookie_has_max_age_without_the_option() {
    let (app, _, _) = crate::common::fixture();
    let header = post(&app, "/login/1", None)
        .await
        .set_cookie("session")
        .expect("a session cookie");
    assert!(header.contains("Max-Age=1800"), "{header}");
}

#[tokio::test]
async fn the_idle_timeout_still_ends_the_session_on_the_server() {
    let (app, _, clock) = browser_session_fixture();
    let t = post(&app, "/login/1", None).await.token().unwrap();
    clock.advance(29 * MIN);
    assert_eq!(get(&app, "/me", Some(&t)).await.status, 200);
    // Idle for the whole timeout since that use: the browser still sends the cookie, the
    // server refuses it.
    clock.advance(30 * MIN);
    let r = get(&app, "/me", Some(&t)).await;
    assert_eq!(r.status, 401, "expired exactly at the idle timeout");
    assert!(r.removes_cookie());
}

#[tokio::test]
async fn the_absolute_timeout_still_ends_an_active_session_on_the_server() {
    let (app, _, clock) = browser_session_fixture();
    let t = post(&app, "/login/1", None).await.token().unwrap();
    // Active every 25 minutes for 11h40m.
    for _ in 0..28 {
        clock.advance(25 * MIN);
        assert_eq!(get(&app, "/me", Some(&t)).await.status, 200);
    }
    clock.advance(20 * MIN);
    let r = get(&app, "/me", Some(&t)).await;
    assert_eq!(r.status, 401, "ended at 12 hours however active");
    assert!(r.removes_cookie());
}

#[tokio::test]
async fn a_rolling_refresh_sends_no_cookie_but_still_extends_the_session() {
    let (app, store, clock) = browser_session_fixture();
    let t = post(&app, "/login/1", None).await.token().unwrap();
    store.counts.reset();
    clock.advance(2 * MIN);
    let r = get(&app, "/read", Some(&t)).await;
    assert!(
        r.set_cookie("session").is_none(),
        "no lifetime to follow: nothing to send"
    );
    assert!(r.headers.get(http::header::CACHE_CONTROL).is_none());
    assert_eq!(
        crate::common::Counts::get(&store.counts.touch),
        1,
        "the server still refreshed the idle deadline"
    );
    // 2 + 29 minutes after login, but 29 after the touch: alive.
    clock.advance(29 * MIN);
    assert_eq!(get(&app, "/me", Some(&t)).await.status, 200);
}

#[tokio::test]
async fn logout_still_removes_the_cookie_with_max_age_zero() {
    let (app, _, _) = browser_session_fixture();
    let t = post(&app, "/login/1", None).await.token().unwrap();
    let r = post(&app, "/logout", Some(&t)).await;
    assert!(r.removes_cookie(), "{:?}", r.set_cookie("session"));
    assert_eq!(get(&app, "/me", Some(&t)).await.status, 401);
}
