//! What every request of one [`SessionLayer`](crate::SessionLayer) shares.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::config::ConfigInner;
use crate::data::Fields;
use crate::store::{DynStore, MemoryStore};

/// What every request of one layer shares: the store, the configuration, the auth check.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn DynStore>,
    pub(crate) config: Arc<ConfigInner>,
    pub(crate) auth: Option<Arc<dyn AuthCheck>>,
    /// The store again, when it is a [`MemoryStore`]: its reads need no boxed future.
    pub(crate) memory: Option<MemoryStore>,
}

/// Any error of the app's credential lookup.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The future of an [`AuthCheck`].
pub(crate) type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, BoxError>> + Send + 'a>>;

/// The schema-erased check the request context runs after loading a logged-in session (see
/// `auth_hash.rs`).
pub(crate) trait AuthCheck: Send + Sync + 'static {
    /// Whether the session's stored fingerprint matches the user's current one.
    fn matches<'a>(&'a self, user_json: &'a str, data: &'a Fields) -> CheckFuture<'a>;
}
