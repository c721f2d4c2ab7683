//! `GET /metrics` (README, "Operating a fleet"): a scripted run moves the session layer's
//! counters and histogram, read back in Prometheus' text format.
//!
//! Every test of this binary records into the one process-wide recorder, in parallel: the
//! assertions are on how much a figure grew across the run, at least.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use serde_json::json;
use session_runtime::MemoryStore;

use crate::common::{TestStore, get, post_json, request, send};
use crate::server;

/// The sum of every series of `name` whose labels include `labels`, in a Prometheus text
/// page (0 if there is none).
fn value(page: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, rest) = series.split_once('{').unwrap_or((series, ""));
            let matches = series_name == name
                && labels
                    .iter()
                    .all(|(label, v)| rest.contains(&format!("{label}=\"{v}\"")));
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

/// The metrics page as the app serves it.
async fn scrape(app: &Router) -> String {
    let r = get(app, "/metrics", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"),
        "{:?}",
        r.headers
    );
    r.body
}

async fn login(app: &Router, user: &str, pass: &str) -> String {
    let r = post_json(
        app,
        "/api/login",
        None,
        json!({"username": user, "password": pass}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.token().unwrap()
}

/// A series' name and some of its labels.
type Series = (&'static str, &'static [(&'static str, &'static str)]);

/// What the script moves, each with the least it must grow by.
const EXPECTED: &[(Series, f64)] = &[
    (("sessions_logins_total", &[("how", "login")]), 3.0),
    (("sessions_rotations_total", &[]), 1.0),
    (("sessions_revocations_total", &[("how", "revoke")]), 1.0),
    (
        ("sessions_revocations_total", &[("how", "password_change")]),
        1.0,
    ),
    (("sessions_logouts_total", &[]), 1.0),
    (
        (
            "sessions_refusals_total",
            &[("by", "staff"), ("reason", "forbidden")],
        ),
        1.0,
    ),
    (
        (
            "sessions_refusals_total",
            &[("by", "authenticated"), ("reason", "anonymous")],
        ),
        1.0,
    ),
    (
        (
            "sessions_refusals_total",
            &[("by", "csrf"), ("reason", "token")],
        ),
        1.0,
    ),
    (
        (
            "sessions_store_call_seconds_count",
            &[("store", "MemoryStore"), ("op", "load")],
        ),
        5.0,
    ),
    (
        (
            "sessions_store_call_seconds_count",
            &[("store", "MemoryStore"), ("op", "create")],
        ),
        3.0,
    ),
    (
        (
            "sessions_store_call_seconds_count",
            &[("store", "MemoryStore"), ("op", "delete_public")],
        ),
        1.0,
    ),
];

#[tokio::test]
async fn a_scripted_run_moves_the_session_metrics() {
    // Users of its own: the script changes alice's password.
    let users = Arc::new(server::Users::demo().expect("demo users"));
    let app = server::router(MemoryStore::new(), users);
    let before = scrape(&app).await;

    let laptop = login(&app, "alice", "alice-pass").await;
    let phone = login(&app, "alice", "alice-pass").await;
    assert_eq!(get(&app, "/api/me", Some(&laptop)).await.status, 200);
    assert_eq!(get(&app, "/api/me", None).await.status, 401);
    assert_eq!(get(&app, "/api/admin", Some(&laptop)).await.status, 403);

    // The laptop revokes the phone.
    let sessions = get(&app, "/api/sessions", Some(&laptop)).await.json();
    let phone_id = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .expect("the phone's session")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = request(
        "DELETE",
        &format!("/api/sessions/{phone_id}"),
        Some(&laptop),
    );
    let r = send(&app, revoke.body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(get(&app, "/api/me", Some(&phone)).await.status, 401);

    // A password change: the laptop rotates, the tablet ends.
    let _tablet = login(&app, "alice", "alice-pass").await;
    let change = json!({"old": "alice-pass", "new": "a new password for alice"});
    let r = post_json(&app, "/api/password", Some(&laptop), change).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let laptop = r.token().expect("the rotated token");

    // A form posted without its CSRF token.
    let form = request("POST", "/cart", Some(&laptop))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("item=7"))
        .unwrap();
    assert_eq!(send(&app, form).await.status, 403);

    let logout = request("POST", "/api/logout", Some(&laptop))
        .header("content-type", "application/json")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, logout).await.status, 204);

    let after = scrape(&app).await;
    for ((name, labels), least) in EXPECTED {
        let grew = value(&after, name, labels) - value(&before, name, labels);
        assert!(
            grew >= *least,
            "{name}{labels:?} grew by {grew}, not at least {least}:\n{after}"
        );
    }
    assert!(
        value(
            &after,
            "sessions_store_call_seconds_bucket",
            &[("op", "load"), ("le", "+Inf")]
        ) > 0.0,
        "the histogram has buckets:\n{after}"
    );
    assert!(
        after.contains("sessions_live{store=\"MemoryStore\"}"),
        "a live-sessions gauge:\n{after}"
    );
    assert!(
        after.contains("# HELP sessions_logins_total"),
        "the metrics are described:\n{after}"
    );
}

#[tokio::test]
async fn a_store_that_fails_counts_its_errors_by_store_and_operation() {
    let store = TestStore::new();
    let app = server::router(store.clone(), crate::USERS.clone());
    let labels = &[("store", "TestStore"), ("op", "load"), ("kind", "backend")];
    let before = value(&scrape(&app).await, "sessions_store_errors_total", labels);

    let token = login(&app, "alice", "alice-pass").await;
    store.set_down(true);
    assert_eq!(get(&app, "/api/me", Some(&token)).await.status, 503);
    store.set_down(false);

    let after = value(&scrape(&app).await, "sessions_store_errors_total", labels);
    assert!(after - before >= 1.0, "{before} -> {after}");
}
