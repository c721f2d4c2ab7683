//! CSRF: the token for forms, the check on unsafe methods, the origin check, rotation at login.

use std::collections::HashMap;

use axum::body::Body;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use session_runtime::{CsrfLayer, CsrfToken, SessionConfig, SessionLayer};

use crate::common::{Reply, TestStore, get as send_get, request, send};

fn app() -> Router {
    let forms = Router::new()
        .route(
            "/submit",
            get(|| async { "the form" }).post(
                |Form(f): Form<HashMap<String, String>>| async move {
                    f.get("name").cloned().unwrap_or_default()
                },
            ),
        )
        .layer(CsrfLayer::new());
    let api = Router::new()
        .route(
            "/api",
            post(|Json(v): Json<serde_json::Value>| async move { v.to_string() }),
        )
        .layer(CsrfLayer::origin_only());
    crate::common::routes::routes()
        .route("/form", get(|t: CsrfToken| async move { t.to_string() }))
        .merge(forms)
        .merge(api)
        .layer(SessionLayer::new(
            TestStore::new(),
            SessionConfig::default(),
        ))
}

async fn form_token(app: &Router, cookie: Option<&str>) -> (String, String) {
    let r = send_get(app, "/form", cookie).await;
    assert_eq!(r.status, 200);
    let cookie = r
        .token()
        .or_else(|| cookie.map(str::to_owned))
        .expect("a session");
    (cookie, r.body)
}

async fn submit(app: &Router, cookie: Option<&str>, body: &str, headers: &[(&str, &str)]) -> Reply {
    let mut b = request("POST", "/submit", cookie)
        .header("content-type", "application/x-www-form-urlencoded");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    send(app, b.body(Body::from(body.to_owned())).unwrap()).await
}

#[tokio::test]
async fn the_form_token_creates_a_session_and_is_stable() {
    let app = app();
    let (cookie, token) = form_token(&app, None).await;
    assert_eq!(token.len(), 43);
    let (_, again) = form_token(&app, Some(&cookie)).await;
    assert_eq!(again, token);
}

#[tokio::test]
async fn a_form_with_the_token_passes_and_reaches_the_handler_intact() {
    let app = app();
    let (cookie, token) = form_token(&app, None).await;
    let r = submit(
        &app,
        Some(&cookie),
        &format!("name=ada&csrf_token={token}"),
        &[],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "ada");
    let r = submit(&app, Some(&cookie), "name=bob", &[("x-csrf-token", &token)]).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "bob"));
}

#[tokio::test]
async fn missing_or_wrong_tokens_are_403() {
    let app = app();
    let (cookie, token) = form_token(&app, None).await;
    for body in ["name=x", "name=x&csrf_token=", "name=x&csrf_token=AAAA"] {
        let r = submit(&app, Some(&cookie), body, &[]).await;
        assert_eq!(r.status, 403, "{body}");
        assert_eq!(r.json()["error"], "csrf_token_invalid");
    }
    let r = submit(&app, Some(&cookie), "name=x", &[("x-csrf-token", "nope")]).await;
    assert_eq!(r.status, 403);
    // Another session's token is no good either.
    let (_, other_token) = form_token(&app, None).await;
    let r = submit(
        &app,
        Some(&cookie),
        &format!("csrf_token={other_token}"),
        &[],
    )
    .await;
    assert_eq!(r.status, 403);
    // No session at all.
    let r = submit(&app, None, &format!("csrf_token={token}"), &[]).await;
    assert_eq!(r.status, 403);
    // Browsers get a page.
    let r = submit(&app, Some(&cookie), "name=x", &[("accept", "text/html")]).await;
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn cross_site_requests_are_refused_even_with_the_token() {
    let app = app();
    let (cookie, token) = form_token(&app, None).await;
    let body = format!("name=x&csrf_token={token}");
    let r = submit(
        &app,
        Some(&cookie),
        &body,
        &[("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "cross_site_request");
    let r = submit(
        &app,
        Some(&cookie),
        &body,
        &[("host", "app.test"), ("origin", "https://evil.test")],
    )
    .await;
    assert_eq!(r.status, 403);
    let r = submit(
        &app,
        Some(&cookie),
        &body,
        &[("host", "app.test"), ("origin", "https://app.test")],
    )
    .await;
    assert_eq!(r.status, 200);
    let r = submit(
        &app,
        Some(&cookie),
        &body,
        &[("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn json_endpoints_get_the_origin_check_only() {
    let app = app();
    let json = |headers: &[(&str, &str)]| {
        let mut b = request("POST", "/api", None).header("content-type", "application/json");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Body::from("{\"a\":1}")).unwrap()
    };
    assert_eq!(send(&app, json(&[])).await.status, 200);
    assert_eq!(
        send(&app, json(&[("sec-fetch-site", "cross-site")]))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn login_replaces_the_token() {
    let app = app();
    let (guest, before) = form_token(&app, None).await;
    let r = send(
        &app,
        request("POST", "/login/1", Some(&guest))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let user = r.token().unwrap();
    let r = submit(&app, Some(&user), &format!("csrf_token={before}"), &[]).await;
    assert_eq!(r.status, 403, "a token from before login is useless after");
    let (_, after) = form_token(&app, Some(&user)).await;
    assert_ne!(after, before);
    assert_eq!(
        submit(&app, Some(&user), &format!("csrf_token={after}"), &[])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn oversized_forms_are_413() {
    let app = app();
    let (cookie, token) = form_token(&app, None).await;
    let body = format!("csrf_token={token}&big={}", "x".repeat(70 * 1024));
    assert_eq!(submit(&app, Some(&cookie), &body, &[]).await.status, 413);
}

#[tokio::test]
async fn safe_methods_pass_unchecked() {
    let app = app();
    let r = send_get(&app, "/submit", None).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "the form"));
}

#[tokio::test]
async fn the_form_content_type_is_matched_case_insensitively_and_exactly() {
    let app = app();
    let (cookie, token) = form_token(&app, None).await;
    let post_as = |content_type: &'static str| {
        let body = format!("name=ada&csrf_token={token}");
        let req = request("POST", "/submit", Some(&cookie))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let app = app.clone();
        async move { send(&app, req).await }
    };
    for accepted in [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
    ] {
        let r = post_as(accepted).await;
        assert_eq!(
            (r.status.as_u16(), r.body.as_str()),
            (200, "ada"),
            "{accepted}"
        );
    }
    // The check reads these forms' tokens too; what the handler's extractor then makes of
    // the case and the spaces is axum's business (its `Form` answers 415).
    for accepted in [
        "Application/X-WWW-Form-URLEncoded",
        "APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8",
        " application/x-www-form-urlencoded ;charset=utf-8",
    ] {
        let r = post_as(accepted).await;
        assert_ne!(r.status, 403, "{accepted}: {}", r.body);
    }
    for refused in [
        "application/x-www-form-urlencodedx",
        "text/plain",
        "multipart/form-data; boundary=x",
    ] {
        let r = post_as(refused).await;
        assert_eq!(r.status, 403, "{refused}");
    }
}
