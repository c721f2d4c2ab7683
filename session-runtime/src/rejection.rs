//! How every refusal of this crate answers, whichever extractor, layer or handler error it
//! comes from.
//!
//! Each rejection type ([`SessionRejection`](crate::SessionRejection),
//! [`RecentLoginRejection`](crate::RecentLoginRejection),
//! [`CsrfRejection`](crate::CsrfRejection), [`SessionError`](crate::SessionError)) says three
//! things about itself through [`Reject`]: its status, a stable error code and the
//! [`ErrorPage`] it shows a browser. [`respond`] turns that into the response the same way
//! for all of them: a JSON body `{"error": code, "message": ...}` and, attached to the
//! response, its [`RejectionInfo`]. On the way out, the session layer gives a request that
//! accepts `text/html` the HTML page instead: the app's own, configured with
//! [`SessionConfigBuilder::error_page`](crate::SessionConfigBuilder::error_page), or a plain
//! default. A guard that sends a browser to the login page answers `303` instead.

use std::fmt;
use std::sync::Arc;

use axum_core::body::Body;
use axum_core::response::Response;
use http::header::{ACCEPT, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};

/// The HTML pages a browser may be shown instead of a JSON error, each replaceable with
/// [`SessionConfigBuilder::error_page`](crate::SessionConfigBuilder::error_page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorPage {
    /// `401`: not logged in (when no login URL is configured to redirect to), or a login
    /// that is not recent enough.
    Unauthenticated,
    /// `403`: logged in without the role a guard requires.
    Forbidden,
    /// `403` or `413`: refused by the CSRF check.
    Csrf,
    /// `503`: the session store is unavailable.
    Unavailable,
    /// Anything else (a missing layer, an oversized session, an unencodable value).
    Other,
}

/// What a refused request is told: given to a replacement page, and attached to every
/// rejection's response as an extension, for middleware and tests.
///
/// ```
/// use axum::response::IntoResponse;
/// use session_runtime::{ErrorPage, RejectionInfo, SessionRejection};
///
/// let res = SessionRejection::StoreUnavailable.into_response();
/// let info = res.extensions().get::<RejectionInfo>().unwrap();
/// assert_eq!(info.status.as_u16(), 503);
/// assert_eq!(info.code, "session_store_unavailable");
/// assert_eq!(info.page, ErrorPage::Unavailable);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RejectionInfo {
    /// The response status.
    pub status: StatusCode,
    /// The stable error code of the JSON body (`"forbidden"`, `"csrf_token_invalid"`, ...).
    pub code: &'static str,
    /// A sentence for people, as the JSON body's `message`.
    pub message: String,
    /// The page a browser is shown.
    pub page: ErrorPage,
}

/// What every rejection of this crate says about itself; [`respond`] builds its response.
pub(crate) trait Reject: fmt::Display {
    /// The response status.
    fn status(&self) -> StatusCode;
    /// The stable error code of the JSON body.
    fn code(&self) -> &'static str;
    /// The page a browser is shown.
    fn page(&self) -> ErrorPage;
    /// The sentence the client is told; by default the `Display` text. Override it where
    /// that text holds details meant for the logs only.
    fn message(&self) -> String {
        self.to_string()
    }
    /// The `WWW-Authenticate` challenge of the response, if it has one.
    fn challenge(&self) -> Option<&'static str> {
        None
    }
    /// Where a browser is sent instead (the login page), if anywhere.
    fn redirect(&self) -> Option<&str> {
        None
    }
    /// Logs the refusal: at debug level, unless the rejection is a failure worth more.
    fn log(&self) {
        tracing::debug!(status = self.status().as_u16(), reason = %self, "request refused");
    }
}

/// Implements `IntoResponse` and a public `status()` for a rejection type, both through its
/// [`Reject`] impl; `$example` is the body of the doc example of its `status()`.
macro_rules! rejection_type {
    ($ty:ty, example = $example:literal $(,)?) => {
        impl $ty {
            /// The HTTP status of its response.
            ///
            #[doc = concat!("```\n", $example, "\n```")]
            #[must_use]
            pub fn status(&self) -> ::http::StatusCode {
                $crate::rejection::Reject::status(self)
            }
        }

        impl ::axum_core::response::IntoResponse for $ty {
            fn into_response(self) -> ::axum_core::response::Response {
                $crate::rejection::Reject::log(&self);
                $crate::rejection::respond(&self)
            }
        }
    };
}
pub(crate) use rejection_type;

/// The response of a rejection: a `303` to its redirect, or its JSON body with its
/// [`RejectionInfo`] attached (which the session layer turns into a page for browsers).
pub(crate) fn respond(rejection: &impl Reject) -> Response {
    if let Some(url) = rejection.redirect() {
        let mut res = page(
            StatusCode::SEE_OTHER,
            "Login required",
            "Redirecting to the login page.",
        );
        if let Ok(location) = HeaderValue::from_str(url) {
            res.headers_mut().insert(LOCATION, location);
        }
        return res;
    }
    let info = RejectionInfo {
        status: rejection.status(),
        code: rejection.code(),
        message: rejection.message(),
        page: rejection.page(),
    };
    let body = serde_json::json!({ "error": info.code, "message": info.message }).to_string();
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = info.status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(challenge) = rejection.challenge() {
        res.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    res.extensions_mut().insert(info);
    res
}

/// Renders one error page: the app's HTML for a [`RejectionInfo`].
pub(crate) type PageFn = Arc<dyn Fn(&RejectionInfo) -> String + Send + Sync>;

/// The pages the app replaced, by [`ErrorPage`].
#[derive(Clone, Default)]
pub(crate) struct ErrorPages(Vec<(ErrorPage, PageFn)>);

impl ErrorPages {
    /// Uses `render` for `page` from now on.
    pub(crate) fn set(&mut self, page: ErrorPage, render: PageFn) {
        self.0.retain(|(p, _)| *p != page);
        self.0.push((page, render));
    }

    /// The pages that were replaced.
    pub(crate) fn replaced(&self) -> Vec<ErrorPage> {
        self.0.iter().map(|(page, _)| *page).collect()
    }

    /// Gives a browser the HTML page of a rejection's response, in place of its JSON body.
    /// Other responses are left alone.
    pub(crate) fn for_browser(&self, res: Response) -> Response {
        let Some(info) = res.extensions().get::<RejectionInfo>() else {
            return res;
        };
        let mut html = match self.0.iter().find(|(page, _)| *page == info.page) {
            Some((_, render)) => {
                let mut html = Response::new(Body::from(render(info)));
                html.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                html
            }
            None => page(info.status, default_title(info), &info.message),
        };
        *html.status_mut() = info.status;
        let (mut parts, _) = res.into_parts();
        parts.headers.remove(CONTENT_TYPE);
        parts.headers.extend(html.headers_mut().drain());
        Response::from_parts(parts, html.into_body())
    }
}

fn default_title(info: &RejectionInfo) -> &'static str {
    match info.page {
        ErrorPage::Unauthenticated => "Login required",
        ErrorPage::Forbidden => "Forbidden",
        ErrorPage::Csrf => "Request refused",
        ErrorPage::Unavailable => "Service unavailable",
        ErrorPage::Other => info.status.canonical_reason().unwrap_or("Error"),
    }
}

/// The plain default page.
fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{}</p></body></html>",
        escape(message)
    );
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

/// `text` with the characters HTML gives a meaning escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether the client is a browser that wants a page rather than JSON.
pub(crate) fn wants_html(headers: &HeaderMap) -> bool {
    headers.get_all(ACCEPT).iter().any(accepts_html)
}

/// Whether one `Accept` header names `text/html`.
pub(crate) fn accepts_html(accept: &HeaderValue) -> bool {
    accept.to_str().is_ok_and(|v| v.contains("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_escaped_in_the_default_page() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
