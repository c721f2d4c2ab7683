//! The in-memory store: the embedded default, for one process.

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use super::{SessionStore, StoreError};
use crate::record::{Record, SessionInfo, Update};
use crate::token::{PublicId, SessionKey};

/// Default maximum number of records.
const DEFAULT_MAX_RECORDS: usize = 1_000_000;
/// Default interval of the background sweep of expired records.
const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Sessions in this process's memory: fast, concurrent, lost on restart.
///
/// - Sharded maps, no global lock on the hot path.
/// - A per-user index for listing and revoking a user's sessions, and a public-id index
///   that keeps public ids unique (a taken one is a [`StoreError::Conflict`]).
/// - Expiry is enforced on read, and a background task (started on first use inside a Tokio
///   runtime, stopped when the last clone of the store is dropped) sweeps expired records.
/// - Bounded: once it holds [`max_records`](MemoryStoreBuilder::max_records) sessions it
///   refuses new *anonymous* sessions with [`StoreError::CapacityExceeded`], rather than
///   evicting anyone; logins still succeed.
///
/// Clones share the same sessions.
///
/// ```
/// use session_runtime::{MemoryStore, SessionConfig, SessionLayer};
///
/// // Works outside an async runtime: routers are built before the server starts.
/// let layer = SessionLayer::new(MemoryStore::new(), SessionConfig::default());
/// # let _ = layer;
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

/// Hashes a [`SessionKey`] by folding its bytes: the key is already a SHA-256, uniformly
/// distributed, so hashing it again with SipHash would only be a second hash on every
/// request. Safe against flooding: only server-made keys are ever inserted.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(23) ^ u64::from_le_bytes(word);
        }
    }
}

type ByKey = BuildHasherDefault<KeyHasher>;

struct Inner {
    records: DashMap<SessionKey, Record, ByKey>,
    by_user: DashMap<String, HashSet<SessionKey, ByKey>>,
    by_public: DashMap<PublicId, SessionKey>,
    len: AtomicUsize,
    max_records: usize,
    sweep_interval: Option<Duration>,
    sweeper_started: AtomicBool,
}

/// Configures a [`MemoryStore`].
#[derive(Debug, Clone)]
pub struct MemoryStoreBuilder {
    max_records: usize,
    sweep_interval: Option<Duration>,
}

impl MemoryStoreBuilder {
    /// The most sessions the store holds (default 1,000,000). At the cap, new anonymous
    /// sessions are refused; logins are not.
    #[must_use]
    pub fn max_records(mut self, max: usize) -> Self {
        self.max_records = max;
        self
    }

    /// How often the background task deletes expired sessions (default 60 s).
    #[must_use]
    pub fn sweep_interval(mut self, every: Duration) -> Self {
        self.sweep_interval = Some(every);
        self
    }

    /// Turns the background sweep off; expired sessions are then only removed when read or
    /// by calling [`SessionStore::sweep`].
    #[must_use]
    pub fn no_background_sweep(mut self) -> Self {
        self.sweep_interval = None;
        self
    }

    /// Builds the store.
    #[must_use]
    pub fn build(self) -> MemoryStore {
        MemoryStore {
            inner: Arc::new(Inner {
                records: DashMap::default(),
                by_user: DashMap::new(),
                by_public: DashMap::new(),
                len: AtomicUsize::new(0),
                max_records: self.max_records,
                sweep_interval: self.sweep_interval,
                sweeper_started: AtomicBool::new(false),
            }),
        }
    }
}

impl MemoryStore {
    /// An empty store with the default settings.
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for a store with other settings.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::MemoryStore;
    ///
    /// let store = MemoryStore::builder()
    ///     .max_records(10_000)
    ///     .sweep_interval(Duration::from_secs(30))
    ///     .build();
    /// assert_eq!(store.len(), 0);
    /// ```
    #[must_use]
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder {
            max_records: DEFAULT_MAX_RECORDS,
            sweep_interval: Some(DEFAULT_SWEEP_INTERVAL),
        }
    }

    /// How many records the store holds (expired ones included until swept).
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.len.load(Ordering::Relaxed)
    }

    /// Whether the store holds no record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts the background sweep the first time the store is used inside a Tokio runtime.
    fn ensure_sweeper(&self) {
        let Some(every) = self.inner.sweep_interval else {
            return;
        };
        if self.inner.sweeper_started.load(Ordering::Relaxed)
            || self.inner.sweeper_started.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.inner.sweeper_started.store(false, Ordering::Release);
            return;
        };
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        runtime.spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let swept = inner.sweep(SystemTime::now());
                if swept > 0 {
                    tracing::debug!(swept, "memory store swept expired sessions");
                }
            }
        });
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("len", &self.len())
            .field("max_records", &self.inner.max_records)
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn index_user(&self, user_id: Option<&str>, key: SessionKey) {
        if let Some(user) = user_id {
            self.by_user.entry(user.to_owned()).or_default().insert(key);
        }
    }

    fn unindex_user(&self, user_id: Option<&str>, key: &SessionKey) {
        if let Some(user) = user_id {
            self.by_user.remove_if_mut(user, |_, keys| {
                keys.remove(key);
                keys.is_empty()
            });
        }
    }

    fn remove(&self, key: &SessionKey) -> Option<Record> {
        let (_, record) = self.records.remove(key)?;
        self.forget(key, &record);
        Some(record)
    }

    /// Drops a removed record from the count and the indexes.
    fn forget(&self, key: &SessionKey, record: &Record) {
        self.len.fetch_sub(1, Ordering::Relaxed);
        self.unindex_user(record.user_id.as_deref(), key);
        // Only if it still names this key: a rotation points it at the new one first.
        self.by_public.remove_if(&record.public_id, |_, k| k == key);
    }

    fn remove_if_expired(&self, key: &SessionKey, now: SystemTime) -> bool {
        match self.records.remove_if(key, |_, r| r.is_expired(now)) {
            Some((_, record)) => {
                self.forget(key, &record);
                true
            }
            None => false,
        }
    }

    /// Inserts a record under a free key. A new session (`moved_from: None`) also needs a
    /// free public id; a rotated one takes its public id over from `moved_from`.
    fn insert_new(
        &self,
        key: SessionKey,
        record: Record,
        moved_from: Option<&SessionKey>,
    ) -> Result<(), StoreError> {
        match self.records.entry(key) {
            Entry::Occupied(_) => Err(StoreError::Conflict),
            Entry::Vacant(slot) => {
                match (self.by_public.entry(record.public_id.clone()), moved_from) {
                    (dashmap::Entry::Vacant(id), None) => {
                        id.insert(key);
                    }
                    (dashmap::Entry::Occupied(mut id), Some(old)) if id.get() == old => {
                        id.insert(key);
                    }
                    _ => return Err(StoreError::Conflict),
                }
                let user = record.user_id.clone();
                slot.insert(record);
                self.len.fetch_add(1, Ordering::Relaxed);
                self.index_user(user.as_deref(), key);
                Ok(())
            }
        }
    }

    fn sweep(&self, now: SystemTime) -> u64 {
        let expired: Vec<SessionKey> = self
            .records
            .iter()
            .filter(|e| e.value().is_expired(now))
            .map(|e| *e.key())
            .collect();
        expired
            .iter()
            .filter(|key| self.remove_if_expired(key, now))
            .count() as u64
    }
}

impl SessionStore for MemoryStore {
    async fn load(&self, key: &SessionKey, now: SystemTime) -> Result<Option<Record>, StoreError> {
        let found = self.inner.records.get(key).map(|r| {
            if r.is_expired(now) {
                None
            } else {
                Some(r.value().clone())
            }
        });
        match found {
            Some(Some(record)) => Ok(Some(record)),
            Some(None) => {
                self.inner.remove_if_expired(key, now);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn create(&self, key: &SessionKey, record: &Record) -> Result<(), StoreError> {
        self.ensure_sweeper();
        let limit = self.inner.max_records;
        if record.user_id.is_none() && self.len() >= limit {
            return Err(StoreError::CapacityExceeded { limit });
        }
        self.inner.insert_new(*key, record.clone(), None)
    }

    async fn update(&self, key: &SessionKey, update: &Update) -> Result<bool, StoreError> {
        Ok(match self.inner.records.get_mut(key) {
            Some(mut record) => {
                update.apply_to(&mut record);
                true
            }
            None => false,
        })
    }

    async fn rotate(
        &self,
        old: &SessionKey,
        new: &SessionKey,
        update: &Update,
    ) -> Result<bool, StoreError> {
        let inner = &self.inner;
        let Some(snapshot) = inner.records.get(old).map(|r| r.value().clone()) else {
            return Ok(false);
        };
        let seen_version = snapshot.version;
        let mut moved = snapshot;
        update.apply_to(&mut moved);
        // New record first: if anything below fails, the old one is still there.
        inner.insert_new(*new, moved, Some(old))?;
        match inner.remove(old) {
            None => {
                // Deleted meanwhile (logout, revocation, expiry): the deletion wins.
                inner.remove(new);
                Ok(false)
            }
            Some(mut latest) if latest.version != seen_version => {
                // Another request saved fields between our read and the move: keep them.
                update.apply_to(&mut latest);
                if let Some(mut slot) = inner.records.get_mut(new) {
                    *slot = latest;
                }
                Ok(true)
            }
            Some(_) => Ok(true),
        }
    }

    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        Ok(match self.inner.records.get_mut(key) {
            Some(mut record) => {
                record.last_seen = last_seen;
                record.expires_at = expires_at;
                true
            }
            None => false,
        })
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        Ok(self.inner.remove(key).is_some())
    }

    async fn list_user(
        &self,
        user_id: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        let keys: Vec<SessionKey> = match self.inner.by_user.get(user_id) {
            Some(keys) => keys.iter().copied().collect(),
            None => return Ok(Vec::new()),
        };
        let mut sessions: Vec<SessionInfo> = keys
            .iter()
            .filter_map(|k| self.inner.records.get(k).map(|r| r.value().clone()))
            .filter(|r| !r.is_expired(now))
            .map(|r| r.info())
            .collect();
        sessions.sort_by_key(|s| std::cmp::Reverse(s.last_seen));
        Ok(sessions)
    }

    async fn delete_user(
        &self,
        user_id: &str,
        keep: Option<&SessionKey>,
    ) -> Result<u64, StoreError> {
        let keys: Vec<SessionKey> = match self.inner.by_user.get(user_id) {
            Some(keys) => keys.iter().copied().collect(),
            None => return Ok(0),
        };
        Ok(keys
            .iter()
            .filter(|k| Some(*k) != keep)
            .filter(|k| self.inner.remove(k).is_some())
            .count() as u64)
    }

    async fn delete_public(&self, user_id: &str, public_id: &PublicId) -> Result<bool, StoreError> {
        let Some(key) = self.inner.by_public.get(public_id).map(|k| *k) else {
            return Ok(false);
        };
        let owned = self
            .inner
            .records
            .remove_if(&key, |_, r| r.user_id.as_deref() == Some(user_id));
        Ok(match owned {
            Some((_, record)) => {
                self.inner.forget(&key, &record);
                true
            }
            None => false,
        })
    }

    async fn sweep(&self, now: SystemTime) -> Result<u64, StoreError> {
        Ok(self.inner.sweep(now))
    }
}
