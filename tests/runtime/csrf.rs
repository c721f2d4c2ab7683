//! CSRF: the token for forms, the check on unsafe methods, the origin check, rotation at login.

use std::collections::HashMap;

use axum::body::Body;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use session_runtime::{CsrfLayer, CsrfToken, SessionConfig, SessionLayer};

use crate::common::{Reply, TestStore, get as send_get, request, send};

fn app() -> Router {
    app_on(TestStore::new())
}

fn app_on(store: TestStore) -> Router {
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
        .layer(SessionLayer::new(store, SessionConfig::default()))
}

/// The cookies a browser holds, as its `Cookie` header sends them.
#[derive(Clone, Debug, Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    /// Keeps what a response sets, forgets what it removes.
    fn take(&mut self, r: &Reply) {
        for header in r.headers.get_all(http::header::SET_COOKIE) {
            let header = header.to_str().unwrap();
            let (name, value) = header.split(';').next().unwrap().split_once('=').unwrap();
            self.0.retain(|(n, _)| n != name);
            if !header.contains("Max-Age=0") {
                self.0.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn header(&self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|(n, v)| format!("{n}={v}")).collect();
        pairs.join("; ")
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
}

/// Sends `req` as a browser holding `jar`, which keeps what the response sets.
async fn browse(app: &Router, jar: &mut Jar, req: http::request::Builder, body: Body) -> Reply {
    let req = if jar.0.is_empty() {
        req
    } else {
        req.header("cookie", jar.header())
    };
    let r = send(app, req.body(body).unwrap()).await;
    jar.take(&r);
    r
}

/// Loads the form as a browser holding `jar`: the form's token.
async fn form_token(app: &Router, jar: &mut Jar) -> String {
    let r = browse(app, jar, request("GET", "/form", None), Body::empty()).await;
    assert_eq!(r.status, 200);
    r.body
}

/// A visitor's first form: the jar it then holds, and the token.
async fn first_form(app: &Router) -> (Jar, String) {
    let mut jar = Jar::default();
    let token = form_token(app, &mut jar).await;
    (jar, token)
}

async fn submit(app: &Router, jar: &Jar, body: &str, headers: &[(&str, &str)]) -> Reply {
    let mut b = request("POST", "/submit", None)
        .header("content-type", "application/x-www-form-urlencoded");
    if !jar.0.is_empty() {
        b = b.header("cookie", jar.header());
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    send(app, b.body(Body::from(body.to_owned())).unwrap()).await
}

#[tokio::test]
async fn a_visitors_form_token_lives_in_its_own_cookie_and_creates_no_session() {
    let store = TestStore::new();
    let app = app_on(store.clone());
    let r = send_get(&app, "/form", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 43);
    assert!(r.set_cookie("session").is_none(), "no session cookie");
    let cookie = r.set_cookie("__Host-csrf").expect("the token's own cookie");
    assert!(
        cookie.starts_with(&format!("__Host-csrf={};", r.body)),
        "{cookie}"
    );
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert_eq!(r.headers["cache-control"], "no-store");
    assert!(store.inner.is_empty(), "rendering a form stores nothing");
    assert_eq!(store.counts.writes(), 0);

    // The same browser gets the same token, and no new cookie.
    let mut jar = Jar::default();
    jar.take(&r);
    let before = jar.header();
    let again = form_token(&app, &mut jar).await;
    assert_eq!(again, r.body);
    assert_eq!(jar.header(), before);
    assert!(store.inner.is_empty());
}

#[tokio::test]
async fn a_store_that_is_down_does_not_take_down_a_form_that_needs_no_session() {
    let store = TestStore::new();
    store.set_down(true);
    let app = app_on(store.clone());
    let (jar, token) = first_form(&app).await;
    let r = submit(&app, &jar, &format!("name=ada&csrf_token={token}"), &[]).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "ada"));
}

#[tokio::test]
async fn a_guests_session_keeps_its_own_token_and_the_visitor_cookie_goes() {
    let app = app();
    let mut jar = Jar::default();
    let visitor = form_token(&app, &mut jar).await;
    // The guest stores something: now there is a session.
    let r = browse(
        &app,
        &mut jar,
        request("POST", "/cart/3", None),
        Body::empty(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(jar.has("session"));
    // A form rendered before the session existed still passes: the session has no token.
    let r = submit(&app, &jar, &format!("name=early&csrf_token={visitor}"), &[]).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "early"));
    // The next form carries the session's token, and the visitor cookie is removed.
    let token = form_token(&app, &mut jar).await;
    assert_ne!(token, visitor);
    assert!(!jar.has("__Host-csrf"), "{jar:?}");
    let r = submit(&app, &jar, &format!("name=late&csrf_token={token}"), &[]).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "late"));
    let r = submit(&app, &jar, &format!("name=x&csrf_token={visitor}"), &[]).await;
    assert_eq!(r.status, 403, "the session's token has taken over");
}

#[tokio::test]
async fn a_form_with_the_token_passes_and_reaches_the_handler_intact() {
    let app = app();
    let (jar, token) = first_form(&app).await;
    let r = submit(&app, &jar, &format!("name=ada&csrf_token={token}"), &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "ada");
    let r = submit(&app, &jar, "name=bob", &[("x-csrf-token", &token)]).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "bob"));
}

#[tokio::test]
async fn missing_or_wrong_tokens_are_403() {
    let app = app();
    let (jar, token) = first_form(&app).await;
    for body in ["name=x", "name=x&csrf_token=", "name=x&csrf_token=AAAA"] {
        let r = submit(&app, &jar, body, &[]).await;
        assert_eq!(r.status, 403, "{body}");
        assert_eq!(r.json()["error"], "csrf_token_invalid");
    }
    let r = submit(&app, &jar, "name=x", &[("x-csrf-token", "nope")]).await;
    assert_eq!(r.status, 403);
    // Another visitor's token is no good either.
    let (_, other_token) = first_form(&app).await;
    let r = submit(&app, &jar, &format!("csrf_token={other_token}"), &[]).await;
    assert_eq!(r.status, 403);
    // No cookie at all: nothing to match the token against.
    let r = submit(&app, &Jar::default(), &format!("csrf_token={token}"), &[]).await;
    assert_eq!(r.status, 403);
    // Browsers get a page.
    let r = submit(&app, &jar, "name=x", &[("accept", "text/html")]).await;
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
    let (jar, token) = first_form(&app).await;
    let body = format!("name=x&csrf_token={token}");
    let r = submit(&app, &jar, &body, &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "cross_site_request");
    let r = submit(
        &app,
        &jar,
        &body,
        &[("host", "app.test"), ("origin", "https://evil.test")],
    )
    .await;
    assert_eq!(r.status, 403);
    let r = submit(
        &app,
        &jar,
        &body,
        &[("host", "app.test"), ("origin", "https://app.test")],
    )
    .await;
    assert_eq!(r.status, 200);
    let r = submit(&app, &jar, &body, &[("sec-fetch-site", "same-origin")]).await;
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
    let (mut jar, before) = first_form(&app).await;
    let r = browse(
        &app,
        &mut jar,
        request("POST", "/login/1", None),
        Body::empty(),
    )
    .await;
    assert!(r.token().is_some());
    let r = submit(&app, &jar, &format!("csrf_token={before}"), &[]).await;
    assert_eq!(r.status, 403, "a token from before login is useless after");
    let after = form_token(&app, &mut jar).await;
    assert_ne!(after, before);
    assert!(
        !jar.has("__Host-csrf"),
        "the session's token took over: {jar:?}"
    );
    assert_eq!(
        submit(&app, &jar, &format!("csrf_token={after}"), &[])
            .await
            .status,
        200
    );
    // A guest's session token is replaced at login too.
    let mut guest = Jar::default();
    browse(
        &app,
        &mut guest,
        request("POST", "/cart/1", None),
        Body::empty(),
    )
    .await;
    let guest_token = form_token(&app, &mut guest).await;
    browse(
        &app,
        &mut guest,
        request("POST", "/login/2", None),
        Body::empty(),
    )
    .await;
    let r = submit(&app, &guest, &format!("csrf_token={guest_token}"), &[]).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn oversized_forms_are_413() {
    let app = app();
    let (jar, token) = first_form(&app).await;
    let body = format!("csrf_token={token}&big={}", "x".repeat(70 * 1024));
    assert_eq!(submit(&app, &jar, &body, &[]).await.status, 413);
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
    let (jar, token) = first_form(&app).await;
    let post_as = |content_type: &'static str| {
        let body = format!("name=ada&csrf_token={token}");
        let req = request("POST", "/submit", None)
            .header("cookie", jar.header())
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
