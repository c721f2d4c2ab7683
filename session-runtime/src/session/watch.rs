//! Waiting for the end of this request's session, from a long-lived response (see
//! `ends.rs`).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::Shared;
use super::state::Context;
use crate::ends::SessionEndError;
use crate::token::{PublicId, SessionKey};

/// The longest a waiter sleeps before it checks its session again: the expiry it knows
/// may be far off (an API token's is months away), and touches move an idle one.
const RECHECK_AT_LEAST_EVERY: Duration = Duration::from_secs(60 * 60);

/// What a wait follows: the session's public id, for the store's notices; its key and
/// user, to check it once subscribed and when its expiry comes.
struct Target {
    id: PublicId,
    key: SessionKey,
    user: Option<String>,
}

impl Context {
    /// A future that completes when this request's session ends, wherever it ends; at
    /// once if the request has no stored session. It owns what it needs: it outlives the
    /// request.
    pub(crate) fn ended(
        &self,
    ) -> impl Future<Output = Result<(), SessionEndError>> + Send + 'static {
        let shared = self.shared.clone();
        let target = self.state().bound.as_ref().map(|b| Target {
            id: b.record.public_id.clone(),
            key: b.key,
            user: b.record.user_id.clone(),
        });
        async move {
            let Some(target) = target else {
                return Ok(());
            };
            wait(shared, target).await
        }
    }
}

async fn wait(shared: Arc<Shared>, target: Target) -> Result<(), SessionEndError> {
    let Some(hub) = shared.store.session_ends().cloned() else {
        return Err(SessionEndError::Unsupported);
    };
    hub.up().await?;
    let mut registration = hub.register(target.id.clone());
    let clock = shared.config.clock.clone();
    // Subscribed: an end from now on is heard. One that came before is found by checking
    // once; then again whenever the expiry the waiter knows comes.
    loop {
        let now = clock.now();
        let Some(expires_at) = live_expiry(&shared, &target, now).await? else {
            return Ok(());
        };
        let wait = expires_at
            .duration_since(now)
            .unwrap_or_default()
            .min(RECHECK_AT_LEAST_EVERY)
            // Past the expiry by a hair, so the check finds it expired.
            + Duration::from_millis(10);
        if let Ok(outcome) = tokio::time::timeout(wait, &mut registration.rx).await {
            return outcome.unwrap_or(Err(SessionEndError::Disconnected));
        }
    }
}

/// The session's expiry if it is still live at `now`, `None` if it ended.
async fn live_expiry(
    shared: &Shared,
    target: &Target,
    now: SystemTime,
) -> Result<Option<SystemTime>, SessionEndError> {
    let store_error = |e: crate::store::StoreError| SessionEndError::Store(e.to_string());
    match &target.user {
        // By the user's listing: it follows the session across rotations.
        Some(user) => Ok(shared
            .store
            .list_user(user, now)
            .await
            .map_err(store_error)?
            .into_iter()
            .find(|s| s.public_id == target.id)
            .map(|s| s.expires_at)),
        None => Ok(shared
            .store
            .load(&target.key, now)
            .await
            .map_err(store_error)?
            .filter(|r| r.public_id == target.id && !r.is_expired(now))
            .map(|r| r.expires_at)),
    }
}
