//! Small helpers for the runtime's own responses.

use axum_core::body::Body;
use axum_core::response::Response;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};

/// A JSON error body: `{"error": code, "message": message}`.
pub(crate) fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// A minimal HTML error page for browser requests.
pub(crate) fn html_error(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{message}</p></body></html>"
    );
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

/// A `303` to the login page, with a short page for clients that do not follow it.
pub(crate) fn login_redirect(url: &str, message: &str) -> Response {
    let mut res = html_error(StatusCode::SEE_OTHER, "Login required", message);
    if let Ok(location) = HeaderValue::from_str(url) {
        res.headers_mut().insert(http::header::LOCATION, location);
    }
    res
}

/// Whether the client is a browser that wants a page rather than JSON.
pub(crate) fn accepts_html(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"))
}
