//! The world one fault case runs in: an app over a [`FaultStore`], and four devices with
//! sessions of known data, read back straight from the real store underneath.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use session_runtime::{
    Clock as _, ManualClock, MemoryStore, PublicId, RequireAuth, RequireStaff, Session,
    SessionConfig, SessionError, SessionKey, SessionLayer, SessionSchema, SessionStore as _,
};
use sha2::Digest as _;
use tower::ServiceExt as _;

use super::store::FaultStore;

/// The schema of the fault cases: DESIGN §1's, with a credentials fingerprint.
#[derive(SessionSchema)]
pub struct FaultSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    pub username: Option<String>,
    #[session(staff)]
    pub is_staff: bool,
    #[session(rename = "c")]
    pub cart: Vec<u64>,
    pub note: String,
    pub auth_hash: Option<String>,
}

/// A client of the world. `A` and `B` are user 1's two devices, `C` user 2's, `G` a guest
/// with a cart, `Visitor` a client without a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Device {
    A,
    B,
    C,
    G,
    Visitor,
}

impl Device {
    pub const ALL: [Self; 5] = [Self::A, Self::B, Self::C, Self::G, Self::Visitor];
}

/// A session's data as stored: the user id and every schema field, by stored name, as
/// JSON text (the runtime's own `__` fields left out).
pub type Snapshot = BTreeMap<String, String>;

/// The users' current credential fingerprints, as the app's user table has them.
pub type Fingerprints = Arc<Mutex<HashMap<i64, String>>>;

/// The fingerprint of a user with no password change yet.
pub fn fingerprint(user: i64) -> String {
    format!("fp-{user}")
}

/// What a response gave the client.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    /// Every `Set-Cookie` value.
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Reply {
    /// What the response did to the session cookie: `Some(Some(token))` set,
    /// `Some(None)` removed, `None` left alone.
    pub fn session_cookie(&self) -> Option<Option<String>> {
        let header = self
            .set_cookies
            .iter()
            .find(|c| c.starts_with("session="))?;
        let value = header.split(';').next()?.trim_start_matches("session=");
        Some((!value.is_empty()).then(|| value.to_owned()))
    }
}

/// An app, its store and clock, and the cookie each device holds.
pub struct World {
    pub app: Router,
    pub store: FaultStore,
    pub clock: ManualClock,
    pub fingerprints: Fingerprints,
    pub jar: BTreeMap<Device, Option<String>>,
}

impl World {
    /// A new world whose devices have their sessions: `A` (user 1, cart `[1]`, note "a"),
    /// `B` (user 1, note "b", used a second after `A`), `C` (user 2, note "c"), `G` (a
    /// guest, cart `[9]`); `max_sessions`: the per-user cap, if any.
    pub async fn new(max_sessions: Option<usize>) -> Self {
        let clock = ManualClock::new();
        let inner = MemoryStore::builder()
            .clock(clock.clone())
            .no_background_sweep()
            .build();
        let store = FaultStore::new(inner);
        let fingerprints: Fingerprints =
            Arc::new(Mutex::new((1..=2).map(|u| (u, fingerprint(u))).collect()));
        let mut config = SessionConfig::builder().clock(clock.clone());
        if let Some(max) = max_sessions {
            config = config.max_sessions_per_user(max);
        }
        let config = config.build().expect("valid config");
        let lookup = fingerprints.clone();
        let layer = SessionLayer::new(store.clone(), config).verify_auth_hash(
            FaultSession::AUTH_HASH,
            move |user: i64| {
                let current = lookup.lock().unwrap().get(&user).cloned();
                async move { Ok::<_, std::convert::Infallible>(current) }
            },
        );
        let app = routes(fingerprints.clone()).layer(layer);
        let mut world = Self {
            app,
            store,
            clock,
            fingerprints,
            jar: Device::ALL.iter().map(|d| (*d, None)).collect(),
        };
        for (device, steps) in [
            (Device::A, &["/login/1", "/cart/1", "/note/a"][..]),
            (Device::B, &["/login/1", "/note/b"]),
            (Device::C, &["/login/2", "/note/c"]),
            (Device::G, &["/cart/9"]),
        ] {
            for uri in steps {
                let reply = world.send(device, "POST", uri).await;
                assert!(reply.status.is_success(), "setup {uri}: {reply:?}");
                world.keep_cookie(device, &reply);
            }
            world.clock.advance(Duration::from_secs(1));
        }
        world
    }

    /// Sends one request from `device`, with its cookie; a panic anywhere in the app
    /// fails the test with `Err`.
    pub async fn try_send(&self, device: Device, method: &str, uri: &str) -> Result<Reply, String> {
        let mut req = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(http::header::USER_AGENT, format!("{device:?}-browser"));
        if let Some(token) = &self.jar[&device] {
            req = req.header(http::header::COOKIE, format!("session={token}"));
        }
        let req = req.body(Body::empty()).expect("valid request");
        let app = self.app.clone();
        let task = tokio::spawn(async move {
            let res = app.oneshot(req).await.expect("infallible");
            let status = res.status();
            let set_cookies = res
                .headers()
                .get_all(http::header::SET_COOKIE)
                .iter()
                .map(|v| v.to_str().expect("ASCII cookie").to_owned())
                .collect();
            let bytes = res.into_body().collect().await.expect("body").to_bytes();
            Reply {
                status,
                set_cookies,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            }
        });
        task.await.map_err(|e| format!("the app panicked: {e}"))
    }

    async fn send(&self, device: Device, method: &str, uri: &str) -> Reply {
        self.try_send(device, method, uri)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Updates `device`'s cookie as a browser would after `reply`.
    pub fn keep_cookie(&mut self, device: Device, reply: &Reply) {
        if let Some(cookie) = reply.session_cookie() {
            self.jar.insert(device, cookie);
        }
    }

    /// The session `token` names, read from the real store (no credential check, no
    /// touch): `None` if there is none.
    pub async fn snapshot(&self, token: &str) -> Option<Snapshot> {
        let record = self.load(token).await?;
        let mut snapshot: Snapshot = record
            .data
            .into_iter()
            .filter(|(name, _)| !name.starts_with("__"))
            .collect();
        if let Some(user) = record.user_id {
            snapshot.insert("user_id".to_owned(), user);
        }
        Some(snapshot)
    }

    /// The public id of `device`'s session.
    pub async fn public_id(&self, device: Device) -> PublicId {
        let token = self.jar[&device].as_deref().expect("device has a session");
        self.load(token).await.expect("live session").public_id
    }

    async fn load(&self, token: &str) -> Option<session_runtime::Record> {
        let key = SessionKey::from_bytes(sha2::Sha256::digest(token.as_bytes()).into());
        self.store
            .inner
            .load(&key, self.clock.now())
            .await
            .expect("the memory store answers")
    }
}

fn view(s: &Session<FaultSession>) -> Value {
    json!({
        "user_id": s.user_id(),
        "username": s.username(),
        "is_staff": s.is_staff(),
        "cart": s.cart(),
        "note": s.note(),
    })
}

/// One route per session operation the fault cases drive.
fn routes(fingerprints: Fingerprints) -> Router {
    Router::new()
        .route("/probe", get(probe))
        .route("/cart/{item}", post(add))
        .route("/note/{text}", post(note))
        .route("/clear-cart", post(clear_cart))
        .route("/login/{id}", post(login))
        .route("/login-exclusive/{id}", post(login_exclusive))
        .route("/rotate", post(rotate))
        .route("/promote", post(promote))
        .route("/logout", post(logout))
        .route("/logout-others", post(logout_others))
        .route("/logout-everywhere", post(logout_everywhere))
        .route("/sessions", get(sessions))
        .route("/sessions/{id}", delete(revoke))
        .route("/password", post(password))
        .route("/me", get(me))
        .route("/admin", get(admin))
        .with_state(fingerprints)
}

async fn probe(s: Session<FaultSession>) -> Json<Value> {
    Json(view(&s))
}

async fn add(s: Session<FaultSession>, Path(item): Path<u64>) -> Result<(), SessionError> {
    s.update_cart(|cart| cart.push(item))
}

async fn note(s: Session<FaultSession>, Path(text): Path<String>) -> Result<(), SessionError> {
    s.set_note(text)
}

async fn clear_cart(s: Session<FaultSession>) -> Result<(), SessionError> {
    s.remove_cart()
}

async fn login(
    State(fps): State<Fingerprints>,
    s: Session<FaultSession>,
    Path(id): Path<i64>,
) -> Result<(), SessionError> {
    s.login(id).await?;
    signed_in(&fps, &s, id)
}

async fn login_exclusive(
    State(fps): State<Fingerprints>,
    s: Session<FaultSession>,
    Path(id): Path<i64>,
) -> Result<(), SessionError> {
    s.login_exclusive(id).await?;
    signed_in(&fps, &s, id)
}

/// What the app stores after a login: the name and the credentials' fingerprint.
fn signed_in(fps: &Fingerprints, s: &Session<FaultSession>, id: i64) -> Result<(), SessionError> {
    s.set_username(Some(format!("user{id}")))?;
    s.set_auth_hash(fps.lock().unwrap().get(&id).cloned())
}

async fn rotate(s: Session<FaultSession>) -> Result<(), SessionError> {
    s.rotate().await
}

async fn promote(s: Session<FaultSession>) -> Result<(), SessionError> {
    s.set_is_staff(true)
}

async fn logout(s: Session<FaultSession>) -> Result<StatusCode, SessionError> {
    s.logout().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn logout_others(u: RequireAuth<FaultSession>) -> Result<Json<u64>, SessionError> {
    Ok(Json(u.session().logout_others().await?))
}

async fn logout_everywhere(u: RequireAuth<FaultSession>) -> Result<Json<u64>, SessionError> {
    Ok(Json(u.session().logout_everywhere().await?))
}

async fn sessions(u: RequireAuth<FaultSession>) -> Result<Json<Value>, SessionError> {
    Ok(Json(json!(u.session().list_sessions().await?)))
}

async fn revoke(
    u: RequireAuth<FaultSession>,
    Path(id): Path<String>,
) -> Result<StatusCode, SessionError> {
    let Some(id) = PublicId::parse(&id) else {
        return Ok(StatusCode::NOT_FOUND);
    };
    Ok(if u.session().revoke_session(&id).await? {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    })
}

/// The fingerprint a password change gives user `id`.
pub fn changed_fingerprint(id: i64) -> String {
    format!("fp-{id}-changed")
}

async fn password(
    State(fps): State<Fingerprints>,
    u: RequireAuth<FaultSession>,
) -> Result<StatusCode, SessionError> {
    let id = u.user_id();
    let changed = changed_fingerprint(id);
    fps.lock().unwrap().insert(id, changed.clone());
    u.set_auth_hash(Some(changed))?;
    u.session().password_changed().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(u: RequireAuth<FaultSession>) -> Json<Value> {
    Json(view(u.session()))
}

async fn admin(u: RequireStaff<FaultSession>) -> Json<Value> {
    Json(view(u.session()))
}
