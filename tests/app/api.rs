//! `/api/*`: login, me, roles, logout, the guest cart.

use serde_json::json;

use crate::app;
use crate::common::{get, post, post_json};

async fn login(
    app: &axum::Router,
    user: &str,
    pass: &str,
    token: Option<&str>,
) -> crate::common::Reply {
    post_json(
        app,
        "/api/login",
        token,
        json!({"username": user, "password": pass}),
    )
    .await
}

#[tokio::test]
async fn login_answers_the_identity_and_a_new_cookie() {
    let app = app();
    let r = login(&app, "alice", "alice-pass", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"user_id": 1, "username": "alice", "is_staff": false, "is_superuser": false})
    );
    let header = r.set_cookie(crate::COOKIE).expect("cookie");
    assert!(header.starts_with("__Host-session="), "{header}");
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(header.contains(attr), "{header}");
    }
    assert!(
        !header.contains("Domain"),
        "a __Host- cookie has no Domain: {header}"
    );
    let t = r.token().unwrap();
    let me = get(&app, "/api/me", Some(&t)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json(), r.json());
}

#[tokio::test]
async fn bad_credentials_are_401_json_without_a_cookie() {
    let app = app();
    for (user, pass) in [("alice", "wrong"), ("nobody", "alice-pass"), ("", "")] {
        let r = login(&app, user, pass, None).await;
        assert_eq!(r.status, 401, "{user}");
        assert_eq!(r.json()["error"], "invalid_credentials");
        assert!(r.set_cookie(crate::COOKIE).is_none());
    }
}

#[tokio::test]
async fn roles_gate_admin_and_root() {
    let app = app();
    assert_eq!(get(&app, "/api/me", None).await.status, 401);
    assert_eq!(get(&app, "/api/admin", None).await.status, 401);
    assert_eq!(get(&app, "/api/root", None).await.status, 401);

    let alice = login(&app, "alice", "alice-pass", None)
        .await
        .token()
        .unwrap();
    assert_eq!(get(&app, "/api/admin", Some(&alice)).await.status, 403);
    assert_eq!(get(&app, "/api/root", Some(&alice)).await.status, 403);

    let sam = login(&app, "sam", "sam-pass", None).await.token().unwrap();
    let r = get(&app, "/api/admin", Some(&sam)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["user"]["username"], "sam");
    assert_eq!(get(&app, "/api/root", Some(&sam)).await.status, 403);

    let root = login(&app, "root", "root-pass", None)
        .await
        .token()
        .unwrap();
    assert_eq!(get(&app, "/api/admin", Some(&root)).await.status, 200);
    let r = get(&app, "/api/root", Some(&root)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["user"]["is_superuser"], true);
}

#[tokio::test]
async fn logout_removes_the_cookie_and_kills_the_token() {
    let app = app();
    let t = login(&app, "alice", "alice-pass", None)
        .await
        .token()
        .unwrap();
    let r = post(&app, "/api/logout", Some(&t)).await;
    assert_eq!(r.status, 204);
    assert!(r.removes_cookie());
    assert_eq!(get(&app, "/api/me", Some(&t)).await.status, 401);
}

#[tokio::test]
async fn the_guest_cart_survives_login_and_the_old_token_dies() {
    let app = app();
    assert_eq!(
        get(&app, "/api/cart", None).await.json(),
        json!({"items": []})
    );
    let r = post_json(&app, "/api/cart", None, json!({"item": 11})).await;
    assert_eq!(r.json(), json!({"items": [11]}));
    let guest = r.token().unwrap();
    let r = post_json(&app, "/api/cart", Some(&guest), json!({"item": 12})).await;
    assert_eq!(r.json(), json!({"items": [11, 12]}));

    let user = login(&app, "alice", "alice-pass", Some(&guest))
        .await
        .token()
        .unwrap();
    assert_ne!(user, guest);
    assert_eq!(
        get(&app, "/api/cart", Some(&user)).await.json(),
        json!({"items": [11, 12]})
    );
    assert_eq!(
        get(&app, "/api/cart", Some(&guest)).await.json(),
        json!({"items": []})
    );
}

#[tokio::test]
async fn a_bad_cart_body_is_a_client_error_and_changes_nothing() {
    let app = app();
    let t = post_json(&app, "/api/cart", None, json!({"item": 1}))
        .await
        .token()
        .unwrap();
    let r = post_json(&app, "/api/cart", Some(&t), json!({"item": "nope"})).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert_eq!(
        get(&app, "/api/cart", Some(&t)).await.json(),
        json!({"items": [1]})
    );
}
