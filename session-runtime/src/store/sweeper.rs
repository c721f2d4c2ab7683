//! The background sweep every store runs: a task that deletes expired sessions every so
//! often, on the store's [`Clock`], and stops when the store is dropped.

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use super::StoreError;
use crate::clock::Clock;

/// Default interval of the background sweep of the external stores.
#[cfg(any(feature = "postgres", feature = "redis", feature = "sqlite"))]
pub(crate) const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(300);

/// Spawns the sweep on the current Tokio runtime; `false` if there is none (the caller may
/// try again later). The task holds only a weak reference: it ends with the last clone of
/// the store. "Now" is read from `clock`, the store's configured clock.
pub(crate) fn spawn<T, F, Fut>(
    store: &Arc<T>,
    every: Duration,
    clock: Arc<dyn Clock>,
    name: &'static str,
    sweep: F,
) -> bool
where
    T: Send + Sync + 'static,
    F: Fn(Arc<T>, SystemTime) -> Fut + Send + 'static,
    Fut: Future<Output = Result<u64, StoreError>> + Send,
{
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return false;
    };
    let weak: Weak<T> = Arc::downgrade(store);
    runtime.spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let Some(store) = weak.upgrade() else { break };
            match sweep(store, clock.now()).await {
                Ok(0) => {}
                Ok(swept) => tracing::debug!(swept, store = name, "swept expired sessions"),
                Err(error) => {
                    tracing::warn!(%error, store = name, "sweep of expired sessions failed")
                }
            }
        }
    });
    true
}
