//! API tokens (DESIGN §6): minted by a logged-in browser session, sent as
//! `Authorization: Bearer TOKEN`, listed, revoked and ended like the user's other sessions.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{Request, StatusCode, header};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use session_runtime::testing::{TestClient, TestResponse};
use session_runtime::{
    CsrfLayer, CsrfToken, ManualClock, MemoryStore, PublicId, RequireAuth, RequireRecentLogin,
    RequireStaff, Session, SessionConfig, SessionError, SessionLayer, SessionSchema,
};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(SessionSchema)]
pub struct TokenSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    #[session(staff)]
    pub is_staff: bool,
    pub note: Option<String>,
}

fn app(store: MemoryStore, clock: &ManualClock) -> Router {
    let config = SessionConfig::builder()
        .clock(clock.clone())
        .build()
        .unwrap();
    Router::new()
        .route(
            "/form",
            get(|csrf: CsrfToken| async move {
                axum::response::Html(format!(
                    "<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">",
                    csrf.as_str()
                ))
            }),
        )
        .route(
            "/login/{id}",
            post(|s: Session<TokenSession>, Path(id): Path<i64>| async move {
                s.login(id).await?;
                s.set_is_staff(id == 2)
            }),
        )
        .route(
            "/me",
            get(|u: RequireAuth<TokenSession>| async move {
                Json(json!({ "user_id": u.user_id(), "note": u.note(), "staff": u.is_staff() }))
            }),
        )
        .route(
            "/staff",
            get(|_: RequireStaff<TokenSession>| async { "staff" }),
        )
        .route(
            "/note/{text}",
            post(
                |u: RequireAuth<TokenSession>, Path(text): Path<String>| async move {
                    u.session().set_note(Some(text))
                },
            ),
        )
        .route(
            "/tokens",
            post(|u: RequireRecentLogin<TokenSession, 600>| async move {
                let token = u.session().create_api_token("ci script").await?;
                Ok::<_, SessionError>((
                    StatusCode::CREATED,
                    Json(
                        json!({ "id": token.id(), "name": token.name(), "token": token.secret() }),
                    ),
                ))
            }),
        )
        .route(
            "/relogin",
            post(|s: Session<TokenSession>| async move { s.login(1).await }),
        )
        .route(
            "/rotate",
            post(|s: Session<TokenSession>| async move { s.rotate().await }),
        )
        .route(
            "/logout-others",
            post(|u: RequireAuth<TokenSession>| async move {
                u.session().logout_others().await.map(drop)
            }),
        )
        .route(
            "/logout-everywhere",
            post(|u: RequireAuth<TokenSession>| async move {
                u.session().logout_everywhere().await.map(drop)
            }),
        )
        .route(
            "/password",
            post(|u: RequireAuth<TokenSession>| async move {
                u.session().password_changed().await.map(drop)
            }),
        )
        .route(
            "/sessions",
            get(|u: RequireAuth<TokenSession>| async move {
                u.session().list_sessions().await.map(Json)
            }),
        )
        .route(
            "/sessions/{id}",
            delete(
                |u: RequireAuth<TokenSession>, Path(id): Path<String>| async move {
                    let id = PublicId::parse(&id).ok_or(StatusCode::NOT_FOUND)?;
                    match u.session().revoke_session(&id).await {
                        Ok(true) => Ok(StatusCode::NO_CONTENT),
                        Ok(false) => Err(StatusCode::NOT_FOUND),
                        Err(_) => Err(StatusCode::SERVICE_UNAVAILABLE),
                    }
                },
            ),
        )
        .layer(CsrfLayer::new())
        .layer(SessionLayer::new(store, config))
}

/// A browser logged in as `id` (staff for 2) and a token it minted.
async fn browser_with_token(app: &Router, id: i64) -> (TestClient, Value) {
    let mut browser = TestClient::new(app.clone());
    browser.get("/form").await; // the visitor's CSRF token
    assert_eq!(
        browser
            .post_form(&format!("/login/{id}"), &[])
            .await
            .status(),
        200
    );
    browser.get("/form").await; // the session's CSRF token
    let minted = browser.post_form("/tokens", &[]).await;
    assert_eq!(minted.status(), 201, "{}", minted.text());
    let minted: Value = minted.json();
    (browser, minted)
}

/// A request of an API client: the bearer token, JSON, no cookie jar.
async fn api(app: &Router, method: &str, path: &str, token: &str) -> TestResponse {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    TestClient::new(app.clone()).request(req).await
}

fn secret(minted: &Value) -> &str {
    minted["token"].as_str().unwrap()
}

#[tokio::test]
async fn a_bearer_token_is_its_users_session_and_gets_no_cookie() {
    let clock = ManualClock::new();
    let app = app(MemoryStore::new(), &clock);
    let (_, minted) = browser_with_token(&app, 2).await;
    assert_eq!(minted["name"], "ci script");
    assert_eq!(secret(&minted).len(), 43);

    let me = api(&app, "GET", "/me", secret(&minted)).await;
    assert_eq!(me.status(), 200, "{}", me.text());
    assert_eq!(me.json::<Value>()["user_id"], 2);
    assert!(me.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(
        api(&app, "GET", "/staff", secret(&minted)).await.status(),
        200
    );
    // A write: no CSRF token, no cookie, and it sticks.
    let note = api(&app, "POST", "/note/hello", secret(&minted)).await;
    assert_eq!(note.status(), 200, "{}", note.text());
    assert!(note.headers().get(header::SET_COOKIE).is_none());
    let me: Value = api(&app, "GET", "/me", secret(&minted)).await.json();
    assert_eq!(me["note"], "hello");
}

#[tokio::test]
async fn the_token_starts_as_a_copy_and_then_goes_its_own_way() {
    let clock = ManualClock::new();
    let app = app(MemoryStore::new(), &clock);
    let mut browser = TestClient::new(app.clone());
    browser.get("/form").await;
    browser.post_form("/login/2", &[]).await;
    browser.get("/form").await;
    browser.post_form("/note/from-browser", &[]).await;
    let minted: Value = browser.post_form("/tokens", &[]).await.json();
    let me: Value = api(&app, "GET", "/me", secret(&minted)).await.json();
    assert_eq!(
        (me["note"].clone(), me["staff"].clone()),
        (json!("from-browser"), json!(true))
    );
    api(&app, "POST", "/note/from-token", secret(&minted)).await;
    let browser_me: Value = browser.get("/me").await.json();
    assert_eq!(
        browser_me["note"], "from-browser",
        "the browser's session is its own"
    );
}

#[tokio::test]
async fn bad_unknown_and_ended_tokens_get_401_with_a_bearer_challenge() {
    let clock = ManualClock::new();
    let app = app(MemoryStore::new(), &clock);
    let (mut browser, minted) = browser_with_token(&app, 1).await;
    let session_cookie = browser.cookie("session").unwrap().to_owned();
    let revoked = minted["id"].as_str().unwrap().to_owned();
    let unknown = "A".repeat(43);
    let cases = [
        ("", "missing"),
        ("not-a-token", "malformed"),
        (unknown.as_str(), "unknown"),
        (session_cookie.as_str(), "a browser session's token"),
    ];
    for (token, what) in cases {
        let r = api(&app, "GET", "/me", token).await;
        assert_eq!(r.status(), 401, "{what}");
        assert_eq!(
            r.header("www-authenticate"),
            Some(r#"Bearer error="invalid_token""#),
            "{what}"
        );
        assert_eq!(r.json::<Value>()["error"], "invalid_token", "{what}");
    }
    let revoke = Request::delete(format!("/sessions/{revoked}"))
        .header("x-csrf-token", browser.csrf_token().unwrap())
        .body(Body::empty())
        .unwrap();
    assert_eq!(browser.request(revoke).await.status(), 204);
    let r = api(&app, "GET", "/me", secret(&minted)).await;
    assert_eq!(r.status(), 401, "a revoked token");
    assert!(r.header("www-authenticate").is_some());
}

#[tokio::test]
async fn a_bearer_request_ignores_any_session_cookie() {
    let clock = ManualClock::new();
    let app = app(MemoryStore::new(), &clock);
    let (mut staff_browser, _) = browser_with_token(&app, 2).await;
    let (_, user_token) = browser_with_token(&app, 1).await;
    // The staff browser's cookie rides along with user 1's token: the token decides.
    let req = Request::get("/me")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", secret(&user_token)),
        )
        .body(Body::empty())
        .unwrap();
    let me = staff_browser.request(req).await;
    assert_eq!(me.json::<Value>()["user_id"], 1);
    // An invalid token with a valid cookie is still refused.
    let req = Request::get("/me")
        .header(header::AUTHORIZATION, "Bearer nope")
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    assert_eq!(staff_browser.request(req).await.status(), 401);
}

#[tokio::test]
async fn login_and_minting_on_a_bearer_session_are_refused_and_rotation_is_a_no_op() {
    let clock = ManualClock::new();
    let app = app(MemoryStore::new(), &clock);
    let (_, minted) = browser_with_token(&app, 1).await;
    let relogin = api(&app, "POST", "/relogin", secret(&minted)).await;
    assert_eq!(relogin.status(), 403, "{}", relogin.text());
    assert_eq!(
        relogin.json::<Value>()["error"],
        "not_allowed_with_bearer_token"
    );
    // A token proves no recent password: it cannot mint another.
    assert_eq!(
        api(&app, "POST", "/tokens", secret(&minted)).await.status(),
        401
    );
    let rotate = api(&app, "POST", "/rotate", secret(&minted)).await;
    assert_eq!(rotate.status(), 200);
    assert_eq!(
        api(&app, "GET", "/me", secret(&minted)).await.status(),
        200,
        "same token"
    );
}

#[tokio::test]
async fn tokens_are_listed_and_survive_logout_others_but_not_everywhere_or_a_password_change() {
    for (route, survives) in [
        ("/logout-others", true),
        ("/logout-everywhere", false),
        ("/password", false),
    ] {
        let clock = ManualClock::new();
        let app = app(MemoryStore::new(), &clock);
        let (mut browser, minted) = browser_with_token(&app, 1).await;
        let listed: Vec<Value> = browser.get("/sessions").await.json();
        let token = listed
            .iter()
            .find(|s| s["kind"] == "api")
            .unwrap_or_else(|| panic!("the token is listed: {listed:?}"));
        assert_eq!(token["device"], "ci script");
        assert_eq!(token["id"], minted["id"]);
        assert!(
            browser.post_form(route, &[]).await.status().is_success(),
            "{route}"
        );
        let status = api(&app, "GET", "/me", secret(&minted)).await.status();
        assert_eq!(status == StatusCode::OK, survives, "{route}: {status}");
    }
}

#[tokio::test]
async fn a_token_lives_90_days_with_no_idle_timeout() {
    let clock = ManualClock::new();
    let app = app(MemoryStore::new(), &clock);
    let (_, minted) = browser_with_token(&app, 1).await;
    clock.advance(45 * DAY);
    assert_eq!(api(&app, "GET", "/me", secret(&minted)).await.status(), 200);
    clock.advance(44 * DAY);
    assert_eq!(api(&app, "GET", "/me", secret(&minted)).await.status(), 200);
    clock.advance(DAY + Duration::from_secs(1));
    assert_eq!(api(&app, "GET", "/me", secret(&minted)).await.status(), 401);
}

#[tokio::test]
async fn a_token_cannot_be_used_as_a_session_cookie() {
    let clock = ManualClock::new();
    let app = app(MemoryStore::new(), &clock);
    let (_, minted) = browser_with_token(&app, 1).await;
    let mut forged = TestClient::new(app.clone());
    forged.set_cookie("session", secret(&minted));
    let req = Request::get("/me")
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    assert_eq!(forged.request(req).await.status(), 401);
}
