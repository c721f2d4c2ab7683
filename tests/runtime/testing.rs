//! The testing helpers (feature `test-util`): `TestClient`'s cookie jar, its form posts with
//! the page's CSRF token, and `login_as` in front of the guards, on the memory store and on a
//! throwaway SQLite store.

use std::collections::HashMap;

use axum::body::Body;
use axum::response::Html;
use axum::routing::get;
use axum::{Form, Router};
use http::StatusCode;
use serde_json::{Value, json};
use session_runtime::testing::TestClient;
use session_runtime::{
    CsrfLayer, CsrfToken, MemoryStore, RequireRecentLogin, SessionConfig, SessionLayer,
    SessionStore, SqliteStore,
};

use crate::common::AppSession;
use crate::common::routes::{app, routes};

/// The test routes plus a page with a form and the form's target, behind the CSRF check.
fn forms_app(store: impl SessionStore, config: SessionConfig) -> Router {
    let forms = Router::new()
        .route(
            "/form",
            get(|t: CsrfToken| async move {
                Html(format!(
                    r#"<form method="post" action="/form"><input type="hidden" name="csrf_token" value="{t}"><input name="name"></form>"#
                ))
            })
            .post(|Form(f): Form<HashMap<String, String>>| async move {
                f.get("name").cloned().unwrap_or_default()
            }),
        )
        .layer(CsrfLayer::new());
    routes()
        .merge(forms)
        .layer(SessionLayer::new(store, config))
}

#[tokio::test]
async fn the_jar_keeps_the_session_cookie_and_drops_it_on_logout() {
    let mut client = TestClient::new(app(MemoryStore::new(), SessionConfig::default()));
    assert_eq!(
        client.get("/read").await.json::<Value>()["user_id"],
        Value::Null
    );

    let login = client.post_json("/login/7", &()).await;
    assert_eq!(login.status(), StatusCode::OK);
    let token = client
        .cookie(crate::COOKIE)
        .expect("the login's cookie")
        .to_owned();
    assert!(login.set_cookie(crate::COOKIE).unwrap().contains(&token));
    assert_eq!(client.get("/me").await.json::<Value>()["user_id"], 7);

    client.post_json("/rotate", &()).await;
    let rotated = client.cookie(crate::COOKIE).unwrap().to_owned();
    assert_ne!(rotated, token, "the rotated token replaces the old one");
    assert_eq!(client.get("/me").await.status(), StatusCode::OK);

    let logout = client.post_json("/logout", &()).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert!(
        logout
            .set_cookie(crate::COOKIE)
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(client.cookie(crate::COOKIE), None, "Max-Age=0 drops it");
    assert_eq!(client.get("/me").await.status(), StatusCode::UNAUTHORIZED);

    // A replayed old cookie is anonymous.
    client.set_cookie(crate::COOKIE, rotated);
    assert_eq!(client.get("/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_form_is_posted_with_the_token_of_the_page_and_refused_without_it() {
    let store = MemoryStore::new();
    let mut client = TestClient::new(forms_app(store.clone(), SessionConfig::default()));
    assert_eq!(client.csrf_token(), None);
    // No token yet: refused, as a form from nowhere.
    let blind = client.post_form("/form", &[("name", "x")]).await;
    assert_eq!(blind.status(), StatusCode::FORBIDDEN);

    let page = client.get("/form").await;
    assert_eq!(page.status(), StatusCode::OK);
    let token = client.csrf_token().expect("the page's token").to_owned();
    assert_eq!(
        client.cookie("__Host-csrf"),
        Some(token.as_str()),
        "a visitor's token travels in its own cookie"
    );
    assert_eq!(client.cookie(crate::COOKIE), None, "no session for a form");

    let sent = client.post_form("/form", &[("name", "ada & co")]).await;
    assert_eq!(sent.status(), StatusCode::OK);
    assert_eq!(sent.text(), "ada & co");

    let forged = client
        .post_form("/form", &[("name", "x"), ("csrf_token", "forged")])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // A cross-site post, with the right token, is refused by the origin check.
    let cross = client
        .request(
            http::Request::post("/form")
                .header("sec-fetch-site", "cross-site")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("name=x&csrf_token={token}")))
                .unwrap(),
        )
        .await;
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn login_as_lets_the_guards_in_with_the_chosen_fields() {
    let (store, config) = (MemoryStore::new(), SessionConfig::default());
    let app = forms_app(store.clone(), config.clone());

    let mut user = TestClient::new(app.clone());
    let public_id = user
        .login_as::<AppSession>(&store, &config, 7)
        .with(AppSession::USERNAME, Some("ada".to_owned()))
        .with(AppSession::CART, vec![1, 2])
        .await
        .expect("the store takes the session");
    assert_eq!(
        user.get("/me").await.json::<Value>(),
        json!({ "user_id": 7, "username": "ada" })
    );
    let read = user.get("/read").await.json::<Value>();
    assert_eq!(read["cart"], json!([1, 2]));
    assert_eq!(read["is_staff"], false);
    assert_eq!(user.get("/admin").await.status(), StatusCode::FORBIDDEN);
    let sessions = user.get("/sessions").await.json::<Value>();
    assert_eq!(sessions[0]["id"], public_id.as_str());
    assert_eq!(sessions[0]["current"], true);

    // The session's CSRF token comes with it: a form posts without loading a page first.
    let sent = user.post_form("/form", &[("name", "ada")]).await;
    assert_eq!(sent.status(), StatusCode::OK);
    assert_eq!(sent.text(), "ada");

    let mut staff = TestClient::new(app.clone());
    staff
        .login_as::<AppSession>(&store, &config, 8)
        .with(AppSession::IS_STAFF, true)
        .await
        .unwrap();
    assert_eq!(
        staff.get("/admin").await.json::<Value>(),
        json!({ "staff": 8 })
    );
    assert_eq!(staff.get("/root").await.status(), StatusCode::FORBIDDEN);

    let mut root = TestClient::new(app);
    root.login_as::<AppSession>(&store, &config, 9)
        .with(AppSession::IS_SUPERUSER, true)
        .await
        .unwrap();
    assert_eq!(
        root.get("/root").await.json::<Value>(),
        json!({ "root": 9 })
    );
}

#[tokio::test]
async fn login_as_follows_the_configured_cookie_name_and_clock() {
    let clock = session_runtime::ManualClock::new();
    let config = SessionConfig::builder()
        .cookie_name("sid")
        .host_prefix()
        .clock(clock.clone())
        .build()
        .unwrap();
    let store = MemoryStore::builder().clock(clock.clone()).build();
    let mut client = TestClient::new(app(store.clone(), config.clone()));
    client
        .login_as::<AppSession>(&store, &config, 3)
        .await
        .unwrap();
    assert!(client.cookie("__Host-sid").is_some());
    assert_eq!(client.get("/me").await.status(), StatusCode::OK);

    clock.advance(config.idle_timeout());
    assert_eq!(
        client.get("/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "the session made by login_as expires like any other"
    );
}

#[tokio::test]
async fn a_session_made_by_login_as_is_a_recent_login() {
    async fn sensitive(user: RequireRecentLogin<AppSession, 300>) -> String {
        user.user_id().to_string()
    }
    let clock = session_runtime::ManualClock::new();
    let config = SessionConfig::builder()
        .clock(clock.clone())
        .build()
        .unwrap();
    let store = MemoryStore::builder().clock(clock.clone()).build();
    let app = Router::new()
        .route("/sensitive", get(sensitive))
        .layer(SessionLayer::new(store.clone(), config.clone()));
    let mut client = TestClient::new(app);
    client
        .login_as::<AppSession>(&store, &config, 5)
        .await
        .unwrap();
    assert_eq!(client.get("/sensitive").await.text(), "5");
    clock.advance(std::time::Duration::from_secs(301));
    assert_eq!(
        client.get("/sensitive").await.status(),
        StatusCode::UNAUTHORIZED,
        "the login was made then, and ages"
    );
}

/// A throwaway SQLite store: a database file of its own, removed (with its WAL files) when
/// the test ends.
struct TempSqlite {
    path: std::path::PathBuf,
}

impl TempSqlite {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "session-testing-{name}-{}-{}.db",
            std::process::id(),
            rand::random::<u64>()
        ));
        Self { path }
    }
}

impl Drop for TempSqlite {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.path.as_os_str().to_owned();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

#[tokio::test]
async fn a_throwaway_sqlite_store_per_test() {
    let db = TempSqlite::new("login-as");
    let store = SqliteStore::open(&db.path).await.unwrap();
    let config = SessionConfig::default();
    let mut client = TestClient::new(app(store.clone(), config.clone()));
    client
        .login_as::<AppSession>(&store, &config, 11)
        .with(AppSession::NOTE, "from sqlite".to_owned())
        .await
        .unwrap();
    assert_eq!(
        client.get("/read").await.json::<Value>()["note"],
        "from sqlite"
    );
    client.post_json("/cart/5", &()).await;
    assert_eq!(
        client.get("/read").await.json::<Value>()["cart"],
        json!([5])
    );
    store.close().await;
}
