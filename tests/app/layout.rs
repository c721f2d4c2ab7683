//! The example's pages as a visitor sees them: the navigation bar on every page, devices
//! named for people, times as "5 minutes ago", the cart as a list, the login page's reason,
//! and the styled `401` / `403` / CSRF pages (JSON still, for API clients).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::Request;
use http::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use serde_json::{Value, json};
use session_runtime::testing::{TestClient, TestResponse};
use session_runtime::{ManualClock, MemoryStore, RequireAuth, SessionConfig, SessionLayer};

use crate::server::{AppSession, Options, error_pages, router_with};
use crate::{USERS, app};

const FIREFOX_ON_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

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

/// `GET path` asking for JSON, as an API client does.
async fn get_json(b: &mut TestClient, path: &str) -> TestResponse {
    b.request(
        Request::get(path)
            .header(ACCEPT, "application/json")
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

fn is_html(r: &TestResponse) -> bool {
    r.header("content-type")
        .is_some_and(|t| t.starts_with("text/html"))
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

#[tokio::test]
async fn the_sessions_page_names_devices_and_says_when() {
    let clock = ManualClock::new();
    let options = Options {
        clock: Arc::new(clock.clone()),
    };
    let app = router_with(MemoryStore::new(), USERS.clone(), options);

    // Alice logs in from Firefox on Linux, then, five minutes later, from another browser.
    let mut firefox = TestClient::new(app.clone());
    let r = firefox
        .request(
            Request::post("/api/login")
                .header(CONTENT_TYPE, "application/json")
                .header(USER_AGENT, FIREFOX_ON_LINUX)
                .body(Body::from(
                    json!({"username": "alice", "password": "alice-pass"}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text());
    clock.advance(Duration::from_secs(5 * 60 + 10));
    let mut b = signed_in(&app, "alice", "alice-pass").await;

    let page = b.get("/sessions").await;
    assert_eq!(page.status(), 200);
    let text = page.text();
    assert!(
        text.contains(&format!(
            "<span class=\"device\" title=\"{FIREFOX_ON_LINUX}\">Firefox on Linux</span>"
        )),
        "{text}"
    );
    // The TestClient sends no User-Agent.
    assert!(
        text.contains("<span class=\"device\">Unknown device</span>"),
        "{text}"
    );
    assert!(text.contains("<time datetime=\""), "{text}");
    assert!(text.contains("UTC\">5 minutes ago</time>"), "{text}");
    assert!(text.contains("UTC\">just now</time>"), "{text}");
    assert!(text.contains("time{white-space:nowrap}"), "{text}");

    // Twenty minutes on (within the idle timeout), the same page says so.
    clock.advance(Duration::from_secs(20 * 60));
    let later = b.get("/sessions").await;
    assert!(
        later.text().contains("UTC\">25 minutes ago</time>"),
        "{}",
        later.text()
    );

    // The JSON API is unchanged: the raw User-Agent and RFC 3339 times.
    let api = get_json(&mut firefox, "/api/sessions").await;
    let list: Value = api.json();
    assert_eq!(list[0]["device"], FIREFOX_ON_LINUX);
    assert!(list[0]["last_seen"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn the_cart_is_a_list() {
    let app = app();
    let mut b = TestClient::new(app);
    let home = b.get("/").await;
    assert!(
        home.text().contains("<p>Your cart is empty.</p>"),
        "{}",
        home.text()
    );
    assert!(!home.text().contains("<ul class=\"cart\">"));
    for item in ["3", "7"] {
        assert_eq!(b.post_form("/cart", &[("item", item)]).await.status(), 303);
    }
    let home = b.get("/").await;
    assert!(
        home.text().contains(
            "<h2>Your cart (2 items)</h2><ul class=\"cart\"><li>Item #3</li><li>Item #7</li></ul>"
        ),
        "{}",
        home.text()
    );
    assert!(!home.text().contains("Your cart is empty"));
}

#[tokio::test]
async fn the_login_page_says_why_the_visitor_is_there() {
    let app = app();
    let mut b = TestClient::new(app);
    // Sent there by a guarded page.
    let r = b.get("/admin").await;
    assert_eq!(r.status(), 303);
    let login = b.get(r.header("location").unwrap()).await;
    assert!(
        login
            .text()
            .contains("<p class=\"reason\">Please log in to see /admin.</p>"),
        "{}",
        login.text()
    );
    // The reason stays on the form shown again after a wrong password.
    let wrong = b
        .post_form(
            "/login",
            &[
                ("username", "alice"),
                ("password", "nope"),
                ("next", "/sessions"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().contains("Please log in to see /sessions."));

    // Escaped.
    let odd = b.get("/login?next=/%22%3E%3Cb%3E").await;
    assert!(
        odd.text()
            .contains("Please log in to see /&quot;&gt;&lt;b&gt;."),
        "{}",
        odd.text()
    );
    assert!(!odd.text().contains("<b>"));

    // No reason without a `next`, for the home page, and for a `next` off the site.
    for path in [
        "/login",
        "/login?next=/",
        "/login?next=//evil.example",
        "/login?next=https%3A%2F%2Fevil.example",
        "/login?next=/%5Cevil.example",
    ] {
        let page = b.get(path).await;
        assert_eq!(page.status(), 200, "{path}");
        assert!(
            !page.text().contains("class=\"reason\""),
            "{path}: {}",
            page.text()
        );
        assert!(!page.text().contains("evil"), "{path}: {}", page.text());
    }
}

#[tokio::test]
async fn the_403_page_is_styled_for_browsers_and_json_for_the_api() {
    let app = app();
    let mut b = signed_in(&app, "alice", "alice-pass").await;
    let page = b.get("/admin").await;
    assert_eq!(page.status(), 403);
    assert!(is_html(&page));
    let text = page.text();
    assert!(text.contains("<title>Forbidden</title>"), "{text}");
    assert!(text.contains("<nav>") && text.contains("<style>"), "{text}");
    assert!(text.contains("<p class=\"status\">Error 403</p>"), "{text}");
    assert!(
        text.contains("your account may not open this page"),
        "{text}"
    );

    let api = get_json(&mut b, "/api/admin").await;
    assert_eq!(api.status(), 403);
    assert_eq!(api.header("content-type"), Some("application/json"));
    assert_eq!(api.json::<Value>()["error"], "forbidden");
}

#[tokio::test]
async fn the_csrf_page_is_styled_for_browsers_and_json_for_the_api() {
    let app = app();
    let mut b = signed_in(&app, "alice", "alice-pass").await;
    b.get("/").await;
    let page = b
        .post_form("/cart", &[("item", "1"), ("csrf_token", "forged")])
        .await;
    assert_eq!(page.status(), 403);
    assert!(is_html(&page));
    let text = page.text();
    assert!(text.contains("<title>Request refused</title>"), "{text}");
    assert!(
        text.contains("<nav>") && text.contains("Error 403"),
        "{text}"
    );
    assert!(text.contains("sent from another site"), "{text}");

    let api = b
        .request(
            Request::post("/api/cart")
                .header(ACCEPT, "application/json")
                .header(CONTENT_TYPE, "application/json")
                .header("origin", "https://evil.example")
                .header("sec-fetch-site", "cross-site")
                .body(Body::from(json!({"item": 1}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(api.status(), 403);
    assert_eq!(api.header("content-type"), Some("application/json"));
    assert_eq!(api.json::<Value>()["error"], "cross_site_request");
    // Neither post reached the cart.
    let cart: Value = get_json(&mut b, "/api/cart").await.json();
    assert_eq!(cart["items"], json!([]));
}

/// The app sends browsers to its login page rather than answer `401`; the styled `401` page
/// is for a configuration without a login URL.
#[tokio::test]
async fn the_401_page_is_styled_for_browsers_and_json_for_the_api() {
    let config: SessionConfig = error_pages::styled(SessionConfig::builder())
        .build()
        .expect("valid");
    let app = Router::new()
        .route(
            "/private",
            get(|user: RequireAuth<AppSession>| async move { user.user_id().to_string() }),
        )
        .layer(SessionLayer::new(MemoryStore::new(), config));
    let mut b = TestClient::new(app);
    let page = b.get("/private").await;
    assert_eq!(page.status(), 401);
    assert!(is_html(&page));
    let text = page.text();
    assert!(text.contains("<title>Login required</title>"), "{text}");
    assert!(
        text.contains("Error 401") && text.contains(LOGIN_LINK),
        "{text}"
    );

    let api = get_json(&mut b, "/private").await;
    assert_eq!(api.status(), 401);
    assert_eq!(api.json::<Value>()["error"], "unauthenticated");
}
