//! Remember me (DESIGN §8) on the memory store: the cookie, restoring a login, what ends a
//! remembered device, and bad input.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use session_runtime::testing::TestClient;
use session_runtime::{Clock as _, ManualClock, MemoryStore, SessionKind, SessionStore as _};

use crate::remember_flow::{REMEMBER, Users, app, halves, remembered_browser};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn fixture() -> (axum::Router, MemoryStore, ManualClock, Users) {
    let (store, clock, users) = (
        MemoryStore::new(),
        ManualClock::new(),
        Users::with_demo_users(),
    );
    (app(store.clone(), &clock, &users), store, clock, users)
}

/// Whether user 1 has a remembered device in `store`.
async fn remembered(store: &MemoryStore, clock: &ManualClock) -> bool {
    store
        .list_user("1", clock.now())
        .await
        .unwrap()
        .iter()
        .any(|s| s.kind == SessionKind::Remembered)
}

#[tokio::test]
async fn the_flow_every_store_runs_passes_on_the_memory_store() {
    let store = MemoryStore::new();
    crate::remember_flow::a_remembered_device_logs_in_again_and_a_replay_ends_everything(
        store.clone(),
        store,
    )
    .await;
}

#[tokio::test]
async fn the_remember_cookie_has_secure_attributes_and_30_days() {
    let (app, ..) = fixture();
    let mut client = TestClient::new(app);
    let login = client.post_json("/login/1?remember", &()).await;
    let header = login.set_cookie(REMEMBER).expect("a remember cookie");
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=2592000",
    ] {
        assert!(header.contains(attribute), "{header} lacks {attribute}");
    }
    let (series, token) = halves(client.cookie(REMEMBER).unwrap());
    assert_eq!((series.len(), token.len()), (43, 43));
    assert_ne!(series, token);

    // A login without the box sets none.
    let mut plain = TestClient::new(client.router().clone());
    let login = plain.post_json("/login/1", &()).await;
    assert_eq!(login.set_cookie(REMEMBER), None);
}

#[tokio::test]
async fn an_idle_timeout_is_survived_with_a_fresh_session_and_none_of_the_old_data() {
    let (app, _, clock, _) = fixture();
    let mut device = TestClient::new(app);
    device.post_json("/login/1?remember", &()).await;
    device.post_json("/cart/7", &()).await;
    let old_session = device.cookie("session").unwrap().to_owned();
    clock.advance(Duration::from_secs(31 * 60));

    let me = device.get("/me").await;
    assert_eq!(me.status(), 200, "{}", me.text());
    let me: Value = me.json();
    assert_eq!(me["username"], "alice");
    assert_eq!(
        me["cart"],
        serde_json::json!([]),
        "nothing of the ended session"
    );
    assert_ne!(device.cookie("session").unwrap(), old_session);
    // The restored session is an ordinary one from here on.
    assert_eq!(device.post_json("/cart/8", &()).await.status(), 200);
    let me: Value = device.get("/me").await.json();
    assert_eq!(me["cart"], serde_json::json!([8]));
}

#[tokio::test]
async fn a_restored_login_is_not_recent_until_a_password_login() {
    let (app, ..) = fixture();
    let mut device = remembered_browser(&app, 1).await;
    let recent = device.get("/recent").await;
    assert_eq!(recent.status(), 401, "{}", recent.text());
    assert!(recent.text().contains("recent login"), "{}", recent.text());
    device.post_json("/login/1", &()).await;
    assert_eq!(device.get("/recent").await.status(), 200);
}

#[tokio::test]
async fn the_device_stays_remembered_for_its_lifetime_and_no_longer() {
    let (app, _, clock, _) = fixture();
    let mut device = remembered_browser(&app, 1).await;
    for _ in 0..3 {
        clock.advance(9 * DAY);
        device.remove_cookie("session");
        assert_eq!(device.get("/me").await.status(), 200);
    }
    // Restored logins do not extend it: 30 days after the password login it ends.
    clock.advance(4 * DAY);
    device.remove_cookie("session");
    assert_eq!(device.get("/me").await.status(), 401);
    assert_eq!(device.cookie(REMEMBER), None, "the dead cookie is removed");
}

#[tokio::test]
async fn logout_ends_this_devices_token_and_removes_its_cookie() {
    let (app, ..) = fixture();
    let mut device = remembered_browser(&app, 1).await;
    assert_eq!(device.get("/me").await.status(), 200);
    let saved = device.cookie(REMEMBER).unwrap().to_owned();
    let logout = device.post_json("/logout", &()).await;
    assert!(logout.set_cookie(REMEMBER).unwrap().contains("Max-Age=0"));
    assert_eq!(device.cookie(REMEMBER), None);

    // The saved cookie names a series that is gone: no login, and no theft alarm.
    let mut replay = TestClient::new(app.clone());
    replay.set_cookie(REMEMBER, saved);
    assert_eq!(replay.get("/me").await.status(), 401);
    assert_eq!(replay.cookie(REMEMBER), None);
}

#[tokio::test]
async fn logout_everywhere_logout_others_and_a_password_change_end_every_device() {
    for route in ["/logout-everywhere", "/logout-others", "/password/fp-new"] {
        let (app, ..) = fixture();
        let mut laptop = remembered_browser(&app, 1).await;
        let mut phone = remembered_browser(&app, 1).await;
        assert_eq!(phone.get("/me").await.status(), 200);
        assert_eq!(laptop.get("/me").await.status(), 200);
        let answer = laptop.post_json(route, &()).await;
        assert!(answer.status().is_success(), "{route}: {}", answer.text());
        assert_eq!(
            laptop.cookie(REMEMBER),
            None,
            "{route}: this device's cookie"
        );
        phone.remove_cookie("session");
        assert_eq!(phone.get("/me").await.status(), 401, "{route}: the phone");
        assert_eq!(phone.cookie(REMEMBER), None, "{route}");
        let still = laptop.get("/me").await.status();
        let expected = if route == "/logout-everywhere" {
            401
        } else {
            200
        };
        assert_eq!(still, expected, "{route}: this session");
    }
}

#[tokio::test]
async fn a_password_change_elsewhere_ends_the_device_through_the_auth_hash_check() {
    let (app, store, clock, users) = fixture();
    let mut device = remembered_browser(&app, 1).await;
    users.set_fingerprint(1, "fp-alice-2");
    assert_eq!(device.get("/me").await.status(), 401);
    assert_eq!(device.cookie(REMEMBER), None);
    assert!(!remembered(&store, &clock).await, "the series is gone");
}

#[tokio::test]
async fn revoking_the_remembered_device_by_its_id_ends_it() {
    let (app, ..) = fixture();
    let mut device = remembered_browser(&app, 1).await;
    let mut desk = TestClient::new(app.clone());
    desk.post_json("/login/1", &()).await;
    let listed: Vec<Value> = desk.get("/sessions").await.json();
    let series = listed
        .iter()
        .find(|s| s["kind"] == "remembered")
        .expect("the remembered device is listed");
    assert_eq!(series["current"], false);
    let id = series["id"].as_str().unwrap();
    let revoke = axum::http::Request::delete(format!("/sessions/{id}"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(desk.request(revoke).await.status(), 204);
    assert_eq!(device.get("/me").await.status(), 401);
    assert_eq!(device.cookie(REMEMBER), None);
}

#[tokio::test]
async fn a_user_who_no_longer_exists_is_not_restored() {
    let (app, store, clock, users) = fixture();
    let mut device = remembered_browser(&app, 1).await;
    users.remove(1);
    // The auth hash check finds no user first; either way the series ends.
    assert_eq!(device.get("/me").await.status(), 401);
    assert_eq!(device.cookie(REMEMBER), None);
    assert!(!remembered(&store, &clock).await, "the series is gone");
}

#[tokio::test]
async fn a_password_login_replaces_this_devices_series() {
    let (app, ..) = fixture();
    let mut device = TestClient::new(app.clone());
    device.post_json("/login/1?remember", &()).await;
    let first = device.cookie(REMEMBER).unwrap().to_owned();
    device.post_json("/login/2", &()).await;
    assert_eq!(
        device.cookie(REMEMBER),
        None,
        "a login without the box forgets the device"
    );
    let mut replay = TestClient::new(app.clone());
    replay.set_cookie(REMEMBER, first);
    assert_eq!(replay.get("/me").await.status(), 401);

    device.post_json("/login/2?remember", &()).await;
    let second = device.cookie(REMEMBER).unwrap().to_owned();
    device.post_json("/login/2?remember", &()).await;
    let third = device.cookie(REMEMBER).unwrap().to_owned();
    assert_ne!(
        halves(&second).0,
        halves(&third).0,
        "a new series per password login"
    );
    let listed: Vec<Value> = device.get("/sessions").await.json();
    assert_eq!(
        listed.iter().filter(|s| s["kind"] == "remembered").count(),
        1,
        "one series per device: {listed:?}"
    );
}

#[tokio::test]
async fn malformed_and_unknown_remember_cookies_log_nobody_in_and_are_removed() {
    let (app, ..) = fixture();
    let token = "A".repeat(43);
    for value in [
        "garbage".to_owned(),
        format!("{token}.{token}"),
        format!("{token}.short"),
        String::new(),
    ] {
        let mut client = TestClient::new(app.clone());
        client.set_cookie(REMEMBER, value.clone());
        let me = client.get("/me").await;
        assert_eq!(me.status(), 401, "{value:?}");
        assert_eq!(client.cookie(REMEMBER), None, "{value:?}");
    }
}

#[tokio::test]
async fn remember_device_for_a_guest_is_an_error() {
    let (app, ..) = fixture();
    let mut client = TestClient::new(app);
    let answer = client.post_json("/remember", &()).await;
    assert_eq!(answer.status(), 401, "{}", answer.text());
    assert!(answer.text().contains("not_logged_in"));
    assert_eq!(client.cookie(REMEMBER), None);
}

/// Log lines, captured for one test.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_replay_is_logged_as_a_warning_without_the_token() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (app, ..) = fixture();
    let mut device = remembered_browser(&app, 1).await;
    let first = device.cookie(REMEMBER).unwrap().to_owned();
    assert_eq!(device.get("/me").await.status(), 200);
    let mut thief = TestClient::new(app);
    thief.set_cookie(REMEMBER, first.clone());
    assert_eq!(thief.get("/me").await.status(), 401);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let warning = text
        .lines()
        .find(|l| l.contains("WARN") && l.contains("remember-me token was presented again"))
        .unwrap_or_else(|| panic!("a warning in {text}"));
    let (series, token) = halves(&first);
    assert!(!text.contains(token) && !text.contains(series), "{warning}");
}

#[tokio::test]
async fn a_series_id_sent_as_a_session_cookie_names_no_session() {
    let (app, ..) = fixture();
    let device = remembered_browser(&app, 1).await;
    let (series, _) = halves(device.cookie(REMEMBER).unwrap());
    let mut forged = TestClient::new(app.clone());
    forged.set_cookie("session", series);
    let req = axum::http::Request::get("/me")
        .header("accept", "application/json")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(forged.request(req).await.status(), 401);
}
