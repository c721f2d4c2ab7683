//! Headers every response of the app carries.

use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, X_FRAME_OPTIONS};
use axum::response::Response;

/// Forbids framing the app's pages on any site (clickjacking: a hostile page cannot lay
/// the app's buttons under its own): `X-Frame-Options: DENY` for older browsers and
/// `Content-Security-Policy: frame-ancestors 'none'`, unless the handler set its own.
/// Used as `axum::middleware::map_response(deny_framing)`, outside the session layer so the
/// pages it answers itself (`401`, `403`, `503`) carry them too.
pub async fn deny_framing(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers
        .entry(X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    headers
        .entry(CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static("frame-ancestors 'none'"));
    response
}
