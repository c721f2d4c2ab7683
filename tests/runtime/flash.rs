//! `#[session(flash)]`: `take_NAME()` reads a field once and clears it, in the session that
//! is saved; a guest's flash survives login like the rest of the guest data.

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use session_runtime::{
    ManualClock, MemoryStore, Session, SessionError, SessionLayer, SessionSchema,
};

use crate::common;

/// A schema with one message and a list of messages, both read once.
#[derive(SessionSchema)]
pub struct FlashSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    #[session(flash)]
    pub notice: Option<String>,
    #[session(flash, rename = "m")]
    pub messages: Vec<String>,
    pub theme: Option<String>,
}

type S = Session<FlashSession>;

fn app() -> Router {
    async fn login(s: S, Path(id): Path<i64>) -> Result<(), SessionError> {
        s.login(id).await
    }
    async fn notice(s: S, Path(text): Path<String>) -> Result<(), SessionError> {
        s.set_notice(Some(text))
    }
    async fn message(s: S, Path(text): Path<String>) -> Result<(), SessionError> {
        s.update_messages(|messages| messages.push(text))
    }
    async fn theme(s: S, Path(name): Path<String>) -> Result<(), SessionError> {
        s.set_theme(Some(name))
    }
    /// What a page shows: the flashes, taken, and what is left of them afterwards.
    async fn show(s: S) -> Json<Value> {
        let (notice, messages) = (s.take_notice(), s.take_messages());
        Json(json!({
            "notice": notice,
            "messages": messages,
            "left": [s.notice(), Some(s.messages().join(","))],
            "user_id": s.user_id(),
            "theme": s.theme(),
        }))
    }
    /// Reads the flashes without taking them.
    async fn peek(s: S) -> Json<Value> {
        Json(json!({ "notice": s.notice(), "messages": s.messages() }))
    }
    let routes = Router::new()
        .route("/login/{id}", post(login))
        .route("/notice/{text}", post(notice))
        .route("/message/{text}", post(message))
        .route("/theme/{name}", post(theme))
        .route("/show", get(show))
        .route("/peek", get(peek));
    routes.layer(SessionLayer::new(
        MemoryStore::new(),
        common::config(&ManualClock::new()),
    ))
}

#[tokio::test]
async fn a_flash_shows_once_and_not_on_the_next_load() {
    let app = app();
    let t = common::post(&app, "/notice/saved", None)
        .await
        .token()
        .unwrap();
    common::post(&app, "/theme/dark", Some(&t)).await;

    let first = common::get(&app, "/show", Some(&t)).await;
    assert_eq!(first.status, 200);
    let first = first.json();
    assert_eq!(first["notice"], json!("saved"));
    assert_eq!(
        first["left"],
        json!([null, ""]),
        "taken means cleared, in this request too"
    );

    let second = common::get(&app, "/show", Some(&t)).await.json();
    assert_eq!(second["notice"], json!(null), "gone on the next load");
    assert_eq!(second["theme"], json!("dark"), "the other fields stay");
}

#[tokio::test]
async fn reading_a_flash_without_taking_it_keeps_it() {
    let app = app();
    let t = common::post(&app, "/notice/saved", None)
        .await
        .token()
        .unwrap();
    for _ in 0..2 {
        let peek = common::get(&app, "/peek", Some(&t)).await.json();
        assert_eq!(peek["notice"], json!("saved"));
    }
    assert_eq!(
        common::get(&app, "/show", Some(&t)).await.json()["notice"],
        json!("saved")
    );
    assert_eq!(
        common::get(&app, "/peek", Some(&t)).await.json()["notice"],
        json!(null)
    );
}

#[tokio::test]
async fn a_vec_flash_collects_messages_until_taken() {
    let app = app();
    let t = common::post(&app, "/message/one", None)
        .await
        .token()
        .unwrap();
    common::post(&app, "/message/two", Some(&t)).await;
    let shown = common::get(&app, "/show", Some(&t)).await.json();
    assert_eq!(shown["messages"], json!(["one", "two"]));
    let again = common::get(&app, "/show", Some(&t)).await.json();
    assert_eq!(again["messages"], json!([]));
}

#[tokio::test]
async fn a_guest_flash_survives_login() {
    let app = app();
    let guest = common::post(&app, "/notice/welcome", None)
        .await
        .token()
        .unwrap();
    common::post(&app, "/message/cart-kept", Some(&guest)).await;
    let user = common::post(&app, "/login/7", Some(&guest))
        .await
        .token()
        .unwrap();
    assert_ne!(user, guest);

    let shown = common::get(&app, "/show", Some(&user)).await.json();
    assert_eq!(
        (&shown["user_id"], &shown["notice"], &shown["messages"]),
        (&json!(7), &json!("welcome"), &json!(["cart-kept"])),
        "the flash is carried over with the rest of the guest data"
    );
    let replay = common::get(&app, "/show", Some(&guest)).await.json();
    assert_eq!(replay["notice"], json!(null), "the guest token is dead");
    assert_eq!(
        common::get(&app, "/show", Some(&user)).await.json()["notice"],
        json!(null)
    );
}
