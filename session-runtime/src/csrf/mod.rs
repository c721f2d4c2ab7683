//! Cross-site request forgery protection: a per-session token for forms, and a layer that
//! checks it and the request's origin on unsafe methods.
//!
//! - [`CsrfToken`] (an extractor) gives the token for a hidden form field named
//!   `csrf_token`: the session's, created on first use; for a visitor who has no session
//!   (the login form), a token in a cookie of its own (`__Host-csrf`), so that rendering a
//!   form never creates a session. A login replaces the token, so a token seen before login
//!   is useless after.
//! - [`CsrfLayer`] refuses `POST`, `PUT`, `PATCH` and `DELETE` requests that a browser marks
//!   as cross-site (`Sec-Fetch-Site`), or whose `Origin` is not this host, with `403`; and,
//!   unless built with [`CsrfLayer::origin_only`], those that do not carry the session's token
//!   in the `x-csrf-token` header or the `csrf_token` form field (compared in constant time).
//!
//! ```
//! use axum::{Form, Router, response::Html, routing::get};
//! use session_runtime::{CsrfLayer, CsrfToken, MemoryStore, SessionConfig, SessionLayer};
//!
//! async fn form(csrf: CsrfToken) -> Html<String> {
//!     Html(format!(
//!         r#"<form method="post"><input type="hidden" name="csrf_token" value="{csrf}">
//!            <button>Send</button></form>"#
//!     ))
//! }
//!
//! async fn submit() -> &'static str {
//!     "accepted: the token matched"
//! }
//!
//! let app: Router = Router::new()
//!     .route("/", get(form).post(submit))
//!     .layer(CsrfLayer::new()) // inside the session layer: it reads the session
//!     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
//! ```

pub(crate) mod layer;
pub(crate) mod origin;
mod rejection;
pub(crate) mod visitor;

use std::collections::BTreeMap;
use std::fmt;

use axum_core::extract::FromRequestParts;
use http::HeaderMap;
use http::request::Parts;

pub use layer::{CsrfLayer, CsrfService};
pub use rejection::CsrfRejection;

use crate::extract::SessionRejection;
use crate::session::Context;
use crate::session::hooks::LoginHook;
use crate::store::StoreError;
use crate::token::random_text;

/// The stored key of the token; the `__` prefix marks it as the runtime's, not a schema's.
pub(crate) const CSRF_KEY: &str = "__csrf";
/// The request header that may carry the token.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// The form field that may carry the token.
pub(crate) const CSRF_FIELD: &str = "csrf_token";

/// The session's CSRF token, for a hidden form field named `csrf_token` (or the
/// `x-csrf-token` header of scripted requests). `Display` writes the token, which is
/// base64url and needs no HTML escaping.
///
/// With a session, the token is the session's, created on first use (and replaced at every
/// login). A visitor without a session (the login form, before anyone logs in) gets a
/// token that needs no server state: it travels in a cookie of its own, `__Host-csrf`
/// (`csrf` if the session cookie is not `Secure`; `HttpOnly`, `SameSite=Strict`), and
/// [`CsrfLayer`] compares the form's field with it. Rendering a form never creates a
/// session record; once a session exists its token takes over and the cookie is removed.
///
/// A form protected by [`CsrfLayer`], and what the layer does with it:
///
/// ```
/// use axum::{Form, Router, response::Html, routing::get};
/// use serde::Deserialize;
/// use session_runtime::{CsrfLayer, CsrfToken, MemoryStore, SessionConfig, SessionLayer};
/// // To drive the app as a browser would:
/// use axum::{body::Body, http::{Request, StatusCode, header}};
/// use tower::ServiceExt as _;
///
/// async fn edit_profile(csrf: CsrfToken) -> Html<String> {
///     Html(format!(
///         r#"<form method="post" action="/profile">
///              <input type="hidden" name="csrf_token" value="{csrf}">
///              <input name="display_name">
///              <button>Save</button>
///            </form>"#
///     ))
/// }
///
/// #[derive(Deserialize)]
/// struct Profile {
///     display_name: String,
/// }
///
/// // Runs only for a form that carries the session's token: `CsrfLayer` checked it.
/// async fn save_profile(Form(profile): Form<Profile>) -> String {
///     format!("saved {}", profile.display_name)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let app: Router = Router::new()
///     .route("/profile", get(edit_profile).post(save_profile))
///     .layer(CsrfLayer::new())
///     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
///
/// // The browser loads the form, and the cookie of its token with it (a visitor without a
/// // session: the token's own cookie, no session record):
/// let res = app.clone().oneshot(Request::get("/profile").body(Body::empty())?).await?;
/// let cookie = res.headers()[header::SET_COOKIE].to_str()?.split(';').next().unwrap().to_owned();
/// let html = String::from_utf8(axum::body::to_bytes(res.into_body(), 4096).await?.to_vec())?;
/// let token = html.split(r#"name="csrf_token" value=""#).nth(1).unwrap().split('"').next().unwrap();
///
/// assert!(cookie.starts_with("__Host-csrf="));
///
/// // A submission of a form: the browser sends the cookie with it.
/// let submit = |form: String| {
///     Request::post("/profile")
///         .header(header::COOKIE, &cookie)
///         .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
///         .body(Body::from(form))
/// };
///
/// // The form, with the token in it:
/// let sent = submit(format!("csrf_token={token}&display_name=Ada"))?;
/// assert_eq!(app.clone().oneshot(sent).await?.status(), StatusCode::OK);
///
/// // A form on another site that the browser is made to submit: no token, refused.
/// let forged = submit("display_name=Mallory".to_owned())?;
/// assert_eq!(app.oneshot(forged).await?.status(), StatusCode::FORBIDDEN);
/// # Ok(()) }
/// ```
///
/// # Rejections
///
/// As [`Session`](crate::Session): `500` without a session layer, `503` if the store fails.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken(String);

impl CsrfToken {
    /// The token, for scripts: a page's `<meta>` tag or a JSON answer, which the script
    /// sends back in the `x-csrf-token` header of its unsafe requests.
    ///
    /// ```
    /// use axum::{Json, Router, routing::{get, post}};
    /// use serde_json::{Value, json};
    /// use session_runtime::{CsrfLayer, CsrfToken, MemoryStore, SessionConfig, SessionLayer};
    /// use axum::{body::Body, http::{Request, StatusCode, header}};
    /// use tower::ServiceExt as _;
    ///
    /// async fn csrf_token(csrf: CsrfToken) -> Json<Value> {
    ///     Json(json!({ "csrf_token": csrf.as_str() }))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let app: Router = Router::new()
    ///     .route("/csrf", get(csrf_token))
    ///     .route("/api/cart", post(|| async { "added" }))
    ///     .layer(CsrfLayer::new())
    ///     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
    ///
    /// let res = app.clone().oneshot(Request::get("/csrf").body(Body::empty())?).await?;
    /// let cookie = res.headers()[header::SET_COOKIE].to_str()?.split(';').next().unwrap().to_owned();
    /// let body: Value = serde_json::from_slice(&axum::body::to_bytes(res.into_body(), 1024).await?)?;
    /// let token = body["csrf_token"].as_str().unwrap();
    ///
    /// let req = Request::post("/api/cart")
    ///     .header(header::COOKIE, cookie)
    ///     .header("x-csrf-token", token)
    ///     .body(Body::empty())?;
    /// assert_eq!(app.oneshot(req).await?.status(), StatusCode::OK);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken(<redacted>)")
    }
}

impl<St: Send + Sync> FromRequestParts<St> for CsrfToken {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Self::Rejection> {
        let ctx = crate::extract::context()?;
        ctx.load(&parts.headers, None)
            .await
            .map_err(|_| SessionRejection::StoreUnavailable)?;
        form_token(&ctx, &parts.headers)
            .map(CsrfToken)
            .map_err(|error| {
                tracing::error!(%error, "could not create a CSRF token");
                SessionRejection::StoreUnavailable
            })
    }
}

/// The token a form of this request carries: the session's (created if it has none) when
/// there is a session, else the visitor cookie's (issued if the request brought none), so
/// that a form for a visitor without a session writes nothing to the store.
fn form_token(ctx: &Context, headers: &HeaderMap) -> Result<String, StoreError> {
    let secure = ctx.shared.config.cookie.secure;
    let (visitor, has_visitor_cookie) = visitor::read(headers, secure);
    if ctx.has_record() {
        if has_visitor_cookie {
            // The session's token has taken over: the visitor's is of no more use.
            ctx.send_cookie(visitor::removal(secure));
        }
        return session_token(ctx);
    }
    if let Some(token) = visitor {
        return Ok(token);
    }
    let (token, set_cookie) = visitor::issue(secure)?;
    ctx.send_cookie(set_cookie);
    Ok(token)
}

/// The token an unsafe request must carry back: the session's when it has one; else, for a
/// guest, the visitor cookie's (a form rendered before the session existed). A logged-in
/// session without a token accepts none: a token from before the login is useless after.
pub(crate) fn expected_token(ctx: &Context, headers: &HeaderMap) -> Option<String> {
    if let Some(token) = stored_token(ctx) {
        return Some(token);
    }
    let logged_in = ctx.with_user_id_json(|_| ()).is_some();
    if logged_in {
        return None;
    }
    visitor::read(headers, ctx.shared.config.cookie.secure).0
}

fn encode(token: &str) -> String {
    // A JSON string of base64url text: quotes around it.
    format!("\"{token}\"")
}

fn decode(json: &str) -> Option<&str> {
    json.strip_prefix('"')?.strip_suffix('"')
}

/// The session's token, created if it has none.
fn session_token(ctx: &Context) -> Result<String, StoreError> {
    if let Some(token) = stored_token(ctx) {
        return Ok(token);
    }
    let token = random_text::<32>()?;
    if let Err(error) = ctx.set_value(CSRF_KEY, encode(&token), false) {
        tracing::warn!(%error, "the CSRF token does not fit in the session");
    }
    Ok(token)
}

/// The session's token, if it has one.
fn stored_token(ctx: &Context) -> Option<String> {
    ctx.with_value(CSRF_KEY, |json| json.and_then(decode).map(str::to_owned))
}

/// Gives a session that logs in a fresh token in place of any old one, so that a token
/// seen before the login is useless after it. Registered by the session layer.
pub(crate) struct RotateOnLogin;

impl LoginHook for RotateOnLogin {
    fn on_login(&self, data: &mut BTreeMap<String, String>) -> Result<(), StoreError> {
        if data.contains_key(CSRF_KEY) {
            data.insert(CSRF_KEY.to_owned(), encode(&random_text::<32>()?));
        }
        Ok(())
    }
}
