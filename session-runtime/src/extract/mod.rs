//! Extractors: the guards, and the typed rejections of every extractor.

mod guard;
mod recent_login;
mod rejection;

use std::sync::Arc;

use http::request::Parts;

pub use guard::{RequireAuth, RequireStaff, RequireSuperuser};
pub use recent_login::{RecentLoginRejection, RequireRecentLogin};
pub use rejection::SessionRejection;

use crate::context::Context;

/// The request's session context, which [`SessionLayer`](crate::SessionLayer) inserts.
pub(crate) fn context(parts: &Parts) -> Result<Arc<Context>, SessionRejection> {
    parts
        .extensions
        .get::<Arc<Context>>()
        .cloned()
        .ok_or_else(|| {
            tracing::error!("a session extractor ran without SessionLayer on the route");
            SessionRejection::MissingLayer
        })
}
