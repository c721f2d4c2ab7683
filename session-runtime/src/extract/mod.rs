//! Extractors: [`Session`], the guards and their policies, and the typed rejections of
//! every extractor. Each one finds the request's session context (see `service.rs`), has it
//! loaded (see `session/load.rs`), and wraps it in a typed view.

pub(crate) mod guard;
mod optional;
pub mod policy;
mod recent_login;
mod rejection;
mod session;

use std::sync::Arc;

use http::request::Parts;

pub use guard::{Guard, RequireAuth, RequireStaff, RequireSuperuser};
pub use policy::Policy;
pub use recent_login::{RecentLoginRejection, RequireRecentLogin};
pub use rejection::SessionRejection;
pub use session::Session;

use crate::schema::SessionSchema;
use crate::session::Context;

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
pub(crate) async fn load<S: SessionSchema>(
    parts: &Parts,
) -> Result<Arc<Context>, SessionRejection> {
    let ctx = context()?;
    let unavailable = |_| SessionRejection::StoreUnavailable;
    ctx.load(&parts.headers, Some(S::KEYS))
        .await
        .map_err(unavailable)?;
    if let Some(checks) = S::STRICT {
        ctx.discard_if_undecodable(checks)
            .await
            .map_err(unavailable)?;
    }
    Ok(ctx)
}
