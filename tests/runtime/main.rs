//! The wire behaviour of the runtime (DESIGN §2), driven in-process through a router.

#[path = "../common/mod.rs"]
mod common;

/// The session cookie's name in this binary's apps (the default name), for `common`'s helpers.
pub const COOKIE: &str = "session";

mod api_tokens;
mod browser_session;
mod caching;
mod cookies;
mod credentials;
mod csrf;
mod evolution;
mod expiry;
mod failures;
mod faults;
mod flash;
mod guards;
mod lifecycle;
mod live;
mod memory_store;
mod mount;
mod observe;
mod per_user;
mod privileged;
mod rejections;
mod remember;
#[path = "../remember_flow/mod.rs"]
mod remember_flow;
mod saves;
mod tasks;
mod testing;
