//! An app with remember me, the auth hash check and a live `/watch` stream, its users in
//! memory, and the flows every store runs (`tests/store_*.rs`) beside the runtime's own
//! cases: remember me (DESIGN §8, `tests/runtime/remember.rs`) and live revocation (§7,
//! `tests/runtime/live.rs`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use futures_util::{StreamExt as _, stream};
use serde_json::{Value, json};
use session_runtime::testing::TestClient;
use session_runtime::{
    Identity, ManualClock, PublicId, RememberMe, RequireAuth, RequireRecentLogin, Session,
    SessionConfig, SessionError, SessionLayer, SessionSchema, SessionStore,
};

/// The remember cookie's name in these apps (the default).
pub const REMEMBER: &str = "remember";

#[derive(SessionSchema)]
pub struct RememberSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    pub username: Option<String>,
    #[session(staff)]
    pub is_staff: bool,
    pub auth_hash: Option<String>,
    pub cart: Vec<u64>,
}

/// A user of the app: a name, a role and a password "fingerprint".
#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub staff: bool,
    pub fingerprint: String,
}

/// The app's users, shared with the test so that it can change a password or delete one.
#[derive(Clone, Default)]
pub struct Users(Arc<Mutex<HashMap<i64, User>>>);

impl Users {
    pub fn with_demo_users() -> Self {
        let users = Self::default();
        users.put(1, "alice", false, "fp-alice-1");
        users.put(2, "sam", true, "fp-sam-1");
        users
    }

    pub fn put(&self, id: i64, name: &str, staff: bool, fingerprint: &str) {
        self.0.lock().unwrap().insert(
            id,
            User {
                name: name.to_owned(),
                staff,
                fingerprint: fingerprint.to_owned(),
            },
        );
    }

    pub fn get(&self, id: i64) -> Option<User> {
        self.0.lock().unwrap().get(&id).cloned()
    }

    pub fn remove(&self, id: i64) {
        self.0.lock().unwrap().remove(&id);
    }

    pub fn set_fingerprint(&self, id: i64, fingerprint: &str) {
        if let Some(user) = self.0.lock().unwrap().get_mut(&id) {
            user.fingerprint = fingerprint.to_owned();
        }
    }
}

/// The session configuration of these apps: default timeouts on `clock`.
pub fn config(clock: &ManualClock) -> SessionConfig {
    SessionConfig::builder()
        .clock(clock.clone())
        .build()
        .expect("valid config")
}

/// An app with remember me: `POST /login/{id}` (with `?remember` to remember the device),
/// `GET /me`, `GET /recent` (a password login in the last 10 minutes), `POST /cart/{item}`,
/// `POST /logout`, `/logout-others`, `/logout-everywhere`, `/password/{fingerprint}`,
/// `GET /sessions` and `DELETE /sessions/{id}`.
pub fn app(store: impl SessionStore, clock: &ManualClock, users: &Users) -> Router {
    let identity_users = users.clone();
    let identity = move |id: i64| {
        let users = identity_users.clone();
        async move {
            Ok::<_, Infallible>(users.get(id).map(|user| {
                Identity::<RememberSession>::new()
                    .with(RememberSession::USERNAME, Some(user.name))
                    .with(RememberSession::IS_STAFF, user.staff)
            }))
        }
    };
    let hash_users = users.clone();
    let fingerprint = move |id: i64| {
        let users = hash_users.clone();
        async move { Ok::<_, Infallible>(users.get(id).map(|u| u.fingerprint)) }
    };
    let login_users = users.clone();
    let password_users = users.clone();
    let layer = SessionLayer::new(store, config(clock))
        .verify_auth_hash(RememberSession::AUTH_HASH, fingerprint)
        .remember_me(RememberMe::default(), identity);
    Router::new()
        .route(
            "/login/{id}",
            post(
                move |s: Session<RememberSession>,
                      Path(id): Path<i64>,
                      query: axum::extract::RawQuery| {
                    let users = login_users.clone();
                    async move {
                        let Some(user) = users.get(id) else {
                            return Ok(StatusCode::UNAUTHORIZED);
                        };
                        s.login(id).await?;
                        s.set_username(Some(user.name))?;
                        s.set_is_staff(user.staff)?;
                        s.set_auth_hash(Some(user.fingerprint))?;
                        if query.0.as_deref() == Some("remember") {
                            s.remember_device().await?;
                        }
                        Ok::<_, SessionError>(StatusCode::OK)
                    }
                },
            ),
        )
        .route(
            "/me",
            get(|u: RequireAuth<RememberSession>| async move {
                Json(json!({
                    "user_id": u.user_id(),
                    "username": u.username(),
                    "is_staff": u.is_staff(),
                    "cart": u.cart(),
                    "authenticated_at": u.session().authenticated_at().is_some(),
                }))
            }),
        )
        .route(
            "/recent",
            get(|_: RequireRecentLogin<RememberSession, 600>| async { "recent" }),
        )
        .route(
            "/cart/{item}",
            post(
                |s: Session<RememberSession>, Path(item): Path<u64>| async move {
                    let mut cart = s.cart();
                    cart.push(item);
                    s.set_cart(cart)
                },
            ),
        )
        .route(
            "/watch",
            get(|u: RequireAuth<RememberSession>| async move {
                // `hello` at once, then `ended` (or the error) when the session ends.
                let ended = u.session().ended();
                let hello = stream::once(async { Ok::<_, Infallible>(Bytes::from("hello\n")) });
                let end = stream::once(async move {
                    Ok(match ended.await {
                        Ok(()) => Bytes::from("ended\n"),
                        Err(error) => Bytes::from(format!("error: {error}\n")),
                    })
                });
                Body::from_stream(hello.chain(end))
            }),
        )
        .route(
            "/rotate",
            post(|u: RequireAuth<RememberSession>| async move { u.session().rotate().await }),
        )
        .route(
            "/remember",
            post(|s: Session<RememberSession>| async move { s.remember_device().await }),
        )
        .route(
            "/logout",
            post(|s: Session<RememberSession>| async move { s.logout().await }),
        )
        .route(
            "/logout-others",
            post(|u: RequireAuth<RememberSession>| async move {
                u.session().logout_others().await.map(drop)
            }),
        )
        .route(
            "/logout-everywhere",
            post(|u: RequireAuth<RememberSession>| async move {
                u.session().logout_everywhere().await.map(drop)
            }),
        )
        .route(
            "/password/{fingerprint}",
            post(
                move |u: RequireAuth<RememberSession>, Path(fingerprint): Path<String>| {
                    let users = password_users.clone();
                    async move {
                        users.set_fingerprint(u.user_id(), &fingerprint);
                        u.session().set_auth_hash(Some(fingerprint))?;
                        u.session().password_changed().await.map(drop)
                    }
                },
            ),
        )
        .route(
            "/sessions",
            get(|u: RequireAuth<RememberSession>| async move {
                u.session().list_sessions().await.map(Json)
            }),
        )
        .route(
            "/sessions/{id}",
            delete(
                |u: RequireAuth<RememberSession>, Path(id): Path<String>| async move {
                    let Some(id) = PublicId::parse(&id) else {
                        return Ok(StatusCode::NOT_FOUND);
                    };
                    Ok::<_, SessionError>(match u.session().revoke_session(&id).await? {
                        true => StatusCode::NO_CONTENT,
                        false => StatusCode::NOT_FOUND,
                    })
                },
            ),
        )
        .layer(layer)
}

/// The series and token halves of a remember cookie's value.
pub fn halves(value: &str) -> (&str, &str) {
    value
        .split_once('.')
        .expect("a remember cookie is SERIES.TOKEN")
}

/// A browser that logged in as `id` and ticked "remember me"; its session cookie is then
/// dropped, as when the browser closes or the session times out.
pub async fn remembered_browser(app: &Router, id: i64) -> TestClient {
    let mut client = TestClient::new(app.clone());
    let login = client
        .post_json(&format!("/login/{id}?remember"), &())
        .await;
    assert_eq!(login.status(), 200, "{}", login.text());
    assert!(client.cookie(REMEMBER).is_some(), "a remember cookie");
    client.remove_cookie("session");
    client
}

/// The flow every store runs, across two app instances over one store (`a`, `b`: two
/// handles on it): a remembered device is logged in again with the loader's identity and a
/// replaced token; the replaced token presented again ends every session of the user; the
/// series is listed as `remembered`.
pub async fn a_remembered_device_logs_in_again_and_a_replay_ends_everything(
    a: impl SessionStore,
    b: impl SessionStore,
) {
    let clock = ManualClock::new();
    let users = Users::with_demo_users();
    let (app, other_instance) = (app(a, &clock, &users), app(b, &clock, &users));
    let mut other = TestClient::new(app.clone());
    assert_eq!(other.post_json("/login/2", &()).await.status(), 200);

    let mut device = remembered_browser(&app, 2).await;
    let first = device.cookie(REMEMBER).unwrap().to_owned();
    let me = device.get("/me").await;
    assert_eq!(me.status(), 200, "{}", me.text());
    let me: Value = me.json();
    assert_eq!(me["user_id"], 2);
    assert_eq!(me["username"], "sam", "the loader's identity");
    assert_eq!(me["is_staff"], true);
    assert_eq!(
        me["authenticated_at"], false,
        "a restored login proves no password"
    );
    let second = device.cookie(REMEMBER).unwrap().to_owned();
    assert_ne!(first, second, "the token is replaced on use");
    assert_eq!(halves(&first).0, halves(&second).0, "in the same series");
    assert!(device.cookie("session").is_some(), "a new session cookie");

    let listed: Vec<Value> = device.get("/sessions").await.json();
    let kinds: Vec<&str> = listed.iter().filter_map(|s| s["kind"].as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "remembered").count(),
        1,
        "{listed:?}"
    );
    assert_eq!(kinds.iter().filter(|k| **k == "browser").count(), 3);

    // The first token again, from a copied cookie: everything of the user ends.
    let mut thief = TestClient::new(other_instance.clone());
    thief.set_cookie(REMEMBER, first);
    assert_eq!(thief.get("/me").await.status(), 401);
    assert_eq!(
        thief.cookie(REMEMBER),
        None,
        "the replayed cookie is removed"
    );
    assert_eq!(other.get("/me").await.status(), 401, "other sessions ended");
    assert_eq!(device.get("/me").await.status(), 401, "this device's too");
    let mut again = TestClient::new(other_instance);
    again.set_cookie(REMEMBER, second);
    assert_eq!(
        again.get("/me").await.status(),
        401,
        "the current token ended too"
    );
}

/// A `/watch` stream of a logged-in client, read line by line.
pub struct Watch {
    body: Body,
}

impl Watch {
    /// Opens `/watch` on `app` with `client`'s session cookie, and reads its `hello`.
    pub async fn open(app: &Router, client: &TestClient) -> Self {
        Self::open_at(app, client, "/watch").await
    }

    /// Opens the stream at `path`, which must start with a `hello` line.
    pub async fn open_at(app: &Router, client: &TestClient, path: &str) -> Self {
        use tower::ServiceExt as _;
        let cookie = format!("session={}", client.cookie("session").expect("logged in"));
        let req = axum::http::Request::get(path)
            .header("cookie", cookie)
            .header("accept", "application/json")
            .body(Body::empty())
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), 200);
        let mut watch = Self {
            body: res.into_body(),
        };
        let hello = watch.line(Duration::from_secs(5)).await;
        assert_eq!(hello.as_deref(), Some("hello"));
        watch
    }

    /// The next line, if one comes within `within`; `None` on timeout or the end.
    pub async fn line(&mut self, within: Duration) -> Option<String> {
        use http_body_util::BodyExt as _;
        let frame = tokio::time::timeout(within, self.body.frame())
            .await
            .ok()??;
        let data = frame.ok()?.into_data().ok()?;
        Some(String::from_utf8_lossy(&data).trim_end().to_owned())
    }
}

/// A client of `app` logged in as user 1.
pub async fn logged_in(app: &Router) -> TestClient {
    let mut client = TestClient::new(app.clone());
    assert_eq!(client.post_json("/login/1", &()).await.status(), 200);
    client
}

/// The public id of `client`'s current session.
pub async fn current_id(client: &mut TestClient) -> String {
    let listed: Vec<Value> = client.get("/sessions").await.json();
    listed
        .iter()
        .find(|s| s["current"] == true)
        .and_then(|s| s["id"].as_str())
        .expect("a current session")
        .to_owned()
}

/// The live-revocation flow every store runs, across two app instances over one store
/// (`a`, `b`): a `/watch` on `a` hears every way its session ends on `b` (or on `a`),
/// within 2 s, and not a rotation. Gives the time each end took to arrive.
pub async fn every_end_reaches_a_waiter_on_another_instance(
    a: impl SessionStore,
    b: impl SessionStore,
) -> Vec<Duration> {
    const WITHIN: Duration = Duration::from_secs(2);
    let clock = ManualClock::new();
    let users = Users::with_demo_users();
    let (app_a, app_b) = (app(a, &clock, &users), app(b, &clock, &users));
    let mut took = Vec::new();

    // A rotation is not an end.
    let mut client = logged_in(&app_a).await;
    let mut watch = Watch::open(&app_a, &client).await;
    assert_eq!(client.post_json("/rotate", &()).await.status(), 200);
    assert_eq!(
        watch.line(Duration::from_millis(300)).await,
        None,
        "rotation"
    );

    let ends: [(&str, &str); 6] = [
        ("revoke", "DELETE /sessions/{id} on the other instance"),
        ("logout", "POST /logout on this instance"),
        ("logout-others", "POST /logout-others on the other instance"),
        (
            "logout-everywhere",
            "POST /logout-everywhere on the other instance",
        ),
        ("password", "POST /password/{fp} on the other instance"),
        (
            "auth-hash",
            "a request after the password changed elsewhere",
        ),
    ];
    for (end, what) in ends {
        users.set_fingerprint(1, "fp-alice-1");
        let mut client = logged_in(&app_a).await;
        let id = current_id(&mut client).await;
        let mut other = logged_in(&app_b).await;
        let mut watch = Watch::open(&app_a, &client).await;
        let started = std::time::Instant::now();
        let status = match end {
            "revoke" => {
                let req = axum::http::Request::delete(format!("/sessions/{id}"))
                    .body(Body::empty())
                    .unwrap();
                other.request(req).await.status()
            }
            "logout" => client.post_json("/logout", &()).await.status(),
            "logout-others" => other.post_json("/logout-others", &()).await.status(),
            "logout-everywhere" => other.post_json("/logout-everywhere", &()).await.status(),
            "password" => other.post_json("/password/fp-alice-2", &()).await.status(),
            _ => {
                users.set_fingerprint(1, "fp-alice-3");
                client.get("/me").await.status()
            }
        };
        assert!(
            status.is_success() || end == "auth-hash",
            "{what}: {status}"
        );
        let line = watch.line(WITHIN).await;
        took.push(started.elapsed());
        assert_eq!(line.as_deref(), Some("ended"), "{what}");
    }
    took
}

/// `n` revocations from instance `b` of sessions watched on instance `a`: how long each
/// end took to reach its waiter.
pub async fn end_latencies(a: impl SessionStore, b: impl SessionStore, n: usize) -> Vec<Duration> {
    let clock = ManualClock::new();
    let users = Users::with_demo_users();
    let (app_a, app_b) = (app(a, &clock, &users), app(b, &clock, &users));
    let mut admin = logged_in(&app_b).await;
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let mut client = logged_in(&app_a).await;
        let id = current_id(&mut client).await;
        let mut watch = Watch::open(&app_a, &client).await;
        let started = std::time::Instant::now();
        let req = axum::http::Request::delete(format!("/sessions/{id}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(admin.request(req).await.status(), 204);
        let line = watch.line(Duration::from_secs(2)).await;
        took.push(started.elapsed());
        assert_eq!(line.as_deref(), Some("ended"));
    }
    took
}

/// The median and the maximum of `times`, for the report.
pub fn median_and_max(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[times.len() - 1])
}
