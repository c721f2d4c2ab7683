//! Schema evolution across deploys: a session written through yesterday's schema, read and
//! saved through today's, over the same store.

use std::time::SystemTime;

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use session_runtime::{
    MemoryStore, Record, Session, SessionConfig, SessionError, SessionKey, SessionLayer,
    SessionSchema, SessionStore,
};

use crate::common::{get as get_req, post as post_req};

/// Yesterday's deploy.
mod v1 {
    use super::*;

    #[derive(SessionSchema)]
    pub struct AppSession {
        #[session(user_id)]
        pub user_id: Option<i64>,
        #[session(rename = "c")]
        pub cart: Vec<u64>,
        pub legacy_banner: String,
        pub visits: u32,
    }

    async fn write(s: Session<AppSession>) -> Result<(), SessionError> {
        s.login(7).await?;
        s.set_cart(vec![1, 2])?;
        s.set_legacy_banner("old".into())?;
        s.set_visits(3)
    }

    pub fn app(store: MemoryStore) -> Router {
        Router::new()
            .route("/write", post(write))
            .layer(SessionLayer::new(store, SessionConfig::default()))
    }
}

fn forty_two() -> u32 {
    42
}

/// Today's deploy: `cart` renamed in code (stored key kept), `legacy_banner` removed,
/// `visits` changed type, `theme` added.
mod v2 {
    use super::*;

    #[derive(SessionSchema)]
    pub struct AppSession {
        #[session(user_id)]
        pub user_id: Option<i64>,
        #[session(rename = "c")]
        pub basket: Vec<u64>,
        pub visits: String,
        #[session(default = "forty_two")]
        pub theme: u32,
    }

    async fn read(s: Session<AppSession>) -> Json<Value> {
        Json(json!({
            "user_id": s.user_id(),
            "basket": s.basket(),
            "visits": s.visits(),
            "theme": s.theme(),
        }))
    }

    async fn set_theme(s: Session<AppSession>, Path(theme): Path<u32>) -> Result<(), SessionError> {
        s.set_theme(theme)
    }

    pub fn app(store: MemoryStore) -> Router {
        Router::new()
            .route("/read", get(read))
            .route("/theme/{theme}", post(set_theme))
            .layer(SessionLayer::new(store, SessionConfig::default()))
    }
}

/// Today's deploy, opted into strict decoding.
mod v2_strict {
    use super::*;

    #[derive(SessionSchema)]
    #[session(strict)]
    pub struct AppSession {
        #[session(user_id)]
        pub user_id: Option<i64>,
        #[session(rename = "c")]
        pub basket: Vec<u64>,
        pub visits: String,
    }

    async fn read(s: Session<AppSession>) -> Json<Value> {
        Json(json!({ "user_id": s.user_id(), "basket": s.basket() }))
    }

    async fn add(s: Session<AppSession>, Path(item): Path<u64>) -> Result<(), SessionError> {
        s.update_basket(|b| b.push(item))
    }

    async fn me(u: session_runtime::RequireAuth<AppSession>) -> Json<Value> {
        Json(json!({ "user_id": u.user_id() }))
    }

    pub fn app(store: MemoryStore) -> Router {
        Router::new()
            .route("/read", get(read))
            .route("/me", get(me))
            .route("/add/{item}", post(add))
            .layer(SessionLayer::new(store, SessionConfig::default()))
    }
}

/// The store record behind a cookie token.
async fn record(store: &MemoryStore, token: &str) -> Option<Record> {
    use sha2::Digest as _;
    let key = SessionKey::from_bytes(sha2::Sha256::digest(token.as_bytes()).into());
    store.load(&key, SystemTime::now()).await.unwrap()
}

/// A session written by v1; returns its token.
async fn written_by_v1(store: &MemoryStore) -> String {
    let r = post_req(&v1::app(store.clone()), "/write", None).await;
    assert_eq!(r.status, 200);
    r.token().unwrap()
}

#[tokio::test]
async fn added_renamed_and_retyped_fields_read_without_losing_the_session() {
    let store = MemoryStore::new();
    let token = written_by_v1(&store).await;

    let r = get_req(&v2::app(store.clone()), "/read", Some(&token)).await;
    assert_eq!(r.status, 200, "an undecodable value is never a 500");
    assert_eq!(
        r.json(),
        json!({
            "user_id": 7,          // still logged in: the session is kept
            "basket": [1, 2],      // renamed in code, same stored key: still read
            "visits": "",          // stored 3 no longer decodes as a String: the default
            "theme": 42,           // added since: its default
        })
    );
    assert_eq!(r.set_cookie("session"), None, "reading changed nothing");
}

#[tokio::test]
async fn removed_fields_are_dropped_at_the_next_save_only() {
    let store = MemoryStore::new();
    let token = written_by_v1(&store).await;
    let app = v2::app(store.clone());

    // A request that saves nothing leaves the record as it was.
    get_req(&app, "/read", Some(&token)).await;
    let before = record(&store, &token).await.unwrap();
    assert!(before.data.contains_key("legacy_banner"));

    // The next save removes the stale key, and keeps everything else.
    assert_eq!(post_req(&app, "/theme/5", Some(&token)).await.status, 200);
    let after = record(&store, &token).await.unwrap();
    assert!(
        !after.data.contains_key("legacy_banner"),
        "{:?}",
        after.data
    );
    assert_eq!(after.data["c"], "[1,2]");
    assert_eq!(
        after.data["visits"], "3",
        "an undecodable value is not rewritten"
    );
    assert_eq!(after.data["theme"], "5");
    assert_eq!(after.user_id.as_deref(), Some("7"));
}

#[tokio::test]
async fn a_session_left_with_stale_keys_only_is_deleted_when_emptied() {
    let store = MemoryStore::new();
    // A guest session of v1 holding only a field v2 no longer has, and one it has.
    #[derive(SessionSchema)]
    struct Old {
        legacy_banner: String,
        note: String,
    }
    #[derive(SessionSchema)]
    struct New {
        note: String,
    }
    async fn write(s: Session<Old>) -> Result<(), SessionError> {
        s.set_legacy_banner("old".into())?;
        s.set_note("hi".into())
    }
    async fn clear(s: Session<New>) -> Result<(), SessionError> {
        s.remove_note()
    }
    let old = Router::new()
        .route("/write", post(write))
        .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    let new = Router::new()
        .route("/clear", post(clear))
        .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    let token = post_req(&old, "/write", None).await.token().unwrap();
    let r = post_req(&new, "/clear", Some(&token)).await;
    assert!(r.removes_cookie(), "emptied of every live field: deleted");
    assert!(record(&store, &token).await.is_none());
}

#[tokio::test]
async fn a_strict_schema_discards_a_session_that_no_longer_decodes() {
    let store = MemoryStore::new();
    let token = written_by_v1(&store).await;
    let app = v2_strict::app(store.clone());

    let r = get_req(&app, "/read", Some(&token)).await;
    assert_eq!(r.status, 200, "strict mode is never a 500");
    assert_eq!(r.json(), json!({ "user_id": null, "basket": [] }));
    assert!(r.removes_cookie());
    assert!(
        record(&store, &token).await.is_none(),
        "the old token is dead"
    );

    // The request goes on anonymous: what it sets starts a new session.
    let r = post_req(&app, "/add/9", Some(&token)).await;
    let fresh = r.token().expect("a new session");
    assert_ne!(fresh, token);
    let r = get_req(&app, "/read", Some(&fresh)).await;
    assert_eq!(r.json(), json!({ "user_id": null, "basket": [9] }));
}

#[tokio::test]
async fn a_guard_over_a_strict_schema_sees_the_discarded_session_as_anonymous() {
    let store = MemoryStore::new();
    let token = written_by_v1(&store).await;
    assert!(record(&store, &token).await.unwrap().user_id.is_some());
    let r = get_req(&v2_strict::app(store.clone()), "/me", Some(&token)).await;
    assert_eq!(
        r.status, 401,
        "the user id of a discarded session is not used"
    );
    assert!(r.removes_cookie());
    assert!(record(&store, &token).await.is_none());
}

#[tokio::test]
async fn a_strict_schema_keeps_sessions_that_decode() {
    let store = MemoryStore::new();
    let token = written_by_v1(&store).await;
    // `visits` written as a number; a strict schema whose fields all decode keeps it.
    #[derive(SessionSchema)]
    #[session(strict)]
    struct Strict {
        #[session(user_id)]
        user_id: Option<i64>,
        #[session(rename = "c")]
        basket: Vec<u64>,
        visits: u32,
    }
    async fn read(s: Session<Strict>) -> Json<Value> {
        Json(json!([s.user_id(), s.basket(), s.visits()]))
    }
    let app = Router::new()
        .route("/read", get(read))
        .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    let r = get_req(&app, "/read", Some(&token)).await;
    assert_eq!(r.json(), json!([7, [1, 2], 3]));
    assert!(record(&store, &token).await.is_some());
}
