//! A user's sessions from outside any request ([`SessionAdmin`]), and one session as a "your
//! sessions" page shows it ([`SessionSummary`]); a handler reaches the same operations
//! through [`Session`](crate::Session).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Serialize, Serializer};

use crate::clock::Clock;
use crate::error::SessionError;
use crate::observe::{self, Revocation};
use crate::record::{SessionInfo, SessionKind};
use crate::schema::{HasUserId, encode_user_id};
use crate::store::{DynStore, SessionStore};
use crate::token::PublicId;

/// One of a user's sessions, as a "your sessions" page shows it.
///
/// Serializes to JSON with RFC 3339 times:
/// `{"id": "...", "kind": "browser", "device": "Firefox ...", "created_at": "2026-11-23T04:36:56Z", "last_seen": "...", "current": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    /// The session's public id: pass it to
    /// [`Session::revoke_session`](crate::Session::revoke_session) to end it.
    pub id: PublicId,
    /// A browser's session, a device's remember-me series, or an API token (`"browser"`,
    /// `"remembered"`, `"api"`; for a token, `device` is its name).
    pub kind: SessionKind,
    /// A label of the client, from its `User-Agent`.
    pub device: Option<String>,
    /// When the session was created (the login).
    #[serde(serialize_with = "rfc3339")]
    pub created_at: SystemTime,
    /// When the session was last used (to within the touch interval).
    #[serde(serialize_with = "rfc3339")]
    pub last_seen: SystemTime,
    /// Whether this is the session of the request that asked.
    pub current: bool,
}

fn rfc3339<Se: Serializer>(t: &SystemTime, s: Se) -> Result<Se::Ok, Se::Error> {
    s.collect_str(&humantime::format_rfc3339_seconds(*t))
}

pub(crate) fn summaries(
    infos: Vec<SessionInfo>,
    current: Option<&PublicId>,
) -> Vec<SessionSummary> {
    let mut list: Vec<SessionSummary> = infos
        .into_iter()
        .map(|info| SessionSummary {
            current: Some(&info.public_id) == current,
            id: info.public_id,
            kind: info.kind,
            device: info.device,
            created_at: info.created_at,
            last_seen: info.last_seen,
        })
        .collect();
    // Most recently used first, the current session on top.
    list.sort_by_key(|s| (!s.current, std::cmp::Reverse(s.last_seen)));
    list
}

/// Manages users' sessions outside any request: for an admin tool, or a job that disables an
/// account. The next request of a revoked session is anonymous at once.
///
/// ```
/// use session_runtime::{MemoryStore, SessionAdmin, SessionSchema};
///
/// #[derive(SessionSchema)]
/// pub struct AppSession {
///     #[session(user_id)]
///     pub user_id: Option<i64>,
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = MemoryStore::new(); // clones share the sessions: give one to the layer
/// let admin = SessionAdmin::<AppSession>::new(store.clone());
/// assert!(admin.list(&42).await?.is_empty());
/// assert_eq!(admin.revoke_all(&42).await?, 0);
/// # Ok::<(), session_runtime::SessionError>(())
/// # }).unwrap();
/// ```
pub struct SessionAdmin<S> {
    store: Arc<dyn DynStore>,
    clock: Arc<dyn Clock>,
    schema: PhantomData<fn() -> S>,
}

impl<S> Clone for SessionAdmin<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            clock: self.clock.clone(),
            schema: PhantomData,
        }
    }
}

impl<S> fmt::Debug for SessionAdmin<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionAdmin").finish_non_exhaustive()
    }
}

impl<S: HasUserId> SessionAdmin<S> {
    /// An admin handle over `store`, on the system clock. Give it a clone of the store the
    /// [`SessionLayer`](crate::SessionLayer) has (or use
    /// [`SessionLayer::admin`](crate::SessionLayer::admin), which also shares the layer's
    /// clock).
    ///
    /// ```
    /// use axum::{Router, routing::post};
    /// use session_runtime::{MemoryStore, SessionAdmin, SessionConfig, SessionLayer};
    /// # use axum::{body::Body, http::Request};
    /// # use session_runtime::{Session, SessionError, SessionSchema};
    /// # use tower::ServiceExt as _;
    /// # #[derive(SessionSchema)]
    /// # pub struct AppSession {
    /// #     #[session(user_id)]
    /// #     pub user_id: Option<i64>,
    /// # }
    /// # async fn login(session: Session<AppSession>) -> Result<(), SessionError> {
    /// #     session.login(42).await
    /// # }
    /// # async fn log_in_42(app: &Router) {
    /// #     app.clone().oneshot(Request::post("/login").body(Body::empty()).unwrap()).await.unwrap();
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///
    /// let store = MemoryStore::new();
    /// let app: Router = Router::new()
    ///     .route("/login", post(login))
    ///     .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    /// let admin = SessionAdmin::<AppSession>::new(store); // clones share the sessions
    ///
    /// log_in_42(&app).await; // a request to `/login`, which calls `session.login(42)`
    /// assert_eq!(admin.list(&42).await?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn new(store: impl SessionStore) -> Self {
        Self::from_parts(Arc::new(store), Arc::new(crate::clock::SystemClock))
    }

    pub(crate) fn from_parts(store: Arc<dyn DynStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            schema: PhantomData,
        }
    }

    /// The user's live sessions, most recently used first (`current` is always `false`).
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails; [`SessionError::Encode`] if the id does
    /// not serialize.
    ///
    /// ```
    /// # use axum::{Router, body::Body, http::Request, routing::post};
    /// # use session_runtime::{MemoryStore, Session, SessionAdmin, SessionConfig, SessionError, SessionLayer, SessionSchema};
    /// # use tower::ServiceExt as _;
    /// # #[derive(SessionSchema)]
    /// # pub struct AppSession {
    /// #     #[session(user_id)]
    /// #     pub user_id: Option<i64>,
    /// # }
    /// # async fn login(session: Session<AppSession>) -> Result<(), SessionError> {
    /// #     session.login(42).await
    /// # }
    /// # async fn log_in_42(app: &Router) {
    /// #     app.clone().oneshot(Request::post("/login").body(Body::empty()).unwrap()).await.unwrap();
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = MemoryStore::new();
    /// # let app: Router = Router::new()
    /// #     .route("/login", post(login))
    /// #     .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    /// # let admin = SessionAdmin::<AppSession>::new(store);
    /// # use axum::http::header;
    /// let login = Request::post("/login")
    ///     .header(header::USER_AGENT, "Firefox on Linux")
    ///     .body(Body::empty())?;
    /// app.oneshot(login).await?;
    ///
    /// let sessions = admin.list(&42).await?;
    /// assert_eq!(sessions.len(), 1);
    /// assert_eq!(sessions[0].device.as_deref(), Some("Firefox on Linux"));
    /// assert!(admin.list(&7).await?.is_empty()); // another user: none
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, user_id: &S::UserId) -> Result<Vec<SessionSummary>, SessionError> {
        let user = encode_user_id::<S>(user_id)?;
        let infos = self.store.list_user(&user, self.clock.now()).await?;
        Ok(summaries(infos, None))
    }

    /// Ends every session of the user (an account disabled, a password reset). Returns how
    /// many ended.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list).
    ///
    /// ```
    /// # use axum::{Router, body::Body, http::Request, routing::post};
    /// # use session_runtime::{MemoryStore, Session, SessionAdmin, SessionConfig, SessionError, SessionLayer, SessionSchema};
    /// # use tower::ServiceExt as _;
    /// # #[derive(SessionSchema)]
    /// # pub struct AppSession {
    /// #     #[session(user_id)]
    /// #     pub user_id: Option<i64>,
    /// # }
    /// # async fn login(session: Session<AppSession>) -> Result<(), SessionError> {
    /// #     session.login(42).await
    /// # }
    /// # async fn log_in_42(app: &Router) {
    /// #     app.clone().oneshot(Request::post("/login").body(Body::empty()).unwrap()).await.unwrap();
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = MemoryStore::new();
    /// # let app: Router = Router::new()
    /// #     .route("/login", post(login))
    /// #     .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    /// # let admin = SessionAdmin::<AppSession>::new(store);
    /// log_in_42(&app).await; // on a laptop
    /// log_in_42(&app).await; // on a phone
    ///
    /// // The account is disabled: every session of the user ends now.
    /// assert_eq!(admin.revoke_all(&42).await?, 2);
    /// assert!(admin.list(&42).await?.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn revoke_all(&self, user_id: &S::UserId) -> Result<u64, SessionError> {
        let user = encode_user_id::<S>(user_id)?;
        let ended = self.store.delete_user(&user, None).await;
        Ok(observe::revoked(Revocation::Admin, ended)?)
    }

    /// Ends one session of the user by its public id. Returns `false` if the user has no
    /// session with that id.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list).
    ///
    /// ```
    /// # use axum::{Router, body::Body, http::Request, routing::post};
    /// # use session_runtime::{MemoryStore, Session, SessionAdmin, SessionConfig, SessionError, SessionLayer, SessionSchema};
    /// # use tower::ServiceExt as _;
    /// # #[derive(SessionSchema)]
    /// # pub struct AppSession {
    /// #     #[session(user_id)]
    /// #     pub user_id: Option<i64>,
    /// # }
    /// # async fn login(session: Session<AppSession>) -> Result<(), SessionError> {
    /// #     session.login(42).await
    /// # }
    /// # async fn log_in_42(app: &Router) {
    /// #     app.clone().oneshot(Request::post("/login").body(Body::empty()).unwrap()).await.unwrap();
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = MemoryStore::new();
    /// # let app: Router = Router::new()
    /// #     .route("/login", post(login))
    /// #     .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    /// # let admin = SessionAdmin::<AppSession>::new(store);
    /// log_in_42(&app).await;
    /// let id = admin.list(&42).await?[0].id.clone();
    ///
    /// assert!(!admin.revoke(&7, &id).await?); // not user 7's session: untouched
    /// assert!(admin.revoke(&42, &id).await?);
    /// assert!(!admin.revoke(&42, &id).await?); // already gone
    /// # Ok(()) }
    /// ```
    pub async fn revoke(&self, user_id: &S::UserId, id: &PublicId) -> Result<bool, SessionError> {
        let user = encode_user_id::<S>(user_id)?;
        if !id.can_name_a_session() {
            return Ok(false);
        }
        let ended = self.store.delete_public(&user, id).await;
        Ok(observe::revoked(Revocation::Admin, ended)?)
    }
}
