//! Guards: 401, 303 to the login page, 403, and the roles.

use crate::common::{TestStore, fixture, get, post, request, routes, send};
use axum::body::Body;
use serde_json::json;
use session_runtime::SessionConfig;

#[tokio::test]
async fn anonymous_gets_401_json() {
    let (app, _, _) = fixture();
    for path in ["/me", "/admin", "/root"] {
        let r = get(&app, path, None).await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.json()["error"], "unauthenticated");
        assert!(r.headers["content-type"].to_str().unwrap().contains("json"));
    }
}

#[tokio::test]
async fn browsers_are_redirected_to_the_login_page_with_next() {
    let app = routes::app(
        TestStore::new(),
        SessionConfig::builder()
            .login_url("/login")
            .build()
            .unwrap(),
    );
    let req = request("GET", "/admin?tab=users&x=1", None)
        .header("accept", "text/html,application/xhtml+xml")
        .body(Body::empty())
        .unwrap();
    let r = send(&app, req).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.headers["location"],
        "/login?next=/admin%3Ftab%3Dusers%26x%3D1"
    );
    // JSON clients still get 401 with a login URL configured.
    assert_eq!(get(&app, "/admin", None).await.status, 401);
}

#[tokio::test]
async fn roles_are_enforced() {
    let (app, _, _) = fixture();
    let user = post(&app, "/login/1", None).await.token().unwrap();
    assert_eq!(get(&app, "/me", Some(&user)).await.status, 200);
    let r = get(&app, "/admin", Some(&user)).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "forbidden");
    assert_eq!(get(&app, "/root", Some(&user)).await.status, 403);

    let staff = post(&app, "/login/2", None).await.token().unwrap();
    let staff = post(&app, "/staff/true", Some(&staff))
        .await
        .token()
        .unwrap();
    assert_eq!(
        get(&app, "/admin", Some(&staff)).await.json(),
        json!({"staff": 2})
    );
    assert_eq!(get(&app, "/root", Some(&staff)).await.status, 403);

    let root = post(&app, "/login/3", None).await.token().unwrap();
    let root = post(&app, "/superuser/true", Some(&root))
        .await
        .token()
        .unwrap();
    assert_eq!(get(&app, "/root", Some(&root)).await.status, 200);
    assert_eq!(
        get(&app, "/admin", Some(&root)).await.status,
        200,
        "a superuser passes every staff check"
    );
}

#[tokio::test]
async fn forbidden_browser_requests_get_an_html_page() {
    let (app, _, _) = fixture();
    let user = post(&app, "/login/1", None).await.token().unwrap();
    let req = request("GET", "/admin", Some(&user))
        .header("accept", "text/html")
        .body(Body::empty())
        .unwrap();
    let r = send(&app, req).await;
    assert_eq!(r.status, 403);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.body.contains("staff"));
}
