//! Remember me in the example (DESIGN §5, §8): `"remember": true` on `POST /api/login` and
//! the login form's `remember` checkbox.

use serde_json::{Value, json};
use session_runtime::testing::TestClient;

use crate::{COOKIE, app};

const REMEMBER: &str = "remember";

#[tokio::test]
async fn an_api_login_with_remember_survives_the_end_of_its_session() {
    let mut client = TestClient::new(app());
    let login = client
        .post_json(
            "/api/login",
            &json!({"username": "sam", "password": "sam-pass", "remember": true}),
        )
        .await;
    assert_eq!(login.status(), 200, "{}", login.text());
    let header = login.set_cookie(REMEMBER).expect("a remember cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(header.contains(attribute), "{header}");
    }
    assert!(client.remove_cookie(COOKIE), "the browser closes");

    let me = client.get("/api/me").await;
    assert_eq!(me.status(), 200, "{}", me.text());
    let me: Value = me.json();
    assert_eq!(me["username"], "sam");
    assert_eq!(
        me["is_staff"], true,
        "the identity comes from the user store"
    );
    assert!(client.cookie(COOKIE).is_some(), "a new session cookie");

    let sessions: Value = client.get("/api/sessions").await.json();
    let kinds: Vec<&str> = sessions
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"remembered"), "{sessions}");

    let logout = client.post_json("/api/logout", &json!({})).await;
    assert!(logout.set_cookie(REMEMBER).unwrap().contains("Max-Age=0"));
    // Signed out (a browser-like client is sent to the login page).
    assert!(!client.get("/api/me").await.status().is_success());
    assert_eq!(client.cookie(REMEMBER), None);
}

#[tokio::test]
async fn an_api_login_without_remember_sets_no_remember_cookie() {
    let mut client = TestClient::new(app());
    let login = client
        .post_json(
            "/api/login",
            &json!({"username": "alice", "password": "alice-pass"}),
        )
        .await;
    assert_eq!(login.status(), 200);
    assert_eq!(login.set_cookie(REMEMBER), None);
}

#[tokio::test]
async fn the_login_forms_checkbox_remembers_the_device() {
    for (ticked, remembered) in [(true, true), (false, false)] {
        let mut browser = TestClient::new(app());
        let form = browser.get("/login").await;
        assert!(
            form.text()
                .contains("<input type=\"checkbox\" name=\"remember\">"),
            "{}",
            form.text()
        );
        let mut fields = vec![("username", "alice"), ("password", "alice-pass")];
        if ticked {
            fields.push(("remember", "on"));
        }
        let r = browser.post_form("/login", &fields).await;
        assert_eq!(r.status(), 303, "{}", r.text());
        assert_eq!(browser.cookie(REMEMBER).is_some(), remembered);
        browser.remove_cookie(COOKIE);
        let home = browser.get("/").await;
        assert_eq!(
            home.text().contains("Signed in as <strong>alice</strong>"),
            remembered,
            "{}",
            home.text()
        );
        if remembered {
            let sessions = browser.get("/sessions").await;
            assert!(
                sessions.text().contains("(remembered)"),
                "{}",
                sessions.text()
            );
        }
    }
}
