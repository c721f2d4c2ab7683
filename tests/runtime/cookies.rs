//! Cookies: attributes, anonymous requests, unknown, expired and malformed tokens.

use crate::common::{fixture, get, post, request, send};
use axum::body::Body;
use session_runtime::{SameSite, SessionConfig};

#[tokio::test]
async fn untouched_anonymous_request_sets_no_cookie_and_stores_nothing() {
    let (app, store, _) = fixture();
    let r = get(&app, "/public", None).await;
    assert_eq!(r.status, 200);
    assert!(r.set_cookie("session").is_none());
    assert_eq!(
        store.counts.loads(),
        0,
        "the layer alone never reads the store"
    );
    assert_eq!(store.counts.writes(), 0);
}

#[tokio::test]
async fn reading_an_empty_session_stores_nothing() {
    let (app, store, _) = fixture();
    let r = get(&app, "/read", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["cart"], serde_json::json!([]));
    assert!(r.set_cookie("session").is_none());
    assert_eq!(store.counts.writes(), 0);
    assert!(store.inner.is_empty());
}

#[tokio::test]
async fn first_write_issues_a_secure_cookie() {
    let (app, store, _) = fixture();
    let r = post(&app, "/cart/5", None).await;
    assert_eq!(r.status, 200);
    let header = r.set_cookie("session").expect("cookie set");
    for attr in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=1800",
    ] {
        assert!(header.contains(attr), "{header} lacks {attr}");
    }
    let token = r.token().unwrap();
    assert_eq!(token.len(), 43);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(store.inner.len(), 1);
    // The next request sees the data.
    let r = get(&app, "/read", Some(&token)).await;
    assert_eq!(r.json()["cart"], serde_json::json!([5]));
}

#[tokio::test]
async fn unknown_token_is_anonymous_and_never_adopted() {
    let (app, store, _) = fixture();
    let forged = "A".repeat(43);
    let r = get(&app, "/read", Some(&forged)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["user_id"], serde_json::Value::Null);
    assert!(r.removes_cookie(), "a stale cookie is cleared");
    let r = post(&app, "/cart/1", Some(&forged)).await;
    assert_eq!(r.status, 200);
    let issued = r.token().expect("a new session gets a new token");
    assert_ne!(issued, forged, "the client's token is never adopted");
    assert_eq!(store.inner.len(), 1);
}

#[tokio::test]
async fn malformed_cookies_are_anonymous_not_errors() {
    let (app, _, _) = fixture();
    for bad in [
        "session=",
        "session=short",
        "session=!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "session=\"quoted\"; other=1",
        "=;;;session",
    ] {
        let req = request("GET", "/read", None)
            .header(http::header::COOKIE, bad)
            .body(Body::empty())
            .unwrap();
        let r = send(&app, req).await;
        assert_eq!(r.status, 200, "{bad}");
        assert_eq!(r.json()["cart"], serde_json::json!([]), "{bad}");
    }
}

#[tokio::test]
async fn configured_cookie_attributes_are_used() {
    let store = crate::common::TestStore::new();
    let config = SessionConfig::builder()
        .host_prefix()
        .same_site(SameSite::Strict)
        .build()
        .unwrap();
    let app = crate::common::routes::app(store, config);
    let r = post(&app, "/cart/1", None).await;
    let header = r.set_cookie("__Host-session").expect("prefixed cookie");
    assert!(header.contains("SameSite=Strict"), "{header}");
    assert!(header.contains("Secure"), "{header}");
    assert!(!header.contains("Domain"), "{header}");
    let token = header.split(';').next().unwrap().split_once('=').unwrap().1;
    // The prefixed name is the one read back.
    let req = request("GET", "/read", None)
        .header(http::header::COOKIE, format!("__Host-session={token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, req).await.json()["cart"], serde_json::json!([1]));
}

#[tokio::test]
async fn store_keys_are_hashes_not_tokens() {
    let (app, store, _) = fixture();
    let token = post(&app, "/cart/1", None).await.token().unwrap();
    let key_of_raw_token = {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&token)
            .unwrap();
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&raw);
        session_runtime::SessionKey::from_bytes(bytes)
    };
    use session_runtime::SessionStore as _;
    use sha2::Digest as _;
    let now = std::time::SystemTime::now();
    assert!(
        store
            .inner
            .load(&key_of_raw_token, now)
            .await
            .unwrap()
            .is_none(),
        "the raw token is not a store key"
    );
    let hashed =
        session_runtime::SessionKey::from_bytes(sha2::Sha256::digest(token.as_bytes()).into());
    assert!(
        store.inner.load(&hashed, now).await.unwrap().is_some(),
        "records are keyed by SHA-256 of the token"
    );
}

/// A request carrying `cookies` as one `Cookie` header.
async fn get_with_cookies(app: &axum::Router, uri: &str, cookies: &str) -> crate::common::Reply {
    let req = request("GET", uri, None)
        .header("cookie", cookies)
        .body(Body::empty())
        .unwrap();
    send(app, req).await
}

/// A well-formed token that names no session (what a sibling subdomain could plant); the
/// last character's two unused bits stay zero, as canonical base64url wants.
fn planted(n: u8) -> String {
    let mut t = "P".repeat(42);
    t.push(char::from(b'A' + 4 * n));
    t
}

#[tokio::test]
async fn a_planted_cookie_does_not_hide_the_real_session() {
    let (app, store, _) = fixture();
    let real = post(&app, "/cart/5", None).await.token().unwrap();
    // Before and after the real one, in one header and in two.
    for cookies in [
        vec![format!("session={}; session={real}", planted(0))],
        vec![format!("session={real}; session={}", planted(0))],
        vec![format!("session={}", planted(0)), format!("session={real}")],
    ] {
        let mut req = request("GET", "/read", None);
        for c in &cookies {
            req = req.header("cookie", c);
        }
        let r = send(&app, req.body(Body::empty()).unwrap()).await;
        assert_eq!(r.json()["cart"], serde_json::json!([5]), "{cookies:?}");
        assert!(
            r.set_cookie("session").is_none(),
            "the live session's cookie is never removed: {cookies:?}"
        );
    }
    // Malformed ones cost nothing: skipped before the store.
    store.counts.reset();
    let r = get_with_cookies(
        &app,
        "/read",
        &format!("session=bad; session=; session={real}"),
    )
    .await;
    assert_eq!(r.json()["cart"], serde_json::json!([5]));
    assert_eq!(store.counts.loads(), 1);
}

#[tokio::test]
async fn the_candidates_tried_are_bounded_and_a_cookie_naming_no_live_session_is_removed() {
    let (app, store, _) = fixture();
    let real = post(&app, "/cart/5", None).await.token().unwrap();
    // Three planted before the real one: the fourth candidate, still tried.
    let three: Vec<String> = (0..3).map(|n| format!("session={}", planted(n))).collect();
    store.counts.reset();
    let r = get_with_cookies(
        &app,
        "/read",
        &format!("{}; session={real}", three.join("; ")),
    )
    .await;
    assert_eq!(r.json()["cart"], serde_json::json!([5]));
    assert_eq!(store.counts.loads(), 4);
    // Four planted before it: the real one is past the bound, and nothing resolves.
    let four: Vec<String> = (0..4).map(|n| format!("session={}", planted(n))).collect();
    store.counts.reset();
    let r = get_with_cookies(
        &app,
        "/read",
        &format!("{}; session={real}", four.join("; ")),
    )
    .await;
    assert_eq!(r.json()["cart"], serde_json::json!([]));
    assert_eq!(
        store.counts.loads(),
        4,
        "at most four store reads per request"
    );
    assert!(r.removes_cookie(), "no candidate names a live session");
    // Only planted ones: anonymous, and the stale cookie is removed.
    let r = get_with_cookies(&app, "/read", &three.join("; ")).await;
    assert_eq!(r.json()["cart"], serde_json::json!([]));
    assert!(r.removes_cookie());
}
