//! Bounded waits for the networked stores: a store that does not answer fails fast.

use std::future::Future;
use std::time::Duration;

use super::{StoreError, StoreOp};

/// Default bound on opening a connection to the backend.
#[cfg(any(feature = "postgres", feature = "redis"))]
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default bound on one store operation, waiting for a connection included.
pub(crate) const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(3);

/// Runs `op` for at most `limit`; past it the operation is abandoned and reported as
/// [`StoreError::Timeout`], which the runtime answers with `503`.
pub(crate) async fn bounded<T>(
    op: StoreOp,
    limit: Duration,
    fut: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(result) => result,
        Err(_) => Err(StoreError::Timeout { op }),
    }
}

pub(crate) use super::codec::{from_millis, to_millis};

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    #[test]
    fn millis_round_trip_and_clamp() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(from_millis(to_millis(t)), t);
        assert_eq!(to_millis(UNIX_EPOCH - Duration::from_secs(1)), 0);
        assert_eq!(from_millis(-5), UNIX_EPOCH);
        let now = SystemTime::now();
        assert!(from_millis(to_millis(now)) <= now);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_operation_is_a_timeout() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok::<_, StoreError>(())
        };
        let err = bounded(StoreOp::Load, Duration::from_millis(50), slow)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Timeout { op: StoreOp::Load }));
    }
}
