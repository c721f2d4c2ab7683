//! The example app's router, settings and session schema. Integration tests in `tests/app/`
//! drive this same router in-process.

pub mod api;
pub mod devices;
pub mod error_pages;
pub mod headers;
pub mod layout;
pub mod live;
pub mod pages;
pub mod passwords;
pub mod prometheus;
pub mod throttle;
pub mod times;
mod users;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::routing::{delete, get, post};
use session_runtime::{
    Clock, CsrfLayer, MemoryStore, PostgresStore, RedisClusterStore, RedisStore, RememberMe,
    SessionConfig, SessionLayer, SessionSchema, SessionStore, SqliteStore, SystemClock,
};

use throttle::Throttle;
pub use users::Users;

/// Failed password checks allowed per username (login) or user (password change) within
/// [`THROTTLE_WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// The window of [`MAX_FAILURES`]: 15 minutes.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// What the handlers share: the users and the throttles on password guessing.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The user directory.
    pub users: Arc<Users>,
    /// Failed logins, per normalized username (JSON and form logins alike).
    pub logins: Arc<Throttle>,
    /// Failed password changes, per user id.
    pub password_changes: Arc<Throttle>,
    /// The session layer's clock: "now" for the pages' "5 minutes ago".
    pub clock: Arc<dyn Clock>,
}

/// What the app runs on besides its store and users.
#[derive(Debug, Clone)]
pub struct Options {
    /// The clock of sessions and throttles (tests move a manual one).
    pub clock: Arc<dyn Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
        }
    }
}

/// An `Arc<dyn Clock>` as a [`Clock`], for the session configuration.
struct SharedClock(Arc<dyn Clock>);

impl Clock for SharedClock {
    fn now(&self) -> SystemTime {
        self.0.now()
    }
}

/// What the app keeps per session.
#[derive(SessionSchema)]
pub struct AppSession {
    /// `Some(id)` once logged in.
    #[session(user_id)]
    pub user_id: Option<i64>,
    /// The logged-in user's name.
    pub username: Option<String>,
    /// Staff may see `/admin`.
    #[session(staff)]
    pub is_staff: bool,
    /// Superusers may see everything.
    #[session(superuser)]
    pub is_superuser: bool,
    /// The guest cart, kept across login. Stored as `c`.
    #[session(rename = "c")]
    pub cart: Vec<u64>,
    /// Fingerprint of the password at login: a password change ends the other sessions.
    pub auth_hash: Option<String>,
    /// Notices for the next page ("Welcome, alice" after the login form, "Session ended"
    /// after a revoke), each shown once.
    #[session(flash)]
    pub notices: Vec<String>,
}

/// Where sessions are stored: `SESSION_STORE`.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// `memory`: in this process's memory.
    Memory,
    /// `sqlite://PATH`: in an SQLite file, created if missing.
    Sqlite(std::path::PathBuf),
    /// `postgres://...`: in PostgreSQL (the table is created if missing).
    Postgres(String),
    /// `redis://...`: in Redis, shared by every instance of the app.
    Redis(String),
    /// `redis+cluster://HOST:PORT,HOST:PORT,...`: in a Redis Cluster, through these seed
    /// nodes (each becomes a `redis://HOST:PORT` URL).
    RedisCluster(Vec<String>),
}

impl std::fmt::Debug for StoreChoice {
    // Server URLs may hold a password: only the kind of store is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Memory => f.write_str("Memory"),
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres(_) => f.write_str("Postgres(..)"),
            Self::Redis(_) => f.write_str("Redis(..)"),
            Self::RedisCluster(nodes) => write!(f, "RedisCluster({} nodes)", nodes.len()),
        }
    }
}

impl StoreChoice {
    /// Parses `SESSION_STORE`.
    fn parse(value: &str) -> Result<Self, String> {
        let (scheme, rest) = value.split_once("://").unwrap_or((value, ""));
        match scheme {
            "" | "memory" if rest.is_empty() => Ok(Self::Memory),
            "sqlite" if !rest.is_empty() => Ok(Self::Sqlite(rest.into())),
            "sqlite" => Err("SESSION_STORE=sqlite://PATH needs a file path, e.g. \
                             sqlite://sessions.db"
                .to_owned()),
            "postgres" | "postgresql" => Ok(Self::Postgres(value.to_owned())),
            "redis" | "rediss" => Ok(Self::Redis(value.to_owned())),
            "redis+cluster" => {
                const NO_NODES: &str = "SESSION_STORE=redis+cluster://HOST:PORT,HOST:PORT,... \
                    needs seed nodes, e.g. redis+cluster://10.0.0.1:6379,10.0.0.2:6379";
                let nodes: Vec<String> = rest
                    .split(',')
                    .map(|node| format!("redis://{}", node.trim()))
                    .collect();
                if nodes.iter().any(|n| n == "redis://") {
                    return Err(NO_NODES.to_owned());
                }
                Ok(Self::RedisCluster(nodes))
            }
            _ => Err(format!(
                "SESSION_STORE must be `memory`, `sqlite://PATH`, `postgres://...`, \
                 `redis://...` or `redis+cluster://HOST:PORT,...`, got {value:?}"
            )),
        }
    }
}

/// The app's settings, from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The session store.
    pub store: StoreChoice,
}

impl Settings {
    /// Reads `PORT` (default 3000) and `SESSION_STORE` (default `memory`).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let port = match var("PORT") {
            None => 3000,
            Some(p) => p
                .trim()
                .parse::<u16>()
                .map_err(|_| format!("PORT must be a port number (1-65535), got {p:?}"))?,
        };
        let store = match var("SESSION_STORE") {
            None => StoreChoice::Memory,
            Some(value) => StoreChoice::parse(value.trim())?,
        };
        Ok(Self { port, store })
    }
}

/// The app for these settings, with the demo users. Connects to the session store (and
/// creates its table) first, so a store that cannot be reached is an error at start.
pub async fn build_app(settings: &Settings) -> Result<Router, String> {
    let users = Arc::new(Users::demo().map_err(|e| format!("cannot hash demo passwords: {e}"))?);
    let failed = |e: session_runtime::StoreError| format!("cannot open the session store: {e}");
    Ok(match &settings.store {
        StoreChoice::Memory => router(MemoryStore::new(), users),
        StoreChoice::Sqlite(path) => router(SqliteStore::open(path).await.map_err(failed)?, users),
        StoreChoice::Postgres(url) => {
            router(PostgresStore::connect(url).await.map_err(failed)?, users)
        }
        StoreChoice::Redis(url) => router(RedisStore::connect(url).await.map_err(failed)?, users),
        StoreChoice::RedisCluster(nodes) => router(
            RedisClusterStore::connect(nodes).await.map_err(failed)?,
            users,
        ),
    })
}

/// The session configuration of the app: the secure defaults, the cookie named
/// `__Host-session` (the prefix makes browsers refuse a cookie of that name set by a sibling
/// subdomain or for another path), plus the login page that guards send browsers to and the
/// app's own error pages ([`error_pages`]), on `clock`.
pub fn session_config(clock: Arc<dyn Clock>) -> SessionConfig {
    let builder = SessionConfig::builder()
        .host_prefix()
        .login_url("/login")
        .clock(SharedClock(clock));
    error_pages::styled(builder).build().unwrap_or_default()
}

/// Every route of the app, behind the session layer, on the system clock.
pub fn router(store: impl SessionStore, users: Arc<Users>) -> Router {
    router_with(store, users, Options::default())
}

/// Every route of the app, behind the session layer.
///
/// Browser pages check CSRF tokens ([`CsrfLayer::new`]); the JSON API accepts only JSON
/// bodies, which a cross-site form cannot send, and gets the origin check. Every response
/// forbids framing ([`headers::deny_framing`]).
pub fn router_with(store: impl SessionStore, users: Arc<Users>, options: Options) -> Router {
    prometheus::handle(); // the recorder, before the first request records anything
    let throttle = || {
        Arc::new(Throttle::new(
            MAX_FAILURES,
            THROTTLE_WINDOW,
            options.clock.clone(),
        ))
    };
    let state = AppState {
        users: users.clone(),
        logins: throttle(),
        password_changes: throttle(),
        clock: options.clock.clone(),
    };
    let pages = Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/admin", get(pages::admin))
        .route("/cart", post(pages::add_to_cart))
        .route("/sessions", get(pages::sessions))
        .route("/sessions/{id}/revoke", post(pages::revoke_session))
        .route("/logout-others", post(pages::logout_others))
        .layer(CsrfLayer::new());
    Router::new()
        .route("/api/login", post(api::login))
        .route("/api/logout", post(api::logout))
        .route("/api/me", get(api::me))
        .route("/api/admin", get(api::admin))
        .route("/api/root", get(api::root))
        .route("/api/cart", get(api::cart).post(api::add_to_cart))
        .route("/api/sessions", get(api::sessions))
        .route("/api/sessions/{id}", delete(api::revoke_session))
        .route("/api/logout-others", post(api::logout_others))
        .route("/api/tokens", post(api::create_token))
        .route("/api/events", get(live::events))
        .route("/api/password", post(api::change_password))
        .layer(CsrfLayer::origin_only())
        .merge(pages)
        .route("/ws", get(live::ws))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(prometheus::metrics))
        .with_state(state)
        .layer(
            SessionLayer::new(store, session_config(options.clock))
                .verify_auth_hash(AppSession::AUTH_HASH, {
                    let users = users.clone();
                    move |id| {
                        let users = users.clone();
                        async move { Ok::<_, Infallible>(users.fingerprint(id)) }
                    }
                })
                .remember_me(RememberMe::default(), move |id| {
                    let users = users.clone();
                    async move { Ok::<_, Infallible>(api::restored_identity(&users, id)) }
                }),
        )
        .layer(axum::middleware::map_response(headers::deny_framing))
}
