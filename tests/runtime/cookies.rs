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
