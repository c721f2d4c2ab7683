//! The Redis Cluster store: sessions for a fleet that outgrows one Redis server.
//!
//! A Redis Cluster runs a script, or a command on several keys, only when every key is in
//! one hash slot, and the slot of a key is fixed by its name (its `{hash tag}`). A session
//! is reached three ways: by its key (the cookie's SHA-256), by its user (listing, logout
//! everywhere) and by its public id (revoking one). No single tag serves all three: the
//! cookie carries neither the user nor the public id, and a key that named its user's slot
//! would need a second lookup on every request to find it. So each session record has a slot
//! of its own, each user index another, and the few operations that span both are done in
//! steps, in an order that keeps every state in between safe.
//!
//! # Key layout
//!
//! Under a configurable prefix `P` (default `session:`):
//!
//! | key | type | what | expires |
//! | --- | --- | --- | --- |
//! | `P{<hex>}` | hash | one session, the same fields as [`RedisStore`](crate::RedisStore)'s, plus `ixp` (until when its user's index must last) and, during a rotation, `mv`/`mvt` (old record: moving to, since) or `pend` (new record: not yet live) | at the session's expiry |
//! | `P{<hex>}t` | string | tombstone: the session was ended by its user's index before its record was written; no record may be written here | a minute |
//! | `P{u:<tag>}` | hash | the user's index: public id → `<hex>`; `<tag>` is the first 128 bits of the SHA-256 of the user id, in hex | at the latest expiry of its sessions |
//! | `P{x:<c>}` | sorted set | sessions whose `<hex>` starts with `<c>` (16 sets), scored by expiry, for [`SessionStore::sweep`] at any `now`; members `<hex>`, or `<hex>:<tag>:<public id>` for a logged-in session | never (the sweep trims them) |
//!
//! A read is one `HGETALL` of `P{<hex>}`: one round trip, on the node of the session's slot,
//! and sessions spread evenly over the masters. An update or a touch is one script on that
//! slot: its atomic checks (the record still exists, is not being moved) are exactly the
//! single-server store's.
//!
//! # Steps that span slots, and why each order is safe
//!
//! The rule: a session's record is never live without its user-index entry. So the index
//! entry is written first and removed last, and readers of the index repair what a failed
//! step leaves behind.
//!
//! - **Create** (a login): the expiry-set entry, then the index entry (the script refuses a
//!   public id the user's other session holds), then the record. A failure in between leaves
//!   an index entry with no record; listing and logout-everywhere delete such entries.
//! - **Delete** (logout, revoke): the record, then its index entry, then the other record of
//!   a rotation in flight, if any. A failure in between leaves the same harmless entry.
//! - **A deletion driven by the index** (logout-everywhere, revoking by public id, the repair
//!   of an entry) that finds no record leaves a tombstone on the key, so that a login whose
//!   record was not written yet fails (the runtime retries it under a new token, after the
//!   deletion): a session ended by a password change cannot appear just after it.
//! - **Rotate**: the old record is marked as moving (its writes are refused from then on,
//!   as a single server refuses writes to a key rotated away), the new record is written as
//!   pending (a read does not see it), the index entry is pointed at it, it is made live, and
//!   the old record is deleted. Until that last step readers find the old record, so no
//!   reader ever sees neither (if that last step fails, the old record stays readable, never
//!   writable, until the lease below ends). A deletion of either record meanwhile deletes
//!   the other too (logout and revocation win over a rotation in flight). A rotation that
//!   fails midway, and whose app instance does not finish it within 30 s (the lease), ends
//!   the session: the user logs in again, which is safe, where keeping both records could
//!   leave a live session that the index no longer names.
//! - **Sweep**: each expiry set is read, and each session found expired is deleted by a
//!   script on its own slot (which re-checks its expiry), then its index entry. A session
//!   the server expired by itself has no record left to name its user: its member in the
//!   expiry set does, so its index entry goes too, and a user's index stays as small as
//!   their live sessions whether or not anyone lists them. A session found live (touched
//!   since) is scored again at its current expiry; touches do not write the expiry sets.
//!
//! Listing reads the user's index, then each session's record (one round trip each).
//!
//! # Live revocation
//!
//! Every script that deletes a session (the deletion's and the sweep's) publishes its public
//! id on the channel `P` + `ended`, as [`RedisStore`](crate::RedisStore)'s scripts do. Classic
//! pub/sub is relayed by every node of a cluster, so each store subscribes on one node, its
//! first seed, and on the next seed when it loses that one (the waits of that moment end
//! with an error, as [`Session::ended`](crate::Session::ended) documents).
//!
//! # What a cluster cannot promise that a single server can
//!
//! - **Replication is asynchronous.** A master acknowledges a write before its replicas have
//!   it; if it dies just after, the replica that takes over may lack that write. A session
//!   created then is lost (its user logs in again); a logout or revocation made then can be
//!   undone (the session lives again until its expiry); a field saved then is lost. A single
//!   Redis loses acknowledged writes only when it crashes itself, as far as its persistence
//!   settings allow; a cluster can lose them on any failover. This store issues no `WAIT`:
//!   `WAIT` narrows the window without closing it (a failover may still promote a replica
//!   that lacks the write), and adds a replication round trip to every write.
//! - **Per-user operations are not atomic.** Between the steps above, a listing may miss a
//!   session being created, or still show one being deleted.
//! - **During a failover** (a few seconds, `cluster-node-timeout` plus the election), the
//!   sessions whose slots the dead master served answer `503`; the others work. Redirections
//!   (`MOVED`, `ASK`) during a resharding and reconnection after a node restarts are
//!   handled by the client: the app needs no restart.
//! - A session whose expiry an update moves earlier is swept (at the app's clock) only once
//!   its former expiry has passed; the server deletes it at its new expiry by itself.

mod ops;
mod scripts;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;

use super::deadline::{DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, bounded};
use super::redis::{backend, check_prefix};
use super::redis_listen;
use super::{SessionStore, StoreError, StoreOp, sweeper};
use crate::clock::{Clock, SystemClock};
use crate::ends::SessionEnds;

/// The prefix of every key when none is configured.
const DEFAULT_PREFIX: &str = "session:";

/// Sessions in a Redis Cluster (Redis 7 or later) or a Valkey cluster: every app instance
/// that reaches the cluster sees the same sessions, spread over all its masters.
///
/// Available with the `redis-cluster` feature of `session-runtime` (off by default; it turns
/// on `redis` too):
///
/// ```toml
/// session-runtime = { git = "<repository URL>", features = ["redis-cluster"] }
/// ```
///
/// Give it some of the cluster's nodes (`redis://[:password@]host:port`); it finds the others
/// itself, follows `MOVED` and `ASK` redirections, and reconnects to nodes that restart.
/// Connecting is bounded by [`connect_timeout`](RedisClusterStoreBuilder::connect_timeout)
/// and every command by [`command_timeout`](RedisClusterStoreBuilder::command_timeout),
/// retries included, so a failover turns into `503`s for the sessions of the failed master
/// until its replica takes over.
///
/// [`Session::ended`](crate::Session::ended) hears of sessions that any instance ends: each
/// deletion is published on the cluster's pub/sub, to which the store subscribes through
/// one seed node at a time.
///
/// # Layout
///
/// A cluster runs a script only on keys of one hash slot, so each session's record has a
/// slot of its own (`P{<key hex>}`, spreading sessions over every master; a read is one
/// `HGETALL`) and each user's index, public id → session, another (`P{u:<hash of the user
/// id>}`). A login, a logout, a revocation and a rotation are a few one-slot steps, ordered
/// so that a session is never live without its index entry: logout-everywhere and a password
/// change always reach it. A step that fails leaves at worst an index entry with no session,
/// which listing and logout-everywhere remove.
///
/// # What a cluster cannot promise
///
/// - Replication is asynchronous: a write acknowledged just before its master dies can be
///   lost with it. A new session (its user logs in again), a saved field, or a logout or
///   revocation (the session lives again until it expires). The store issues no `WAIT`,
///   which narrows that window without closing it.
/// - Per-user operations are not atomic: a listing taken during a login or a logout may miss
///   the new session or still show the ending one.
/// - During a failover, the sessions of the failed master answer `503` (a few seconds:
///   `cluster-node-timeout` plus the election); the others work throughout.
/// - A rotation that fails midway (its app instance or a node lost between its steps) ends
///   the session after 30 s at most: the user logs in again.
///
/// ```no_run
/// use session_runtime::{RedisClusterStore, SessionConfig, SessionLayer};
///
/// # async fn run() -> Result<(), session_runtime::StoreError> {
/// let store = RedisClusterStore::connect([
///     "redis://10.0.0.1:6379",
///     "redis://10.0.0.2:6379",
///     "redis://10.0.0.3:6379",
/// ])
/// .await?;
/// let layer = SessionLayer::new(store, SessionConfig::default());
/// # let _ = layer; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisClusterStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: ClusterConnection,
    prefix: String,
    command_timeout: Duration,
    /// Where the scripts publish the public id of each session they delete.
    channel: String,
    /// Told of every session any instance sharing the prefix deletes, through pub/sub on
    /// one node at a time (a publish reaches every node of the cluster).
    ends: Arc<SessionEnds>,
}

/// Configures a [`RedisClusterStore`]; see [`RedisClusterStore::builder`].
///
/// Available with the `redis-cluster` feature.
#[derive(Clone)]
#[must_use]
pub struct RedisClusterStoreBuilder {
    nodes: Vec<String>,
    prefix: String,
    connect_timeout: Duration,
    command_timeout: Duration,
    sweep_interval: Option<Duration>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for RedisClusterStoreBuilder {
    // The URLs may hold a password: not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisClusterStoreBuilder")
            .field("nodes", &self.nodes.len())
            .field("prefix", &self.prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisClusterStoreBuilder {
    /// The prefix of every key the store writes (default `session:`), so several apps can
    /// share one cluster. Printable ASCII without spaces, glob characters (`*?[]\`) or
    /// braces (`{}`, which would change the keys' hash slots), at most 64 characters.
    ///
    /// ```
    /// use session_runtime::{RedisClusterStore, StoreError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let refused = RedisClusterStore::builder(["redis://127.0.0.1:7000"])
    ///     .prefix("{shop}:session:") // no braces: try `shop:session:`
    ///     .connect()
    ///     .await;
    /// assert!(matches!(refused, Err(StoreError::Config { .. })));
    /// # }
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest connecting to the cluster may take (default 2 s).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::RedisClusterStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = RedisClusterStore::builder(["redis://10.0.0.1:6379"])
    ///     .connect_timeout(Duration::from_millis(500))
    ///     .connect()
    ///     .await?;
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// The longest one command may take, redirections and retries included (default 3 s);
    /// past it the operation fails with [`StoreError::Timeout`] and the request gets `503`.
    ///
    /// A read, a save and a touch are one command. A login, a logout, a revocation or a
    /// rotation is a few (one or two per hash slot it changes; a rotation, up to seven), and a
    /// listing one per session: each is bounded, and the first that fails ends the operation.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::RedisClusterStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = RedisClusterStore::builder(["redis://10.0.0.1:6379"])
    ///     .command_timeout(Duration::from_millis(800))
    ///     .connect()
    ///     .await?;
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    pub fn command_timeout(mut self, limit: Duration) -> Self {
        self.command_timeout = limit;
        self
    }

    /// How often a background task deletes sessions expired by the app's clock and trims
    /// the expiry sets (default 5 minutes; the servers expire sessions by themselves anyway).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::RedisClusterStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = RedisClusterStore::builder(["redis://10.0.0.1:6379"])
    ///     .sweep_interval(Duration::from_secs(30 * 60))
    ///     .connect()
    ///     .await?;
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    pub fn sweep_interval(mut self, every: Duration) -> Self {
        self.sweep_interval = Some(every);
        self
    }

    /// No background sweep: call [`SessionStore::sweep`] from a job of your own, or the
    /// expiry sets keep an entry per expired session.
    ///
    /// ```no_run
    /// use std::time::SystemTime;
    /// use session_runtime::{RedisClusterStore, SessionStore as _};
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = RedisClusterStore::builder(["redis://10.0.0.1:6379"])
    ///     .no_background_sweep()
    ///     .connect()
    ///     .await?;
    /// // In the nightly job:
    /// store.sweep(SystemTime::now()).await?;
    /// # Ok(()) }
    /// ```
    pub fn no_background_sweep(mut self) -> Self {
        self.sweep_interval = None;
        self
    }

    /// The clock the background sweep reads "now" from (default [`SystemClock`]): give it
    /// the layer's clock ([`SessionConfigBuilder::clock`](crate::SessionConfigBuilder::clock)).
    ///
    /// ```no_run
    /// use session_runtime::{ManualClock, RedisClusterStore, SessionConfig, SessionLayer};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let clock = ManualClock::new();
    /// let store = RedisClusterStore::builder(["redis://127.0.0.1:7000"])
    ///     .clock(clock.clone())
    ///     .connect()
    ///     .await?;
    /// let layer = SessionLayer::new(store, SessionConfig::builder().clock(clock).build()?);
    /// # let _ = layer;
    /// # Ok(()) }
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Connects to the cluster.
    ///
    /// # Errors
    ///
    /// [`StoreError::Config`] for no node, a malformed URL or prefix; [`StoreError::Backend`]
    /// or [`StoreError::Timeout`] (operation [`StoreOp::Setup`]) if the cluster cannot be
    /// reached.
    ///
    /// ```
    /// use session_runtime::{RedisClusterStore, StoreError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let refused = RedisClusterStore::builder(["http://127.0.0.1:7000"]).connect().await;
    /// assert!(matches!(refused, Err(StoreError::Config { .. })));
    /// let no_nodes: [&str; 0] = [];
    /// let refused = RedisClusterStore::builder(no_nodes).connect().await;
    /// assert!(matches!(refused, Err(StoreError::Config { .. })));
    /// # }
    /// ```
    pub async fn connect(self) -> Result<RedisClusterStore, StoreError> {
        check_prefix(&self.prefix, b"{}")?;
        if self.nodes.is_empty() {
            return Err(StoreError::Config {
                reason: "a Redis Cluster store needs at least one node URL".into(),
            });
        }
        let client = ClusterClientBuilder::new(self.nodes.iter().map(String::as_str))
            .connection_timeout(self.connect_timeout)
            .response_timeout(self.command_timeout)
            .retries(8)
            .min_retry_wait(20)
            .max_retry_wait(500)
            .build()
            .map_err(|e| StoreError::Config {
                reason: format!("invalid Redis Cluster node URL: {e}"),
            })?;
        let nodes = self
            .nodes
            .iter()
            .map(|url| redis::Client::open(url.as_str()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Config {
                reason: format!("invalid Redis Cluster node URL: {e}"),
            })?;
        let channel = redis_listen::channel(&self.prefix);
        let ends = redis_listen::hub(nodes, channel.clone());
        let conn = bounded(StoreOp::Setup, self.connect_timeout, async {
            client
                .get_async_connection()
                .await
                .map_err(|e| backend(StoreOp::Setup, e))
        })
        .await?;
        let store = RedisClusterStore {
            inner: Arc::new(Inner {
                conn,
                prefix: self.prefix,
                command_timeout: self.command_timeout,
                channel,
                ends,
            }),
        };
        if let Some(every) = self.sweep_interval {
            sweeper::spawn(
                &store.inner,
                every,
                self.clock,
                "redis-cluster",
                |inner, now| async move { RedisClusterStore { inner }.sweep(now).await },
            );
        }
        Ok(store)
    }
}

impl RedisClusterStore {
    /// Connects to the cluster through these seed nodes (`redis://[:password@]host:port`),
    /// with the default settings.
    ///
    /// # Errors
    ///
    /// As [`RedisClusterStoreBuilder::connect`].
    ///
    /// ```no_run
    /// use session_runtime::{RedisClusterStore, SessionConfig, SessionLayer};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// // REDIS_NODES=redis://10.0.0.1:6379,redis://10.0.0.2:6379
    /// let nodes = std::env::var("REDIS_NODES")?;
    /// let store = RedisClusterStore::connect(nodes.split(',')).await?;
    /// let layer = SessionLayer::new(store, SessionConfig::default());
    /// # let _ = layer;
    /// # Ok(()) }
    /// ```
    pub async fn connect<I>(nodes: I) -> Result<Self, StoreError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Self::builder(nodes).connect().await
    }

    /// A builder for a store on the cluster of these seed nodes, with other settings.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::RedisClusterStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = RedisClusterStore::builder(["redis://10.0.0.1:6379", "redis://10.0.0.2:6379"])
    ///     .prefix("shop:session:")
    ///     .command_timeout(Duration::from_secs(1))
    ///     .connect()
    ///     .await?;
    /// assert_eq!(store.prefix(), "shop:session:");
    /// # Ok(()) }
    /// ```
    pub fn builder<I>(nodes: I) -> RedisClusterStoreBuilder
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        RedisClusterStoreBuilder {
            nodes: nodes
                .into_iter()
                .map(|n| n.as_ref().trim().to_owned())
                .filter(|n| !n.is_empty())
                .collect(),
            prefix: DEFAULT_PREFIX.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            sweep_interval: Some(sweeper::DEFAULT_SWEEP_INTERVAL),
            clock: Arc::new(SystemClock),
        }
    }

    /// The prefix of every key this store writes.
    ///
    /// ```no_run
    /// use session_runtime::RedisClusterStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = RedisClusterStore::connect(["redis://10.0.0.1:6379"]).await?;
    /// assert_eq!(store.prefix(), "session:"); // the default
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }
}

impl fmt::Debug for RedisClusterStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisClusterStore")
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}
