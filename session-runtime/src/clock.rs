//! Time, from a clock that tests can move.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time for expiry decisions.
///
/// The layer reads it once per request. Production code uses [`SystemClock`]; tests use
/// [`ManualClock`] to move time instead of sleeping.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::{Clock, ManualClock};
    ///
    /// fn idle_for(clock: &dyn Clock, last_seen: std::time::SystemTime) -> Duration {
    ///     clock.now().duration_since(last_seen).unwrap_or_default()
    /// }
    ///
    /// let clock = ManualClock::new();
    /// let seen = clock.now();
    /// clock.advance(Duration::from_secs(90));
    /// assert_eq!(idle_for(&clock, seen), Duration::from_secs(90));
    /// ```
    fn now(&self) -> SystemTime;
}

impl fmt::Debug for dyn Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Clock").field(&self.now()).finish()
    }
}

/// The operating system's wall clock: [`SystemTime::now`].
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use session_runtime::{Clock, SystemClock};
///
/// let lag = SystemTime::now().duration_since(SystemClock.now()).unwrap_or_default();
/// assert!(lag < Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to, for tests of expiry.
///
/// Clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use session_runtime::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let before = clock.now();
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now().duration_since(before).unwrap(), Duration::from_secs(60));
/// ```
#[derive(Clone)]
pub struct ManualClock {
    millis: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock set to the current system time.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use session_runtime::{Clock, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let gap = SystemTime::now().duration_since(clock.now()).unwrap_or_default();
    /// assert!(gap < Duration::from_secs(1));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self {
            millis: Arc::new(AtomicU64::new(
                u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
            )),
        }
    }

    /// Moves the clock forward, for every clone of it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::{Clock, ManualClock, SessionConfig};
    ///
    /// let clock = ManualClock::new();
    /// let config = SessionConfig::builder().clock(clock.clone()).build()?;
    /// # let _ = config;
    /// let start = clock.now();
    ///
    /// clock.advance(Duration::from_secs(31 * 60)); // past the default idle timeout
    /// assert_eq!(clock.now().duration_since(start)?, Duration::from_secs(31 * 60));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.millis.fetch_add(by, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.millis.load(Ordering::SeqCst))
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}
