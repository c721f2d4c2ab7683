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
mod browser;
mod flash;
mod hardening;
mod pages;
mod secrets;
mod sessions;
mod settings;

use std::sync::{Arc, LazyLock};

use axum::Router;
use session_runtime::MemoryStore;

/// Hashing the demo passwords takes a moment: once per test binary.
static USERS: LazyLock<Arc<server::Users>> =
    LazyLock::new(|| Arc::new(server::Users::demo().expect("demo users")));

/// A fresh app on an empty memory store.
pub fn app() -> Router {
    server::router(MemoryStore::new(), USERS.clone())
}
