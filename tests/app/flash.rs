//! The example's flash notices: "Welcome, NAME" after the login form and "Session ended"
//! after a revoke, each on the page the form redirects to, once.

use crate::app;
use crate::browser::Browser;

/// A notice as the pages render it.
fn notice(text: &str) -> String {
    format!("<p role=\"status\">{text}</p>")
}

#[tokio::test]
async fn the_welcome_shows_once_on_the_page_after_the_login_form() {
    let app = app();
    let mut b = Browser::new(&app);
    let r = b.post("/login", "username=alice&password=alice-pass").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/");
    assert!(
        !r.body.contains("Welcome"),
        "the redirect itself shows nothing"
    );

    let page = b.get("/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&notice("Welcome, alice")),
        "{}",
        page.body
    );
    let again = b.get("/").await;
    assert!(again.body.contains("Signed in as <strong>alice</strong>"));
    assert!(
        !again.body.contains("Welcome"),
        "shown once: {}",
        again.body
    );
}

#[tokio::test]
async fn the_welcome_shows_on_the_next_page_whichever_it_is() {
    let app = app();
    let mut b = Browser::new(&app);
    b.get("/login?next=/sessions").await;
    let r = b
        .post("/login", "username=sam&password=sam-pass&next=%2Fsessions")
        .await;
    assert_eq!(r.headers["location"], "/sessions");
    let page = b.get("/sessions").await;
    assert!(page.body.contains(&notice("Welcome, sam")), "{}", page.body);
    for uri in ["/sessions", "/", "/admin"] {
        let later = b.get(uri).await;
        assert_eq!(later.status, 200, "{uri}");
        assert!(
            !later.body.contains("role=\"status\""),
            "{uri}: {}",
            later.body
        );
    }
}

#[tokio::test]
async fn a_failed_login_queues_no_welcome() {
    let app = app();
    let mut b = Browser::new(&app);
    let r = b.post("/login", "username=alice&password=wrong").await;
    assert_eq!(r.status, 401);
    assert!(!b.get("/").await.body.contains("role=\"status\""));
}

#[tokio::test]
async fn session_ended_shows_once_after_a_revoke() {
    let app = app();
    let mut phone = Browser::new(&app);
    phone
        .post("/login", "username=alice&password=alice-pass")
        .await;
    let mut laptop = Browser::new(&app);
    laptop
        .post("/login", "username=alice&password=alice-pass")
        .await;
    // The laptop sees its welcome, then revokes the phone from its list.
    laptop.get("/").await;
    let list = laptop.get("/sessions").await;
    let start = list
        .body
        .find("action=\"/sessions/")
        .expect("a revoke button")
        + 18;
    let len = list.body[start..].find("/revoke").unwrap();
    let id = list.body[start..start + len].to_owned();
    let r = laptop.post(&format!("/sessions/{id}/revoke"), "").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/sessions");

    let page = laptop.get("/sessions").await;
    assert!(
        page.body.contains(&notice("Session ended")),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Welcome"),
        "the welcome was taken before"
    );
    let again = laptop.get("/sessions").await;
    assert!(
        !again.body.contains("Session ended"),
        "shown once: {}",
        again.body
    );
    assert_eq!(
        phone.get("/sessions").await.status,
        303,
        "the phone is signed out"
    );
}
