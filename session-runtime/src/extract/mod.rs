//! Extractors: the guards, their policies, and the typed rejections of every extractor.

mod guard;
mod optional;
pub mod policy;
mod recent_login;
mod rejection;

use std::sync::Arc;

use http::request::Parts;

pub use guard::{Guard, RequireAuth, RequireStaff, RequireSuperuser};
pub use policy::Policy;
pub use recent_login::{RecentLoginRejection, RequireRecentLogin};
pub use rejection::SessionRejection;

use crate::context::Context;
use crate::schema::SessionSchema;

/// The request's session context, which [`SessionLayer`](crate::SessionLayer) provides.
///
/// The context travels with the request's task (see `service.rs`): an extractor finds none
/// when no `SessionLayer` wraps the route, or when a middleware between the layer and the
/// handler moved the handler's future to another task.
pub(crate) fn context() -> Result<Arc<Context>, SessionRejection> {
    crate::service::current_context().ok_or_else(|| {
        tracing::error!(
            "a session extractor found no session: put SessionLayer on the route, and do not \
             spawn the handler's future onto another task between the layer and the handler"
        );
        SessionRejection::MissingLayer
    })
}

/// The request's session, loaded from the store (once per request) and, for a
/// `#[session(strict)]` schema, checked: a session holding a value that no longer decodes is
/// discarded, and the request goes on as anonymous.
///
/// Everything but a store round trip is done without a future of its own: with a
/// [`MemoryStore`](crate::MemoryStore) nothing is awaited, and the extractors' futures stay
/// small (axum boxes a handler's future with its extractors' futures inside).
pub(crate) async fn load<S: SessionSchema>(
    parts: &Parts,
) -> Result<Arc<Context>, SessionRejection> {
    let ctx = context()?;
    ctx.load(&parts.headers, Some(S::KEYS))
        .await
        .map_err(|_| SessionRejection::StoreUnavailable)?;
    if let Some(checks) = S::STRICT {
        discard_if_undecodable(&ctx, checks).await?;
    }
    Ok(ctx)
}

/// For a `#[session(strict)]` schema: a session holding a value that no longer decodes is
/// logged out, and the request goes on as anonymous.
async fn discard_if_undecodable(
    ctx: &Context,
    checks: &'static [crate::schema::Check],
) -> Result<(), SessionRejection> {
    if let Some(field) = ctx.strict_failure(checks) {
        tracing::warn!(
            field,
            "stored session value does not decode into the strict schema; discarding the session"
        );
        Box::pin(ctx.logout())
            .await
            .map_err(|_| SessionRejection::StoreUnavailable)?;
    }
    Ok(())
}
