//! Caching (DESIGN §2): a shared cache must never hand one visitor's session to another.
//! Responses that set or remove the session cookie say `Cache-Control: no-store`; responses
//! to requests whose session was read say `Vary: Cookie`, merged with the handler's `Vary`.

use crate::common::{fixture, get, post, routes::routes, send};
use axum::Router;
use axum::body::Body;
use axum::routing::get as get_route;
use http::header::{CACHE_CONTROL, VARY};
use session_runtime::{MemoryStore, Session, SessionConfig, SessionLayer};

use crate::common::AppSession;

fn vary(r: &crate::common::Reply) -> Vec<String> {
    r.headers
        .get_all(VARY)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cache_control(r: &crate::common::Reply) -> Option<String> {
    r.headers
        .get(CACHE_CONTROL)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_response_that_sets_the_cookie_is_not_stored_by_caches() {
    let (app, _, _) = fixture();
    let r = post(&app, "/cart/5", None).await;
    assert!(r.token().is_some());
    assert_eq!(cache_control(&r).as_deref(), Some("no-store"));
    assert_eq!(vary(&r), ["Cookie"]);

    let r = post(&app, "/login/7", r.token().as_deref()).await;
    assert!(r.token().is_some(), "login issues a new cookie");
    assert_eq!(cache_control(&r).as_deref(), Some("no-store"));
}

#[tokio::test]
async fn a_response_that_removes_the_cookie_is_not_stored_by_caches() {
    let (app, _, _) = fixture();
    let token = post(&app, "/login/7", None).await.token().unwrap();
    let r = post(&app, "/logout", Some(&token)).await;
    assert!(r.removes_cookie());
    assert_eq!(cache_control(&r).as_deref(), Some("no-store"));
    assert_eq!(vary(&r), ["Cookie"]);
}

#[tokio::test]
async fn a_response_that_read_the_session_varies_on_cookie_without_forbidding_caches() {
    let (app, _, _) = fixture();
    let token = post(&app, "/cart/5", None).await.token().unwrap();
    // A read that writes nothing: no cookie, so caching stays the handler's business,
    // but the answer depends on the cookie.
    let r = get(&app, "/read", Some(&token)).await;
    assert!(r.set_cookie("session").is_none());
    assert_eq!(cache_control(&r), None);
    assert_eq!(vary(&r), ["Cookie"]);
    // An anonymous read depends on the (absent) cookie just the same.
    let r = get(&app, "/read", None).await;
    assert_eq!(vary(&r), ["Cookie"]);
    // A guard's refusal read the session too.
    let r = get(&app, "/me", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(vary(&r), ["Cookie"]);
}

#[tokio::test]
async fn a_response_that_never_read_the_session_is_left_alone() {
    let (app, _, _) = fixture();
    let r = get(&app, "/public", None).await;
    assert_eq!(r.status, 200);
    assert!(vary(&r).is_empty());
    assert_eq!(cache_control(&r), None);
}

/// Routes that set their own `Vary` and `Cache-Control` before the layer adds to them.
fn app_with_headers() -> Router {
    async fn read_with(
        session: Session<AppSession>,
        vary: &'static [&'static str],
    ) -> ([(http::HeaderName, &'static str); 1], http::HeaderMap) {
        let _ = session.cart();
        let mut headers = http::HeaderMap::new();
        for v in vary {
            headers.append(VARY, http::HeaderValue::from_static(v));
        }
        ([(CACHE_CONTROL, "public, max-age=600")], headers)
    }
    routes()
        .route(
            "/vary-one",
            get_route(|s: Session<AppSession>| read_with(s, &["Accept-Encoding"])),
        )
        .route(
            "/vary-two",
            get_route(|s: Session<AppSession>| {
                read_with(s, &["Accept-Encoding, Origin", "Accept-Language"])
            }),
        )
        .route(
            "/vary-cookie",
            get_route(|s: Session<AppSession>| read_with(s, &["accept-encoding, COOKIE"])),
        )
        .route(
            "/vary-star",
            get_route(|s: Session<AppSession>| read_with(s, &["*"])),
        )
        .route(
            "/write-cached",
            get_route(|s: Session<AppSession>| async move {
                s.update_cart(|c| c.push(1)).unwrap();
                [(CACHE_CONTROL, "public, max-age=600")]
            }),
        )
        .layer(SessionLayer::new(
            MemoryStore::new(),
            SessionConfig::default(),
        ))
}

#[tokio::test]
async fn cookie_is_merged_into_the_handlers_vary() {
    let app = app_with_headers();
    let r = get(&app, "/vary-one", None).await;
    assert_eq!(vary(&r), ["Accept-Encoding, Cookie"]);
    // The handler's caching of a response that sets no cookie is its own.
    assert_eq!(cache_control(&r).as_deref(), Some("public, max-age=600"));

    let r = get(&app, "/vary-two", None).await;
    assert_eq!(
        vary(&r),
        ["Accept-Encoding, Origin, Accept-Language, Cookie"]
    );

    let r = get(&app, "/vary-cookie", None).await;
    assert_eq!(
        vary(&r),
        ["accept-encoding, COOKIE"],
        "already there: kept as it was"
    );

    let r = get(&app, "/vary-star", None).await;
    assert_eq!(vary(&r), ["*"], "`*` already varies on everything");
}

#[tokio::test]
async fn setting_the_cookie_overrides_the_handlers_caching() {
    let app = app_with_headers();
    let r = send(
        &app,
        http::Request::get("/write-cached")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(r.token().is_some());
    let values: Vec<_> = r.headers.get_all(CACHE_CONTROL).iter().collect();
    assert_eq!(values, ["no-store"]);
}
