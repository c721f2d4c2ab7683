//! Shared fixtures of the integration tests: a schema, stores that count or fail, and a
//! small HTTP client over `tower::ServiceExt::oneshot`.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::SystemTime;

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt as _;
use session_runtime::{
    MemoryStore, PublicId, Record, SessionInfo, SessionKey, SessionSchema, SessionStore,
    StoreError, StoreOp, Update,
};
use tower::ServiceExt as _;

/// The schema of DESIGN §1.
#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    pub username: Option<String>,
    #[session(staff)]
    pub is_staff: bool,
    #[session(superuser)]
    pub is_superuser: bool,
    #[session(rename = "c")]
    pub cart: Vec<u64>,
    pub note: String,
}

/// Per-operation counters of a [`CountingStore`].
#[derive(Debug, Default)]
pub struct Counts {
    pub load: AtomicUsize,
    pub create: AtomicUsize,
    pub update: AtomicUsize,
    pub rotate: AtomicUsize,
    pub touch: AtomicUsize,
    pub delete: AtomicUsize,
}

impl Counts {
    pub fn loads(&self) -> usize {
        self.load.load(Ordering::SeqCst)
    }
    /// Every operation that writes.
    pub fn writes(&self) -> usize {
        [
            &self.create,
            &self.update,
            &self.rotate,
            &self.touch,
            &self.delete,
        ]
        .iter()
        .map(|c| c.load(Ordering::SeqCst))
        .sum()
    }
    pub fn get(c: &AtomicUsize) -> usize {
        c.load(Ordering::SeqCst)
    }
    pub fn reset(&self) {
        for c in [
            &self.load,
            &self.create,
            &self.update,
            &self.rotate,
            &self.touch,
            &self.delete,
        ] {
            c.store(0, Ordering::SeqCst);
        }
    }
}

/// A store that counts each operation and can be switched down (every call fails) or
/// read-only (writes fail).
#[derive(Clone)]
pub struct TestStore {
    pub inner: MemoryStore,
    pub counts: Arc<Counts>,
    pub down: Arc<AtomicBool>,
    pub writes_down: Arc<AtomicBool>,
    pub deletes_down: Arc<AtomicBool>,
    /// How many of the next creates to refuse as conflicts (a taken key or public id).
    pub conflicts: Arc<AtomicUsize>,
    /// The public id of every create asked for, in order.
    pub created_ids: Arc<std::sync::Mutex<Vec<session_runtime::PublicId>>>,
    /// Every operation in the order it was called (per-user ones as `PerUser`).
    pub ops: Arc<std::sync::Mutex<Vec<StoreOp>>>,
}

impl TestStore {
    pub fn new() -> Self {
        Self {
            inner: MemoryStore::new(),
            counts: Arc::default(),
            down: Arc::default(),
            writes_down: Arc::default(),
            deletes_down: Arc::default(),
            conflicts: Arc::default(),
            created_ids: Arc::default(),
            ops: Arc::default(),
        }
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn set_writes_down(&self, down: bool) {
        self.writes_down.store(down, Ordering::SeqCst);
    }

    pub fn take_ops(&self) -> Vec<StoreOp> {
        std::mem::take(&mut *self.ops.lock().unwrap())
    }

    fn check(&self, op: StoreOp, counter: &AtomicUsize) -> Result<(), StoreError> {
        counter.fetch_add(1, Ordering::SeqCst);
        self.ops.lock().unwrap().push(op);
        let write = !matches!(op, StoreOp::Load);
        let delete = matches!(op, StoreOp::Delete);
        if self.down.load(Ordering::SeqCst)
            || (write && self.writes_down.load(Ordering::SeqCst))
            || (delete && self.deletes_down.load(Ordering::SeqCst))
        {
            return Err(StoreError::backend(
                op,
                "connection refused (test store is down)",
            ));
        }
        Ok(())
    }
}

impl SessionStore for TestStore {
    async fn load(&self, key: &SessionKey, now: SystemTime) -> Result<Option<Record>, StoreError> {
        self.check(StoreOp::Load, &self.counts.load)?;
        self.inner.load(key, now).await
    }
    async fn create(&self, key: &SessionKey, record: &Record) -> Result<(), StoreError> {
        self.check(StoreOp::Create, &self.counts.create)?;
        self.created_ids
            .lock()
            .unwrap()
            .push(record.public_id.clone());
        let conflict = self
            .conflicts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if conflict {
            return Err(StoreError::Conflict);
        }
        self.inner.create(key, record).await
    }
    async fn update(&self, key: &SessionKey, update: &Update) -> Result<bool, StoreError> {
        self.check(StoreOp::Update, &self.counts.update)?;
        self.inner.update(key, update).await
    }
    async fn rotate(
        &self,
        old: &SessionKey,
        new: &SessionKey,
        update: &Update,
    ) -> Result<bool, StoreError> {
        self.check(StoreOp::Rotate, &self.counts.rotate)?;
        self.inner.rotate(old, new, update).await
    }
    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        self.check(StoreOp::Touch, &self.counts.touch)?;
        self.inner.touch(key, last_seen, expires_at).await
    }
    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        self.check(StoreOp::Delete, &self.counts.delete)?;
        self.inner.delete(key).await
    }
    async fn list_user(
        &self,
        user_id: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        self.ops.lock().unwrap().push(StoreOp::PerUser);
        self.inner.list_user(user_id, now).await
    }
    async fn delete_user(
        &self,
        user_id: &str,
        keep: Option<&SessionKey>,
    ) -> Result<u64, StoreError> {
        self.ops.lock().unwrap().push(StoreOp::PerUser);
        self.inner.delete_user(user_id, keep).await
    }
    async fn delete_public(&self, user_id: &str, public_id: &PublicId) -> Result<bool, StoreError> {
        self.ops.lock().unwrap().push(StoreOp::PerUser);
        self.inner.delete_public(user_id, public_id).await
    }
    async fn sweep(&self, now: SystemTime) -> Result<u64, StoreError> {
        self.inner.sweep(now).await
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    /// The `Set-Cookie` header of the cookie named `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The session cookie value set by this response (`None` if not set or removed).
    pub fn token(&self) -> Option<String> {
        let header = self.set_cookie(crate::COOKIE)?;
        let value = header.split(';').next()?.split_once('=')?.1.to_owned();
        (!value.is_empty()).then_some(value)
    }

    /// Whether this response removes the session cookie.
    pub fn removes_cookie(&self) -> bool {
        self.set_cookie(crate::COOKIE).is_some_and(|h| {
            h.starts_with(&format!("{}=;", crate::COOKIE)) && h.contains("Max-Age=0")
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends one request to `app`.
pub async fn send(app: &Router, req: http::Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A request builder with an optional session cookie.
pub fn request(method: &str, uri: &str, token: Option<&str>) -> http::request::Builder {
    let mut b = http::Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header(http::header::COOKIE, format!("{}={t}", crate::COOKIE));
    }
    b
}

pub async fn get(app: &Router, uri: &str, token: Option<&str>) -> Reply {
    send(app, request("GET", uri, token).body(Body::empty()).unwrap()).await
}

pub async fn post(app: &Router, uri: &str, token: Option<&str>) -> Reply {
    send(
        app,
        request("POST", uri, token).body(Body::empty()).unwrap(),
    )
    .await
}

pub async fn post_json(
    app: &Router,
    uri: &str,
    token: Option<&str>,
    json: serde_json::Value,
) -> Reply {
    send(
        app,
        request("POST", uri, token)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::from(json.to_string()))
            .unwrap(),
    )
    .await
}

/// The router the runtime tests drive: one route per session operation.
pub mod routes {
    use super::AppSession;
    use axum::extract::Path;
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    use axum::{Json, Router};
    use serde_json::{Value, json};
    use session_runtime::{
        RequireAuth, RequireStaff, RequireSuperuser, Session, SessionConfig, SessionError,
        SessionLayer, SessionStore,
    };

    fn view(s: &Session<AppSession>) -> Value {
        json!({
            "user_id": s.user_id(),
            "username": s.username(),
            "is_staff": s.is_staff(),
            "cart": s.cart(),
            "note": s.note(),
        })
    }

    async fn read(s: Session<AppSession>) -> Json<Value> {
        Json(view(&s))
    }
    async fn add(
        s: Session<AppSession>,
        Path(item): Path<u64>,
    ) -> Result<Json<Value>, SessionError> {
        s.update_cart(|c| c.push(item))?;
        Ok(Json(view(&s)))
    }
    async fn note(s: Session<AppSession>, Path(text): Path<String>) -> Result<(), SessionError> {
        s.set_note(text)
    }
    async fn login(
        s: Session<AppSession>,
        Path(id): Path<i64>,
    ) -> Result<Json<Value>, SessionError> {
        s.login(id).await?;
        s.set_username(Some(format!("user{id}")))?;
        Ok(Json(view(&s)))
    }
    async fn logout(s: Session<AppSession>) -> Result<StatusCode, SessionError> {
        s.logout().await?;
        Ok(StatusCode::NO_CONTENT)
    }
    async fn rotate(s: Session<AppSession>) -> Result<(), SessionError> {
        s.rotate().await
    }
    async fn staff(s: Session<AppSession>, Path(on): Path<bool>) -> Result<(), SessionError> {
        s.set_is_staff(on)
    }
    async fn superuser(s: Session<AppSession>, Path(on): Path<bool>) -> Result<(), SessionError> {
        s.set_is_superuser(on)
    }
    async fn clear(s: Session<AppSession>) -> Result<(), SessionError> {
        s.remove_cart()?;
        s.remove_note()?;
        s.remove_username()
    }
    async fn fail_after_set(s: Session<AppSession>) -> Result<StatusCode, SessionError> {
        s.set_note("from a failing request".into())?;
        Ok(StatusCode::INTERNAL_SERVER_ERROR)
    }
    async fn login_then_fail(s: Session<AppSession>) -> Result<StatusCode, SessionError> {
        s.login(7).await?;
        Ok(StatusCode::INTERNAL_SERVER_ERROR)
    }
    async fn big(s: Session<AppSession>, Path(len): Path<usize>) -> Result<(), SessionError> {
        s.set_note("x".repeat(len))
    }
    async fn me(u: RequireAuth<AppSession>) -> Json<Value> {
        let id: i64 = u.user_id();
        Json(json!({ "user_id": id, "username": u.username() }))
    }
    async fn admin(u: RequireStaff<AppSession>) -> Json<Value> {
        Json(json!({ "staff": u.user_id() }))
    }
    async fn root(u: RequireSuperuser<AppSession>) -> Json<Value> {
        Json(json!({ "root": u.user_id() }))
    }

    async fn sessions(u: RequireAuth<AppSession>) -> Result<Json<Value>, SessionError> {
        Ok(Json(json!(u.session().list_sessions().await?)))
    }
    async fn revoke(
        u: RequireAuth<AppSession>,
        Path(id): Path<String>,
    ) -> Result<StatusCode, SessionError> {
        let found = u
            .session()
            .revoke_session(&session_runtime::PublicId::new(id))
            .await?;
        Ok(if found {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::NOT_FOUND
        })
    }
    async fn logout_others(u: RequireAuth<AppSession>) -> Result<Json<u64>, SessionError> {
        Ok(Json(u.session().logout_others().await?))
    }
    async fn logout_everywhere(u: RequireAuth<AppSession>) -> Result<Json<u64>, SessionError> {
        Ok(Json(u.session().logout_everywhere().await?))
    }
    async fn login_exclusive(
        s: Session<AppSession>,
        Path(id): Path<i64>,
    ) -> Result<Json<Value>, SessionError> {
        s.login_exclusive(id).await?;
        Ok(Json(view(&s)))
    }

    /// The routes without a layer.
    pub fn routes() -> Router {
        Router::new()
            .route("/public", get(|| async { "public" }))
            .route("/read", get(read))
            .route("/cart/{item}", post(add))
            .route("/note/{text}", post(note))
            .route("/login/{id}", post(login))
            .route("/logout", post(logout))
            .route("/rotate", post(rotate))
            .route("/staff/{on}", post(staff))
            .route("/superuser/{on}", post(superuser))
            .route("/clear", post(clear))
            .route("/fail-after-set", post(fail_after_set))
            .route("/login-then-fail", post(login_then_fail))
            .route("/big/{len}", post(big))
            .route("/me", get(me))
            .route("/admin", get(admin))
            .route("/root", get(root))
            .route("/sessions", get(sessions))
            .route("/sessions/{id}", axum::routing::delete(revoke))
            .route("/logout-others", post(logout_others))
            .route("/logout-everywhere", post(logout_everywhere))
            .route("/login-exclusive/{id}", post(login_exclusive))
    }

    /// The routes behind a session layer.
    pub fn app(store: impl SessionStore, config: SessionConfig) -> Router {
        routes().layer(SessionLayer::new(store, config))
    }
}

/// A configuration on a manual clock.
pub fn config(clock: &session_runtime::ManualClock) -> session_runtime::SessionConfig {
    session_runtime::SessionConfig::builder()
        .clock(clock.clone())
        .build()
        .expect("valid config")
}

/// A test store, a manual clock and the test router over them.
pub fn fixture() -> (Router, TestStore, session_runtime::ManualClock) {
    let store = TestStore::new();
    let clock = session_runtime::ManualClock::new();
    let app = routes::app(store.clone(), config(&clock));
    (app, store, clock)
}
