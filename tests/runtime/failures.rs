//! A store that is down fails closed with 503; a missing layer is a clear 500; tokens never
//! reach the logs.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get as route_get;
use session_runtime::{Session, SessionConfig, SessionLayer};

use crate::common::{AppSession, fixture, get, post};

#[tokio::test]
async fn store_down_fails_closed_before_the_handler_runs() {
    let (_, store, _) = fixture();
    let ran = Arc::new(AtomicUsize::new(0));
    let r2 = ran.clone();
    let app: Router = crate::common::routes::routes()
        .route(
            "/counted",
            route_get(move |_s: Session<AppSession>| async move {
                r2.fetch_add(1, Ordering::SeqCst);
                "ran"
            }),
        )
        .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    let t = post(&app, "/login/1", None).await.token().unwrap();
    store.set_down(true);
    let r = get(&app, "/counted", Some(&t)).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["error"], "session_store_unavailable");
    assert_eq!(ran.load(Ordering::SeqCst), 0, "the handler never ran");
    assert_eq!(get(&app, "/me", Some(&t)).await.status, 503, "guards too");
    assert_eq!(
        get(&app, "/public", Some(&t)).await.status,
        200,
        "public routes unaffected"
    );
    assert_eq!(get(&app, "/public", None).await.body, "public");

    store.set_down(false);
    assert_eq!(
        get(&app, "/me", Some(&t)).await.status,
        200,
        "back without a restart"
    );
}

#[tokio::test]
async fn a_failed_save_answers_503() {
    let (app, store, _) = fixture();
    store.set_writes_down(true);
    let r = post(&app, "/cart/1", None).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["error"], "session_store_unavailable");
    assert!(
        r.set_cookie("session").is_none(),
        "no cookie for a session that was not saved"
    );
    let r = post(&app, "/login/1", None).await;
    assert_eq!(
        r.status, 503,
        "a failed login is a 503, not a silent anonymous session"
    );
    store.set_writes_down(false);
    assert_eq!(post(&app, "/cart/1", None).await.status, 200);
}

#[tokio::test]
async fn a_full_memory_store_refuses_new_guests_but_not_logins() {
    let store = session_runtime::MemoryStore::builder()
        .max_records(2)
        .build();
    let app = crate::common::routes::app(store.clone(), SessionConfig::default());
    assert_eq!(post(&app, "/cart/1", None).await.status, 200);
    assert_eq!(post(&app, "/cart/2", None).await.status, 200);
    let r = post(&app, "/cart/3", None).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["error"], "session_store_full");
    assert_eq!(
        post(&app, "/login/9", None).await.status,
        200,
        "logins still work"
    );
    assert_eq!(store.len(), 3);
}

#[tokio::test]
async fn a_missing_layer_is_a_500_that_names_the_layer() {
    let app = crate::common::routes::routes();
    for path in ["/read", "/me"] {
        let r = get(&app, path, None).await;
        assert_eq!(r.status, 500);
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .contains("SessionLayer")
        );
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_never_reach_the_logs() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (app, store, _) = fixture();
    let guest = post(&app, "/cart/1", None).await.token().unwrap();
    let user = post(&app, "/login/1", Some(&guest)).await.token().unwrap();
    let rotated = post(&app, "/rotate", Some(&user)).await.token().unwrap();
    store.set_down(true);
    get(&app, "/me", Some(&rotated)).await;
    store.set_down(false);
    store.set_writes_down(true);
    post(&app, "/note/x", Some(&rotated)).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("session store"), "errors were logged: {logs}");
    for token in [&guest, &user, &rotated] {
        assert!(
            !logs.contains(token.as_str()),
            "a token leaked into the logs"
        );
    }
}

#[tokio::test]
async fn an_inner_service_error_passes_through_the_layer_unchanged() {
    use tower::{Layer as _, ServiceExt as _};
    let failing = tower::service_fn(|_: http::Request<axum::body::Body>| async {
        Err::<http::Response<axum::body::Body>, _>("inner service failed")
    });
    let (_, store, clock) = fixture();
    let service = SessionLayer::new(store, crate::common::config(&clock)).layer(failing);
    let req = crate::common::request("GET", "/", None)
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(
        service.oneshot(req).await.unwrap_err(),
        "inner service failed"
    );
}

/// Logout with a store that cannot delete (the documented choice, see `Session::logout`):
/// `503`, and nothing changes, the cookie included, so that the user can try again; a
/// cookie removed alone would leave a live session that the browser no longer names.
#[tokio::test]
async fn a_logout_the_store_cannot_carry_out_answers_503_and_keeps_the_session_to_retry() {
    let (app, store, _) = fixture();
    let token = post(&app, "/login/5", None).await.token().unwrap();
    store.deletes_down.store(true, Ordering::SeqCst);
    let r = post(&app, "/logout", Some(&token)).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["error"], "session_store_unavailable");
    assert!(r.set_cookie("session").is_none(), "the cookie stays");
    store.deletes_down.store(false, Ordering::SeqCst);
    assert_eq!(
        get(&app, "/me", Some(&token)).await.status,
        200,
        "still logged in"
    );
    let r = post(&app, "/logout", Some(&token)).await;
    assert_eq!(r.status, 204);
    assert!(r.removes_cookie());
    assert_eq!(get(&app, "/me", Some(&token)).await.status, 401);
}
