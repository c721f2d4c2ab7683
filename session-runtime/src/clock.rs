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
    fn now(&self) -> SystemTime;
}

/// The operating system's wall clock, read coarsely where the system offers that.
///
/// On Linux it is the kernel's `CLOCK_REALTIME_COARSE`: the wall-clock time of the last
/// timer tick, so it may lag [`SystemTime::now`] by up to one tick (1–4 ms, by the kernel's
/// configuration). Reading it costs 2–3 ns where a precise read cost about 30 ns on the
/// virtual machine of the README's benchmarks, and every request that uses its session
/// reads the clock once.
/// Session deadlines are minutes and hours, so a few milliseconds do not matter to them;
/// do not use this clock where they would. Elsewhere it is [`SystemTime::now`].
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
        coarse_now().unwrap_or_else(SystemTime::now)
    }
}

/// The kernel's coarse real-time clock, when it reads as a time after 1970.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn coarse_now() -> Option<SystemTime> {
    use rustix::time::{ClockId, clock_gettime};
    let now = clock_gettime(ClockId::RealtimeCoarse);
    let secs = u64::try_from(now.tv_sec).ok()?;
    let nanos = u32::try_from(now.tv_nsec).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// No coarse clock here: [`SystemClock`] reads [`SystemTime::now`].
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn coarse_now() -> Option<SystemTime> {
    None
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

    /// Moves the clock forward.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_is_the_wall_clock_to_within_a_tick() {
        for _ in 0..1_000 {
            let coarse = SystemClock.now();
            let precise = SystemTime::now();
            // Never ahead of the precise clock, and behind it by at most a tick or so (the
            // bound is loose: a preempted test thread must not fail it).
            let lag = precise
                .duration_since(coarse)
                .expect("the coarse clock is not ahead");
            assert!(lag < Duration::from_millis(250), "lag {lag:?}");
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn on_linux_the_system_clock_moves_in_ticks() {
        // A thousand reads take a few microseconds: the precise clock gives about a
        // thousand values, the coarse one the same value or two (a few more if the thread
        // is preempted across ticks).
        let mut reads: Vec<SystemTime> = (0..1_000).map(|_| SystemClock.now()).collect();
        reads.dedup();
        assert!(reads.len() <= 10, "{} distinct reads", reads.len());
    }
}
