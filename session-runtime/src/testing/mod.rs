//! Testing helpers (feature `test-util`): a [`TestClient`] that drives a `Router` in-process
//! like a browser (cookies, same-origin headers, the page's CSRF token in forms), and
//! [`TestClient::login_as`], which starts a logged-in session directly in the store with
//! chosen field values, so a guarded handler is testable without a login route.
//!
//! Enable it for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! session-runtime = { git = "...", features = ["test-util"] }
//! ```
//!
//! ```
//! use axum::{Router, routing::get};
//! use session_runtime::testing::TestClient;
//! use session_runtime::{MemoryStore, RequireAuth, SessionConfig, SessionLayer, SessionSchema};
//!
//! #[derive(SessionSchema)]
//! pub struct AppSession {
//!     #[session(user_id)]
//!     pub user_id: Option<i64>,
//!     pub cart: Vec<u64>,
//! }
//!
//! async fn cart(user: RequireAuth<AppSession>) -> String {
//!     format!("{:?}", user.cart())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_runtime::SessionError> {
//! let (store, config) = (MemoryStore::new(), SessionConfig::default());
//! let app: Router = Router::new()
//!     .route("/cart", get(cart))
//!     .layer(SessionLayer::new(store.clone(), config.clone()));
//!
//! let mut client = TestClient::new(app);
//! client
//!     .login_as::<AppSession>(&store, &config, 42)
//!     .with(AppSession::CART, vec![1, 2])
//!     .await?;
//! assert_eq!(client.get("/cart").await.text(), "[1, 2]");
//! # Ok(()) }
//! ```

mod client;
mod jar;
mod login;

pub use client::{TestClient, TestResponse};
pub use login::LoginAs;
