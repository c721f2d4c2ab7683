//! Cross-site request forgery protection: a per-session token for forms, and a layer that
//! checks it and the request's origin on unsafe methods.
//!
//! - [`CsrfToken`] (an extractor) gives the session's token for a hidden form field named
//!   `csrf_token`, creating it (and so the session) on first use. A login replaces it, so a
//!   token seen before login is useless after.
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

mod layer;
mod origin;
mod rejection;

use std::collections::BTreeMap;
use std::fmt;

use axum_core::extract::FromRequestParts;
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
/// Extracting it creates the token, and so the session, if there is none yet: a login form
/// needs one before anyone logs in.
///
/// # Rejections
///
/// As [`Session`](crate::Session): `500` without a session layer, `503` if the store fails.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken(String);

impl CsrfToken {
    /// The token.
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
        session_token(&ctx).map(CsrfToken).map_err(|error| {
            tracing::error!(%error, "could not create a CSRF token");
            SessionRejection::StoreUnavailable
        })
    }
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
pub(crate) fn stored_token(ctx: &Context) -> Option<String> {
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
