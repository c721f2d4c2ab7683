//! Issue 17 item 5: hashing off the async workers, login and password-change throttling,
//! and the anti-framing headers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use crate::app;
use crate::common::{get, post_json};

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
