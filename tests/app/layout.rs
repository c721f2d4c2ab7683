//! The example's pages as a visitor sees them: the navigation bar on every page.

use std::sync::Arc;

use axum::Router;
use session_runtime::MemoryStore;
use session_runtime::testing::{TestClient, TestResponse};

use crate::{USERS, app};

/// The nav bar's part for a signed-in user.
fn signed_in_as(name: &str) -> String {
    format!("<span>Signed in as <strong>{name}</strong></span>")
}

/// The start of the nav bar's logout form, up to its CSRF token's value.
const LOGOUT_FORM: &str = "<form method=\"post\" action=\"/logout\">\
                           <input type=\"hidden\" name=\"csrf_token\" value=\"";

/// The nav bar's login link for guests.
const LOGIN_LINK: &str = "<span class=\"who\"><a href=\"/login\">Log in</a></span>";

/// The `<nav>...</nav>` of a page.
fn nav(r: &TestResponse) -> &str {
    let text = r.text();
    let start = text
        .find("<nav>")
        .unwrap_or_else(|| panic!("no nav: {text}"));
    let end = text[start..].find("</nav>").expect("the nav ends") + start;
    &text[start..end]
}

/// A browser signed in through the login form.
async fn signed_in(app: &Router, user: &str, pass: &str) -> TestClient {
    let mut b = TestClient::new(app.clone());
    b.get("/login").await;
    let r = b
        .post_form("/login", &[("username", user), ("password", pass)])
        .await;
    assert_eq!(r.status(), 303, "{}", r.text());
    b
}

#[tokio::test]
async fn every_page_shows_the_users_name_and_a_logout_form() {
    let app = app();
    let mut b = signed_in(&app, "sam", "sam-pass").await;
    for path in ["/", "/sessions", "/admin"] {
        let page = b.get(path).await;
        assert_eq!(page.status(), 200, "{path}");
        let nav = nav(&page);
        assert!(nav.contains(&signed_in_as("sam")), "{path}: {nav}");
        assert!(nav.contains(LOGOUT_FORM), "{path}: {nav}");
        assert!(nav.contains("<button>Log out</button>"), "{path}: {nav}");
        assert!(!nav.contains(LOGIN_LINK), "{path}: {nav}");
    }
    let missing = b.post_form("/sessions/unknown/revoke", &[]).await;
    assert_eq!(missing.status(), 404);
    assert!(nav(&missing).contains(&signed_in_as("sam")));

    // The nav bar's logout form works: its token is the session's.
    let r = b.post_form("/logout", &[]).await;
    assert_eq!(r.status(), 303);
    assert!(nav(&b.get("/").await).contains(LOGIN_LINK));
}

#[tokio::test]
async fn the_users_name_is_escaped_in_the_nav() {
    use crate::server::AppSession;

    let store = MemoryStore::new();
    let config = crate::server::session_config(Arc::new(session_runtime::SystemClock));
    let mut b = TestClient::new(crate::server::router(store.clone(), USERS.clone()));
    b.login_as::<AppSession>(&store, &config, 1)
        .with(AppSession::USERNAME, Some("<b>al</b>".to_owned()))
        .with(AppSession::AUTH_HASH, USERS.fingerprint(1))
        .await
        .expect("the memory store takes it");
    let home = b.get("/").await;
    assert!(
        nav(&home).contains(&signed_in_as("&lt;b&gt;al&lt;/b&gt;")),
        "{}",
        nav(&home)
    );
}

#[tokio::test]
async fn guests_see_a_login_link_and_no_logout_form() {
    let app = app();
    let mut b = TestClient::new(app);
    for path in ["/", "/login", "/login?next=/admin"] {
        let page = b.get(path).await;
        assert_eq!(page.status(), 200, "{path}");
        let nav = nav(&page);
        assert!(nav.contains(LOGIN_LINK), "{path}: {nav}");
        assert!(
            !nav.contains("/logout") && !nav.contains("Signed in"),
            "{path}: {nav}"
        );
    }
}
