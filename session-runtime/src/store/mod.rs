//! The storage contract: one async, fallible trait, one error type, and the stores.

#[cfg(any(
    feature = "postgres",
    feature = "redis",
    feature = "sqlite",
    feature = "fuzzing"
))]
pub(crate) mod codec;
#[cfg(any(feature = "postgres", feature = "redis", feature = "sqlite"))]
mod deadline;
mod error;
mod memory;
#[cfg(feature = "postgres")]
mod pg_listen;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis-cluster")]
mod redis_cluster;
#[cfg(feature = "redis")]
mod redis_listen;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
mod sweeper;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

pub use error::{StoreError, StoreOp};
pub use memory::{MemoryStore, MemoryStoreBuilder};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresStore, PostgresStoreBuilder};
#[cfg(feature = "redis")]
pub use redis::{RedisStore, RedisStoreBuilder};
#[cfg(feature = "redis-cluster")]
pub use redis_cluster::{RedisClusterStore, RedisClusterStoreBuilder};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteStore, SqliteStoreBuilder};

use crate::ends::SessionEnds;
use crate::observe::{self, Op};
use crate::record::{Record, SessionInfo, Update};
use crate::token::{PublicId, SessionKey};

/// Where sessions live. Every method is one round trip to the backend.
///
/// Records are keyed by [`SessionKey`], the SHA-256 of the client's token; a store never sees a
/// raw token. Implementations must keep these guarantees, which the runtime relies on:
///
/// - [`update`](Self::update), [`touch`](Self::touch) and [`rotate`](Self::rotate) never
///   create a record that does not exist: a session deleted by a logout, a revocation, a
///   rotation or expiry stays deleted, whatever requests were in flight.
/// - [`update`](Self::update) writes only the fields it names, so two requests that change
///   different fields of one session both keep their change.
/// - [`rotate`](Self::rotate) writes the new record before it deletes the old one.
/// - [`load`](Self::load) never returns a record that has expired at `now`.
///
/// # Errors
///
/// Every method returns [`StoreError`] when the backend fails; the runtime answers `503`
/// rather than treating the session as empty.
///
/// The runtime sets no deadline of its own: a store must bound each call, and answer
/// [`StoreError::Timeout`] past its bound, as the networked stores of this crate do (their
/// `command_timeout`). A write that fails with [`StoreError::Backend`] or
/// [`StoreError::Timeout`] may have been made; the runtime reads the session back where
/// that matters (see [`StoreError`]), so a store need not retry writes itself.
pub trait SessionStore: Send + Sync + 'static {
    /// Reads a record. Expired records are not returned (and may be deleted).
    fn load(
        &self,
        key: &SessionKey,
        now: SystemTime,
    ) -> impl Future<Output = Result<Option<Record>, StoreError>> + Send;

    /// Writes a new record. Fails with [`StoreError::Conflict`] if the key is taken, or if
    /// the record's user already has a session with its public id (public ids are listed
    /// and revoked per user; a store may also refuse an id that any session holds).
    fn create(
        &self,
        key: &SessionKey,
        record: &Record,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Applies per-field changes to an existing record. Returns `false`, writing nothing, if
    /// the record does not exist.
    fn update(
        &self,
        key: &SessionKey,
        update: &Update,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Moves a record to a new key (a new token), applying `update` on the way, keeping its
    /// public id, user and creation time. Writes the new record before deleting the old one.
    /// Returns `false`, leaving nothing behind, if the old record does not exist.
    fn rotate(
        &self,
        old: &SessionKey,
        new: &SessionKey,
        update: &Update,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Refreshes rolling expiry without rewriting the data. Returns `false` if the record does
    /// not exist.
    fn touch(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes a record. Returns whether it existed.
    fn delete(&self, key: &SessionKey) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Lists the live sessions of a user (user id as canonical JSON text).
    fn list_user(
        &self,
        user_id: &str,
        now: SystemTime,
    ) -> impl Future<Output = Result<Vec<SessionInfo>, StoreError>> + Send;

    /// Deletes every session of a user except `keep`. Returns how many were deleted.
    fn delete_user(
        &self,
        user_id: &str,
        keep: Option<&SessionKey>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes the session with this public id if it belongs to this user. Returns whether
    /// one was deleted.
    fn delete_public(
        &self,
        user_id: &str,
        public_id: &PublicId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes every record expired at `now`. Returns how many were deleted.
    ///
    /// Every store of this crate also sweeps in a background task unless built with
    /// `no_background_sweep()`; a job of your own may call this instead.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use session_runtime::{MemoryStore, SessionStore as _};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_runtime::StoreError> {
    /// let store = MemoryStore::builder().no_background_sweep().build();
    /// let swept = store.sweep(SystemTime::now()).await?;
    /// assert_eq!(swept, 0); // nothing had expired
    /// # Ok(()) }
    /// ```
    fn sweep(&self, now: SystemTime) -> impl Future<Output = Result<u64, StoreError>> + Send;

    // ---- for the operator ----

    /// The store's name in the `store` field of its calls' `tracing` spans and the `store`
    /// label of the session metrics: by default the type's name without its module path or
    /// generic arguments (`MemoryStore`, `SqliteStore`). Override it to tell two stores of
    /// one type apart.
    ///
    /// ```
    /// use session_runtime::{MemoryStore, SessionStore as _};
    ///
    /// assert_eq!(MemoryStore::new().name(), "MemoryStore");
    /// ```
    fn name(&self) -> &'static str {
        crate::observe::type_name::<Self>()
    }

    /// How many records the store holds, if it can tell without a round trip (the
    /// `sessions_live` gauge of the `metrics` feature); `None` (the default) if it cannot.
    /// Remembered devices' series count as records.
    ///
    /// ```
    /// use session_runtime::{MemoryStore, SessionStore as _};
    ///
    /// assert_eq!(MemoryStore::new().live_count(), Some(0));
    /// ```
    fn live_count(&self) -> Option<u64> {
        None
    }

    // ---- without waiting ----
    //
    // A store that answers from this process's memory can answer the runtime's most frequent
    // calls at once, sparing the request a future. Each method below gives the same answer
    // as its async twin, or `None` (the default) when the store has to wait for a backend;
    // the runtime then awaits the twin. The conformance suite holds every store's answers
    // to its twins'.

    /// [`load`](Self::load), answered at once; `None` if the store must wait.
    fn load_now(
        &self,
        key: &SessionKey,
        now: SystemTime,
    ) -> Option<Result<Option<Record>, StoreError>> {
        let _ = (key, now);
        None
    }

    /// [`create`](Self::create), done at once; `None` if the store must wait (nothing was
    /// written then).
    fn create_now(&self, key: &SessionKey, record: &Record) -> Option<Result<(), StoreError>> {
        let _ = (key, record);
        None
    }

    /// [`update`](Self::update), done at once; `None` if the store must wait (nothing was
    /// written then).
    fn update_now(&self, key: &SessionKey, update: &Update) -> Option<Result<bool, StoreError>> {
        let _ = (key, update);
        None
    }

    /// [`touch`](Self::touch), done at once; `None` if the store must wait (nothing was
    /// written then).
    fn touch_now(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> Option<Result<bool, StoreError>> {
        let _ = (key, last_seen, expires_at);
        None
    }

    // ---- live revocation ----

    /// The hub that tells of the sessions this store ends, for
    /// [`Session::ended`](crate::Session::ended): `None` (the default) if the store cannot
    /// tell. A store that implements it reports, through the hub, every record it deletes
    /// (`delete`, `delete_user`, `delete_public`; expiry needs no report), including those
    /// another process deletes if other processes share it. The conformance suite checks
    /// it on every store that has one.
    fn session_ends(&self) -> Option<&Arc<SessionEnds>> {
        None
    }
}

impl<T: SessionStore> SessionStore for Arc<T> {
    fn load(
        &self,
        key: &SessionKey,
        now: SystemTime,
    ) -> impl Future<Output = Result<Option<Record>, StoreError>> + Send {
        (**self).load(key, now)
    }
    fn create(
        &self,
        key: &SessionKey,
        record: &Record,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).create(key, record)
    }
    fn update(
        &self,
        key: &SessionKey,
        update: &Update,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).update(key, update)
    }
    fn rotate(
        &self,
        old: &SessionKey,
        new: &SessionKey,
        update: &Update,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).rotate(old, new, update)
    }
    fn touch(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).touch(key, last_seen, expires_at)
    }
    fn delete(&self, key: &SessionKey) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).delete(key)
    }
    fn list_user(
        &self,
        user_id: &str,
        now: SystemTime,
    ) -> impl Future<Output = Result<Vec<SessionInfo>, StoreError>> + Send {
        (**self).list_user(user_id, now)
    }
    fn delete_user(
        &self,
        user_id: &str,
        keep: Option<&SessionKey>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        (**self).delete_user(user_id, keep)
    }
    fn delete_public(
        &self,
        user_id: &str,
        public_id: &PublicId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).delete_public(user_id, public_id)
    }
    fn sweep(&self, now: SystemTime) -> impl Future<Output = Result<u64, StoreError>> + Send {
        (**self).sweep(now)
    }
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn live_count(&self) -> Option<u64> {
        (**self).live_count()
    }
    fn load_now(
        &self,
        key: &SessionKey,
        now: SystemTime,
    ) -> Option<Result<Option<Record>, StoreError>> {
        (**self).load_now(key, now)
    }
    fn create_now(&self, key: &SessionKey, record: &Record) -> Option<Result<(), StoreError>> {
        (**self).create_now(key, record)
    }
    fn update_now(&self, key: &SessionKey, update: &Update) -> Option<Result<bool, StoreError>> {
        (**self).update_now(key, update)
    }
    fn touch_now(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> Option<Result<bool, StoreError>> {
        (**self).touch_now(key, last_seen, expires_at)
    }
    fn session_ends(&self) -> Option<&Arc<SessionEnds>> {
        (**self).session_ends()
    }
}

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The object-safe form of [`SessionStore`] that the per-request context holds. Every
/// call through it is observed (a span; with the `metrics` feature, metrics): see
/// `observe.rs`.
pub(crate) trait DynStore: Send + Sync + 'static {
    fn load<'a>(&'a self, key: &'a SessionKey, now: SystemTime) -> BoxFuture<'a, Option<Record>>;
    fn create<'a>(&'a self, key: &'a SessionKey, record: &'a Record) -> BoxFuture<'a, ()>;
    fn update<'a>(&'a self, key: &'a SessionKey, update: &'a Update) -> BoxFuture<'a, bool>;
    fn rotate<'a>(
        &'a self,
        old: &'a SessionKey,
        new: &'a SessionKey,
        update: &'a Update,
    ) -> BoxFuture<'a, bool>;
    fn touch<'a>(
        &'a self,
        key: &'a SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> BoxFuture<'a, bool>;
    fn delete<'a>(&'a self, key: &'a SessionKey) -> BoxFuture<'a, bool>;
    fn list_user<'a>(
        &'a self,
        user_id: &'a str,
        now: SystemTime,
    ) -> BoxFuture<'a, Vec<SessionInfo>>;
    fn delete_user<'a>(
        &'a self,
        user_id: &'a str,
        keep: Option<&'a SessionKey>,
    ) -> BoxFuture<'a, u64>;
    fn delete_public<'a>(
        &'a self,
        user_id: &'a str,
        public_id: &'a PublicId,
    ) -> BoxFuture<'a, bool>;
    fn load_now(
        &self,
        key: &SessionKey,
        now: SystemTime,
    ) -> Option<Result<Option<Record>, StoreError>>;
    fn create_now(&self, key: &SessionKey, record: &Record) -> Option<Result<(), StoreError>>;
    fn update_now(&self, key: &SessionKey, update: &Update) -> Option<Result<bool, StoreError>>;
    fn touch_now(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> Option<Result<bool, StoreError>>;
    fn session_ends(&self) -> Option<&Arc<SessionEnds>>;
}

impl<T: SessionStore> DynStore for T {
    fn load<'a>(&'a self, key: &'a SessionKey, now: SystemTime) -> BoxFuture<'a, Option<Record>> {
        observe::call(self, Op::Load, None, SessionStore::load(self, key, now))
    }
    fn create<'a>(&'a self, key: &'a SessionKey, record: &'a Record) -> BoxFuture<'a, ()> {
        let id = Some(&record.public_id);
        observe::call(
            self,
            Op::Create,
            id,
            SessionStore::create(self, key, record),
        )
    }
    fn update<'a>(&'a self, key: &'a SessionKey, update: &'a Update) -> BoxFuture<'a, bool> {
        observe::call(
            self,
            Op::Update,
            None,
            SessionStore::update(self, key, update),
        )
    }
    fn rotate<'a>(
        &'a self,
        old: &'a SessionKey,
        new: &'a SessionKey,
        update: &'a Update,
    ) -> BoxFuture<'a, bool> {
        let call = SessionStore::rotate(self, old, new, update);
        observe::call(self, Op::Rotate, None, call)
    }
    fn touch<'a>(
        &'a self,
        key: &'a SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> BoxFuture<'a, bool> {
        let call = SessionStore::touch(self, key, last_seen, expires_at);
        observe::call(self, Op::Touch, None, call)
    }
    fn delete<'a>(&'a self, key: &'a SessionKey) -> BoxFuture<'a, bool> {
        observe::call(self, Op::Delete, None, SessionStore::delete(self, key))
    }
    fn list_user<'a>(
        &'a self,
        user_id: &'a str,
        now: SystemTime,
    ) -> BoxFuture<'a, Vec<SessionInfo>> {
        let call = SessionStore::list_user(self, user_id, now);
        observe::call(self, Op::ListUser, None, call)
    }
    fn delete_user<'a>(
        &'a self,
        user_id: &'a str,
        keep: Option<&'a SessionKey>,
    ) -> BoxFuture<'a, u64> {
        let call = SessionStore::delete_user(self, user_id, keep);
        observe::call(self, Op::DeleteUser, None, call)
    }
    fn delete_public<'a>(
        &'a self,
        user_id: &'a str,
        public_id: &'a PublicId,
    ) -> BoxFuture<'a, bool> {
        let call = SessionStore::delete_public(self, user_id, public_id);
        observe::call(self, Op::DeletePublic, Some(public_id), call)
    }
    fn load_now(
        &self,
        key: &SessionKey,
        now: SystemTime,
    ) -> Option<Result<Option<Record>, StoreError>> {
        observe::call_now(self, Op::Load, None, || {
            SessionStore::load_now(self, key, now)
        })
    }
    fn create_now(&self, key: &SessionKey, record: &Record) -> Option<Result<(), StoreError>> {
        let id = Some(&record.public_id);
        observe::call_now(self, Op::Create, id, || {
            SessionStore::create_now(self, key, record)
        })
    }
    fn update_now(&self, key: &SessionKey, update: &Update) -> Option<Result<bool, StoreError>> {
        observe::call_now(self, Op::Update, None, || {
            SessionStore::update_now(self, key, update)
        })
    }
    fn touch_now(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> Option<Result<bool, StoreError>> {
        observe::call_now(self, Op::Touch, None, || {
            SessionStore::touch_now(self, key, last_seen, expires_at)
        })
    }
    fn session_ends(&self) -> Option<&Arc<SessionEnds>> {
        SessionStore::session_ends(self)
    }
}
