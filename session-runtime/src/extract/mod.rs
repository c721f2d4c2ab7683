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

use crate::context::{Context, State};
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
    load_then::<S, ()>(parts, |_| ()).await.map(|(ctx, ())| ctx)
}

/// [`load`], then `read` on the loaded state, under the load's own lock when it could be
/// (a schema that is not strict, a store answered without waiting).
pub(crate) async fn load_then<S: SessionSchema, R>(
    parts: &Parts,
    read: impl FnOnce(&State) -> R,
) -> Result<(Arc<Context>, R), SessionRejection> {
    let ctx = context()?;
    let unavailable = |_| SessionRejection::StoreUnavailable;
    let Some(checks) = S::STRICT else {
        let read = ctx.load_then(&parts.headers, Some(S::KEYS), read).await;
        return read.map(|read| (ctx, read)).map_err(unavailable);
    };
    ctx.load(&parts.headers, Some(S::KEYS))
        .await
        .map_err(unavailable)?;
    // Read after the check, which may end the session.
    discard_if_undecodable(&ctx, checks).await?;
    let read = read(&ctx.state());
    Ok((ctx, read))
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
