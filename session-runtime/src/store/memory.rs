//! The in-memory store: the embedded default, for one process.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use super::{SessionStore, StoreError, sweeper};
use crate::clock::{Clock, SystemClock};
use crate::ends::SessionEnds;
use crate::record::{Record, SessionInfo, SessionKind, Update};
use crate::token::{PublicId, SessionKey};

/// Default maximum number of records.
const DEFAULT_MAX_RECORDS: usize = 1_000_000;
/// Default interval of the background sweep of expired records.
const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Sessions in this process's memory: fast, concurrent, lost on restart.
///
/// - Sharded maps, no global lock on the hot path.
/// - A per-user index for listing and revoking a user's sessions by public id, which keeps
///   public ids unique among each user's sessions (a taken one is a
///   [`StoreError::Conflict`]). Guest sessions are never listed nor revoked by public id, so
///   they cost no index entry at all.
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

/// A [`Record`] as the store keeps it: the same content in less memory, since a process
/// may hold a million of them. Fields are a boxed slice sorted by name rather than a
/// `BTreeMap` (whose first node alone is over 500 bytes), strings are boxed without spare
/// capacity, times are nanoseconds, and the whole is boxed so that the map's buckets stay
/// small.
struct Stored {
    public_id: PublicId,
    /// Shared with the per-user index.
    user_id: Option<Arc<str>>,
    /// Field name → JSON text, sorted by name.
    data: Box<[(Box<str>, Box<str>)]>,
    device: Option<Box<str>>,
    created_at: Nanos,
    last_seen: Nanos,
    expires_at: Nanos,
    absolute_expires_at: Nanos,
    authenticated_at: Nanos,
    version: VersionAndKind,
}

/// A record's version and kind in one word: the kind alone, a byte, would cost the struct a
/// word of padding (8 bytes a session). The version keeps the low 56 bits (more writes than
/// a session will ever see), the kind the top byte.
#[derive(Clone, Copy)]
struct VersionAndKind(u64);

impl VersionAndKind {
    const VERSION_BITS: u32 = 56;
    const VERSION_MASK: u64 = (1 << Self::VERSION_BITS) - 1;

    fn new(version: u64, kind: SessionKind) -> Self {
        let kind: u64 = match kind {
            SessionKind::Browser => 0,
            SessionKind::Remembered => 1,
            SessionKind::Api => 2,
        };
        Self((version & Self::VERSION_MASK) | (kind << Self::VERSION_BITS))
    }

    fn version(self) -> u64 {
        self.0 & Self::VERSION_MASK
    }

    fn kind(self) -> SessionKind {
        match self.0 >> Self::VERSION_BITS {
            1 => SessionKind::Remembered,
            2 => SessionKind::Api,
            _ => SessionKind::Browser,
        }
    }

    /// One more write.
    fn bump(&mut self) {
        *self = Self::new(self.version().wrapping_add(1), self.kind());
    }
}

/// A time as nanoseconds since the Unix epoch: half the size of a `SystemTime`, exact for
/// the times sessions have (1970 to 2554).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Nanos(u64);

impl Nanos {
    /// No time (`authenticated_at` of a guest session).
    const NONE: Self = Self(u64::MAX);

    fn new(t: SystemTime) -> Self {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        Self(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX - 1))
    }

    fn from_opt(t: Option<SystemTime>) -> Self {
        t.map_or(Self::NONE, Self::new)
    }

    fn get(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.0)
    }

    fn get_opt(self) -> Option<SystemTime> {
        (self != Self::NONE).then(|| self.get())
    }
}

fn boxed_fields<'a>(
    fields: impl Iterator<Item = (&'a String, &'a String)>,
) -> Box<[(Box<str>, Box<str>)]> {
    fields
        .map(|(name, value)| (Box::from(name.as_str()), Box::from(value.as_str())))
        .collect()
}

impl Stored {
    fn new(record: &Record) -> Box<Self> {
        Box::new(Self {
            public_id: record.public_id.clone(),
            user_id: record.user_id.as_deref().map(Arc::from),
            data: boxed_fields(record.data.iter()),
            device: record.device.as_deref().map(Box::from),
            created_at: Nanos::new(record.created_at),
            last_seen: Nanos::new(record.last_seen),
            expires_at: Nanos::new(record.expires_at),
            absolute_expires_at: Nanos::new(record.absolute_expires_at),
            authenticated_at: Nanos::from_opt(record.authenticated_at),
            version: VersionAndKind::new(record.version, record.kind),
        })
    }

    fn to_record(&self) -> Record {
        Record {
            public_id: self.public_id.clone(),
            user_id: self.user_id.as_deref().map(str::to_owned),
            data: {
                let mut data = BTreeMap::new();
                for (name, value) in &self.data {
                    data.insert(String::from(&**name), String::from(&**value));
                }
                data
            },
            created_at: self.created_at.get(),
            last_seen: self.last_seen.get(),
            expires_at: self.expires_at.get(),
            absolute_expires_at: self.absolute_expires_at.get(),
            authenticated_at: self.authenticated_at.get_opt(),
            device: self.device.as_deref().map(str::to_owned),
            version: self.version.version(),
            kind: self.version.kind(),
        }
    }

    fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at <= Nanos::new(now)
    }

    fn info(&self) -> SessionInfo {
        SessionInfo {
            public_id: self.public_id.clone(),
            user_id: self.user_id.as_deref().map(str::to_owned),
            device: self.device.as_deref().map(str::to_owned),
            created_at: self.created_at.get(),
            last_seen: self.last_seen.get(),
            expires_at: self.expires_at.get(),
            kind: self.version.kind(),
        }
    }

    /// [`Update::apply_to`], on the compact form: values of fields already there are
    /// replaced in place; adding or removing a field makes a new slice.
    fn apply(&mut self, update: &Update) {
        let in_place = update.remove.is_empty()
            && update
                .set
                .keys()
                .all(|name| self.data.binary_search_by(|(n, _)| (**n).cmp(name)).is_ok());
        if in_place {
            for (name, value) in &update.set {
                if let Ok(at) = self.data.binary_search_by(|(n, _)| (**n).cmp(name)) {
                    self.data[at].1 = Box::from(value.as_str());
                }
            }
        } else {
            let mut data: Vec<(Box<str>, Box<str>)> = std::mem::take(&mut self.data).into_vec();
            data.retain(|(name, _)| {
                !update.remove.iter().any(|n| **n == **name) && !update.set.contains_key(&**name)
            });
            data.extend(
                update
                    .set
                    .iter()
                    .map(|(n, v)| (Box::from(n.as_str()), Box::from(v.as_str()))),
            );
            data.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
            self.data = data.into_boxed_slice();
        }
        if let Some(t) = update.last_seen {
            self.last_seen = Nanos::new(t);
        }
        if let Some(t) = update.expires_at {
            self.expires_at = Nanos::new(t);
        }
        self.version.bump();
    }
}

/// One user's sessions: public id → session key. Most users have one session, which needs
/// no map.
enum UserSessions {
    One(PublicId, SessionKey),
    Many(HashMap<PublicId, SessionKey>),
}

impl UserSessions {
    /// Adds a new session under a free public id; `false` if the id is taken.
    fn add(&mut self, public_id: &PublicId, key: SessionKey) -> bool {
        match self {
            UserSessions::One(only, _) if only == public_id => false,
            UserSessions::One(only, only_key) => {
                let sessions = HashMap::from([(only.clone(), *only_key), (public_id.clone(), key)]);
                *self = UserSessions::Many(sessions);
                true
            }
            UserSessions::Many(sessions) => {
                if sessions.contains_key(public_id) {
                    return false;
                }
                sessions.insert(public_id.clone(), key);
                true
            }
        }
    }

    /// Points the public id of session `old` at its new key; `false` if it names no `old`.
    fn repoint(&mut self, public_id: &PublicId, old: &SessionKey, new: SessionKey) -> bool {
        let entry = match self {
            UserSessions::One(only, key) => (only == public_id).then_some(key),
            UserSessions::Many(sessions) => sessions.get_mut(public_id),
        };
        match entry {
            Some(key) if key == old => {
                *key = new;
                true
            }
            _ => false,
        }
    }

    /// The key of the session with this public id.
    fn get(&self, public_id: &PublicId) -> Option<SessionKey> {
        match self {
            UserSessions::One(only, key) => (only == public_id).then_some(*key),
            UserSessions::Many(sessions) => sessions.get(public_id).copied(),
        }
    }

    /// Removes the session `key` if its public id still names it (a rotation points it at
    /// the new key first); returns whether no session is left.
    fn remove(&mut self, public_id: &PublicId, key: &SessionKey) -> bool {
        match self {
            UserSessions::One(only, only_key) => only == public_id && only_key == key,
            UserSessions::Many(sessions) => {
                if sessions.get(public_id) == Some(key) {
                    sessions.remove(public_id);
                }
                sessions.is_empty()
            }
        }
    }

    fn keys(&self) -> Vec<SessionKey> {
        match self {
            UserSessions::One(_, key) => vec![*key],
            UserSessions::Many(sessions) => sessions.values().copied().collect(),
        }
    }
}

struct Inner {
    records: DashMap<SessionKey, Box<Stored>>,
    /// User id → the user's sessions. Never locked while a `records` shard is wanted: a
    /// `records` lock may be held when this one is taken, never the other way round.
    by_user: DashMap<Arc<str>, UserSessions>,
    len: AtomicUsize,
    max_records: usize,
    sweep_interval: Option<Duration>,
    sweeper_started: AtomicBool,
    clock: Arc<dyn Clock>,
    /// Told of every record removed, for live revocation (in-process: every change is this
    /// process's).
    ends: Arc<SessionEnds>,
}

/// Configures a [`MemoryStore`].
#[derive(Clone)]
pub struct MemoryStoreBuilder {
    max_records: usize,
    sweep_interval: Option<Duration>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for MemoryStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStoreBuilder")
            .field("max_records", &self.max_records)
            .field("sweep_interval", &self.sweep_interval)
            .finish_non_exhaustive()
    }
}

impl MemoryStoreBuilder {
    /// The most sessions the store holds (default 1,000,000). At the cap, new anonymous
    /// sessions are refused; logins are not.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::{Request, StatusCode}, routing::post};
    /// use session_runtime::{MemoryStore, Session, SessionConfig, SessionError, SessionLayer, SessionSchema};
    /// use tower::ServiceExt as _;
    ///
    /// #[derive(SessionSchema)]
    /// pub struct Cart {
    ///     pub items: Vec<u64>,
    /// }
    ///
    /// async fn add(session: Session<Cart>) -> Result<(), SessionError> {
    ///     session.update_items(|items| items.push(7))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = MemoryStore::builder().max_records(1).build();
    /// let app = Router::new()
    ///     .route("/cart", post(add))
    ///     .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    ///
    /// let first_guest = app.clone().oneshot(Request::post("/cart").body(Body::empty())?).await?;
    /// assert_eq!(first_guest.status(), StatusCode::OK);
    /// let second_guest = app.oneshot(Request::post("/cart").body(Body::empty())?).await?;
    /// assert_eq!(second_guest.status(), StatusCode::SERVICE_UNAVAILABLE); // the store is full
    /// assert_eq!(store.len(), 1);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn max_records(mut self, max: usize) -> Self {
        self.max_records = max;
        self
    }

    /// How often the background task deletes expired sessions (default 60 s).
    ///
    /// Seen in a test, on a [`ManualClock`](crate::ManualClock) and Tokio's paused time:
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::{ManualClock, MemoryStore};
    /// # use axum::{Router, body::Body, http::Request, routing::post};
    /// # use session_runtime::{Session, SessionConfig, SessionError, SessionLayer, SessionSchema};
    /// # use tower::ServiceExt as _;
    /// # #[derive(SessionSchema)]
    /// # pub struct Prefs { pub theme: Option<String> }
    /// # async fn set_theme(session: Session<Prefs>) -> Result<(), SessionError> {
    /// #     session.set_theme(Some("dark".to_owned()))
    /// # }
    /// # fn app(store: &MemoryStore, clock: &ManualClock) -> Router {
    /// #     Router::new()
    /// #         .route("/theme", post(set_theme))
    /// #         .layer(SessionLayer::new(store.clone(), SessionConfig::builder().clock(clock.clone()).build().unwrap()))
    /// # }
    /// # async fn start_session(store: &MemoryStore, clock: &ManualClock) {
    /// #     app(store, clock).oneshot(Request::post("/theme").body(Body::empty()).unwrap()).await.unwrap();
    /// # }
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    ///
    /// let clock = ManualClock::new();
    /// let store = MemoryStore::builder()
    ///     .sweep_interval(Duration::from_secs(60))
    ///     .clock(clock.clone())
    ///     .build();
    /// start_session(&store, &clock).await; // a request that stores a session, on `clock`
    /// assert_eq!(store.len(), 1);
    ///
    /// clock.advance(Duration::from_secs(60 * 60)); // past the idle timeout
    /// tokio::time::sleep(Duration::from_secs(61)).await; // the sweep runs meanwhile
    /// assert_eq!(store.len(), 0);
    /// # }
    /// ```
    #[must_use]
    pub fn sweep_interval(mut self, every: Duration) -> Self {
        self.sweep_interval = Some(every);
        self
    }

    /// Turns the background sweep off; expired sessions are then only removed when read or
    /// by calling [`SessionStore::sweep`].
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use session_runtime::{MemoryStore, SessionStore as _};
    /// # use axum::{Router, body::Body, http::Request, routing::post};
    /// # use session_runtime::{Session, SessionConfig, SessionError, SessionLayer, SessionSchema};
    /// # use tower::ServiceExt as _;
    /// # #[derive(SessionSchema)]
    /// # pub struct Prefs { pub theme: Option<String> }
    /// # async fn set_theme(session: Session<Prefs>) -> Result<(), SessionError> {
    /// #     session.set_theme(Some("dark".to_owned()))
    /// # }
    /// # fn app(store: &MemoryStore) -> Router {
    /// #     Router::new()
    /// #         .route("/theme", post(set_theme))
    /// #         .layer(SessionLayer::new(store.clone(), SessionConfig::default()))
    /// # }
    /// # async fn start_session(store: &MemoryStore) {
    /// #     app(store).oneshot(Request::post("/theme").body(Body::empty()).unwrap()).await.unwrap();
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_runtime::StoreError> {
    ///
    /// let store = MemoryStore::builder().no_background_sweep().build();
    /// start_session(&store).await; // a request that stores a session
    ///
    /// // Your own job sweeps instead; here, as of a day later:
    /// let tomorrow = SystemTime::now() + Duration::from_secs(24 * 60 * 60);
    /// assert_eq!(store.sweep(tomorrow).await?, 1);
    /// assert!(store.is_empty());
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn no_background_sweep(mut self) -> Self {
        self.sweep_interval = None;
        self
    }

    /// The clock the background sweep reads "now" from (default [`SystemClock`]): give it
    /// the same clock as the layer's configuration
    /// ([`SessionConfigBuilder::clock`](crate::SessionConfigBuilder::clock)), so that
    /// tests that move time see expired sessions swept.
    ///
    /// ```
    /// use session_runtime::{ManualClock, MemoryStore};
    ///
    /// let clock = ManualClock::new();
    /// let store = MemoryStore::builder().clock(clock.clone()).build();
    /// # let _ = store;
    /// ```
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the store.
    ///
    /// ```
    /// use session_runtime::{MemoryStore, SessionConfig, SessionLayer};
    ///
    /// let store = MemoryStore::builder().max_records(100_000).build();
    /// assert!(store.is_empty());
    /// let layer = SessionLayer::new(store, SessionConfig::default());
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn build(self) -> MemoryStore {
        MemoryStore {
            inner: Arc::new(Inner {
                records: DashMap::default(),
                by_user: DashMap::new(),
                len: AtomicUsize::new(0),
                max_records: self.max_records,
                sweep_interval: self.sweep_interval,
                sweeper_started: AtomicBool::new(false),
                clock: self.clock,
                ends: SessionEnds::in_process(),
            }),
        }
    }
}

impl MemoryStore {
    /// An empty store with the default settings.
    ///
    /// ```
    /// use session_runtime::{MemoryStore, SessionAdmin, SessionConfig, SessionLayer, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// let store = MemoryStore::new();
    /// // Clones share the sessions: the layer and an admin handle see the same ones.
    /// let layer = SessionLayer::new(store.clone(), SessionConfig::default());
    /// let admin = SessionAdmin::<AppSession>::new(store);
    /// # let _ = (layer, admin);
    /// ```
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
            clock: Arc::new(SystemClock),
        }
    }

    /// How many records the store holds (expired ones included until swept).
    ///
    /// ```
    /// use session_runtime::MemoryStore;
    /// # use axum::{Router, body::Body, http::Request, routing::post};
    /// # use session_runtime::{Session, SessionConfig, SessionError, SessionLayer, SessionSchema};
    /// # use tower::ServiceExt as _;
    /// # #[derive(SessionSchema)]
    /// # pub struct Prefs { pub theme: Option<String> }
    /// # async fn set_theme(session: Session<Prefs>) -> Result<(), SessionError> {
    /// #     session.set_theme(Some("dark".to_owned()))
    /// # }
    /// # fn app(store: &MemoryStore) -> Router {
    /// #     Router::new()
    /// #         .route("/theme", post(set_theme))
    /// #         .layer(SessionLayer::new(store.clone(), SessionConfig::default()))
    /// # }
    /// # async fn start_session(store: &MemoryStore) {
    /// #     app(store).oneshot(Request::post("/theme").body(Body::empty()).unwrap()).await.unwrap();
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    ///
    /// let store = MemoryStore::new();
    /// start_session(&store).await; // a request whose handler sets a field
    /// start_session(&store).await; // another browser
    /// assert_eq!(store.len(), 2);
    /// # }
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.len.load(Ordering::Relaxed)
    }

    /// Whether the store holds no record.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::Request, routing::get};
    /// use session_runtime::{MemoryStore, Session, SessionConfig, SessionLayer, SessionSchema};
    /// use tower::ServiceExt as _;
    ///
    /// #[derive(SessionSchema)]
    /// pub struct Prefs {
    ///     pub theme: Option<String>,
    /// }
    ///
    /// async fn theme(session: Session<Prefs>) -> String {
    ///     session.theme().unwrap_or_else(|| "light".to_owned())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = MemoryStore::new();
    /// let app = Router::new()
    ///     .route("/theme", get(theme))
    ///     .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    ///
    /// // A guest who only reads stores nothing:
    /// app.oneshot(Request::get("/theme").body(Body::empty())?).await?;
    /// assert!(store.is_empty());
    /// # Ok(()) }
    /// ```
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
        let clock = self.inner.clock.clone();
        let spawned = sweeper::spawn(
            &self.inner,
            every,
            clock,
            "memory",
            |inner, now| async move { Ok(inner.sweep(now)) },
        );
        if !spawned {
            self.inner.sweeper_started.store(false, Ordering::Release);
        }
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
    fn remove(&self, key: &SessionKey) -> Option<Box<Stored>> {
        let (_, record) = self.records.remove(key)?;
        self.forget(key, &record);
        Some(record)
    }

    /// Drops a removed record from the count and the per-user index, and tells its
    /// waiters it ended.
    fn forget(&self, key: &SessionKey, record: &Stored) {
        self.len.fetch_sub(1, Ordering::Relaxed);
        self.ends.ended(&record.public_id);
        if let Some(user) = record.user_id.as_deref() {
            self.by_user
                .remove_if_mut(user, |_, sessions| sessions.remove(&record.public_id, key));
        }
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

    /// Inserts a record under a free key. A new session (`moved_from: None`) of a user also
    /// needs a public id free among the user's sessions; a rotated one takes its public id
    /// over from `moved_from`.
    fn insert_new(
        &self,
        key: SessionKey,
        record: Box<Stored>,
        moved_from: Option<&SessionKey>,
    ) -> Result<(), StoreError> {
        let Entry::Vacant(free) = self.records.entry(key) else {
            return Err(StoreError::Conflict);
        };
        if let Some(user) = &record.user_id {
            let id = &record.public_id;
            // The index shares the record's copy of the user id.
            let indexed = match (self.by_user.entry(user.clone()), moved_from) {
                (dashmap::Entry::Vacant(first), None) => {
                    first.insert(UserSessions::One(id.clone(), key));
                    true
                }
                (dashmap::Entry::Occupied(mut sessions), None) => sessions.get_mut().add(id, key),
                (dashmap::Entry::Occupied(mut sessions), Some(old)) => {
                    sessions.get_mut().repoint(id, old, key)
                }
                (dashmap::Entry::Vacant(_), Some(_)) => false,
            };
            if !indexed {
                return Err(StoreError::Conflict);
            }
        }
        free.insert(record);
        self.len.fetch_add(1, Ordering::Relaxed);
        Ok(())
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

/// The store's operations, all answered at once: both the async methods and their `_now`
/// twins call these.
impl MemoryStore {
    fn load_record(&self, key: &SessionKey, now: SystemTime) -> Option<Record> {
        self.ensure_sweeper();
        // The record is built straight into the answer (no `Option<Option<Record>>` to
        // unwrap: each step was a copy of it).
        match self.inner.records.get(key) {
            None => return None,
            Some(r) if !r.is_expired(now) => return Some(r.to_record()),
            Some(_) => {}
        }
        // Expired. The read guard is gone here: the removal takes the shard's write lock.
        self.inner.remove_if_expired(key, now);
        None
    }

    fn create_record(&self, key: &SessionKey, record: &Record) -> Result<(), StoreError> {
        self.ensure_sweeper();
        let limit = self.inner.max_records;
        if record.user_id.is_none() && self.len() >= limit {
            return Err(StoreError::CapacityExceeded { limit });
        }
        self.inner.insert_new(*key, Stored::new(record), None)
    }

    fn update_record(&self, key: &SessionKey, update: &Update) -> bool {
        match self.inner.records.get_mut(key) {
            Some(mut record) => {
                record.apply(update);
                true
            }
            None => false,
        }
    }

    fn touch_record(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> bool {
        match self.inner.records.get_mut(key) {
            Some(mut record) => {
                record.last_seen = Nanos::new(last_seen);
                record.expires_at = Nanos::new(expires_at);
                true
            }
            None => false,
        }
    }
}

impl SessionStore for MemoryStore {
    async fn load(&self, key: &SessionKey, now: SystemTime) -> Result<Option<Record>, StoreError> {
        Ok(self.load_record(key, now))
    }

    async fn create(&self, key: &SessionKey, record: &Record) -> Result<(), StoreError> {
        self.create_record(key, record)
    }

    async fn update(&self, key: &SessionKey, update: &Update) -> Result<bool, StoreError> {
        Ok(self.update_record(key, update))
    }

    async fn rotate(
        &self,
        old: &SessionKey,
        new: &SessionKey,
        update: &Update,
    ) -> Result<bool, StoreError> {
        let inner = &self.inner;
        let Some(snapshot) = inner.records.get(old).map(|r| r.to_record()) else {
            return Ok(false);
        };
        let seen_version = snapshot.version;
        let mut moved = snapshot;
        update.apply_to(&mut moved);
        // New record first: if anything below fails, the old one is still there.
        inner.insert_new(*new, Stored::new(&moved), Some(old))?;
        match inner.remove(old) {
            None => {
                // Deleted meanwhile (logout, revocation, expiry): the deletion wins.
                inner.remove(new);
                Ok(false)
            }
            Some(mut latest) if latest.version.version() != seen_version => {
                // Another request saved fields between our read and the move: keep them.
                latest.apply(update);
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
        Ok(self.touch_record(key, last_seen, expires_at))
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        Ok(self.inner.remove(key).is_some())
    }

    async fn list_user(
        &self,
        user_id: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        let keys = match self.inner.by_user.get(user_id) {
            Some(sessions) => sessions.keys(),
            None => return Ok(Vec::new()),
        };
        let mut sessions: Vec<SessionInfo> = keys
            .iter()
            .filter_map(|k| {
                let r = self.inner.records.get(k)?;
                (!r.is_expired(now)).then(|| r.info())
            })
            .collect();
        sessions.sort_by_key(|s| std::cmp::Reverse(s.last_seen));
        Ok(sessions)
    }

    async fn delete_user(
        &self,
        user_id: &str,
        keep: Option<&SessionKey>,
    ) -> Result<u64, StoreError> {
        let keys = match self.inner.by_user.get(user_id) {
            Some(sessions) => sessions.keys(),
            None => return Ok(0),
        };
        Ok(keys
            .iter()
            .filter(|k| Some(*k) != keep)
            .filter(|k| self.inner.remove(k).is_some())
            .count() as u64)
    }

    async fn delete_public(&self, user_id: &str, public_id: &PublicId) -> Result<bool, StoreError> {
        let Some(key) = self
            .inner
            .by_user
            .get(user_id)
            .and_then(|sessions| sessions.get(public_id))
        else {
            return Ok(false);
        };
        let owned = self.inner.records.remove_if(&key, |_, r| {
            r.user_id.as_deref() == Some(user_id) && r.public_id == *public_id
        });
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

    fn live_count(&self) -> Option<u64> {
        Some(self.len() as u64)
    }

    fn session_ends(&self) -> Option<&Arc<SessionEnds>> {
        Some(&self.inner.ends)
    }

    fn load_now(
        &self,
        key: &SessionKey,
        now: SystemTime,
    ) -> Option<Result<Option<Record>, StoreError>> {
        Some(Ok(self.load_record(key, now)))
    }

    fn create_now(&self, key: &SessionKey, record: &Record) -> Option<Result<(), StoreError>> {
        Some(self.create_record(key, record))
    }

    fn update_now(&self, key: &SessionKey, update: &Update) -> Option<Result<bool, StoreError>> {
        Some(Ok(self.update_record(key, update)))
    }

    fn touch_now(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> Option<Result<bool, StoreError>> {
        Some(Ok(self.touch_record(key, last_seen, expires_at)))
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn the_kind_costs_a_stored_record_no_padding() {
        assert_eq!(std::mem::size_of::<Stored>(), 120);
    }

    #[test]
    fn version_and_kind_round_trip() {
        for kind in [
            SessionKind::Browser,
            SessionKind::Remembered,
            SessionKind::Api,
        ] {
            for version in [0, 1, 41, VersionAndKind::VERSION_MASK] {
                let packed = VersionAndKind::new(version, kind);
                assert_eq!((packed.version(), packed.kind()), (version, kind));
            }
            let mut packed = VersionAndKind::new(7, kind);
            packed.bump();
            assert_eq!((packed.version(), packed.kind()), (8, kind));
        }
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn a_one_session_user_costs_no_more_than_its_public_id_and_key() {
        assert_eq!(
            std::mem::size_of::<UserSessions>(),
            std::mem::size_of::<(PublicId, SessionKey)>()
        );
    }
}

#[cfg(test)]
mod compact_tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn compact_records_round_trip_and_apply_updates_like_records() {
        let now = SystemTime::now();
        let record = Record {
            public_id: PublicId::new("p"),
            user_id: Some("42".into()),
            data: fields(&[("a", "1"), ("c", "\"é\""), ("e", "[]")]),
            created_at: now,
            last_seen: now,
            expires_at: now + Duration::from_secs(60),
            absolute_expires_at: now + Duration::from_secs(600),
            authenticated_at: Some(now),
            device: Some("curl".into()),
            version: 3,
            kind: SessionKind::Remembered,
        };
        assert_eq!(Stored::new(&record).to_record(), record);
        let updates = [
            Update::default(),
            Update {
                set: fields(&[("b", "2"), ("c", "3"), ("f", "4")]),
                remove: vec!["a".into(), "x".into()],
                last_seen: Some(now + Duration::from_secs(5)),
                expires_at: Some(now + Duration::from_secs(65)),
            },
            Update {
                set: fields(&[("0", "first"), ("z", "last")]),
                remove: vec!["e".into()],
                ..Update::default()
            },
        ];
        for update in &updates {
            let mut expected = record.clone();
            update.apply_to(&mut expected);
            let mut stored = Stored::new(&record);
            stored.apply(update);
            assert_eq!(stored.to_record(), expected, "{update:?}");
        }
    }
}

#[cfg(test)]
mod index_tests {
    use super::*;

    fn key() -> SessionKey {
        SessionKey::from_bytes(rand::random())
    }

    fn record(user: &str, now: SystemTime) -> Record {
        Record {
            public_id: PublicId::generate(),
            user_id: Some(user.to_owned()),
            data: BTreeMap::new(),
            created_at: now,
            last_seen: now,
            expires_at: now + Duration::from_secs(3600),
            absolute_expires_at: now + Duration::from_secs(7200),
            authenticated_at: Some(now),
            device: None,
            version: 0,
            kind: SessionKind::Browser,
        }
    }

    /// Every record of a user is in the user's index under its public id, and every index
    /// entry names a record of that user with that public id.
    fn assert_index_matches_records(store: &MemoryStore, users: &[&str]) {
        let inner = &store.inner;
        for user in users {
            let records: Vec<(SessionKey, PublicId)> = inner
                .records
                .iter()
                .filter(|r| r.user_id.as_deref() == Some(*user))
                .map(|r| (*r.key(), r.public_id.clone()))
                .collect();
            let indexed = inner
                .by_user
                .get(*user)
                .map(|s| s.keys())
                .unwrap_or_default();
            assert_eq!(
                indexed.len(),
                records.len(),
                "{user}: index and records disagree"
            );
            for (key, public_id) in &records {
                let sessions = inner.by_user.get(*user).unwrap();
                assert_eq!(
                    sessions.get(public_id),
                    Some(*key),
                    "{user}: {public_id} not indexed"
                );
            }
        }
    }

    #[test]
    fn the_per_user_index_stays_in_step_with_the_records_under_concurrent_writes() {
        let store = MemoryStore::builder().no_background_sweep().build();
        let users = ["\"a\"", "\"b\""];
        let workers: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    let now = SystemTime::now();
                    let mut mine: Vec<SessionKey> = Vec::new();
                    for i in 0..400 {
                        let user = users[(t + i) % users.len()];
                        let k = key();
                        rt.block_on(store.create(&k, &record(user, now))).unwrap();
                        mine.push(k);
                        match i % 4 {
                            // Rotate one of this worker's sessions to a new key.
                            0 => {
                                let old = mine.swap_remove(i % mine.len());
                                let new = key();
                                let moved = rt
                                    .block_on(store.rotate(&old, &new, &Update::default()))
                                    .unwrap();
                                if moved {
                                    mine.push(new);
                                }
                            }
                            // End one of them.
                            1 | 2 => {
                                let gone = mine.swap_remove(i % mine.len());
                                rt.block_on(store.delete(&gone)).unwrap();
                            }
                            // Revoke one by public id, as its user.
                            _ => {
                                let victim = mine.swap_remove(i % mine.len());
                                let found = store
                                    .inner
                                    .records
                                    .get(&victim)
                                    .map(|r| (r.user_id.clone(), r.public_id.clone()));
                                if let Some((Some(owner), public_id)) = found {
                                    let revoked = rt
                                        .block_on(store.delete_public(&owner, &public_id))
                                        .unwrap();
                                    assert!(revoked, "a live session is revoked by its id");
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        assert_index_matches_records(&store, &users);
        assert_eq!(store.len(), store.inner.records.len());
        // Ending every session of each user empties the index.
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for user in users {
            rt.block_on(store.delete_user(user, None)).unwrap();
            assert!(
                store.inner.by_user.get(user).is_none(),
                "{user} left in the index"
            );
        }
        assert!(store.is_empty());
    }
}
