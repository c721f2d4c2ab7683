//! `SessionLayer`: configuration only; it wraps services in [`SessionService`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use tower_layer::Layer;

use crate::auth_hash::{AuthCheck, TypedCheck};
use crate::config::SessionConfig;
use crate::csrf::RotateOnLogin;
use crate::key::Key;
use crate::remember::{Identity, Remember, RememberMe, TypedRestore};
use crate::schema::HasUserId;
use crate::service::SessionService;
use crate::session::Shared;
use crate::store::{DynStore, SessionStore};

/// Adds sessions to an axum router or any tower service.
///
/// The store is read the first time an extractor asks for the session, once per request;
/// requests whose handlers never ask cost no cookie parsing, no store access and no
/// allocation.
///
/// The session travels with the request's task, the way a `tracing` span does, rather than
/// in the request's extensions. Everything axum and tower do between the layer and the
/// handler (routing, `from_fn` and `from_extractor` middleware, timeouts, `Buffer`) keeps
/// it; a middleware that `tokio::spawn`s the inner service's future onto another task
/// hides it, and the session extractors then answer `500` with an error log naming the
/// cause. A `Session` handed to a task the handler spawns keeps working.
///
/// ```
/// use axum::{Router, routing::get};
/// use session_runtime::{MemoryStore, SessionConfig, SessionLayer};
///
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
/// ```
///
/// # Around the router: the cheaper mount
///
/// `Router::layer` is the simplest mount, but axum charges for it on every request: it wraps
/// each route in the layer and boxes the result, so every request boxes a clone of the
/// layered service and its future. Put the layer around the finished router instead and
/// nothing is boxed. The layer then sees every request before routing, including those that
/// match no route; requests that never ask for the session still cost nothing.
///
/// ```no_run
/// use axum::{Router, ServiceExt, extract::Request, routing::get};
/// use session_runtime::{MemoryStore, SessionConfig, SessionLayer};
/// use tower::Layer as _;
///
/// # async fn run() -> std::io::Result<()> {
/// let router: Router = Router::new().route("/", get(|| async { "hello" }));
/// let app = SessionLayer::new(MemoryStore::new(), SessionConfig::default()).layer(router);
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// axum::serve(listener, ServiceExt::<Request>::into_make_service(app)).await
/// # }
/// ```
///
/// Layers that read the session (such as [`CsrfLayer`](crate::CsrfLayer)) go inside it,
/// on the router, as before.
#[derive(Clone)]
pub struct SessionLayer {
    store: Arc<dyn DynStore>,
    config: SessionConfig,
    auth: Option<Arc<dyn AuthCheck>>,
    remember: Option<Arc<Remember>>,
}

impl SessionLayer {
    /// A layer keeping sessions in `store`, configured by `config`.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::{Request, header}, routing::post};
    /// use session_runtime::{MemoryStore, Session, SessionConfig, SessionError, SessionLayer, SessionSchema};
    /// use tower::ServiceExt as _;
    ///
    /// #[derive(SessionSchema)]
    /// pub struct Prefs {
    ///     pub theme: Option<String>,
    /// }
    ///
    /// async fn dark(session: Session<Prefs>) -> Result<(), SessionError> {
    ///     session.set_theme(Some("dark".to_owned()))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = MemoryStore::new();
    /// let app = Router::new()
    ///     .route("/theme/dark", post(dark))
    ///     .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    ///
    /// let res = app.oneshot(Request::post("/theme/dark").body(Body::empty())?).await?;
    /// assert!(res.headers()[header::SET_COOKIE].to_str()?.starts_with("session="));
    /// assert_eq!(store.len(), 1); // the session the handler started
    /// # Ok(()) }
    /// ```
    pub fn new(store: impl SessionStore, config: SessionConfig) -> Self {
        Self {
            store: Arc::new(store),
            config,
            auth: None,
            remember: None,
        }
    }

    /// Ends sessions whose credentials changed: on every request that loads a logged-in
    /// session, compares the fingerprint stored in the schema field `key` (set it at login)
    /// with `current(user_id)`, the user's fingerprint now. On a mismatch, or if `current`
    /// answers `None` (no such user), the session is deleted and the request is anonymous.
    /// If `current` fails, the request gets `503`: the check fails closed. So does a store
    /// that cannot delete the stale session; it then stays, and the next request that loads
    /// it tries again.
    ///
    /// The fingerprint should change whenever the password does, and reveal nothing: a
    /// SHA-256 of the stored password hash is a good choice. It costs one call of `current`
    /// per request of a logged-in session; make it cheap (an indexed lookup, a cache).
    ///
    /// After a password change, [`Session::password_changed`](crate::Session::password_changed)
    /// keeps the current session (under a new token) and ends the others.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use session_runtime::{MemoryStore, SessionConfig, SessionLayer, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    ///     pub auth_hash: Option<String>,
    /// }
    ///
    /// async fn current_fingerprint(user_id: i64) -> Result<Option<String>, Infallible> {
    ///     // Look the user up; `None` if they no longer exist.
    ///     Ok(Some(format!("fingerprint-of-user-{user_id}")))
    /// }
    ///
    /// let layer = SessionLayer::new(MemoryStore::new(), SessionConfig::default())
    ///     .verify_auth_hash(AppSession::AUTH_HASH, current_fingerprint);
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn verify_auth_hash<S, F, Fut, E>(mut self, key: Key<S, Option<String>>, current: F) -> Self
    where
        S: HasUserId,
        F: Fn(S::UserId) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<String>, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.auth = Some(Arc::new(TypedCheck { key, current }));
        self
    }
}

impl SessionLayer {
    /// Lets a device stay logged in past its session (DESIGN §8, "remember me"). A handler
    /// calls [`Session::remember_device`](crate::Session::remember_device) after a
    /// password login (a "remember me" checkbox); the browser then gets a second cookie,
    /// and when its session has ended (idle or absolute timeout, the browser closed), the
    /// first extractor of a later request logs it in again: a new session, whose identity
    /// fields come from `identity(user_id)`, never from the session that ended. `identity`
    /// answers `None` for a user who no longer exists (the device is then forgotten); an
    /// error answers `503`.
    ///
    /// What to know:
    /// - Each use replaces the cookie's token; a replaced token presented again means the
    ///   cookie was copied: every session and remembered device of the user ends, and a
    ///   warning is logged (without the token). Two requests that carry the same token at
    ///   the same moment (tabs restored together) are both logged in.
    /// - A restored login is not recent: [`RequireRecentLogin`](crate::RequireRecentLogin)
    ///   refuses it until the user types the password again, and
    ///   [`Session::authenticated_at`](crate::Session::authenticated_at) is `None`.
    /// - A device stays remembered for [`RememberMe::lifetime`] from the password login
    ///   (30 days by default); restored logins do not extend it.
    /// - Remembered devices are listed with the user's sessions (kind `remembered`) and end
    ///   with [`logout`](crate::Session::logout) (this device), revocation by their id,
    ///   [`logout_everywhere`](crate::Session::logout_everywhere),
    ///   [`logout_others`](crate::Session::logout_others) and
    ///   [`password_changed`](crate::Session::password_changed) (every device, this one's
    ///   too), and with the [auth hash check](Self::verify_auth_hash), which also runs on a
    ///   remembered device before it logs in. A password login ends this device's previous
    ///   series.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use session_runtime::{Identity, MemoryStore, RememberMe, SessionConfig, SessionLayer, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    ///     #[session(staff)]
    ///     pub is_staff: bool,
    ///     pub username: Option<String>,
    /// }
    ///
    /// async fn identity(user_id: i64) -> Result<Option<Identity<AppSession>>, Infallible> {
    ///     // Look the user up; `None` if they no longer exist.
    ///     Ok(Some(
    ///         Identity::new()
    ///             .with(AppSession::IS_STAFF, user_id == 1)
    ///             .with(AppSession::USERNAME, Some(format!("user{user_id}"))),
    ///     ))
    /// }
    ///
    /// let layer = SessionLayer::new(MemoryStore::new(), SessionConfig::default())
    ///     .remember_me(RememberMe::default(), identity);
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn remember_me<S, F, Fut, E>(mut self, settings: RememberMe, identity: F) -> Self
    where
        S: HasUserId,
        F: Fn(S::UserId) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<Identity<S>>, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.remember = Some(Arc::new(Remember {
            settings,
            restore: Box::new(TypedRestore {
                load: identity,
                schema: std::marker::PhantomData,
            }),
            secure: self.config.inner.cookie.secure,
        }));
        self
    }

    /// A handle that lists and revokes users' sessions in this layer's store, outside any
    /// request (an admin tool, an account-disable job).
    ///
    /// ```
    /// use session_runtime::{MemoryStore, SessionConfig, SessionLayer, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// let layer = SessionLayer::new(MemoryStore::new(), SessionConfig::default());
    /// let admin = layer.admin::<AppSession>();
    /// # let _ = admin;
    /// ```
    #[must_use]
    pub fn admin<S: crate::HasUserId>(&self) -> crate::SessionAdmin<S> {
        crate::SessionAdmin::from_parts(self.store.clone(), self.config.inner.clock.clone())
    }
}

impl fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<I> Layer<I> for SessionLayer {
    type Service = SessionService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        let shared = Shared {
            store: self.store.clone(),
            config: self.config.inner.clone(),
            auth: self.auth.clone(),
            remember: self.remember.clone(),
            // CSRF renews its token at login through this hook (see `session/hooks.rs`).
            login_hooks: vec![Arc::new(RotateOnLogin)],
        };
        SessionService::new(inner, Arc::new(shared))
    }
}
