//! Browser pages: redirects to login with `next`, no open redirect, 403 page, logout, CSRF.

use crate::app;
use crate::browser::Browser;
use crate::server::pages::safe_next;

#[tokio::test]
async fn anonymous_admin_visit_redirects_to_login_with_next() {
    let app = app();
    let mut b = Browser::new(&app);
    let r = b.get("/admin").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/login?next=/admin");
    let form = b.get("/login?next=/admin").await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("name=\"next\" value=\"/admin\""),
        "{}",
        form.body
    );
    assert!(
        form.body.contains("name=\"csrf_token\""),
        "the form carries a CSRF token"
    );
}

#[tokio::test]
async fn login_form_goes_to_next_and_the_session_sees_the_admin_page() {
    let app = app();
    let mut b = Browser::new(&app);
    b.get("/login?next=/admin").await;
    let r = b
        .post("/login", "username=sam&password=sam-pass&next=%2Fadmin")
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/admin");
    assert!(r.token().is_some(), "a new session cookie");
    let page = b.get("/admin").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Welcome, sam"));
    let home = b.get("/").await;
    assert!(home.body.contains("Signed in as <strong>sam</strong>"));
}

#[tokio::test]
async fn a_login_form_without_its_token_is_refused() {
    let app = app();
    let mut b = Browser::new(&app);
    b.get("/login").await;
    let r = b
        .send("POST", "/login", Some("username=sam&password=sam-pass"))
        .await;
    assert_eq!(r.status, 403);
    assert!(r.token().is_none(), "no login happened");
    let r = b
        .send(
            "POST",
            "/login",
            Some("username=sam&password=sam-pass&csrf_token=forged"),
        )
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn signed_in_user_without_the_role_gets_a_403_page() {
    let app = app();
    let mut b = Browser::new(&app);
    let r = b.post("/login", "username=alice&password=alice-pass").await;
    assert_eq!(r.headers["location"], "/");
    let page = b.get("/admin").await;
    assert_eq!(page.status, 403);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn wrong_password_on_the_form_shows_the_form_again() {
    let app = app();
    let mut b = Browser::new(&app);
    let r = b
        .post("/login", "username=alice&password=nope&next=%2Fadmin")
        .await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Wrong username or password"));
    assert!(r.body.contains("value=\"/admin\""));
    assert!(r.token().is_none(), "no new session");
}

#[tokio::test]
async fn next_never_leaves_the_site() {
    let app = app();
    for evil in [
        "https%3A%2F%2Fevil.example",
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "evil",
        "%2F%09%2Fevil.example",
        "%2F%EF%BC%8Fevil.example",
        "%2F%252F%2Fevil.example",
        "%20%2Fcart",
        "javascript%3Aalert(1)",
    ] {
        let mut b = Browser::new(&app);
        let form = format!("username=alice&password=alice-pass&next={evil}");
        let r = b.post("/login", &form).await;
        assert_eq!(r.status, 303, "{evil}");
        assert_eq!(r.headers["location"], "/", "{evil}");
    }
    assert_eq!(safe_next(Some("/cart?x=1")), "/cart?x=1");
    assert_eq!(safe_next(Some("/a/b%20c#y")), "/a/b%20c#y");
    assert_eq!(safe_next(None), "/");
}

#[tokio::test]
async fn html_is_escaped_in_the_login_form() {
    let app = app();
    let r = Browser::new(&app)
        .get("/login?next=/%22%3E%3Cscript%3E")
        .await;
    assert!(!r.body.contains("<script>"), "{}", r.body);
    assert!(r.body.contains("&quot;&gt;&lt;script&gt;"));
}

#[tokio::test]
async fn logout_form_clears_the_cookie_and_goes_home() {
    let app = app();
    let mut b = Browser::new(&app);
    b.post("/login", "username=alice&password=alice-pass").await;
    let old = b.session_token().unwrap();
    let r = b.post("/logout", "").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/");
    assert!(r.removes_cookie());
    let replay = crate::common::get(&app, "/api/me", Some(&old)).await;
    assert_eq!(replay.status, 401);
    assert!(b.get("/").await.body.contains("guest"));
}

#[tokio::test]
async fn the_cart_form_adds_items_for_guests() {
    let app = app();
    let mut b = Browser::new(&app);
    let r = b.post("/cart", "item=5").await;
    assert_eq!(r.status, 303);
    let home = b.get("/").await;
    assert!(home.body.contains("Your cart: [5]"), "{}", home.body);
}

#[tokio::test]
async fn cross_site_form_posts_are_refused() {
    let app = app();
    let mut b = Browser::new(&app);
    b.get("/").await;
    let token = crate::browser::csrf_in(&b.get("/").await.body).unwrap();
    let req = crate::common::request("POST", "/cart", None)
        .header("cookie", b.cookie_header().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(axum::body::Body::from(format!("item=1&csrf_token={token}")))
        .unwrap();
    assert_eq!(crate::common::send(&app, req).await.status, 403);
}

/// Anonymous forms keep no server state (DESIGN §2, §3b): the login page, and a failed
/// login, leave no session record and no session cookie, only the CSRF token's own cookie.
#[tokio::test]
async fn the_login_page_and_a_failed_login_store_nothing() {
    let store = session_runtime::MemoryStore::new();
    let app = crate::server::router(store.clone(), crate::USERS.clone());
    let mut b = Browser::new(&app);
    let page = b.get("/login").await;
    assert_eq!(page.status, 200);
    assert!(
        page.set_cookie(crate::COOKIE).is_none(),
        "no session cookie"
    );
    assert!(b.cookie("__Host-csrf").is_some(), "the token's own cookie");
    assert!(store.is_empty(), "rendering the form stored nothing");

    let r = b.post("/login", "username=alice&password=nope").await;
    assert_eq!(r.status, 401);
    assert!(
        b.session_token().is_none(),
        "a failed login leaves no session"
    );
    assert!(store.is_empty());

    // The visitor's token gets them in; the session's own token takes over from there.
    let r = b.post("/login", "username=alice&password=alice-pass").await;
    assert_eq!(r.status, 303);
    assert!(b.session_token().is_some());
    assert_eq!(store.len(), 1);
    let home = b.get("/").await;
    assert!(home.body.contains("alice"), "{}", home.body);
    assert!(
        b.cookie("__Host-csrf").is_none(),
        "removed once the session's token took over"
    );
    let r = b.post("/logout", "").await;
    assert_eq!(r.status, 303);
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
    let mut first = Browser::new(&app);
    assert_eq!(first.post("/cart", "item=1").await.status, 303);
    assert_eq!(store.len(), 1, "the store is full");

    let mut b = Browser::new(&app);
    for page in ["/login", "/login?next=/admin", "/"] {
        assert_eq!(b.get(page).await.status, 200, "{page}");
    }
    assert_eq!(
        b.post("/login", "username=alice&password=nope")
            .await
            .status,
        401
    );
    assert_eq!(
        b.post("/cart", "item=2").await.status,
        503,
        "no room for a guest"
    );
    let r = b.post("/login", "username=alice&password=alice-pass").await;
    assert_eq!(r.status, 303);
    assert!(b.get("/").await.body.contains("alice"));
}
