//! Guards: 401, 303 to the login page, 403, and the roles.

use crate::common::{TestStore, fixture, get, post, request, routes, send};
use axum::body::Body;
use serde_json::json;
use session_runtime::SessionConfig;

#[tokio::test]
async fn anonymous_gets_401_json() {
    let (app, _, _) = fixture();
    for path in ["/me", "/admin", "/root"] {
        let r = get(&app, path, None).await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.json()["error"], "unauthenticated");
        assert!(r.headers["content-type"].to_str().unwrap().contains("json"));
    }
}

#[tokio::test]
async fn browsers_are_redirected_to_the_login_page_with_next() {
    let app = routes::app(
        TestStore::new(),
        SessionConfig::builder()
            .login_url("/login")
            .build()
            .unwrap(),
    );
    let req = request("GET", "/admin?tab=users&x=1", None)
        .header("accept", "text/html,application/xhtml+xml")
        .body(Body::empty())
        .unwrap();
    let r = send(&app, req).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.headers["location"],
        "/login?next=/admin%3Ftab%3Dusers%26x%3D1"
    );
    // JSON clients still get 401 with a login URL configured.
    assert_eq!(get(&app, "/admin", None).await.status, 401);
}

#[tokio::test]
async fn roles_are_enforced() {
    let (app, _, _) = fixture();
    let user = post(&app, "/login/1", None).await.token().unwrap();
    assert_eq!(get(&app, "/me", Some(&user)).await.status, 200);
    let r = get(&app, "/admin", Some(&user)).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "forbidden");
    assert_eq!(get(&app, "/root", Some(&user)).await.status, 403);

    let staff = post(&app, "/login/2", None).await.token().unwrap();
    let staff = post(&app, "/staff/true", Some(&staff))
        .await
        .token()
        .unwrap();
    assert_eq!(
        get(&app, "/admin", Some(&staff)).await.json(),
        json!({"staff": 2})
    );
    assert_eq!(get(&app, "/root", Some(&staff)).await.status, 403);

    let root = post(&app, "/login/3", None).await.token().unwrap();
    let root = post(&app, "/superuser/true", Some(&root))
        .await
        .token()
        .unwrap();
    assert_eq!(get(&app, "/root", Some(&root)).await.status, 200);
    assert_eq!(
        get(&app, "/admin", Some(&root)).await.status,
        200,
        "a superuser passes every staff check"
    );
}

#[tokio::test]
async fn forbidden_browser_requests_get_an_html_page() {
    let (app, _, _) = fixture();
    let user = post(&app, "/login/1", None).await.token().unwrap();
    let req = request("GET", "/admin", Some(&user))
        .header("accept", "text/html")
        .body(Body::empty())
        .unwrap();
    let r = send(&app, req).await;
    assert_eq!(r.status, 403);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.body.contains("staff"));
}

/// Guards composed with axum: `Option<_>`, a custom policy, and a guard on a whole router.
mod composed {
    use axum::Router;
    use axum::middleware::from_extractor;
    use axum::routing::get;
    use session_runtime::{
        Guard, Policy, RequireAuth, RequireStaff, Session, SessionConfig, SessionLayer,
    };

    use crate::common::{AppSession, TestStore};

    /// A custom guard: sessions whose note says "editor".
    pub struct Editor;

    impl Policy<AppSession> for Editor {
        const NAME: &'static str = "editor";

        fn admits(session: &Session<AppSession>) -> bool {
            session.note() == "editor"
        }
    }

    async fn maybe(user: Option<RequireAuth<AppSession>>) -> String {
        match user {
            Some(user) => format!("user {}", user.user_id()),
            None => "guest".to_owned(),
        }
    }

    async fn maybe_staff(staff: Option<RequireStaff<AppSession>>) -> &'static str {
        if staff.is_some() {
            "staff"
        } else {
            "not staff"
        }
    }

    async fn edit(editor: Guard<AppSession, Editor>) -> String {
        format!("editor {}", editor.user_id())
    }

    pub fn app(store: TestStore, config: SessionConfig) -> Router {
        let admin = Router::new()
            .route("/users", get(|| async { "users" }))
            .route("/audit", get(|| async { "audit" }))
            .route_layer(from_extractor::<RequireStaff<AppSession>>());
        crate::common::routes::routes()
            .route("/maybe", get(maybe))
            .route("/maybe-staff", get(maybe_staff))
            .route("/edit", get(edit))
            .nest("/area", admin)
            .layer(SessionLayer::new(store, config))
    }
}

fn composed_app() -> (axum::Router, TestStore) {
    let store = TestStore::new();
    let app = composed::app(
        store.clone(),
        SessionConfig::builder()
            .login_url("/login")
            .build()
            .unwrap(),
    );
    (app, store)
}

#[tokio::test]
async fn an_optional_guard_is_none_for_guests_and_refused_roles() {
    let (app, _) = composed_app();
    assert_eq!(get(&app, "/maybe", None).await.body, "guest");
    assert_eq!(get(&app, "/maybe-staff", None).await.body, "not staff");

    let user = post(&app, "/login/5", None).await.token().unwrap();
    assert_eq!(get(&app, "/maybe", Some(&user)).await.body, "user 5");
    assert_eq!(
        get(&app, "/maybe-staff", Some(&user)).await.body,
        "not staff"
    );

    let staff = post(&app, "/staff/true", Some(&user))
        .await
        .token()
        .unwrap();
    assert_eq!(get(&app, "/maybe-staff", Some(&staff)).await.body, "staff");
}

#[tokio::test]
async fn an_optional_guard_still_fails_closed_when_the_store_is_down() {
    let (app, store) = composed_app();
    let user = post(&app, "/login/5", None).await.token().unwrap();
    store.set_down(true);
    let r = get(&app, "/maybe", Some(&user)).await;
    assert_eq!(r.status, 503, "a store failure is not a guest: {}", r.body);
    assert_eq!(r.json()["error"], "session_store_unavailable");
}

#[tokio::test]
async fn a_custom_guard_answers_401_303_403_like_the_built_in_ones() {
    let (app, _) = composed_app();
    assert_eq!(get(&app, "/edit", None).await.status, 401);
    let browser = request("GET", "/edit", None)
        .header("accept", "text/html")
        .body(Body::empty())
        .unwrap();
    let r = send(&app, browser).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.headers["location"], "/login?next=/edit");

    let user = post(&app, "/login/5", None).await.token().unwrap();
    let r = get(&app, "/edit", Some(&user)).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("editor"), "{}", r.body);

    assert_eq!(post(&app, "/note/editor", Some(&user)).await.status, 200);
    let r = get(&app, "/edit", Some(&user)).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "editor 5"));
}

#[tokio::test]
async fn a_guard_layer_protects_every_route_of_a_router() {
    let (app, _) = composed_app();
    for path in ["/area/users", "/area/audit"] {
        assert_eq!(get(&app, path, None).await.status, 401, "{path}");
    }
    let user = post(&app, "/login/5", None).await.token().unwrap();
    assert_eq!(get(&app, "/area/users", Some(&user)).await.status, 403);
    let staff = post(&app, "/staff/true", Some(&user))
        .await
        .token()
        .unwrap();
    let r = get(&app, "/area/audit", Some(&staff)).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "audit"));
    assert_eq!(
        get(&app, "/area/nowhere", None).await.status,
        404,
        "the guard runs on matched routes only"
    );
}

/// The `Location` a browser gets from a guard at `uri` of `app`.
async fn redirect_of(app: &axum::Router, uri: &str) -> String {
    let req = request("GET", uri, None)
        .header("accept", "text/html")
        .body(Body::empty())
        .unwrap();
    let r = send(app, req).await;
    assert_eq!(r.status, 303, "{uri}: {}", r.body);
    r.headers["location"].to_str().unwrap().to_owned()
}

fn config_with_login(url: &str) -> SessionConfig {
    SessionConfig::builder().login_url(url).build().unwrap()
}

#[tokio::test]
async fn next_names_the_page_asked_for_under_nested_routers() {
    use session_runtime::SessionLayer;
    // The layer around the outer router, a guard two nests deep.
    let app = axum::Router::new()
        .nest(
            "/nested",
            axum::Router::new().nest("/deeper", routes::routes()),
        )
        .layer(SessionLayer::new(
            TestStore::new(),
            config_with_login("/login"),
        ));
    assert_eq!(
        redirect_of(&app, "/nested/deeper/admin?tab=1").await,
        "/login?next=/nested/deeper/admin%3Ftab%3D1"
    );
    // The layer inside the nest: axum keeps the original URI all the same.
    let app = axum::Router::new().nest(
        "/nested",
        routes::routes().layer(SessionLayer::new(
            TestStore::new(),
            config_with_login("/login"),
        )),
    );
    assert_eq!(
        redirect_of(&app, "/nested/me").await,
        "/login?next=/nested/me"
    );
    // Outside any router (the layer straight around a handler service): the URI itself.
    assert_eq!(
        redirect_of(
            &routes::app(TestStore::new(), config_with_login("/login")),
            "/me"
        )
        .await,
        "/login?next=/me"
    );
}

#[tokio::test]
async fn a_next_in_the_login_url_is_replaced_not_repeated() {
    for (login_url, location) in [
        ("/login?next=/home", "/login?next=/me"),
        ("/login?lang=en&next=/home", "/login?lang=en&next=/me"),
        ("/login?next=/a&lang=en&next=/b", "/login?lang=en&next=/me"),
        ("/login?lang=en", "/login?lang=en&next=/me"),
        ("/login?", "/login?next=/me"),
        ("/login?nextpage=2", "/login?nextpage=2&next=/me"),
        ("/login#form", "/login?next=/me#form"),
        (
            "https://id.example.com/login?next=x",
            "https://id.example.com/login?next=/me",
        ),
    ] {
        let app = routes::app(TestStore::new(), config_with_login(login_url));
        assert_eq!(
            redirect_of(&app, "/me").await,
            location,
            "login_url {login_url}"
        );
    }
}

#[tokio::test]
async fn a_request_target_that_is_not_a_local_path_gets_next_home() {
    use session_runtime::{RequireAuth, SessionLayer};
    // Every path reaches the guard, whatever its shape.
    let app = axum::Router::new()
        .fallback(|_: RequireAuth<crate::common::AppSession>| async { "in" })
        .layer(SessionLayer::new(
            TestStore::new(),
            config_with_login("/login"),
        ));
    for crafted in ["//evil.example/x", "/%2F/evil.example", "/%5Cevil.example"] {
        assert_eq!(
            redirect_of(&app, crafted).await,
            "/login?next=/",
            "{crafted}"
        );
    }
    // A local target is kept.
    assert_eq!(
        redirect_of(&app, "/a/b%20c?x=%2F").await,
        "/login?next=/a/b%2520c%3Fx%3D%252F"
    );
}
