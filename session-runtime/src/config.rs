//! Session configuration, with secure defaults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::cookie::CookieSettings;
pub use crate::cookie::SameSite;
use crate::rejection::{ErrorPage, ErrorPages, RejectionInfo};

/// Why a [`SessionConfig`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `SameSite=None` needs `Secure`: browsers drop such cookies, and sending a session
    /// cookie cross-site over plain HTTP would expose it.
    #[error(
        "`SameSite=None` requires the `Secure` attribute; do not combine it with `insecure_allow_http()`"
    )]
    SameSiteNoneWithoutSecure,
    /// The `__Host-` prefix requires `Secure`, `Path=/` and no `Domain`.
    #[error("the `__Host-` cookie prefix requires `Secure`, `Path=/` and no `Domain`: {0}")]
    HostPrefix(&'static str),
    /// The cookie name is empty or contains characters not allowed in a cookie name.
    #[error("invalid cookie name {0:?}: use letters, digits and `-`, `_`, `.`")]
    CookieName(String),
    /// The cookie path does not start with `/` or contains `;` or control characters.
    #[error("invalid cookie path {0:?}: it must start with `/` and contain no `;`")]
    CookiePath(String),
    /// The cookie domain contains `;`, whitespace or control characters.
    #[error("invalid cookie domain {0:?}")]
    CookieDomain(String),
    /// A timeout is zero, or the touch interval is not shorter than the idle timeout.
    #[error("invalid timeouts: {0}")]
    Timeouts(&'static str),
    /// The data size cap is zero.
    #[error("the session data size cap must be greater than zero")]
    ZeroSizeCap,
    /// The per-user session cap is zero.
    #[error("the per-user session cap must be at least 1")]
    ZeroSessionCap,
    /// The login URL is empty or contains control characters.
    #[error("invalid login URL {0:?}")]
    LoginUrl(String),
}

/// How sessions behave: cookie attributes, timeouts, size cap, login redirect.
///
/// [`SessionConfig::default()`] is the secure default: cookie `session` with
/// `HttpOnly; Secure; SameSite=Lax; Path=/`, 30 minutes idle timeout, 12 hours absolute
/// timeout (OWASP ASVS level 2), 16 KiB of data per session.
///
/// ```
/// use std::time::Duration;
/// use session_runtime::{SameSite, SessionConfig};
///
/// let config = SessionConfig::builder()
///     .host_prefix()
///     .same_site(SameSite::Strict)
///     .idle_timeout(Duration::from_secs(15 * 60))
///     .login_url("/login")
///     .build()
///     .expect("valid configuration");
/// assert_eq!(config.cookie_name(), "__Host-session");
/// ```
#[derive(Clone)]
pub struct SessionConfig {
    pub(crate) inner: Arc<ConfigInner>,
}

pub(crate) struct ConfigInner {
    /// The session cookie's validated attributes.
    pub(crate) cookie: CookieSettings,
    pub(crate) idle_timeout: Duration,
    pub(crate) absolute_timeout: Duration,
    pub(crate) touch_interval: Duration,
    pub(crate) max_data_bytes: usize,
    pub(crate) login_url: Option<String>,
    pub(crate) exclusive_login: bool,
    pub(crate) max_sessions_per_user: Option<usize>,
    /// How long an API token lives from its creation (no idle timeout).
    pub(crate) api_token_lifetime: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    /// The HTML error pages the app replaced.
    pub(crate) pages: ErrorPages,
}

impl SessionConfig {
    /// A builder starting from the secure defaults.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::SessionConfig;
    ///
    /// let config = SessionConfig::builder()
    ///     .idle_timeout(Duration::from_secs(10 * 60))
    ///     .build()?;
    /// assert_eq!(config.idle_timeout(), Duration::from_secs(10 * 60));
    /// assert_eq!(config.cookie_name(), "session"); // everything else keeps its default
    /// # Ok::<(), session_runtime::ConfigError>(())
    /// ```
    pub fn builder() -> SessionConfigBuilder {
        SessionConfigBuilder::default()
    }

    /// The full cookie name, prefix included.
    ///
    /// ```
    /// use session_runtime::SessionConfig;
    ///
    /// assert_eq!(SessionConfig::default().cookie_name(), "session");
    ///
    /// let config = SessionConfig::builder().cookie_name("sid").host_prefix().build()?;
    /// assert_eq!(config.cookie_name(), "__Host-sid");
    /// # Ok::<(), session_runtime::ConfigError>(())
    /// ```
    #[must_use]
    pub fn cookie_name(&self) -> &str {
        &self.inner.cookie.name
    }

    /// The idle timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::SessionConfig;
    ///
    /// assert_eq!(SessionConfig::default().idle_timeout(), Duration::from_secs(30 * 60));
    /// ```
    #[must_use]
    pub fn idle_timeout(&self) -> Duration {
        self.inner.idle_timeout
    }

    /// The absolute timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::SessionConfig;
    ///
    /// assert_eq!(SessionConfig::default().absolute_timeout(), Duration::from_secs(12 * 60 * 60));
    /// ```
    #[must_use]
    pub fn absolute_timeout(&self) -> Duration {
        self.inner.absolute_timeout
    }

    /// The cap on a session's data, in bytes of field names and JSON values.
    ///
    /// ```
    /// use session_runtime::SessionConfig;
    ///
    /// assert_eq!(SessionConfig::default().max_data_bytes(), 16 * 1024);
    /// ```
    #[must_use]
    pub fn max_data_bytes(&self) -> usize {
        self.inner.max_data_bytes
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        match SessionConfigBuilder::default().build() {
            Ok(config) => config,
            Err(e) => unreachable!("the default session configuration is valid: {e}"),
        }
    }
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.inner;
        f.debug_struct("SessionConfig")
            .field("cookie_name", &c.cookie.name)
            .field("domain", &c.cookie.domain)
            .field("path", &c.cookie.path)
            .field("same_site", &c.cookie.same_site)
            .field("secure", &c.cookie.secure)
            .field("idle_timeout", &c.idle_timeout)
            .field("absolute_timeout", &c.absolute_timeout)
            .field("browser_session_cookie", &!c.cookie.persistent)
            .field("touch_interval", &c.touch_interval)
            .field("max_data_bytes", &c.max_data_bytes)
            .field("login_url", &c.login_url)
            .field("exclusive_login", &c.exclusive_login)
            .field("max_sessions_per_user", &c.max_sessions_per_user)
            .field("api_token_lifetime", &c.api_token_lifetime)
            .field("error_pages", &c.pages.replaced())
            .finish_non_exhaustive()
    }
}

/// Builds a [`SessionConfig`]; [`build`](Self::build) checks the combination.
#[must_use]
pub struct SessionConfigBuilder {
    name: String,
    host_prefix: bool,
    domain: Option<String>,
    path: String,
    same_site: SameSite,
    secure: bool,
    persistent: bool,
    idle_timeout: Duration,
    absolute_timeout: Duration,
    touch_interval: Duration,
    max_data_bytes: usize,
    login_url: Option<String>,
    exclusive_login: bool,
    max_sessions_per_user: Option<usize>,
    api_token_lifetime: Duration,
    clock: Arc<dyn Clock>,
    pages: ErrorPages,
}

impl Default for SessionConfigBuilder {
    fn default() -> Self {
        Self {
            name: "session".to_owned(),
            host_prefix: false,
            domain: None,
            path: "/".to_owned(),
            same_site: SameSite::Lax,
            secure: true,
            persistent: true,
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 60 * 60),
            touch_interval: Duration::from_secs(60),
            max_data_bytes: 16 * 1024,
            login_url: None,
            exclusive_login: false,
            max_sessions_per_user: None,
            api_token_lifetime: Duration::from_secs(90 * 24 * 60 * 60),
            clock: Arc::new(SystemClock),
            pages: ErrorPages::default(),
        }
    }
}

impl fmt::Debug for SessionConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfigBuilder")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SessionConfigBuilder {
    /// The cookie name (default `session`), without any prefix.
    ///
    /// ```
    /// use session_runtime::{ConfigError, SessionConfig};
    ///
    /// let config = SessionConfig::builder().cookie_name("shop_session").build()?;
    /// assert_eq!(config.cookie_name(), "shop_session");
    ///
    /// // Letters, digits and `-`, `_`, `.` only:
    /// assert!(matches!(
    ///     SessionConfig::builder().cookie_name("shop session").build(),
    ///     Err(ConfigError::CookieName(_))
    /// ));
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Prefixes the cookie name with `__Host-`: the browser then only accepts the cookie
    /// from this exact host over HTTPS, with `Path=/` and no `Domain`.
    ///
    /// ```
    /// use session_runtime::{ConfigError, SessionConfig};
    ///
    /// let config = SessionConfig::builder().host_prefix().build()?;
    /// assert_eq!(config.cookie_name(), "__Host-session");
    ///
    /// // A browser would drop a `__Host-` cookie that names a domain: refused here instead.
    /// assert!(matches!(
    ///     SessionConfig::builder().host_prefix().domain("example.com").build(),
    ///     Err(ConfigError::HostPrefix(_))
    /// ));
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn host_prefix(mut self) -> Self {
        self.host_prefix = true;
        self
    }

    /// The cookie's `Domain` (default: none, the cookie goes to this host only).
    ///
    /// Setting it shares the session with every subdomain: any subdomain that serves
    /// untrusted content can then read or overwrite the session cookie.
    ///
    /// ```
    /// use session_runtime::SessionConfig;
    /// # use axum::{Router, body::Body, http::Request, routing::get};
    /// # use session_runtime::{MemoryStore, Session, SessionLayer, SessionSchema};
    /// # use tower::ServiceExt as _;
    /// # #[derive(SessionSchema)]
    /// # pub struct Visit { pub visits: u32 }
    /// # async fn set_cookie(config: SessionConfig) -> String {
    /// #     let app = Router::new()
    /// #         .route("/", get(|s: Session<Visit>| async move { s.set_visits(1) }))
    /// #         .layer(SessionLayer::new(MemoryStore::new(), config));
    /// #     let res = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// #     res.headers()["set-cookie"].to_str().unwrap().to_owned()
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_runtime::ConfigError> {
    ///
    /// let config = SessionConfig::builder().domain("example.com").build()?;
    /// // The `Set-Cookie` header of a response that starts a session:
    /// assert!(set_cookie(config).await.contains("Domain=example.com"));
    /// # Ok(()) }
    /// ```
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The cookie's `Path` (default `/`).
    ///
    /// ```
    /// use session_runtime::{ConfigError, SessionConfig};
    /// # use axum::{Router, body::Body, http::Request, routing::get};
    /// # use session_runtime::{MemoryStore, Session, SessionLayer, SessionSchema};
    /// # use tower::ServiceExt as _;
    /// # #[derive(SessionSchema)]
    /// # pub struct Visit { pub visits: u32 }
    /// # async fn set_cookie(config: SessionConfig) -> String {
    /// #     let app = Router::new()
    /// #         .route("/", get(|s: Session<Visit>| async move { s.set_visits(1) }))
    /// #         .layer(SessionLayer::new(MemoryStore::new(), config));
    /// #     let res = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// #     res.headers()["set-cookie"].to_str().unwrap().to_owned()
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_runtime::ConfigError> {
    ///
    /// let config = SessionConfig::builder().path("/shop").build()?;
    /// // The `Set-Cookie` header of a response that starts a session:
    /// assert!(set_cookie(config).await.contains("Path=/shop"));
    ///
    /// assert!(matches!(
    ///     SessionConfig::builder().path("shop").build(),
    ///     Err(ConfigError::CookiePath(_)) // a path starts with `/`
    /// ));
    /// # Ok(()) }
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The cookie's `SameSite` (default `Lax`). `None` requires `Secure`.
    ///
    /// ```
    /// use session_runtime::{ConfigError, SameSite, SessionConfig};
    /// # use axum::{Router, body::Body, http::Request, routing::get};
    /// # use session_runtime::{MemoryStore, Session, SessionLayer, SessionSchema};
    /// # use tower::ServiceExt as _;
    /// # #[derive(SessionSchema)]
    /// # pub struct Visit { pub visits: u32 }
    /// # async fn set_cookie(config: SessionConfig) -> String {
    /// #     let app = Router::new()
    /// #         .route("/", get(|s: Session<Visit>| async move { s.set_visits(1) }))
    /// #         .layer(SessionLayer::new(MemoryStore::new(), config));
    /// #     let res = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// #     res.headers()["set-cookie"].to_str().unwrap().to_owned()
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_runtime::ConfigError> {
    ///
    /// let config = SessionConfig::builder().same_site(SameSite::Strict).build()?;
    /// // The `Set-Cookie` header of a response that starts a session:
    /// assert!(set_cookie(config).await.contains("SameSite=Strict"));
    ///
    /// let refused = SessionConfig::builder()
    ///     .same_site(SameSite::None)
    ///     .insecure_allow_http()
    ///     .build();
    /// assert!(matches!(refused, Err(ConfigError::SameSiteNoneWithoutSecure)));
    /// # Ok(()) }
    /// ```
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Makes the session cookie a browser-session cookie: it carries no `Max-Age` (nor
    /// `Expires`), so the browser drops it when it closes. By default the cookie's `Max-Age`
    /// mirrors the session's remaining lifetime, and the cookie survives a browser restart
    /// until then.
    ///
    /// The server enforces the [idle](Self::idle_timeout) and
    /// [absolute](Self::absolute_timeout) timeouts exactly as with the default: a browser
    /// left open for a day still finds its session ended. Only the cookie's own lifetime
    /// changes. Logout still removes the cookie (`Max-Age=0`), and since the cookie carries no
    /// lifetime to follow, the rolling expiry's refresh sends no `Set-Cookie`. Browsers that
    /// restore tabs after a restart may also restore session cookies; the server-side
    /// timeouts still apply to them.
    ///
    /// This is the usual companion of "remember me": the session ends with the browser, and
    /// a separate long-lived remember cookie, set only when the user asks for it, brings the
    /// user back in a new session.
    ///
    /// ```
    /// use session_runtime::SessionConfig;
    /// # use axum::{Router, body::Body, http::Request, routing::get};
    /// # use session_runtime::{MemoryStore, Session, SessionLayer, SessionSchema};
    /// # use tower::ServiceExt as _;
    /// # #[derive(SessionSchema)]
    /// # pub struct Visit { pub visits: u32 }
    /// # async fn set_cookie(config: SessionConfig) -> String {
    /// #     let app = Router::new()
    /// #         .route("/", get(|s: Session<Visit>| async move { s.set_visits(1) }))
    /// #         .layer(SessionLayer::new(MemoryStore::new(), config));
    /// #     let res = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// #     res.headers()["set-cookie"].to_str().unwrap().to_owned()
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_runtime::ConfigError> {
    ///
    /// let config = SessionConfig::builder().browser_session_cookie().build()?;
    /// // The `Set-Cookie` header of a response that starts a session has no lifetime:
    /// let cookie = set_cookie(config).await;
    /// assert!(!cookie.contains("Max-Age") && !cookie.contains("Expires"));
    ///
    /// // The default mirrors the idle timeout (30 minutes):
    /// assert!(set_cookie(SessionConfig::default()).await.contains("Max-Age=1800"));
    /// # Ok(()) }
    /// ```
    pub fn browser_session_cookie(mut self) -> Self {
        self.persistent = false;
        self
    }

    /// **Dangerous:** drops the `Secure` attribute so the cookie is also sent over plain HTTP.
    ///
    /// Anyone on the network path (shared Wi-Fi, a proxy) can then read the session token and
    /// take over the session. Use it only for local development over `http://` on a host that
    /// browsers do not treat as secure; `localhost` already works with `Secure` cookies.
    ///
    /// ```
    /// use session_runtime::SessionConfig;
    /// # use axum::{Router, body::Body, http::Request, routing::get};
    /// # use session_runtime::{MemoryStore, Session, SessionLayer, SessionSchema};
    /// # use tower::ServiceExt as _;
    /// # #[derive(SessionSchema)]
    /// # pub struct Visit { pub visits: u32 }
    /// # async fn set_cookie(config: SessionConfig) -> String {
    /// #     let app = Router::new()
    /// #         .route("/", get(|s: Session<Visit>| async move { s.set_visits(1) }))
    /// #         .layer(SessionLayer::new(MemoryStore::new(), config));
    /// #     let res = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    /// #     res.headers()["set-cookie"].to_str().unwrap().to_owned()
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_runtime::ConfigError> {
    ///
    /// let dev_only = cfg!(debug_assertions);
    /// let mut builder = SessionConfig::builder();
    /// if dev_only {
    ///     builder = builder.insecure_allow_http(); // a dev box reached as `http://devbox:3000`
    /// }
    /// let config = builder.build()?;
    /// // The `Set-Cookie` header of a response that starts a session:
    /// assert_eq!(set_cookie(config).await.contains("Secure"), !dev_only);
    /// # Ok(()) }
    /// ```
    pub fn insecure_allow_http(mut self) -> Self {
        self.secure = false;
        self
    }

    /// How long an unused session lives (default 30 minutes). Each use extends it, up to
    /// the absolute timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::{ConfigError, SessionConfig};
    ///
    /// let config = SessionConfig::builder()
    ///     .idle_timeout(Duration::from_secs(15 * 60))
    ///     .build()?;
    /// assert_eq!(config.idle_timeout(), Duration::from_secs(15 * 60));
    ///
    /// assert!(matches!(
    ///     SessionConfig::builder().idle_timeout(Duration::ZERO).build(),
    ///     Err(ConfigError::Timeouts(_))
    /// ));
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// How long a session lives at most, however active (default 12 hours).
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::SessionConfig;
    ///
    /// // A working day at most, then log in again.
    /// let config = SessionConfig::builder()
    ///     .absolute_timeout(Duration::from_secs(8 * 60 * 60))
    ///     .build()?;
    /// assert_eq!(config.absolute_timeout(), Duration::from_secs(8 * 60 * 60));
    /// # Ok::<(), session_runtime::ConfigError>(())
    /// ```
    pub fn absolute_timeout(mut self, absolute: Duration) -> Self {
        self.absolute_timeout = absolute;
        self
    }

    /// The least time between two refreshes of rolling expiry (default 60 s): a request that
    /// changes nothing writes nothing unless this much time passed since the last refresh.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::{ConfigError, SessionConfig};
    ///
    /// // Fewer store writes for read-only traffic: refresh expiry at most every 5 minutes.
    /// let config = SessionConfig::builder()
    ///     .touch_interval(Duration::from_secs(5 * 60))
    ///     .build()?;
    /// # let _ = config;
    ///
    /// // It must be shorter than the idle timeout:
    /// let refused = SessionConfig::builder()
    ///     .idle_timeout(Duration::from_secs(5 * 60))
    ///     .touch_interval(Duration::from_secs(5 * 60))
    ///     .build();
    /// assert!(matches!(refused, Err(ConfigError::Timeouts(_))));
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn touch_interval(mut self, interval: Duration) -> Self {
        self.touch_interval = interval;
        self
    }

    /// The cap on a session's data in bytes (field names plus JSON values; default 16 KiB).
    /// A setter that would pass it fails with [`SessionError::TooLarge`](crate::SessionError::TooLarge).
    ///
    /// ```
    /// use axum::{Router, body::Body, http::{Request, StatusCode}, routing::post};
    /// use session_runtime::{MemoryStore, Session, SessionConfig, SessionError, SessionLayer, SessionSchema};
    /// use tower::ServiceExt as _;
    ///
    /// #[derive(SessionSchema)]
    /// pub struct Notes {
    ///     pub draft: String,
    /// }
    ///
    /// async fn save_draft(session: Session<Notes>, draft: String) -> Result<(), SessionError> {
    ///     session.set_draft(draft)
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = SessionConfig::builder().max_data_bytes(1024).build()?;
    /// let app = Router::new()
    ///     .route("/draft", post(save_draft))
    ///     .layer(SessionLayer::new(MemoryStore::new(), config));
    ///
    /// let res = app.oneshot(Request::post("/draft").body(Body::from("x".repeat(2000)))?).await?;
    /// assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE); // `SessionError::TooLarge`
    /// # Ok(()) }
    /// ```
    pub fn max_data_bytes(mut self, bytes: usize) -> Self {
        self.max_data_bytes = bytes;
        self
    }

    /// Where guards send anonymous browser requests (those that accept `text/html`): a `303`
    /// to this URL with `?next=` set to the requested path. Without it, guards answer `401`.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::{Request, StatusCode, header}, routing::get};
    /// use session_runtime::{MemoryStore, RequireAuth, SessionConfig, SessionLayer, SessionSchema};
    /// use tower::ServiceExt as _;
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn account(user: RequireAuth<AppSession>) -> String {
    ///     format!("the account of user {}", user.user_id())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = SessionConfig::builder().login_url("/login").build()?;
    /// let app = Router::new()
    ///     .route("/account", get(account))
    ///     .layer(SessionLayer::new(MemoryStore::new(), config));
    ///
    /// // A browser that is not logged in is sent to the login page, with the way back:
    /// let page = Request::get("/account").header(header::ACCEPT, "text/html").body(Body::empty())?;
    /// let res = app.clone().oneshot(page).await?;
    /// assert_eq!(res.status(), StatusCode::SEE_OTHER);
    /// assert_eq!(res.headers()[header::LOCATION], "/login?next=/account");
    ///
    /// // Any other client gets `401`:
    /// let res = app.oneshot(Request::get("/account").body(Body::empty())?).await?;
    /// assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    /// # Ok(()) }
    /// ```
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = Some(url.into());
        self
    }

    /// Makes every login exclusive: logging in ends the user's other sessions, so a user
    /// has one session at a time (default off; per call, use
    /// [`Session::login_exclusive`](crate::Session::login_exclusive)).
    ///
    /// ```
    /// use axum::{Router, body::Body, http::Request, routing::post};
    /// use session_runtime::{MemoryStore, Session, SessionConfig, SessionError, SessionLayer, SessionSchema};
    /// use tower::ServiceExt as _;
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn login(session: Session<AppSession>) -> Result<(), SessionError> {
    ///     // ... check credentials first ...
    ///     session.login(42).await
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = SessionConfig::builder().exclusive_login(true).build()?;
    /// let layer = SessionLayer::new(MemoryStore::new(), config);
    /// let admin = layer.admin::<AppSession>();
    /// let app = Router::new().route("/login", post(login)).layer(layer);
    ///
    /// // User 42 logs in on a laptop, then on a phone: the laptop's session ends.
    /// for _device in ["laptop", "phone"] {
    ///     app.clone().oneshot(Request::post("/login").body(Body::empty())?).await?;
    /// }
    /// assert_eq!(admin.list(&42).await?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn exclusive_login(mut self, exclusive: bool) -> Self {
        self.exclusive_login = exclusive;
        self
    }

    /// Caps how many sessions one user may have (default: no cap). A login past the cap ends
    /// the user's least recently used sessions.
    ///
    /// The cap is best effort: if the store fails while listing or ending those sessions,
    /// the login still succeeds (a warning is logged) and the user stays over the cap until
    /// a later login enforces it. For a hard limit of one, use
    /// [`exclusive_login`](Self::exclusive_login), which fails the login instead.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::Request, routing::post};
    /// use session_runtime::{MemoryStore, Session, SessionConfig, SessionError, SessionLayer, SessionSchema};
    /// use tower::ServiceExt as _;
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn login(session: Session<AppSession>) -> Result<(), SessionError> {
    ///     // ... check credentials first ...
    ///     session.login(42).await
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = SessionConfig::builder().max_sessions_per_user(2).build()?;
    /// let layer = SessionLayer::new(MemoryStore::new(), config);
    /// let admin = layer.admin::<AppSession>();
    /// let app = Router::new().route("/login", post(login)).layer(layer);
    ///
    /// // A third device logs in: the least recently used of the other two is logged out.
    /// for _device in ["laptop", "phone", "tablet"] {
    ///     app.clone().oneshot(Request::post("/login").body(Body::empty())?).await?;
    /// }
    /// assert_eq!(admin.list(&42).await?.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn max_sessions_per_user(mut self, max: usize) -> Self {
        self.max_sessions_per_user = Some(max);
        self
    }

    /// How long an API token ([`Session::create_api_token`](crate::Session::create_api_token))
    /// lives from its creation (default 90 days). Tokens have no idle timeout: a script that
    /// runs once a month keeps working until this passes.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::SessionConfig;
    ///
    /// let config = SessionConfig::builder()
    ///     .api_token_lifetime(Duration::from_secs(30 * 24 * 60 * 60))
    ///     .build()?;
    /// # let _ = config;
    /// # Ok::<(), session_runtime::ConfigError>(())
    /// ```
    pub fn api_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.api_token_lifetime = lifetime;
        self
    }

    /// The clock that expiry decisions read (default: the system clock). Tests pass a
    /// [`ManualClock`](crate::ManualClock).
    ///
    /// ```
    /// use std::time::Duration;
    /// use axum::{Router, body::Body, http::{Request, header}, routing::get};
    /// use session_runtime::{
    ///     ManualClock, MemoryStore, Session, SessionConfig, SessionError, SessionLayer, SessionSchema,
    /// };
    /// use tower::ServiceExt as _;
    ///
    /// #[derive(SessionSchema)]
    /// pub struct Visits {
    ///     pub count: u32,
    /// }
    ///
    /// async fn visit(session: Session<Visits>) -> Result<String, SessionError> {
    ///     session.update_count(|n| *n += 1)?;
    ///     Ok(session.count().to_string())
    /// }
    /// # async fn visit_with(app: &Router, cookie: &str) -> String {
    /// #     let req = Request::get("/").header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    /// #     let res = app.clone().oneshot(req).await.unwrap();
    /// #     let body = axum::body::to_bytes(res.into_body(), 64).await.unwrap();
    /// #     String::from_utf8(body.to_vec()).unwrap()
    /// # }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let clock = ManualClock::new();
    /// let config = SessionConfig::builder()
    ///     .idle_timeout(Duration::from_secs(30 * 60))
    ///     .clock(clock.clone())
    ///     .build()?;
    /// let app = Router::new()
    ///     .route("/", get(visit))
    ///     .layer(SessionLayer::new(MemoryStore::new(), config));
    ///
    /// let first = app.clone().oneshot(Request::get("/").body(Body::empty())?).await?;
    /// let cookie = first.headers()[header::SET_COOKIE].to_str()?;
    /// let cookie = cookie.split(';').next().unwrap_or_default(); // `session=...`
    ///
    /// clock.advance(Duration::from_secs(10 * 60));
    /// assert_eq!(visit_with(&app, cookie).await, "2"); // the same session
    /// clock.advance(Duration::from_secs(60 * 60));
    /// assert_eq!(visit_with(&app, cookie).await, "1"); // idle for an hour: expired
    /// # Ok(()) }
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Replaces one of the HTML pages that browsers are shown when this crate refuses a
    /// request (`401`, `403`, the CSRF check, `503`): `render` gets what the JSON body says
    /// ([`RejectionInfo`]) and returns the page's HTML; the status stays. Clients that do
    /// not accept `text/html` still get the JSON body.
    ///
    /// `render` builds HTML: escape anything in it that did not come from your own code.
    ///
    /// ```
    /// use session_runtime::{ErrorPage, SessionConfig};
    ///
    /// let config = SessionConfig::builder()
    ///     .error_page(ErrorPage::Forbidden, |info| {
    ///         format!(
    ///             "<!doctype html><title>No entry</title><h1>No entry</h1><p>{}</p>\
    ///              <a href=\"/\">Back home</a>",
    ///             info.message
    ///         )
    ///     })
    ///     .error_page(ErrorPage::Unavailable, |_| {
    ///         "<!doctype html><title>Back soon</title><h1>We are back in a minute</h1>".to_owned()
    ///     })
    ///     .build()
    ///     .expect("valid configuration");
    /// # let _ = config;
    /// ```
    pub fn error_page(
        mut self,
        page: ErrorPage,
        render: impl Fn(&RejectionInfo) -> String + Send + Sync + 'static,
    ) -> Self {
        self.pages.set(page, Arc::new(render));
        self
    }

    /// Checks the combination and builds the configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if `SameSite=None` is combined with `insecure_allow_http()`, if the
    /// `__Host-` prefix is combined with a `Domain`, a `Path` other than `/` or
    /// `insecure_allow_http()`, if the cookie name, path, domain or login URL is malformed,
    /// or if a timeout or the size cap is zero.
    ///
    /// ```
    /// use session_runtime::SessionConfig;
    ///
    /// let config = SessionConfig::builder().login_url("/login").build()?;
    /// # let _ = config;
    ///
    /// // The error says what to change:
    /// let err = SessionConfig::builder().max_data_bytes(0).build().unwrap_err();
    /// assert_eq!(err.to_string(), "the session data size cap must be greater than zero");
    /// # Ok::<(), session_runtime::ConfigError>(())
    /// ```
    pub fn build(self) -> Result<SessionConfig, ConfigError> {
        if self.same_site == SameSite::None && !self.secure {
            return Err(ConfigError::SameSiteNoneWithoutSecure);
        }
        let valid_name = !self.name.is_empty()
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid_name {
            return Err(ConfigError::CookieName(self.name));
        }
        if !self.path.starts_with('/') || self.path.contains(';') || has_control(&self.path) {
            return Err(ConfigError::CookiePath(self.path));
        }
        if let Some(domain) = &self.domain
            && (domain.is_empty()
                || domain.contains(';')
                || domain.contains(char::is_whitespace)
                || has_control(domain))
        {
            return Err(ConfigError::CookieDomain(domain.clone()));
        }
        if self.host_prefix {
            if !self.secure {
                return Err(ConfigError::HostPrefix(
                    "it cannot be combined with insecure_allow_http()",
                ));
            }
            if self.domain.is_some() {
                return Err(ConfigError::HostPrefix("remove the domain"));
            }
            if self.path != "/" {
                return Err(ConfigError::HostPrefix("the path must be `/`"));
            }
        }
        if self.idle_timeout.is_zero()
            || self.absolute_timeout.is_zero()
            || self.api_token_lifetime.is_zero()
        {
            return Err(ConfigError::Timeouts("timeouts must be greater than zero"));
        }
        if self.touch_interval >= self.idle_timeout {
            return Err(ConfigError::Timeouts(
                "the touch interval must be shorter than the idle timeout",
            ));
        }
        if self.max_data_bytes == 0 {
            return Err(ConfigError::ZeroSizeCap);
        }
        if self.max_sessions_per_user == Some(0) {
            return Err(ConfigError::ZeroSessionCap);
        }
        if let Some(url) = &self.login_url
            && (url.is_empty() || has_control(url))
        {
            return Err(ConfigError::LoginUrl(url.clone()));
        }
        let cookie_name = if self.host_prefix {
            format!("__Host-{}", self.name)
        } else {
            self.name
        };
        Ok(SessionConfig {
            inner: Arc::new(ConfigInner {
                cookie: CookieSettings::new(
                    cookie_name,
                    self.domain,
                    self.path,
                    self.same_site,
                    self.secure,
                    self.persistent,
                ),
                idle_timeout: self.idle_timeout,
                absolute_timeout: self.absolute_timeout,
                touch_interval: self.touch_interval,
                max_data_bytes: self.max_data_bytes,
                login_url: self.login_url,
                exclusive_login: self.exclusive_login,
                max_sessions_per_user: self.max_sessions_per_user,
                api_token_lifetime: self.api_token_lifetime,
                clock: self.clock,
                pages: self.pages,
            }),
        })
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_secure() {
        let c = SessionConfig::default();
        let i = &c.inner.cookie;
        assert_eq!(i.name, "session");
        assert!(i.secure);
        assert_eq!(i.same_site, SameSite::Lax);
        assert_eq!(i.path, "/");
        assert!(i.domain.is_none());
        assert!(i.persistent);
    }

    #[test]
    fn same_site_none_without_secure_is_refused() {
        let err = SessionConfig::builder()
            .same_site(SameSite::None)
            .insecure_allow_http()
            .build()
            .unwrap_err();
        assert_eq!(err, ConfigError::SameSiteNoneWithoutSecure);
        assert!(
            SessionConfig::builder()
                .same_site(SameSite::None)
                .build()
                .is_ok()
        );
    }

    #[test]
    fn host_prefix_rules() {
        assert!(matches!(
            SessionConfig::builder()
                .host_prefix()
                .domain("example.com")
                .build(),
            Err(ConfigError::HostPrefix(_))
        ));
        assert!(matches!(
            SessionConfig::builder().host_prefix().path("/app").build(),
            Err(ConfigError::HostPrefix(_))
        ));
        assert!(matches!(
            SessionConfig::builder()
                .host_prefix()
                .insecure_allow_http()
                .build(),
            Err(ConfigError::HostPrefix(_))
        ));
        let c = SessionConfig::builder().host_prefix().build().unwrap();
        assert_eq!(c.cookie_name(), "__Host-session");
    }

    #[test]
    fn malformed_values_are_refused() {
        assert!(matches!(
            SessionConfig::builder().cookie_name("a b").build(),
            Err(ConfigError::CookieName(_))
        ));
        assert!(matches!(
            SessionConfig::builder().cookie_name("").build(),
            Err(ConfigError::CookieName(_))
        ));
        assert!(matches!(
            SessionConfig::builder().path("app").build(),
            Err(ConfigError::CookiePath(_))
        ));
        assert!(matches!(
            SessionConfig::builder().path("/;x").build(),
            Err(ConfigError::CookiePath(_))
        ));
        assert!(matches!(
            SessionConfig::builder().domain("a;b").build(),
            Err(ConfigError::CookieDomain(_))
        ));
        assert!(matches!(
            SessionConfig::builder()
                .idle_timeout(Duration::ZERO)
                .build(),
            Err(ConfigError::Timeouts(_))
        ));
        assert!(matches!(
            SessionConfig::builder()
                .idle_timeout(Duration::from_secs(30))
                .touch_interval(Duration::from_secs(30))
                .build(),
            Err(ConfigError::Timeouts(_))
        ));
        assert!(matches!(
            SessionConfig::builder().max_data_bytes(0).build(),
            Err(ConfigError::ZeroSizeCap)
        ));
        assert!(matches!(
            SessionConfig::builder().login_url("").build(),
            Err(ConfigError::LoginUrl(_))
        ));
    }
}
