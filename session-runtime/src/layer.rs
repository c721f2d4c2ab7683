//! `SessionLayer`: configuration only; it wraps services in [`SessionService`].

use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use crate::config::SessionConfig;
use crate::service::SessionService;
use crate::store::{DynStore, SessionStore};

/// Adds sessions to an axum router or any tower service.
///
/// The layer only parses the cookie. The store is read the first time an extractor asks for
/// the session, once per request; requests whose handlers never ask cost no store access.
///
/// ```
/// use axum::{Router, routing::get};
/// use session_runtime::{MemoryStore, SessionConfig, SessionLayer};
///
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
/// ```
#[derive(Clone)]
pub struct SessionLayer {
    store: Arc<dyn DynStore>,
    config: SessionConfig,
}

impl SessionLayer {
    /// A layer keeping sessions in `store`, configured by `config`.
    pub fn new(store: impl SessionStore, config: SessionConfig) -> Self {
        Self {
            store: Arc::new(store),
            config,
        }
    }
}

impl SessionLayer {
    /// A handle that lists and revokes users' sessions in this layer's store, outside any
    /// request (an admin tool, an account-disable job).
    ///
    /// ```
    /// use session_runtime::{MemoryStore, SessionConfig, SessionLayer, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// let layer = SessionLayer::new(MemoryStore::new(), SessionConfig::default());
    /// let admin = layer.admin::<AppSession>();
    /// # let _ = admin;
    /// ```
    #[must_use]
    pub fn admin<S: crate::HasUserId>(&self) -> crate::SessionAdmin<S> {
        crate::SessionAdmin::from_parts(self.store.clone(), self.config.inner.clock.clone())
    }
}

impl fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<I> Layer<I> for SessionLayer {
    type Service = SessionService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        SessionService::new(inner, self.store.clone(), self.config.inner.clone())
    }
}
