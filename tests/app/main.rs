//! The example app's whole flow, driven in-process through its own router.

#[path = "../common/mod.rs"]
#[allow(unused)]
mod common;

/// The session cookie's name in this binary's apps (the example app names it with the `__Host-` prefix), for `common`'s helpers.
pub const COOKIE: &str = "__Host-session";
#[path = "../../examples/app/server/mod.rs"]
#[allow(dead_code)]
mod server;

mod api;
mod api_tokens;
mod flash;
mod hardening;
mod layout;
mod live;
mod metrics;
mod pages;
mod remember;
mod secrets;
mod sessions;
mod settings;

use std::sync::{Arc, LazyLock};

use axum::Router;
use session_runtime::MemoryStore;
use session_runtime::testing::TestResponse;

/// Hashing the demo passwords takes a moment: once per test binary.
static USERS: LazyLock<Arc<server::Users>> =
    LazyLock::new(|| Arc::new(server::Users::demo().expect("demo users")));

/// A fresh app on an empty memory store.
pub fn app() -> Router {
    server::router(MemoryStore::new(), USERS.clone())
}

/// The session token a response sets (`None` if it sets none, or removes it).
pub fn token(r: &TestResponse) -> Option<&str> {
    let header = r.set_cookie(COOKIE)?;
    let value = header.split(';').next()?.split_once('=')?.1;
    (!value.is_empty()).then_some(value)
}

/// Whether a response removes the session cookie.
pub fn removes_session(r: &TestResponse) -> bool {
    r.set_cookie(COOKIE)
        .is_some_and(|h| h.starts_with(&format!("{COOKIE}=;")) && h.contains("Max-Age=0"))
}
