//! A per-key limit on failed password checks: after `limit` failures within `window`,
//! further attempts for that key are refused (`429` with `Retry-After`) until the oldest of
//! those failures leaves the window, whether or not the password would have been right.
//!
//! The window slides: a key holds the times of its last `limit` failures. Attempts still
//! being checked count against the limit, so a burst of parallel guesses cannot slip past it.
//! A success clears the key. Time comes from the app's [`Clock`], so tests move it. Memory is
//! bounded: at most `max_keys` keys are kept; when full, keys whose failures have all left
//! the window go first, then the key whose last failure is oldest. (Pushing a locked key
//! out that way takes `max_keys` fresh failures, each one a full password hash.) Locking a
//! name is also what an attacker can do to its owner: the price of a per-name limit.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use session_runtime::Clock;

/// The failures of one key.
#[derive(Debug, Default)]
struct Entry {
    /// The times of the last `limit` failures, oldest first.
    failures: VecDeque<SystemTime>,
    /// Attempts begun and not yet settled.
    pending: usize,
}

impl Entry {
    fn is_idle(&self) -> bool {
        self.pending == 0 && self.failures.is_empty()
    }
}

/// Refused: try again after this many whole seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

/// Failed attempts per key, limited within a sliding window.
pub struct Throttle {
    limit: usize,
    window: Duration,
    max_keys: usize,
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for Throttle {
    // The keys are user names: not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("limit", &self.limit)
            .field("window", &self.window)
            .field("keys", &self.lock().len())
            .finish_non_exhaustive()
    }
}

/// The keys a throttle keeps by default.
pub const MAX_KEYS: usize = 10_000;

impl Throttle {
    /// At most `limit` failures per key within `window`, on `clock`.
    pub fn new(limit: usize, window: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            limit: limit.max(1),
            window,
            max_keys: MAX_KEYS,
            clock,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The same, keeping at most `max_keys` keys.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn with_max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys.max(1);
        self
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drops the failures of `entry` that have left the window.
    fn expire(&self, entry: &mut Entry, now: SystemTime) {
        while entry
            .failures
            .front()
            .is_some_and(|&t| now.duration_since(t).unwrap_or_default() >= self.window)
        {
            entry.failures.pop_front();
        }
    }

    /// Makes room for one more key: idle keys first, then the one failed longest ago.
    fn make_room(&self, entries: &mut HashMap<String, Entry>, now: SystemTime) {
        if entries.len() < self.max_keys {
            return;
        }
        entries.retain(|_, entry| {
            self.expire(entry, now);
            !entry.is_idle()
        });
        if entries.len() < self.max_keys {
            return;
        }
        let oldest = entries
            .iter()
            .filter(|(_, e)| e.pending == 0)
            .min_by_key(|(_, e)| e.failures.back().copied())
            .map(|(key, _)| key.clone());
        if let Some(key) = oldest {
            entries.remove(&key);
        }
    }

    /// Starts a password check for `key`, or refuses it. Settle the attempt with
    /// [`Attempt::failed`] or [`Attempt::succeeded`]; dropped unsettled, it counts as nothing.
    pub fn begin(&self, key: &str) -> Result<Attempt<'_>, RetryAfter> {
        let now = self.clock.now();
        let mut entries = self.lock();
        if !entries.contains_key(key) {
            self.make_room(&mut entries, now);
        }
        let entry = entries.entry(key.to_owned()).or_default();
        self.expire(entry, now);
        if entry.failures.len() + entry.pending >= self.limit {
            // Full of failures: the oldest one must leave the window. Full only because
            // of checks in flight: they settle in well under a second.
            let wait = match entry.failures.len().checked_sub(self.limit) {
                Some(oldest) => {
                    let since = now
                        .duration_since(entry.failures[oldest])
                        .unwrap_or_default();
                    self.window.saturating_sub(since)
                }
                None => Duration::ZERO,
            };
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Err(RetryAfter(secs.max(1)));
        }
        entry.pending += 1;
        Ok(Attempt {
            throttle: self,
            key: key.to_owned(),
            settled: false,
        })
    }

    /// Settles one pending attempt of `key`: `Some(true)` records a failure, `Some(false)`
    /// (a success) clears the key, `None` just ends the attempt.
    fn settle(&self, key: &str, failed: Option<bool>) {
        let now = self.clock.now();
        let mut entries = self.lock();
        let Some(entry) = entries.get_mut(key) else {
            return;
        };
        entry.pending = entry.pending.saturating_sub(1);
        match failed {
            Some(true) => {
                entry.failures.push_back(now);
                while entry.failures.len() > self.limit {
                    entry.failures.pop_front();
                }
            }
            Some(false) => entry.failures.clear(),
            None => {}
        }
        if entry.is_idle() {
            entries.remove(key);
        }
    }
}

/// A password check under way for one key.
#[derive(Debug)]
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    key: String,
    settled: bool,
}

impl Attempt<'_> {
    /// The password was wrong: one more failure for the key.
    pub fn failed(mut self) {
        self.settled = true;
        self.throttle.settle(&self.key, Some(true));
    }

    /// The password was right: the key's failures are forgotten.
    pub fn succeeded(mut self) {
        self.settled = true;
        self.throttle.settle(&self.key, Some(false));
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.throttle.settle(&self.key, None);
        }
    }
}

/// The key of a user name: trimmed and lower-cased, so `Alice ` and `alice` share a limit.
pub fn username_key(username: &str) -> String {
    username.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use session_runtime::ManualClock;

    use super::*;

    const WINDOW: Duration = Duration::from_secs(15 * 60);

    fn throttle(clock: &ManualClock) -> Throttle {
        Throttle::new(5, WINDOW, Arc::new(clock.clone()))
    }

    fn fail(t: &Throttle, key: &str) {
        t.begin(key).expect("not throttled yet").failed();
    }

    #[test]
    fn five_failures_lock_the_key_until_the_first_leaves_the_window() {
        let clock = ManualClock::new();
        let t = throttle(&clock);
        for _ in 0..5 {
            fail(&t, "alice");
            clock.advance(Duration::from_secs(60));
        }
        // The first failure was 5 minutes ago: 10 minutes to go.
        assert_eq!(t.begin("alice").unwrap_err(), RetryAfter(10 * 60));
        assert!(t.begin("bob").is_ok(), "other keys are unaffected");
        clock.advance(Duration::from_secs(10 * 60 - 1));
        assert_eq!(t.begin("alice").unwrap_err(), RetryAfter(1));
        clock.advance(Duration::from_secs(1));
        // One failure has left the window: one more attempt, then locked again.
        fail(&t, "alice");
        assert_eq!(t.begin("alice").unwrap_err(), RetryAfter(60));
    }

    #[test]
    fn a_success_clears_the_key() {
        let clock = ManualClock::new();
        let t = throttle(&clock);
        for _ in 0..4 {
            fail(&t, "alice");
        }
        t.begin("alice").unwrap().succeeded();
        for _ in 0..5 {
            fail(&t, "alice");
        }
        assert!(t.begin("alice").is_err());
    }

    #[test]
    fn checks_in_flight_count_against_the_limit() {
        let clock = ManualClock::new();
        let t = throttle(&clock);
        let attempts: Vec<_> = (0..5).map(|_| t.begin("alice").unwrap()).collect();
        assert_eq!(t.begin("alice").unwrap_err(), RetryAfter(1));
        drop(attempts);
        assert!(
            t.begin("alice").is_ok(),
            "dropped attempts count as nothing"
        );
    }

    #[test]
    fn memory_is_bounded() {
        let clock = ManualClock::new();
        let t = throttle(&clock).with_max_keys(3);
        for key in ["a", "b", "c", "d", "e"] {
            fail(&t, key);
            clock.advance(Duration::from_secs(1));
        }
        assert_eq!(t.lock().len(), 3);
        assert!(t.lock().contains_key("e"));
        assert!(!t.lock().contains_key("a"), "the oldest went first");
    }

    #[test]
    fn user_names_are_normalized() {
        assert_eq!(username_key("  Alice "), "alice");
    }
}
