//! `CsrfLayer`: configuration; `CsrfService`: the check on unsafe methods.

use crate::session::load::carries_bearer;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use axum_core::body::Body;
use axum_core::response::{IntoResponse as _, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, Method, Request};
use http_body_util::BodyExt as _;
use subtle::ConstantTimeEq as _;
use tower_layer::Layer;
use tower_service::Service;

use super::origin::is_cross_site;
use super::{CSRF_FIELD, CSRF_HEADER, CsrfRejection, expected_token};
use crate::extract::SessionRejection;

/// The largest form body searched for the token (64 KiB by default).
const DEFAULT_MAX_FORM_BYTES: usize = 64 * 1024;

/// Checks unsafe requests (`POST`, `PUT`, `PATCH`, `DELETE`) for cross-site origin and for
/// the session's CSRF token. Put it inside [`SessionLayer`](crate::SessionLayer) (call
/// `.layer(CsrfLayer::new())` before `.layer(SessionLayer::new(..))`).
///
/// ```
/// use axum::{Router, routing::post};
/// use session_runtime::{CsrfLayer, MemoryStore, SessionConfig, SessionLayer};
///
/// let forms = Router::new()
///     .route("/profile", post(|| async { "saved" }))
///     .layer(CsrfLayer::new());
/// // JSON endpoints: browsers cannot send `application/json` cross-site without a CORS
/// // preflight, so the origin check is enough there.
/// let api = Router::new()
///     .route("/api/profile", post(|| async { "saved" }))
///     .layer(CsrfLayer::origin_only());
/// let app: Router = forms
///     .merge(api)
///     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
/// ```
#[derive(Clone)]
pub struct CsrfLayer {
    config: Arc<Config>,
}

struct Config {
    origin_only: bool,
    trusted: Vec<String>,
    max_form_bytes: usize,
}

impl CsrfLayer {
    /// The full check: origin, and the session's token in the `x-csrf-token` header or the
    /// `csrf_token` field of a URL-encoded form.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::{Request, StatusCode}, routing::post};
    /// use session_runtime::{CsrfLayer, MemoryStore, SessionConfig, SessionLayer};
    /// use tower::ServiceExt as _;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let app: Router = Router::new()
    ///     .route("/transfer", post(|| async { "sent" }))
    ///     .layer(CsrfLayer::new())
    ///     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
    ///
    /// // No token (see `CsrfToken` for a form that carries one): refused.
    /// let res = app.oneshot(Request::post("/transfer").body(Body::empty())?).await?;
    /// assert_eq!(res.status(), StatusCode::FORBIDDEN);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with(false)
    }

    /// Only the origin check (`Sec-Fetch-Site`, `Origin`), for endpoints that accept only
    /// JSON bodies, which a cross-site form cannot send.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::{Request, StatusCode}, routing::post};
    /// use session_runtime::{CsrfLayer, MemoryStore, SessionConfig, SessionLayer};
    /// use tower::ServiceExt as _;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let api: Router = Router::new()
    ///     .route("/api/cart", post(|| async { "added" }))
    ///     .layer(CsrfLayer::origin_only())
    ///     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
    ///
    /// let request = |site: &str| {
    ///     Request::post("/api/cart")
    ///         .header("sec-fetch-site", site) // what the browser says of the request
    ///         .header("content-type", "application/json")
    ///         .body(Body::from("[42]"))
    /// };
    /// let res = api.clone().oneshot(request("same-origin")?).await?;
    /// assert_eq!(res.status(), StatusCode::OK); // no token needed
    /// let res = api.oneshot(request("cross-site")?).await?;
    /// assert_eq!(res.status(), StatusCode::FORBIDDEN);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn origin_only() -> Self {
        Self::with(true)
    }

    fn with(origin_only: bool) -> Self {
        Self {
            config: Arc::new(Config {
                origin_only,
                trusted: Vec::new(),
                max_form_bytes: DEFAULT_MAX_FORM_BYTES,
            }),
        }
    }

    /// Also accepts unsafe requests from this origin (`https://www.example.com`), such as a
    /// front end served from another subdomain.
    ///
    /// Every trusted origin can make requests with your users' sessions: trust only origins
    /// you control.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::{Request, StatusCode, header}, routing::post};
    /// use session_runtime::{CsrfLayer, MemoryStore, SessionConfig, SessionLayer};
    /// use tower::ServiceExt as _;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // The API at `api.example.com`, called by the front end at `www.example.com`:
    /// let api: Router = Router::new()
    ///     .route("/cart", post(|| async { "added" }))
    ///     .layer(CsrfLayer::origin_only().trust_origin("https://www.example.com"))
    ///     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
    ///
    /// let from = |origin: &str| {
    ///     Request::post("/cart")
    ///         .header(header::HOST, "api.example.com")
    ///         .header(header::ORIGIN, origin)
    ///         .header("sec-fetch-site", "same-site")
    ///         .body(Body::empty())
    /// };
    /// let res = api.clone().oneshot(from("https://www.example.com")?).await?;
    /// assert_eq!(res.status(), StatusCode::OK);
    /// let res = api.oneshot(from("https://blog.example.com")?).await?;
    /// assert_eq!(res.status(), StatusCode::FORBIDDEN);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn trust_origin(self, origin: impl Into<String>) -> Self {
        let c = &self.config;
        let mut trusted = c.trusted.clone();
        trusted.push(origin.into());
        Self {
            config: Arc::new(Config {
                origin_only: c.origin_only,
                trusted,
                max_form_bytes: c.max_form_bytes,
            }),
        }
    }
}

impl Default for CsrfLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CsrfLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfLayer")
            .field("origin_only", &self.config.origin_only)
            .field("trusted", &self.config.trusted)
            .finish_non_exhaustive()
    }
}

impl<I> Layer<I> for CsrfLayer {
    type Service = CsrfService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        CsrfService {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service of [`CsrfLayer`].
#[derive(Clone)]
pub struct CsrfService<I> {
    inner: I,
    config: Arc<Config>,
}

impl<I: fmt::Debug> fmt::Debug for CsrfService<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

impl<I> Service<Request<Body>> for CsrfService<I>
where
    I: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    I::Future: Send + 'static,
    I::Error: Send + 'static,
{
    type Response = Response;
    type Error = I::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, I::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        // A bearer request carries no ambient credential: it never uses a cookie (see
        // `session/load.rs`), so a forged cross-site request gains nothing from it.
        if is_safe(req.method()) || carries_bearer(req.headers()) {
            return Box::pin(inner.call(req));
        }
        let config = self.config.clone();
        Box::pin(async move {
            let checked = check(&config, req).await;
            match checked.inspect_err(crate::observe::csrf_refused) {
                Ok(req) => inner.call(req).await,
                Err(rejection) => Ok(rejection.into_response()),
            }
        })
    }
}

fn same_token(provided: &str, expected: &str) -> bool {
    bool::from(provided.as_bytes().ct_eq(expected.as_bytes()))
}

/// Checks one unsafe request, giving it back (with its body restored) if it passes.
async fn check(config: &Config, req: Request<Body>) -> Result<Request<Body>, CsrfRejection> {
    if is_cross_site(req.headers(), &config.trusted) {
        return Err(CsrfRejection::CrossSite);
    }
    if config.origin_only {
        return Ok(req);
    }
    let ctx = crate::service::current_context().ok_or_else(|| {
        tracing::error!("CsrfLayer runs outside SessionLayer: put it inside");
        CsrfRejection::Session(SessionRejection::MissingLayer)
    })?;
    ctx.load(req.headers(), None)
        .await
        .map_err(|_| CsrfRejection::Session(SessionRejection::StoreUnavailable))?;
    let expected = expected_token(&ctx, req.headers()).ok_or(CsrfRejection::BadToken)?;

    if let Some(carries) = header_carries(req.headers(), &expected) {
        return if carries {
            Ok(req)
        } else {
            Err(CsrfRejection::BadToken)
        };
    }
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_urlencoded_form);
    if !is_form {
        return Err(CsrfRejection::BadToken);
    }
    let (parts, body) = req.into_parts();
    let bytes = http_body_util::Limited::new(body, config.max_form_bytes)
        .collect()
        .await
        .map_err(|error| {
            if error.is::<http_body_util::LengthLimitError>() {
                CsrfRejection::FormTooLarge
            } else {
                CsrfRejection::BadToken
            }
        })?
        .to_bytes();
    if !form_carries(&bytes, &expected) {
        return Err(CsrfRejection::BadToken);
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// What the `x-csrf-token` header says: `None` if the request has none, else whether it
/// carries `expected` (a value that is not visible ASCII carries nothing).
pub(crate) fn header_carries(headers: &HeaderMap, expected: &str) -> Option<bool> {
    let header = headers.get(CSRF_HEADER)?;
    Some(
        header
            .to_str()
            .is_ok_and(|provided| same_token(provided, expected)),
    )
}

/// Whether an `application/x-www-form-urlencoded` body carries `expected` in its first
/// `csrf_token` field.
pub(crate) fn form_carries(body: &[u8], expected: &str) -> bool {
    form_urlencoded::parse(body)
        .find(|(name, _)| name == CSRF_FIELD)
        .is_some_and(|(_, value)| same_token(&value, expected))
}

/// Whether a `Content-Type` names an HTML form's encoding. Media types are
/// case-insensitive (RFC 9110 §8.3.1), and parameters such as `charset` may follow.
pub(crate) fn is_urlencoded_form(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|media| {
        media
            .trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}
