//! Credential changes end sessions (the auth hash check), the password-change helper, and
//! the recent-login guard.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use session_runtime::{
    ManualClock, RequireAuth, RequireRecentLogin, Session, SessionConfig, SessionError,
    SessionLayer, SessionSchema,
};

use crate::common::{TestStore, get as send_get, post as send_post, request, send};

#[derive(SessionSchema)]
pub struct HashedSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    pub auth_hash: Option<String>,
}

/// The user directory's current fingerprints; `Err` marks the directory as down.
type Fingerprints = Arc<Mutex<Result<HashMap<i64, String>, String>>>;

fn app(store: TestStore, fingerprints: Fingerprints, clock: &ManualClock) -> Router {
    let fp = fingerprints.clone();
    let login = move |s: Session<HashedSession>, Path(id): Path<i64>| {
        let fp = fp.clone();
        async move {
            let hash = fp
                .lock()
                .unwrap()
                .as_ref()
                .ok()
                .and_then(|m| m.get(&id).cloned());
            s.login(id).await?;
            s.set_auth_hash(hash)?;
            Ok::<_, SessionError>(StatusCode::OK)
        }
    };
    let fp = fingerprints.clone();
    let change = move |u: RequireAuth<HashedSession>, Path(new): Path<String>| {
        let fp = fp.clone();
        async move {
            fp.lock()
                .unwrap()
                .as_mut()
                .unwrap()
                .insert(u.user_id(), new.clone());
            u.set_auth_hash(Some(new))?;
            let ended = u.session().password_changed().await?;
            Ok::<_, SessionError>(ended.to_string())
        }
    };
    let current = move |id: i64| {
        let fp = fingerprints.clone();
        async move {
            match &*fp.lock().unwrap() {
                Ok(map) => Ok(map.get(&id).cloned()),
                Err(e) => Err(e.clone()),
            }
        }
    };
    let config = SessionConfig::builder()
        .clock(clock.clone())
        .login_url("/login")
        .build()
        .unwrap();
    Router::new()
        .route("/login/{id}", post(login))
        .route("/password/{new}", post(change))
        .route(
            "/me",
            get(|u: RequireAuth<HashedSession>| async move { u.user_id().to_string() }),
        )
        .route(
            "/sensitive",
            post(
                |u: RequireRecentLogin<HashedSession, 300>| async move { u.user_id().to_string() },
            ),
        )
        .layer(SessionLayer::new(store, config).verify_auth_hash(HashedSession::AUTH_HASH, current))
}

fn fixture() -> (Router, TestStore, Fingerprints, ManualClock) {
    let store = TestStore::new();
    let fp: Fingerprints = Arc::new(Mutex::new(Ok(HashMap::from([
        (1, "v1".to_owned()),
        (2, "w1".to_owned()),
    ]))));
    let clock = ManualClock::new();
    (app(store.clone(), fp.clone(), &clock), store, fp, clock)
}

#[tokio::test]
async fn a_changed_fingerprint_ends_the_session_at_its_next_request() {
    let (app, store, fp, _) = fixture();
    let t = send_post(&app, "/login/1", None).await.token().unwrap();
    assert_eq!(send_get(&app, "/me", Some(&t)).await.status, 200);
    fp.lock().unwrap().as_mut().unwrap().insert(1, "v2".into());
    let r = send_get(&app, "/me", Some(&t)).await;
    assert_eq!(r.status, 401);
    assert!(r.removes_cookie());
    assert!(store.inner.is_empty(), "the stale session was deleted");
}

#[tokio::test]
async fn a_user_that_no_longer_exists_is_logged_out() {
    let (app, _, fp, _) = fixture();
    let t = send_post(&app, "/login/1", None).await.token().unwrap();
    fp.lock().unwrap().as_mut().unwrap().remove(&1);
    assert_eq!(send_get(&app, "/me", Some(&t)).await.status, 401);
}

#[tokio::test]
async fn a_failing_lookup_fails_closed_with_503() {
    let (app, store, fp, _) = fixture();
    let t = send_post(&app, "/login/1", None).await.token().unwrap();
    *fp.lock().unwrap() = Err("user directory down".into());
    assert_eq!(send_get(&app, "/me", Some(&t)).await.status, 503);
    assert_eq!(
        store.inner.len(),
        1,
        "nothing is deleted on a lookup failure"
    );
    *fp.lock().unwrap() = Ok(HashMap::from([(1, "v1".to_owned())]));
    assert_eq!(send_get(&app, "/me", Some(&t)).await.status, 200);
}

#[tokio::test]
async fn password_changed_keeps_this_session_rotated_and_ends_the_others() {
    let (app, _, _, _) = fixture();
    let other = send_post(&app, "/login/1", None).await.token().unwrap();
    let this = send_post(&app, "/login/1", None).await.token().unwrap();
    let someone_else = send_post(&app, "/login/2", None).await.token().unwrap();
    let r = send_post(&app, "/password/v2", Some(&this)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "1", "one other session ended");
    let rotated = r.token().expect("rotated");
    assert_ne!(rotated, this);
    assert_eq!(
        send_get(&app, "/me", Some(&rotated)).await.status,
        200,
        "kept, with the new fingerprint"
    );
    assert_eq!(send_get(&app, "/me", Some(&this)).await.status, 401);
    assert_eq!(send_get(&app, "/me", Some(&other)).await.status, 401);
    assert_eq!(send_get(&app, "/me", Some(&someone_else)).await.status, 200);
}

#[tokio::test]
async fn sensitive_actions_need_a_recent_login() {
    let (app, _, _, clock) = fixture();
    let t = send_post(&app, "/login/1", None).await.token().unwrap();
    assert_eq!(send_post(&app, "/sensitive", Some(&t)).await.status, 200);
    clock.advance(Duration::from_secs(301));
    let r = send_post(&app, "/sensitive", Some(&t)).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "reauthentication_required");
    assert_eq!(
        send_get(&app, "/me", Some(&t)).await.status,
        200,
        "still logged in"
    );

    let browser = request("POST", "/sensitive", Some(&t))
        .header("accept", "text/html")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = send(&app, browser).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/login?next=/sensitive");

    // Logging in again (same user) makes it fresh.
    let again = send_post(&app, "/login/1", Some(&t)).await.token().unwrap();
    assert_eq!(
        send_post(&app, "/sensitive", Some(&again)).await.status,
        200
    );
    assert_eq!(send_post(&app, "/sensitive", None).await.status, 401);
}

#[test]
fn infallible_lookups_compile_too() {
    let _ = SessionLayer::new(TestStore::new(), SessionConfig::default())
        .verify_auth_hash(HashedSession::AUTH_HASH, |_id: i64| async {
            Ok::<_, Infallible>(None)
        });
}
