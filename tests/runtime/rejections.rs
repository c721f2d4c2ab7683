//! Every rejection answers the same way: JSON for clients, an HTML page for browsers, and
//! the pages the app configured in place of the defaults.

use crate::common::{TestStore, post, request, routes, send};
use axum::Router;
use axum::body::Body;
use axum::routing::post as post_route;
use session_runtime::{
    CsrfLayer, ErrorPage, MemoryStore, RejectionInfo, SessionConfig, SessionLayer,
};

fn browser(method: &str, uri: &str, token: Option<&str>) -> http::Request<Body> {
    request(method, uri, token)
        .header("accept", "text/html,application/xhtml+xml")
        .body(Body::empty())
        .unwrap()
}

fn configured() -> SessionConfig {
    SessionConfig::builder()
        .error_page(ErrorPage::Forbidden, |info: &RejectionInfo| {
            format!("<h1>No entry</h1><p>{} ({})</p>", info.message, info.code)
        })
        .error_page(ErrorPage::Unauthenticated, |_| {
            "<h1>Who are you?</h1>".to_owned()
        })
        .error_page(ErrorPage::Unavailable, |info| {
            format!("<h1>Back soon</h1><p>{}</p>", info.status.as_u16())
        })
        .error_page(ErrorPage::Csrf, |info| {
            format!("<h1>Stale form</h1><p>{}</p>", info.code)
        })
        .build()
        .unwrap()
}

async fn logged_in(app: &Router) -> String {
    post(app, "/login/1", None)
        .await
        .token()
        .expect("a session")
}

#[tokio::test]
async fn a_configured_page_replaces_the_default_for_browsers_only() {
    let app = routes::app(TestStore::new(), configured());
    let user = logged_in(&app).await;
    let page = send(&app, browser("GET", "/admin", Some(&user))).await;
    assert_eq!(page.status, 403);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(
        page.body,
        "<h1>No entry</h1><p>forbidden: this requires the staff role (forbidden)</p>"
    );
    // A JSON client still gets the JSON body, whatever pages are configured.
    let json = send(
        &app,
        request("GET", "/admin", Some(&user))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(json.status, 403);
    assert_eq!(json.json()["error"], "forbidden");
    let anonymous = send(&app, browser("GET", "/me", None)).await;
    assert_eq!(
        (anonymous.status.as_u16(), anonymous.body.as_str()),
        (401, "<h1>Who are you?</h1>")
    );
}

#[tokio::test]
async fn without_a_configured_page_browsers_get_the_default_page() {
    let app = routes::app(TestStore::new(), SessionConfig::default());
    let anonymous = send(&app, browser("GET", "/me", None)).await;
    assert_eq!(anonymous.status, 401);
    assert!(
        anonymous.body.contains("<h1>Login required</h1>"),
        "{}",
        anonymous.body
    );
    assert!(anonymous.body.contains("authentication required"));
}

#[tokio::test]
async fn a_store_outage_shows_the_unavailable_page_before_and_after_the_handler() {
    let store = TestStore::new();
    let app = routes::app(store.clone(), configured());
    let user = logged_in(&app).await;
    store.set_down(true);
    let before = send(&app, browser("GET", "/me", Some(&user))).await;
    assert_eq!(
        (before.status.as_u16(), before.body.as_str()),
        (503, "<h1>Back soon</h1><p>503</p>")
    );
    store.set_down(false);
    store.set_writes_down(true);
    let after = send(&app, browser("POST", "/note/hi", Some(&user))).await;
    assert_eq!(
        (after.status.as_u16(), after.body.as_str()),
        (503, "<h1>Back soon</h1><p>503</p>")
    );
    let json = post(&app, "/note/hi", Some(&user)).await;
    assert_eq!(json.status, 503);
    assert_eq!(json.json()["error"], "session_store_unavailable");
}

#[tokio::test]
async fn csrf_refusals_show_the_csrf_page() {
    let app = Router::new()
        .route("/form", post_route(|| async { "accepted" }))
        .layer(CsrfLayer::new())
        .layer(SessionLayer::new(MemoryStore::new(), configured()));
    let cross_site = request("POST", "/form", None)
        .header("accept", "text/html")
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    let page = send(&app, cross_site).await;
    assert_eq!(
        (page.status.as_u16(), page.body.as_str()),
        (403, "<h1>Stale form</h1><p>cross_site_request</p>")
    );
    let no_token = send(&app, browser("POST", "/form", None)).await;
    assert_eq!(
        (no_token.status.as_u16(), no_token.body.as_str()),
        (403, "<h1>Stale form</h1><p>csrf_token_invalid</p>")
    );
    let json = send(
        &app,
        request("POST", "/form", None).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(json.status, 403);
    assert_eq!(json.json()["error"], "csrf_token_invalid");
}

#[tokio::test]
async fn every_rejection_reports_its_status() {
    use axum::response::IntoResponse;
    use session_runtime::{CsrfRejection, SessionError, SessionRejection};
    let cases = [
        (
            SessionRejection::StoreUnavailable.status(),
            SessionRejection::StoreUnavailable.into_response(),
        ),
        (
            CsrfRejection::BadToken.status(),
            CsrfRejection::BadToken.into_response(),
        ),
        (
            SessionError::TooLarge { size: 2, limit: 1 }.status(),
            SessionError::TooLarge { size: 2, limit: 1 }.into_response(),
        ),
    ];
    for (status, res) in cases {
        assert_eq!(status, res.status());
        let info = res
            .extensions()
            .get::<RejectionInfo>()
            .expect("info attached");
        assert_eq!(info.status, status);
    }
}
