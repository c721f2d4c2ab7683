//! Browser pages: redirects to login with `next`, no open redirect, 403 page, logout, CSRF.

use http::StatusCode;

use crate::server::pages::safe_next;
use crate::{app, removes_session, token};
use session_runtime::testing::TestClient;

#[tokio::test]
async fn anonymous_admin_visit_redirects_to_login_with_next() {
    let app = app();
    let mut b = TestClient::new(app.clone());
    let r = b.get("/admin").await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=/admin");
    let form = b.get("/login?next=/admin").await;
    assert_eq!(form.status(), 200);
    assert!(
        form.text().contains("name=\"next\" value=\"/admin\""),
        "{}",
        form.text()
    );
    assert!(
        form.text().contains("name=\"csrf_token\""),
        "the form carries a CSRF token"
    );
}

#[tokio::test]
async fn login_form_goes_to_next_and_the_session_sees_the_admin_page() {
    let app = app();
    let mut b = TestClient::new(app.clone());
    b.get("/login?next=/admin").await;
    let r = b
        .post_form(
            "/login",
            &[
                ("username", "sam"),
                ("password", "sam-pass"),
                ("next", "/admin"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin");
    assert!(token(&r).is_some(), "a new session cookie");
    let page = b.get("/admin").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().contains("Welcome, sam"));
    let home = b.get("/").await;
    assert!(home.text().contains("Signed in as <strong>sam</strong>"));
}

#[tokio::test]
async fn a_login_form_without_its_token_is_refused() {
    let app = app();
    let mut b = TestClient::new(app.clone());
    b.get("/login").await;
    let untokened = http::Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("username=sam&password=sam-pass"))
        .unwrap();
    let r = b.request(untokened).await;
    assert_eq!(r.status(), 403);
    assert!(token(&r).is_none(), "no login happened");
    let r = b
        .post_form(
            "/login",
            &[
                ("username", "sam"),
                ("password", "sam-pass"),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn signed_in_user_without_the_role_gets_a_403_page() {
    let app = app();
    let mut b = TestClient::new(app.clone());
    b.get("/login").await;
    let r = b
        .post_form(
            "/login",
            &[("username", "alice"), ("password", "alice-pass")],
        )
        .await;
    assert_eq!(r.headers()["location"], "/");
    let page = b.get("/admin").await;
    assert_eq!(page.status(), 403);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn wrong_password_on_the_form_shows_the_form_again() {
    let app = app();
    let mut b = TestClient::new(app.clone());
    b.get("/login").await;
    let r = b
        .post_form(
            "/login",
            &[
                ("username", "alice"),
                ("password", "nope"),
                ("next", "/admin"),
            ],
        )
        .await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("Wrong username or password"));
    assert!(r.text().contains("value=\"/admin\""));
    assert!(token(&r).is_none(), "no new session");
}

#[tokio::test]
async fn next_never_leaves_the_site() {
    let app = app();
    for evil in [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "evil",
        "/\t/evil.example",
        "/\u{ff0f}evil.example",
        "/%2F/evil.example",
        " /cart",
        "javascript:alert(1)",
    ] {
        let mut b = TestClient::new(app.clone());
        b.get("/login").await;
        let form = [
            ("username", "alice"),
            ("password", "alice-pass"),
            ("next", evil),
        ];
        let r = b.post_form("/login", &form).await;
        assert_eq!(r.status(), 303, "{evil}");
        assert_eq!(r.headers()["location"], "/", "{evil}");
    }
    assert_eq!(safe_next(Some("/cart?x=1")), "/cart?x=1");
    assert_eq!(safe_next(Some("/a/b%20c#y")), "/a/b%20c#y");
    assert_eq!(safe_next(None), "/");
}

#[tokio::test]
async fn html_is_escaped_in_the_login_form() {
    let app = app();
    let r = TestClient::new(app.clone())
        .get("/login?next=/%22%3E%3Cscript%3E")
        .await;
    assert!(!r.text().contains("<script>"), "{}", r.text());
    assert!(r.text().contains("&quot;&gt;&lt;script&gt;"));
}

#[tokio::test]
async fn logout_form_clears_the_cookie_and_goes_home() {
    let app = app();
    let mut b = TestClient::new(app.clone());
    b.get("/login").await;
    b.post_form(
        "/login",
        &[("username", "alice"), ("password", "alice-pass")],
    )
    .await;
    b.get("/").await; // the page with the logout form
    let old = b.cookie(crate::COOKIE).unwrap().to_owned();
    let r = b.post_form("/logout", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/");
    assert!(removes_session(&r));
    let replay = crate::common::get(&app, "/api/me", Some(&old)).await;
    assert_eq!(replay.status, 401);
    assert!(b.get("/").await.text().contains("guest"));
}

#[tokio::test]
async fn the_cart_form_adds_items_for_guests() {
    let app = app();
    let mut b = TestClient::new(app.clone());
    b.get("/").await;
    let r = b.post_form("/cart", &[("item", "5")]).await;
    assert_eq!(r.status(), 303);
    let home = b.get("/").await;
    assert!(
        home.text()
            .contains("<ul class=\"cart\"><li>Item #5</li></ul>"),
        "{}",
        home.text()
    );
}

#[tokio::test]
async fn cross_site_form_posts_are_refused() {
    let app = app();
    let mut b = TestClient::new(app.clone());
    b.get("/").await;
    let token = b.csrf_token().unwrap().to_owned();
    let req = http::Request::post("/cart")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(axum::body::Body::from(format!("item=1&csrf_token={token}")))
        .unwrap();
    assert_eq!(b.request(req).await.status(), StatusCode::FORBIDDEN);
}

/// Anonymous forms keep no server state (DESIGN §2, §3b): the login page, and a failed
/// login, leave no session record and no session cookie, only the CSRF token's own cookie.
#[tokio::test]
async fn the_login_page_and_a_failed_login_store_nothing() {
    let store = session_runtime::MemoryStore::new();
    let app = crate::server::router(store.clone(), crate::USERS.clone());
    let mut b = TestClient::new(app.clone());
    let page = b.get("/login").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.set_cookie(crate::COOKIE).is_none(),
        "no session cookie"
    );
    assert!(b.cookie("__Host-csrf").is_some(), "the token's own cookie");
    assert!(store.is_empty(), "rendering the form stored nothing");

    let r = b
        .post_form("/login", &[("username", "alice"), ("password", "nope")])
        .await;
    assert_eq!(r.status(), 401);
    assert!(
        b.cookie(crate::COOKIE).is_none(),
        "a failed login leaves no session"
    );
    assert!(store.is_empty());

    // The visitor's token gets them in; the session's own token takes over from there.
    let r = b
        .post_form(
            "/login",
            &[("username", "alice"), ("password", "alice-pass")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(b.cookie(crate::COOKIE).is_some());
    assert_eq!(store.len(), 1);
    let home = b.get("/").await;
    assert!(home.text().contains("alice"), "{}", home.text());
    assert!(
        b.cookie("__Host-csrf").is_none(),
        "removed once the session's token took over"
    );
    let r = b.post_form("/logout", &[]).await;
    assert_eq!(r.status(), 303);
}

/// A full store (the memory store's cap on guest sessions reached) must not take down pages
/// that need no session: the login page still renders and signing in still works (the cap
/// holds guests only); only a new guest session is refused.
#[tokio::test]
async fn a_full_store_leaves_the_login_page_up() {
    let store = session_runtime::MemoryStore::builder()
        .max_records(1)
        .build();
    let app = crate::server::router(store.clone(), crate::USERS.clone());
    let mut first = TestClient::new(app.clone());
    first.get("/").await;
    assert_eq!(
        first.post_form("/cart", &[("item", "1")]).await.status(),
        303
    );
    assert_eq!(store.len(), 1, "the store is full");

    let mut b = TestClient::new(app.clone());
    for page in ["/login", "/login?next=/admin", "/"] {
        assert_eq!(b.get(page).await.status(), 200, "{page}");
    }
    assert_eq!(
        b.post_form("/login", &[("username", "alice"), ("password", "nope")])
            .await
            .status(),
        401
    );
    assert_eq!(
        b.post_form("/cart", &[("item", "2")]).await.status(),
        503,
        "no room for a guest"
    );
    let r = b
        .post_form(
            "/login",
            &[("username", "alice"), ("password", "alice-pass")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(b.get("/").await.text().contains("alice"));
}

/// A staff member's session (sam, user 2) started directly in the store, without the login
/// form: the admin page lets them in, and the home page's cart form posts with the session's token.
#[tokio::test]
async fn a_staff_session_made_in_the_store_sees_the_admin_page_and_posts_forms() {
    use crate::server::AppSession;

    let store = session_runtime::MemoryStore::new();
    let config = crate::server::session_config(std::sync::Arc::new(session_runtime::SystemClock));
    let mut b = TestClient::new(crate::server::router(store.clone(), crate::USERS.clone()));
    b.login_as::<AppSession>(&store, &config, 2)
        .with(AppSession::USERNAME, Some("sam".to_owned()))
        .with(AppSession::IS_STAFF, true)
        .with(AppSession::CART, vec![4])
        // What the login form stores: the password's fingerprint, which the layer checks.
        .with(AppSession::AUTH_HASH, crate::USERS.fingerprint(2))
        .await
        .expect("the memory store takes it");
    let page = b.get("/admin").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text().contains("Welcome, sam (user 2)"),
        "{}",
        page.text()
    );
    assert_eq!(b.post_form("/cart", &[("item", "5")]).await.status(), 303);
    let home = b.get("/").await;
    assert!(
        home.text()
            .contains("<ul class=\"cart\"><li>Item #4</li><li>Item #5</li></ul>"),
        "{}",
        home.text()
    );
}
