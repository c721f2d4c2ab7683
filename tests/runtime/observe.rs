//! What an operator sees (README, "Operating a fleet"): every store call runs in a
//! `session_store` span that names the session by its public id, never by its token or by
//! the token's hash, the store key.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};
use session_runtime::testing::TestClient;
use session_runtime::{
    MemoryStore, RequireAuth, Session, SessionConfig, SessionError, SessionLayer, SessionSchema,
};
use sha2::{Digest as _, Sha256};
use tracing_subscriber::fmt::format::FmtSpan;

#[derive(SessionSchema)]
pub struct Observed {
    #[session(user_id)]
    pub user_id: Option<i64>,
    pub note: String,
}

async fn login(session: Session<Observed>) -> Result<(), SessionError> {
    session.login(7).await
}

/// Answers the session's public id, and changes a field (an `update` call).
async fn note(user: RequireAuth<Observed>) -> Result<String, SessionError> {
    user.set_note("seen".to_owned())?;
    Ok(user
        .session()
        .public_id()
        .map(|id| id.to_string())
        .unwrap_or_default())
}

/// What the subscriber writes, shared with the test.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test]
async fn a_store_calls_span_carries_the_public_id_and_never_the_token() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = Router::new()
        .route("/login", post(login))
        .route("/note", get(note))
        .layer(SessionLayer::new(
            MemoryStore::new(),
            SessionConfig::default(),
        ));
    let mut browser = TestClient::new(app);
    assert_eq!(browser.post_form("/login", &[]).await.status(), 200);
    let token = browser
        .cookie("session")
        .expect("a session cookie")
        .to_owned();
    let res = browser.get("/note").await;
    assert_eq!(res.status(), 200);
    let public_id = res.text().to_owned();
    assert!(!public_id.is_empty());

    let text = logs.text();
    let spans: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("session_store"))
        .collect();
    let span = |op: &str| {
        spans
            .iter()
            .find(|l| l.contains(&format!("op=\"{op}\"")))
            .unwrap_or_else(|| panic!("a {op} span in {text}"))
    };
    for op in ["create", "load"] {
        let line = span(op);
        assert!(line.contains("store=\"MemoryStore\""), "{line}");
        assert!(
            line.contains(&format!("public_id=\"{public_id}\"")),
            "{line}"
        );
    }
    // A call by key alone names no session.
    assert!(!span("update").contains("public_id"), "{}", span("update"));

    let key = Sha256::digest(token.as_bytes());
    let key_hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&token), "the token is in the logs: {text}");
    assert!(
        !text.contains(&key_hex[..8]),
        "the store key is in the logs: {text}"
    );
}
