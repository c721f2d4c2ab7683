//! The example's flash notices: "Welcome, NAME" after the login form and "Session ended"
//! after a revoke, each on the page the form redirects to, once.

use crate::app;
use session_runtime::testing::TestClient;

/// A notice as the pages render it.
fn notice(text: &str) -> String {
    format!("<p role=\"status\">{text}</p>")
}

#[tokio::test]
async fn the_welcome_shows_once_on_the_page_after_the_login_form() {
    let app = app();
    let mut b = TestClient::new(app.clone());
    b.get("/login").await;
    let r = b
        .post_form(
            "/login",
            &[("username", "alice"), ("password", "alice-pass")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/");
    assert!(
        !r.text().contains("Welcome"),
        "the redirect itself shows nothing"
    );

    let page = b.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text().contains(&notice("Welcome, alice")),
        "{}",
        page.text()
    );
    let again = b.get("/").await;
    assert!(again.text().contains("Signed in as <strong>alice</strong>"));
    assert!(
        !again.text().contains("Welcome"),
        "shown once: {}",
        again.text()
    );
}

#[tokio::test]
async fn the_welcome_shows_on_the_next_page_whichever_it_is() {
    let app = app();
    let mut b = TestClient::new(app.clone());
    b.get("/login?next=/sessions").await;
    let r = b
        .post_form(
            "/login",
            &[
                ("username", "sam"),
                ("password", "sam-pass"),
                ("next", "/sessions"),
            ],
        )
        .await;
    assert_eq!(r.headers()["location"], "/sessions");
    let page = b.get("/sessions").await;
    assert!(
        page.text().contains(&notice("Welcome, sam")),
        "{}",
        page.text()
    );
    for uri in ["/sessions", "/", "/admin"] {
        let later = b.get(uri).await;
        assert_eq!(later.status(), 200, "{uri}");
        assert!(
            !later.text().contains("role=\"status\""),
            "{uri}: {}",
            later.text()
        );
    }
}

#[tokio::test]
async fn a_failed_login_queues_no_welcome() {
    let app = app();
    let mut b = TestClient::new(app.clone());
    b.get("/login").await;
    let r = b
        .post_form("/login", &[("username", "alice"), ("password", "wrong")])
        .await;
    assert_eq!(r.status(), 401);
    assert!(!b.get("/").await.text().contains("role=\"status\""));
}

#[tokio::test]
async fn session_ended_shows_once_after_a_revoke() {
    let app = app();
    let mut phone = TestClient::new(app.clone());
    phone.get("/login").await;
    phone
        .post_form(
            "/login",
            &[("username", "alice"), ("password", "alice-pass")],
        )
        .await;
    let mut laptop = TestClient::new(app.clone());
    laptop.get("/login").await;
    laptop
        .post_form(
            "/login",
            &[("username", "alice"), ("password", "alice-pass")],
        )
        .await;
    // The laptop sees its welcome, then revokes the phone from its list.
    laptop.get("/").await;
    let list = laptop.get("/sessions").await;
    let start = list
        .text()
        .find("action=\"/sessions/")
        .expect("a revoke button")
        + 18;
    let len = list.text()[start..].find("/revoke").unwrap();
    let id = list.text()[start..start + len].to_owned();
    let r = laptop
        .post_form(&format!("/sessions/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/sessions");

    let page = laptop.get("/sessions").await;
    assert!(
        page.text().contains(&notice("Session ended")),
        "{}",
        page.text()
    );
    assert!(
        !page.text().contains("Welcome"),
        "the welcome was taken before"
    );
    let again = laptop.get("/sessions").await;
    assert!(
        !again.text().contains("Session ended"),
        "shown once: {}",
        again.text()
    );
    assert_eq!(
        phone.get("/sessions").await.status(),
        303,
        "the phone is signed out"
    );
}
