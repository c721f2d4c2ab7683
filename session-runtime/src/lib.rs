//! Typed, secure-by-default sessions for [axum](https://docs.rs/axum).
//!
//! Describe the session as a plain struct, derive [`SessionSchema`], and use the generated
//! accessors through the [`Session`] extractor or a guard. There are no string keys in your
//! code: a misspelled or mistyped session field is a compile error.
//!
//! ```
//! use axum::{Json, Router, routing::{get, post}};
//! use session_runtime::{
//!     MemoryStore, RequireAuth, RequireStaff, Session, SessionConfig, SessionError,
//!     SessionLayer, SessionSchema,
//! };
//!
//! #[derive(SessionSchema)]
//! pub struct AppSession {
//!     #[session(user_id)]
//!     pub user_id: Option<i64>,        // Some(_) = logged in
//!     pub username: Option<String>,
//!     #[session(staff)]
//!     pub is_staff: bool,
//!     #[session(rename = "c")]         // stored key name, stable across refactors
//!     pub cart: Vec<u64>,
//! }
//!
//! async fn me(user: RequireAuth<AppSession>) -> String {
//!     let id: i64 = user.user_id();    // plain id: RequireAuth proves it is there
//!     format!("{id} {:?}", user.username())
//! }
//!
//! async fn admin(staff: RequireStaff<AppSession>) -> String {
//!     format!("staff member {}", staff.user_id())
//! }
//!
//! async fn add_to_cart(session: Session<AppSession>, Json(item): Json<u64>) -> Result<(), SessionError> {
//!     session.update_cart(|cart| cart.push(item))
//! }
//!
//! async fn login(session: Session<AppSession>) -> Result<(), SessionError> {
//!     // ... check credentials first ...
//!     session.login(42).await?;        // new token; the guest's cart is kept
//!     session.set_username(Some("alice".into()))?;
//!     Ok(())
//! }
//!
//! async fn logout(session: Session<AppSession>) -> Result<(), SessionError> {
//!     session.logout().await           // record deleted, cookie removed
//! }
//!
//! let app: Router = Router::new()
//!     .route("/me", get(me))
//!     .route("/admin", get(admin))
//!     .route("/cart", post(add_to_cart))
//!     .route("/login", post(login))
//!     .route("/logout", post(logout))
//!     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
//! ```
//!
//! # How it behaves
//!
//! - **Tokens**: 256 bits from the OS CSPRNG, base64url (43 characters). Stores key records by
//!   the token's SHA-256; the raw token is never stored or logged.
//! - **Cookie**: `session`, `HttpOnly; Secure; SameSite=Lax; Path=/` by default; see
//!   [`SessionConfigBuilder`] for the name, domain, path, `SameSite` and the `__Host-` prefix.
//! - **Lazy**: the layer parses the cookie only; the store is read once, when an extractor
//!   first asks. A request that changes nothing writes nothing; a guest who stores nothing
//!   gets no cookie and no record.
//! - **Per-field saves**: only the fields a request changed are written, so concurrent
//!   requests that change different fields both keep their change. A save never re-creates a
//!   session that was logged out, revoked, rotated or expired meanwhile.
//! - **Rotation**: [`Session::login`] and [`Session::rotate`], and any change of a `staff` or
//!   `superuser` field, move the session to a new token; the old one is dead at once.
//! - **Expiry**: idle (rolling, refreshed at most once per touch interval by a cheap touch)
//!   and absolute, enforced by the server and mirrored in the cookie's `Max-Age` (or a
//!   cookie without one, that the browser drops when it closes:
//!   [`SessionConfigBuilder::browser_session_cookie`]).
//! - **Failures**: unknown, expired or malformed cookies are anonymous, never an error. A
//!   store that is down answers `503` before the handler runs; routes that do not use the
//!   session keep working. Nothing is saved for a `5xx` response.
//!
//! # Guards
//!
//! [`RequireAuth`], [`RequireStaff`] and [`RequireSuperuser`] go in handler signatures:
//! anonymous requests get `401` JSON (or, for a browser when a login URL is configured, a
//! `303` to it with `?next=`), logged-in users without the role `403`. A custom guard is a
//! [`Policy`]: a predicate on the session and the role's name, used as
//! [`Guard<S, P>`](Guard). `Option<RequireAuth<S>>` serves guests and users alike, and
//! `axum::middleware::from_extractor::<RequireStaff<S>>()` as a `route_layer` guards every
//! route of a router; see [`Guard`]. Before a login page redirects to the `next` it
//! received, [`redirect::local_path`] checks that it is a path on this site (the guards use it
//! for the `next` they send).
//!
//! # Schema evolution
//!
//! A session written by yesterday's deploy is read by today's code, the same way on every
//! store (the runtime does it through the ordinary [`SessionStore`] calls):
//!
//! | change | what happens to older sessions |
//! | --- | --- |
//! | field added | it reads as its default until set |
//! | field removed | its stored value is ignored, and removed from the store at the next save of the session (a request that changes nothing still writes nothing) |
//! | field renamed, with `#[session(rename = "old_name")]` | still read: the stored key is unchanged |
//! | field type changed, old value no longer decodes | it reads as the field's default, with a `tracing` warning; never a `500`, and the session is kept |
//! | the same, in a [`#[session(strict)]`](macro@SessionSchema#sessionstrict) schema | the whole session is discarded: deleted, its cookie removed, and the request goes on as anonymous |
//!
//! Stored keys that start with `__` belong to the runtime; the derive refuses them.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod admin;
mod api_token;
mod auth_hash;
mod clock;
mod config;
mod cookie;
mod csrf;
mod ends;
mod error;
mod extract;
mod handle;
mod key;
mod layer;
mod observe;
mod record;
pub mod redirect;
mod rejection;
mod remember;
mod schema;
mod service;
mod session;
mod store;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod testing;
mod token;

/// Not part of the API: thin wrappers around the parsers of untrusted input, for the fuzz
/// targets in `fuzz/`. Only with the `fuzzing` feature; exempt from semver.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;

pub use admin::{SessionAdmin, SessionSummary};
pub use api_token::ApiToken;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{ConfigError, SameSite, SessionConfig, SessionConfigBuilder};
pub use csrf::{CsrfLayer, CsrfRejection, CsrfService, CsrfToken};
pub use ends::{SessionEndError, SessionEnds};
pub use error::SessionError;
pub use extract::{
    Guard, Policy, RecentLoginRejection, RequireAuth, RequireRecentLogin, RequireStaff,
    RequireSuperuser, Session, SessionRejection, policy,
};
pub use key::{Key, SessionValue};
pub use layer::SessionLayer;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub use observe::describe_metrics;
pub use record::{Record, SessionInfo, SessionKind, Update};
pub use rejection::{ErrorPage, RejectionInfo};
pub use remember::{DEFAULT_REMEMBER_FOR, Identity, RememberMe};
pub use schema::{HasStaff, HasSuperuser, HasUserId, SessionSchema};
pub use service::{ResponseFuture, SessionService};
pub use store::{MemoryStore, MemoryStoreBuilder, SessionStore, StoreError, StoreOp};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use store::{PostgresStore, PostgresStoreBuilder};
#[cfg(feature = "redis-cluster")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis-cluster")))]
pub use store::{RedisClusterStore, RedisClusterStoreBuilder};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use store::{RedisStore, RedisStoreBuilder};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use store::{SqliteStore, SqliteStoreBuilder};
pub use token::{PublicId, SessionKey};

#[doc = include_str!("derive.md")]
#[cfg(feature = "derive")]
pub use session_macros::SessionSchema;

/// What the derive's generated code names. Not public API: no stability guarantees.
#[doc(hidden)]
pub mod __private {
    pub use crate::error::SessionError;
    pub use crate::handle::RawSession;
    pub use crate::key::{Check, Key, SessionValue};
    pub use crate::schema::{HasStaff, HasSuperuser, HasUserId, SchemaHandle, SessionSchema};
    pub use crate::schema::{RemoveUserIdThroughLogout, SetUserIdThroughLogin};
}

/// README.md's Rust snippets, run as doctests (`cargo test -p session-runtime --doc`): the
/// user's guide cannot drift from the API. They use the derive, the testing helpers and
/// the SQLite store ("Testing your app"): CI runs them with `--all-features`.
#[cfg(all(doctest, feature = "derive", feature = "test-util", feature = "sqlite"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
