//! The Redis store: sessions shared by many app instances, expired by the server itself.
//!
//! Keys, under a configurable prefix `P` (default `session:`):
//!
//! | key | type | what | expires |
//! | --- | --- | --- | --- |
//! | `P s:<hex>` | hash | one session: `d:<field>` = JSON text, plus `pid uid ctime seen exp abs auth dev ver` | at the session's expiry (`PEXPIREAT`) |
//! | `P id:<public id>` | string | the session's `<hex>`: keeps public ids unique, finds a session to revoke | with its session |
//! | `P u:<user id>` | sorted set | the user's sessions, scored by expiry | at the latest expiry of its sessions |
//! | `P exp` | sorted set | every session, scored by expiry, for [`SessionStore::sweep`] at any `now` | never (the sweep trims it) |
//!
//! `<hex>` is the token's SHA-256 in hex. Every operation that touches more than one key is
//! one Lua script, so it is atomic and one round trip; a read is one `HGETALL`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands as _, Script};

use super::codec::{corrupt, hash_fields, kind_from_column, record_from_hash};
use super::deadline::{
    DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, bounded, from_millis, to_millis,
};
use super::redis_listen;
use super::{SessionStore, StoreError, StoreOp, sweeper};
use crate::clock::{Clock, SystemClock};
use crate::ends::SessionEnds;
use crate::record::{Record, SessionInfo, SessionKind, Update};
use crate::token::{PublicId, SessionKey};

/// The prefix of every key when none is configured.
const DEFAULT_PREFIX: &str = "session:";
/// How many expired sessions one sweep script deletes before yielding to other clients. A
/// script blocks the server while it runs: at 500 a batch took about 10 ms, and a sweep of
/// 1,000,000 sessions raised live reads' median latency from 0.1 ms to 8 ms; at 100 each
/// read waits for at most one short batch.
const SWEEP_BATCH: usize = 100;

/// Sessions in Redis (6.2 or later) or Valkey: every app instance that reaches the server
/// sees the same sessions, and the server deletes each session at its expiry by itself.
///
/// Available with the `redis` feature of `session-runtime`, which is off by default. The
/// crate is not on crates.io: turn the feature on in its `git` (or `path`) dependency:
///
/// ```toml
/// session-runtime = { git = "<repository URL>", features = ["redis"] }
/// ```
///
/// Each session is a hash keyed by the token's SHA-256, with one hash field per session field,
/// so a save writes only the fields it changed. Every write is a Lua script that first checks
/// the session still exists, so a save never re-creates a session that was logged out,
/// revoked, rotated or expired meanwhile (a plain `HSET` would). A per-user index (a sorted
/// set that expires with the user's last session) serves listing and revocation; rotation
/// copies the session to its new key before deleting the old one, in one atomic script.
///
/// A read is one `HGETALL`: one round trip. The connection is a
/// [`ConnectionManager`] that reconnects by itself; connecting is bounded by
/// [`connect_timeout`](RedisStoreBuilder::connect_timeout) and every operation by
/// [`command_timeout`](RedisStoreBuilder::command_timeout), so a server that is down turns
/// into fast `503`s, and sessions work again as soon as it is back.
///
/// Scripts build key names from the prefix, so the store needs a single Redis server (or a
/// primary with replicas), not a Redis Cluster: for a cluster, use `RedisClusterStore`
/// (feature `redis-cluster`).
///
/// ```no_run
/// use session_runtime::{RedisStore, SessionConfig, SessionLayer};
///
/// # async fn run() -> Result<(), session_runtime::StoreError> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379").await?;
/// let layer = SessionLayer::new(store, SessionConfig::default());
/// # let _ = layer; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: ConnectionManager,
    prefix: String,
    command_timeout: Duration,
    /// Told of every session any instance sharing the prefix deletes, through pub/sub.
    ends: Arc<SessionEnds>,
}

/// Configures a [`RedisStore`]; see [`RedisStore::builder`].
///
/// Available with the `redis` feature.
#[derive(Clone)]
#[must_use]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    connect_timeout: Duration,
    command_timeout: Duration,
    sweep_interval: Option<Duration>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for RedisStoreBuilder {
    // The URL may hold a password: not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("prefix", &self.prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStoreBuilder {
    /// The prefix of every key the store writes (default `session:`), so several apps can
    /// share one server. Printable ASCII without spaces or glob characters (`*?[]\`),
    /// at most 64 characters.
    ///
    /// A prefix that is not one is refused before any connection is made:
    ///
    /// ```
    /// use session_runtime::{RedisStore, StoreError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let refused = RedisStore::builder("redis://127.0.0.1:6379")
    ///     .prefix("shop session:") // no spaces: try `shop:session:`
    ///     .connect()
    ///     .await;
    /// assert!(matches!(refused, Err(StoreError::Config { .. })));
    /// # }
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest one connection attempt may take (default 2 s).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::RedisStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = RedisStore::builder("redis://cache.internal:6379")
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

    /// The longest one operation may take (default 3 s); past it the operation fails with
    /// [`StoreError::Timeout`] and the request gets `503`.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::RedisStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = RedisStore::builder("redis://cache.internal:6379")
    ///     .command_timeout(Duration::from_millis(250))
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
    /// the expiry index (default 5 minutes; the server expires sessions by itself anyway).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::RedisStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = RedisStore::builder("redis://cache.internal:6379")
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

    /// No background sweep. The server still deletes each session at its expiry, but the
    /// expiry index keeps an entry per expired session until [`SessionStore::sweep`] trims
    /// it: call that from a job of your own.
    ///
    /// ```no_run
    /// use std::time::SystemTime;
    /// use session_runtime::{RedisStore, SessionStore as _};
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = RedisStore::builder("redis://cache.internal:6379")
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
    /// the same clock as the layer's configuration
    /// ([`SessionConfigBuilder::clock`](crate::SessionConfigBuilder::clock)), so that
    /// tests that move time see expired sessions swept.
    ///
    /// ```no_run
    /// use session_runtime::{ManualClock, RedisStore, SessionConfig, SessionLayer};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let clock = ManualClock::new();
    /// let store = RedisStore::builder("redis://127.0.0.1:6379/15")
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

    /// Connects to the server.
    ///
    /// # Errors
    ///
    /// [`StoreError::Config`] for a malformed URL or prefix; [`StoreError::Backend`] or
    /// [`StoreError::Timeout`] (operation [`StoreOp::Setup`]) if the server cannot be reached.
    ///
    /// ```
    /// use session_runtime::{RedisStore, StoreError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // Settings that cannot work are refused before connecting:
    /// let refused = RedisStore::builder("http://127.0.0.1:6379").connect().await;
    /// assert!(matches!(refused, Err(StoreError::Config { .. })));
    /// # }
    /// ```
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        check_prefix(&self.prefix, b"")?;
        let client = redis::Client::open(self.url.as_str()).map_err(|e| StoreError::Config {
            reason: format!("invalid Redis URL: {e}"),
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.command_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let ends = redis_listen::hub(vec![client.clone()], redis_listen::channel(&self.prefix));
        let conn = bounded(StoreOp::Setup, self.connect_timeout, async {
            ConnectionManager::new_with_config(client, config)
                .await
                .map_err(|e| backend(StoreOp::Setup, e))
        })
        .await?;
        let store = RedisStore {
            inner: Arc::new(Inner {
                conn,
                prefix: self.prefix,
                command_timeout: self.command_timeout,
                ends,
            }),
        };
        if let Some(every) = self.sweep_interval {
            sweeper::spawn(
                &store.inner,
                every,
                self.clock,
                "redis",
                |inner, now| async move { RedisStore { inner }.sweep(now).await },
            );
        }
        Ok(store)
    }
}

impl RedisStore {
    /// Connects to the server at `url` (`redis://[:password@]host[:port][/db]`) with the
    /// default settings.
    ///
    /// # Errors
    ///
    /// As [`RedisStoreBuilder::connect`].
    ///
    /// ```no_run
    /// use session_runtime::{RedisStore, SessionConfig, SessionLayer};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let url = std::env::var("REDIS_URL")?; // redis://:password@host:6379/0
    /// let store = RedisStore::connect(&url).await?;
    /// let layer = SessionLayer::new(store, SessionConfig::default());
    /// # let _ = layer;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::builder(url).connect().await
    }

    /// A builder for a store on the server at `url` with other settings.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::RedisStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = RedisStore::builder("redis://127.0.0.1:6379")
    ///     .prefix("shop:session:")
    ///     .connect_timeout(Duration::from_millis(500))
    ///     .command_timeout(Duration::from_secs(1))
    ///     .connect()
    ///     .await?;
    /// assert_eq!(store.prefix(), "shop:session:");
    /// # Ok(()) }
    /// ```
    pub fn builder(url: &str) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.to_owned(),
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
    /// use session_runtime::RedisStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = RedisStore::connect("redis://127.0.0.1:6379").await?;
    /// assert_eq!(store.prefix(), "session:"); // the default
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    fn session_key(&self, key: &SessionKey) -> String {
        format!("{}s:{}", self.inner.prefix, key.to_hex())
    }

    /// Runs a script with the prefix as its first argument, then `args`.
    async fn script<T: redis::FromRedisValue>(
        &self,
        op: StoreOp,
        script: &Script,
        key: &str,
        args: &[&[u8]],
    ) -> Result<T, StoreError> {
        let mut conn = self.inner.conn.clone();
        let mut call = script.prepare_invoke();
        call.key(key).arg(self.inner.prefix.as_str());
        for arg in args {
            call.arg(*arg);
        }
        bounded(op, self.inner.command_timeout, async {
            call.invoke_async(&mut conn)
                .await
                .map_err(|e| backend(op, e))
        })
        .await
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

/// Refuses a key prefix that is not printable ASCII without spaces, glob characters
/// (`*?[]\`) or any of `also`, or that is longer than 64 characters.
pub(super) fn check_prefix(prefix: &str, also: &[u8]) -> Result<(), StoreError> {
    let valid = prefix.len() <= 64
        && prefix
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"*?[]\\".contains(&b) && !also.contains(&b));
    if valid {
        return Ok(());
    }
    let also = String::from_utf8_lossy(also);
    Err(StoreError::Config {
        reason: format!(
            "Redis key prefix {prefix:?} must be at most 64 printable ASCII characters \
             without spaces or `*?[]\\{also}`"
        ),
    })
}

/// A driver error as the store's error: a timeout is [`StoreError::Timeout`].
pub(super) fn backend(op: StoreOp, e: redis::RedisError) -> StoreError {
    if e.is_timeout() {
        StoreError::Timeout { op }
    } else {
        StoreError::backend(op, e)
    }
}

/// Helpers every script starts with. `ARGV[1]` is the key prefix.
const LIB: &str = r"
local prefix = ARGV[1]
local xkey = prefix .. 'exp'
local function skey(hex) return prefix .. 's:' .. hex end
local function ukey(uid) return prefix .. 'u:' .. uid end
local function idkey(pid) return prefix .. 'id:' .. pid end
-- A user's index lives as long as the latest of its sessions.
local function arm_user(uid)
  local top = redis.call('ZRANGE', ukey(uid), -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIREAT', ukey(uid), top[2]) end
end
-- Sets a session's expiry on its hash, its public id and both indexes.
local function expire_at(hex, pid, uid, exp)
  redis.call('PEXPIREAT', skey(hex), exp)
  redis.call('PEXPIREAT', idkey(pid), exp)
  redis.call('ZADD', xkey, exp, hex)
  if uid then
    redis.call('ZADD', ukey(uid), exp, hex)
    arm_user(uid)
  end
end
-- Deletes a session and its index entries; 1 if it existed.
local function remove(hex)
  local meta = redis.call('HMGET', skey(hex), 'pid', 'uid')
  local existed = redis.call('DEL', skey(hex))
  redis.call('ZREM', xkey, hex)
  if meta[1] and redis.call('GET', idkey(meta[1])) == hex then
    redis.call('DEL', idkey(meta[1]))
  end
  if meta[2] then redis.call('ZREM', ukey(meta[2]), hex) end
  -- Tells every instance's waiters (`redis_listen.rs`).
  if existed == 1 and meta[1] then redis.call('PUBLISH', prefix .. 'ended', meta[1]) end
  return existed
end
";

/// The Lua function that applies an [`update_args`] list, shared by the Redis stores' scripts.
pub(super) const APPLY_LUA: &str = r"
-- Applies an update's fields to a hash: ARGV[first] = number of removals, then the removed
-- names, then name/value pairs to set.
local function apply(key, first)
  local nrem = tonumber(ARGV[first])
  if nrem > 0 then redis.call('HDEL', key, unpack(ARGV, first + 1, first + nrem)) end
  if #ARGV > first + nrem then redis.call('HSET', key, unpack(ARGV, first + nrem + 1)) end
end
";

fn script(body: &str) -> Script {
    Script::new(&format!("{LIB}\n{APPLY_LUA}\n{body}"))
}

/// ARGV: prefix, hex, pid, uid ('' for a guest), exp, then hash name/value pairs.
static CREATE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local hex, pid, exp = ARGV[2], ARGV[3], ARGV[5]
local uid = ARGV[4] ~= '' and ARGV[4] or false
if redis.call('EXISTS', skey(hex)) == 1 or redis.call('EXISTS', idkey(pid)) == 1 then
  return 0
end
redis.call('HSET', skey(hex), unpack(ARGV, 6))
redis.call('SET', idkey(pid), hex)
expire_at(hex, pid, uid, exp)
return 1
",
    )
});

/// ARGV: prefix, hex, seen (''), exp (''), removals count, removals, pairs.
static UPDATE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local hex, seen, exp = ARGV[2], ARGV[3], ARGV[4]
local key = skey(hex)
if redis.call('EXISTS', key) == 0 then return 0 end
apply(key, 5)
redis.call('HINCRBY', key, 'ver', 1)
if seen ~= '' then redis.call('HSET', key, 'seen', seen) end
if exp ~= '' then
  redis.call('HSET', key, 'exp', exp)
  local meta = redis.call('HMGET', key, 'pid', 'uid')
  expire_at(hex, meta[1], meta[2], exp)
end
return 1
",
    )
});

/// ARGV: prefix, hex, seen, exp.
static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local hex, seen, exp = ARGV[2], ARGV[3], ARGV[4]
local key = skey(hex)
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('HSET', key, 'seen', seen, 'exp', exp)
local meta = redis.call('HMGET', key, 'pid', 'uid')
expire_at(hex, meta[1], meta[2], exp)
return 1
",
    )
});

/// ARGV: prefix, old hex, new hex, seen (''), exp (''), removals count, removals, pairs.
/// 1 moved, 0 old missing, -1 new key taken.
static ROTATE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local old, new, seen, exp = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('EXISTS', skey(old)) == 0 then return 0 end
if redis.call('EXISTS', skey(new)) == 1 then return -1 end
-- The new record first, then the old one goes.
redis.call('COPY', skey(old), skey(new))
local key = skey(new)
apply(key, 6)
redis.call('HINCRBY', key, 'ver', 1)
if seen ~= '' then redis.call('HSET', key, 'seen', seen) end
if exp ~= '' then redis.call('HSET', key, 'exp', exp) end
local meta = redis.call('HMGET', key, 'pid', 'uid', 'exp')
redis.call('DEL', skey(old))
redis.call('ZREM', xkey, old)
if meta[2] then redis.call('ZREM', ukey(meta[2]), old) end
redis.call('SET', idkey(meta[1]), new)
expire_at(new, meta[1], meta[2], meta[3])
return 1
",
    )
});

/// ARGV: prefix, hex.
static DELETE: LazyLock<Script> = LazyLock::new(|| script("return remove(ARGV[2])"));

/// ARGV: prefix, uid, keep hex (''). Returns how many sessions were deleted.
static DELETE_USER: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local uid, keep = ARGV[2], ARGV[3]
local n = 0
for _, hex in ipairs(redis.call('ZRANGE', ukey(uid), 0, -1)) do
  if hex ~= keep then
    n = n + remove(hex)
    redis.call('ZREM', ukey(uid), hex)
  end
end
return n
",
    )
});

/// ARGV: prefix, uid, public id.
static DELETE_PUBLIC: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local uid, pid = ARGV[2], ARGV[3]
local hex = redis.call('GET', idkey(pid))
if not hex then return 0 end
if redis.call('HGET', skey(hex), 'uid') ~= uid then return 0 end
return remove(hex)
",
    )
});

/// ARGV: prefix, uid, now. The user's live sessions, as `pid uid dev ctime seen exp kind` rows;
/// index entries of sessions the server already expired are dropped on the way.
static LIST_USER: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local uid, now = ARGV[2], ARGV[3]
local out = {}
for _, hex in ipairs(redis.call('ZRANGEBYSCORE', ukey(uid), '(' .. now, '+inf')) do
  local row = redis.call('HMGET', skey(hex), 'pid', 'uid', 'dev', 'ctime', 'seen', 'exp', 'kind')
  if row[1] then
    table.insert(out, row)
  else
    redis.call('ZREM', ukey(uid), hex)
  end
end
return out
",
    )
});

/// ARGV: prefix, now, batch. Returns {deleted, examined}.
static SWEEP: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local now, batch = ARGV[2], tonumber(ARGV[3])
local hexes = redis.call('ZRANGEBYSCORE', xkey, '-inf', now, 'LIMIT', 0, batch)
local n = 0
for _, hex in ipairs(hexes) do
  n = n + remove(hex)
  redis.call('ZREM', xkey, hex)
end
return {n, #hexes}
",
    )
});

/// A time as a script argument: milliseconds since the epoch, in decimal.
pub(super) fn ms(t: SystemTime) -> Vec<u8> {
    to_millis(t).to_string().into_bytes()
}

/// [`ms`], or the empty argument for no time.
pub(super) fn opt_ms(t: Option<SystemTime>) -> Vec<u8> {
    t.map(ms).unwrap_or_default()
}

/// The update's fields as script arguments: removals count, removed names, name/value pairs.
pub(super) fn update_args(update: &Update) -> Vec<Vec<u8>> {
    let mut args = vec![update.remove.len().to_string().into_bytes()];
    args.extend(update.remove.iter().map(|n| format!("d:{n}").into_bytes()));
    for (name, value) in &update.set {
        args.push(format!("d:{name}").into_bytes());
        args.push(value.clone().into_bytes());
    }
    args
}

fn parse_ms(text: Option<String>, name: &str) -> Result<SystemTime, StoreError> {
    let ms: i64 = text
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| corrupt(&format!("bad `{name}`")))?;
    Ok(from_millis(ms))
}

/// The hash fields a listing reads, in the order [`info_from_row`] takes them (the order of
/// `LIST_USER`'s `HMGET`).
#[cfg_attr(not(feature = "redis-cluster"), allow(dead_code))]
pub(super) const INFO_FIELDS: [&str; 7] = ["pid", "uid", "dev", "ctime", "seen", "exp", "kind"];

/// A listed session from its hash's [`INFO_FIELDS`] (`HMGET`).
pub(super) fn info_from_row(row: Vec<Option<String>>) -> Result<SessionInfo, StoreError> {
    let mut row = row.into_iter();
    let mut next = || row.next().flatten();
    let public_id = PublicId::new(next().ok_or_else(|| corrupt("no `pid`"))?);
    let user_id = next();
    let device = next();
    Ok(SessionInfo {
        public_id,
        user_id,
        device,
        created_at: parse_ms(next(), "ctime")?,
        last_seen: parse_ms(next(), "seen")?,
        expires_at: parse_ms(next(), "exp")?,
        kind: match next() {
            Some(kind) => kind_from_column(&kind)?,
            None => SessionKind::Browser,
        },
    })
}

impl SessionStore for RedisStore {
    async fn load(&self, key: &SessionKey, now: SystemTime) -> Result<Option<Record>, StoreError> {
        let mut conn = self.inner.conn.clone();
        let name = self.session_key(key);
        let hash: HashMap<String, String> =
            bounded(StoreOp::Load, self.inner.command_timeout, async {
                conn.hgetall(name)
                    .await
                    .map_err(|e| backend(StoreOp::Load, e))
            })
            .await?;
        if hash.is_empty() {
            return Ok(None);
        }
        let record = record_from_hash(hash)?;
        // The server expires the hash by its own clock; the app's clock decides too.
        Ok((!record.is_expired(now)).then_some(record))
    }

    async fn create(&self, key: &SessionKey, record: &Record) -> Result<(), StoreError> {
        let pairs = hash_fields(record);
        let hex = key.to_hex();
        let exp = ms(record.expires_at);
        let mut args: Vec<&[u8]> = vec![
            hex.as_bytes(),
            record.public_id.as_str().as_bytes(),
            record.user_id.as_deref().unwrap_or("").as_bytes(),
            &exp,
        ];
        for (name, value) in &pairs {
            args.push(name.as_bytes());
            args.push(value);
        }
        let created: i64 = self
            .script(StoreOp::Create, &CREATE, &self.session_key(key), &args)
            .await?;
        if created == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    async fn update(&self, key: &SessionKey, update: &Update) -> Result<bool, StoreError> {
        let hex = key.to_hex();
        let (seen, exp) = (opt_ms(update.last_seen), opt_ms(update.expires_at));
        let rest = update_args(update);
        let mut args: Vec<&[u8]> = vec![hex.as_bytes(), &seen, &exp];
        args.extend(rest.iter().map(Vec::as_slice));
        let done: i64 = self
            .script(StoreOp::Update, &UPDATE, &self.session_key(key), &args)
            .await?;
        Ok(done == 1)
    }

    async fn rotate(
        &self,
        old: &SessionKey,
        new: &SessionKey,
        update: &Update,
    ) -> Result<bool, StoreError> {
        let (old_hex, new_hex) = (old.to_hex(), new.to_hex());
        let (seen, exp) = (opt_ms(update.last_seen), opt_ms(update.expires_at));
        let rest = update_args(update);
        let mut args: Vec<&[u8]> = vec![old_hex.as_bytes(), new_hex.as_bytes(), &seen, &exp];
        args.extend(rest.iter().map(Vec::as_slice));
        let done: i64 = self
            .script(StoreOp::Rotate, &ROTATE, &self.session_key(old), &args)
            .await?;
        match done {
            1 => Ok(true),
            -1 => Err(StoreError::Conflict),
            _ => Ok(false),
        }
    }

    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        let hex = key.to_hex();
        let (seen, exp) = (ms(last_seen), ms(expires_at));
        let done: i64 = self
            .script(
                StoreOp::Touch,
                &TOUCH,
                &self.session_key(key),
                &[hex.as_bytes(), &seen, &exp],
            )
            .await?;
        Ok(done == 1)
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let hex = key.to_hex();
        let done: i64 = self
            .script(
                StoreOp::Delete,
                &DELETE,
                &self.session_key(key),
                &[hex.as_bytes()],
            )
            .await?;
        Ok(done == 1)
    }

    async fn list_user(
        &self,
        user_id: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        let index = format!("{}u:{user_id}", self.inner.prefix);
        let now_ms = ms(now);
        let rows: Vec<Vec<Option<String>>> = self
            .script(
                StoreOp::PerUser,
                &LIST_USER,
                &index,
                &[user_id.as_bytes(), &now_ms],
            )
            .await?;
        let mut sessions = Vec::with_capacity(rows.len());
        for row in rows {
            let info = info_from_row(row)?;
            if info.expires_at > now {
                sessions.push(info);
            }
        }
        sessions.sort_by_key(|s| std::cmp::Reverse(s.last_seen));
        Ok(sessions)
    }

    async fn delete_user(
        &self,
        user_id: &str,
        keep: Option<&SessionKey>,
    ) -> Result<u64, StoreError> {
        let index = format!("{}u:{user_id}", self.inner.prefix);
        let keep = keep.map(SessionKey::to_hex).unwrap_or_default();
        let n: u64 = self
            .script(
                StoreOp::PerUser,
                &DELETE_USER,
                &index,
                &[user_id.as_bytes(), keep.as_bytes()],
            )
            .await?;
        Ok(n)
    }

    async fn delete_public(&self, user_id: &str, public_id: &PublicId) -> Result<bool, StoreError> {
        let id_key = format!("{}id:{public_id}", self.inner.prefix);
        let done: i64 = self
            .script(
                StoreOp::PerUser,
                &DELETE_PUBLIC,
                &id_key,
                &[user_id.as_bytes(), public_id.as_str().as_bytes()],
            )
            .await?;
        Ok(done == 1)
    }

    async fn sweep(&self, now: SystemTime) -> Result<u64, StoreError> {
        let index = format!("{}exp", self.inner.prefix);
        let (now_ms, batch) = (ms(now), SWEEP_BATCH.to_string());
        let mut deleted = 0;
        loop {
            let (n, examined): (u64, usize) = self
                .script(StoreOp::Sweep, &SWEEP, &index, &[&now_ms, batch.as_bytes()])
                .await?;
            deleted += n;
            if examined < SWEEP_BATCH {
                return Ok(deleted);
            }
        }
    }

    fn session_ends(&self) -> Option<&Arc<SessionEnds>> {
        Some(&self.inner.ends)
    }
}
