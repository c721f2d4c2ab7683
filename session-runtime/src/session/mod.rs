//! The request's session: everything one request knows and does about its session, in one
//! place, and nothing here knows which store it talks to.
//!
//! A request goes down these files in order:
//!
//! - [`state`]: the [`Context`] the first extractor creates (see `service.rs`), holding what
//!   the request loaded and what its handler changed; synchronous field reads and writes.
//! - [`load`]: the load path, at most once per request: the cookie, then the store's
//!   record, the credential check and, for a strict schema, the decoding check.
//! - [`identity`] and [`per_user`]: what a handler awaits: login, logout, rotation, and the
//!   user's other sessions; [`remember`]: remembering the device, and logging a remembered
//!   device in again (called from the load path).
//! - [`commit`]: the response phase: what the response writes to the store, and its cookie.
//! - [`write`]: the store writes the three above share (create, rotate).
//!
//! [`watch`] waits for the session's end (live revocation); [`api_tokens`] mints API
//! tokens; [`evolution`] holds the rules for fields an older schema wrote, [`hooks`] how features
//! such as CSRF take part in a login, and [`shared`] what every request of one layer shares.

pub(crate) mod api_tokens;
pub(crate) mod commit;
pub(crate) mod evolution;
pub(crate) mod hooks;
pub(crate) mod identity;
pub(crate) mod load;
pub(crate) mod per_user;
pub(crate) mod remember;
pub(crate) mod shared;
pub(crate) mod state;
pub(crate) mod watch;
pub(crate) mod write;

pub(crate) use shared::Shared;
pub(crate) use state::Context;
