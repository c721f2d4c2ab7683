//! Browser pages: redirects to login with `next`, no open redirect, 403 page, logout.

use axum::body::Body;

use crate::app;
use crate::common::{Reply, request, send};
use crate::server::pages::safe_next;

async fn browse(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    form: Option<&str>,
) -> Reply {
    let mut b = request(method, uri, token).header("accept", "text/html");
    let body = match form {
        Some(f) => {
            b = b.header("content-type", "application/x-www-form-urlencoded");
            Body::from(f.to_owned())
        }
        None => Body::empty(),
    };
    send(app, b.body(body).unwrap()).await
}

#[tokio::test]
async fn anonymous_admin_visit_redirects_to_login_with_next() {
    let app = app();
    let r = browse(&app, "GET", "/admin", None, None).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/login?next=/admin");
    let form = browse(&app, "GET", "/login?next=/admin", None, None).await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("name=\"next\" value=\"/admin\""),
        "{}",
        form.body
    );
}

#[tokio::test]
async fn login_form_goes_to_next_and_the_session_sees_the_admin_page() {
    let app = app();
    let r = browse(
        &app,
        "POST",
        "/login",
        None,
        Some("username=sam&password=sam-pass&next=%2Fadmin"),
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/admin");
    let t = r.token().expect("session cookie");
    let page = browse(&app, "GET", "/admin", Some(&t), None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Welcome, sam"));
    let home = browse(&app, "GET", "/", Some(&t), None).await;
    assert!(home.body.contains("Signed in as <strong>sam</strong>"));
}

#[tokio::test]
async fn signed_in_user_without_the_role_gets_a_403_page() {
    let app = app();
    let r = browse(
        &app,
        "POST",
        "/login",
        None,
        Some("username=alice&password=alice-pass"),
    )
    .await;
    assert_eq!(r.headers["location"], "/");
    let t = r.token().unwrap();
    let page = browse(&app, "GET", "/admin", Some(&t), None).await;
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
    let r = browse(
        &app,
        "POST",
        "/login",
        None,
        Some("username=alice&password=nope&next=%2Fadmin"),
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Wrong username or password"));
    assert!(r.body.contains("value=\"/admin\""));
    assert!(r.set_cookie("session").is_none());
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
    ] {
        let form = format!("username=alice&password=alice-pass&next={evil}");
        let r = browse(&app, "POST", "/login", None, Some(&form)).await;
        assert_eq!(r.status, 303, "{evil}");
        assert_eq!(r.headers["location"], "/", "{evil}");
    }
    assert_eq!(safe_next(Some("/cart?x=1")), "/cart?x=1");
    assert_eq!(safe_next(None), "/");
}

#[tokio::test]
async fn html_is_escaped_in_the_login_form() {
    let app = app();
    let r = browse(&app, "GET", "/login?next=/%22%3E%3Cscript%3E", None, None).await;
    assert!(!r.body.contains("<script>"), "{}", r.body);
    assert!(r.body.contains("&quot;&gt;&lt;script&gt;"));
}

#[tokio::test]
async fn logout_form_clears_the_cookie_and_goes_home() {
    let app = app();
    let t = browse(
        &app,
        "POST",
        "/login",
        None,
        Some("username=alice&password=alice-pass"),
    )
    .await
    .token()
    .unwrap();
    let r = browse(&app, "POST", "/logout", Some(&t), None).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/");
    assert!(r.removes_cookie());
    let home = browse(&app, "GET", "/", Some(&t), None).await;
    assert!(home.body.contains("guest"));
}

#[tokio::test]
async fn the_cart_form_adds_items_for_guests() {
    let app = app();
    let r = browse(&app, "POST", "/cart", None, Some("item=5")).await;
    assert_eq!(r.status, 303);
    let t = r.token().unwrap();
    let home = browse(&app, "GET", "/", Some(&t), None).await;
    assert!(home.body.contains("Your cart: [5]"), "{}", home.body);
}
