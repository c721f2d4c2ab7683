//! The PostgreSQL store: sessions shared by every app instance that reaches the database.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{
    PgArguments, PgConnectOptions, PgConnection, PgDatabaseError, PgPool, PgPoolOptions,
    PgQueryResult, PgRow, PgSeverity,
};
use sqlx::{AssertSqlSafe, Postgres, Row as _};

use super::codec::{Columns, kind_from_column, record_from_columns};
use super::deadline::{
    DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, bounded, from_millis, to_millis,
};
use super::pg_listen;
use super::sql::{DEFAULT_TABLE, TableName, encode_data, encode_set, map_err};
use super::{SessionStore, StoreError, StoreOp, sweeper};
use crate::clock::{Clock, SystemClock};
use crate::ends::SessionEnds;
use crate::record::{Record, SessionInfo, Update};
use crate::token::{PublicId, SessionKey};

/// Connections idle for longer than this are closed by the pool.
const MAX_IDLE: Duration = Duration::from_secs(60);
/// How many expired sessions one sweep statement deletes.
const SWEEP_BATCH: u64 = 1_000;

/// Sessions in PostgreSQL: every app instance that reaches the database sees the same
/// sessions.
///
/// Available with the `postgres` feature of `session-runtime`, which is off by default. The
/// crate is not on crates.io: turn the feature on in its `git` (or `path`) dependency:
///
/// ```toml
/// session-runtime = { git = "<repository URL>", features = ["postgres"] }
/// ```
///
/// One table (default `sessions`, optionally schema-qualified as `schema.table`), created
/// with its indexes on first connect (an idempotent migration under an advisory lock, so
/// instances starting together do not race), holds one row per session keyed by the token's
/// SHA-256. Fields live in a `jsonb` column; a save is one
/// `UPDATE ... SET data = (data - removed) || set` that touches only the fields it names, so
/// concurrent saves of different fields both keep their change, and a save of a deleted
/// session matches no row. Rotation is one `UPDATE` of the key: atomic. Indexes on the user
/// id, the public id and the expiry keep per-user operations and the sweep off full scans.
///
/// Connections come from an `sqlx` pool of at most
/// [`max_connections`](PostgresStoreBuilder::max_connections), handed out without a test
/// query: every operation is one statement, so it is one round trip that the request waits
/// for, and a read-only request is one round trip in all. When a connection is given back,
/// the pool checks it with a round trip of its own (sqlx pings every connection returned to
/// it) before handing it out again; the request already has its answer by then. A
/// connection whose statement failed is closed, never reused. After a server restart every
/// idle connection is dead: an operation whose connection failed runs again on another one,
/// so the first requests after a restart do not fail, logins and rotations included. A
/// create whose first run was made before its connection failed finds its own record under
/// its key (same public id and creation time) and succeeds; a rotation finds its old key
/// gone and the session under its new one, and succeeds. (A retried create or rotation
/// takes a second round trip to look.) Getting a connection is bounded by
/// [`connect_timeout`](PostgresStoreBuilder::connect_timeout) and every operation by
/// [`command_timeout`](PostgresStoreBuilder::command_timeout) (also set as the server's
/// `statement_timeout`), so a database that is down turns into fast `503`s; the store
/// reconnects by itself when it is back.
///
/// ```no_run
/// use session_runtime::{PostgresStore, SessionConfig, SessionLayer};
///
/// # async fn run() -> Result<(), session_runtime::StoreError> {
/// let store = PostgresStore::connect("postgres://app@localhost/app").await?;
/// let layer = SessionLayer::new(store, SessionConfig::default());
/// # let _ = layer; Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    command_timeout: Duration,
    /// The most times one statement is run: once per connection the pool may hold (after a
    /// server restart every idle one is dead), and once more on a new connection.
    attempts: usize,
    sql: Queries,
    /// Told of every session any instance sharing the table deletes, through `LISTEN`.
    ends: Arc<SessionEnds>,
}

/// Configures a [`PostgresStore`]; see [`PostgresStore::builder`].
///
/// Available with the `postgres` feature.
#[derive(Clone)]
#[must_use]
pub struct PostgresStoreBuilder {
    url: String,
    table: String,
    connect_timeout: Duration,
    command_timeout: Duration,
    max_connections: usize,
    sweep_interval: Option<Duration>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for PostgresStoreBuilder {
    // The URL may hold a password: not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStoreBuilder")
            .field("table", &self.table)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl PostgresStoreBuilder {
    /// The table to keep sessions in (default `sessions`): `name` or `schema.name`, each an
    /// identifier of letters, digits and `_`. The schema must exist; the table is created.
    ///
    /// A name that is not one is refused before any connection is made:
    ///
    /// ```
    /// use session_runtime::{PostgresStore, StoreError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let refused = PostgresStore::builder("postgres://app@localhost/app")
    ///     .table("auth.web-sessions") // `-` is not allowed: try `auth.web_sessions`
    ///     .connect()
    ///     .await;
    /// assert!(matches!(refused, Err(StoreError::Config { .. })));
    /// # }
    /// ```
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// The longest getting a connection may take, waiting for a free one or opening a new
    /// one (default 2 s).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::PostgresStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = PostgresStore::builder("postgres://app@db.internal/app")
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

    /// The longest one operation may take, connecting included (default 3 s); past it the
    /// operation fails with [`StoreError::Timeout`] and the request gets `503`.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::PostgresStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = PostgresStore::builder("postgres://app@db.internal/app")
    ///     .command_timeout(Duration::from_secs(1))
    ///     .connect()
    ///     .await?;
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    pub fn command_timeout(mut self, limit: Duration) -> Self {
        self.command_timeout = limit;
        self
    }

    /// The most connections open at once (default 10).
    ///
    /// ```no_run
    /// use session_runtime::PostgresStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = PostgresStore::builder("postgres://app@db.internal/app")
    ///     .max_connections(20)
    ///     .connect()
    ///     .await?;
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How often a background task deletes expired sessions (default 5 minutes).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::PostgresStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = PostgresStore::builder("postgres://app@db.internal/app")
    ///     .sweep_interval(Duration::from_secs(60 * 60))
    ///     .connect()
    ///     .await?;
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    pub fn sweep_interval(mut self, every: Duration) -> Self {
        self.sweep_interval = Some(every);
        self
    }

    /// No background sweep: expired sessions are then only deleted by
    /// [`SessionStore::sweep`] (they are never returned by a read either way).
    ///
    /// ```no_run
    /// use std::time::SystemTime;
    /// use session_runtime::{PostgresStore, SessionStore as _};
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// // Many app instances: only the one that runs the nightly job sweeps.
    /// let store = PostgresStore::builder("postgres://app@db.internal/app")
    ///     .no_background_sweep()
    ///     .connect()
    ///     .await?;
    /// let swept = store.sweep(SystemTime::now()).await?;
    /// println!("{swept} expired sessions deleted");
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
    /// use session_runtime::{ManualClock, PostgresStore, SessionConfig, SessionLayer};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let clock = ManualClock::new();
    /// let store = PostgresStore::builder("postgres://app@localhost/app_test")
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

    /// Connects and creates the table and its indexes if they do not exist.
    ///
    /// # Errors
    ///
    /// [`StoreError::Config`] for a malformed URL or an invalid table name;
    /// [`StoreError::Backend`] or [`StoreError::Timeout`] (operation [`StoreOp::Setup`]) if
    /// the database cannot be reached or the schema cannot be created.
    ///
    /// ```
    /// use session_runtime::{PostgresStore, StoreError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // Settings that cannot work are refused before connecting:
    /// let refused = PostgresStore::builder("mysql://app@localhost/app").connect().await;
    /// assert!(matches!(refused, Err(StoreError::Config { .. })));
    /// # }
    /// ```
    pub async fn connect(self) -> Result<PostgresStore, StoreError> {
        let table = TableName::parse(&self.table)?;
        if !(self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")) {
            return Err(StoreError::Config {
                reason: "a PostgreSQL URL starts with `postgres://` or `postgresql://`".into(),
            });
        }
        let options: PgConnectOptions = self.url.parse().map_err(|e| StoreError::Config {
            reason: format!("invalid PostgreSQL URL: {e}"),
        })?;
        let statement_timeout = format!("{}ms", self.command_timeout.as_millis());
        let options = options
            .application_name("session-runtime")
            .options([("statement_timeout", statement_timeout.as_str())]);
        // No test query before handing out a connection (sqlx's default pings first): an
        // operation is its one statement, and a connection found dead is retried past (see
        // `PostgresStore::run`). sqlx still pings each connection given back, in a task of
        // its own, once the operation has its answer; that cannot be turned off.
        let pool = PgPoolOptions::new()
            .max_connections(u32::try_from(self.max_connections).unwrap_or(u32::MAX))
            .acquire_timeout(self.connect_timeout)
            .idle_timeout(MAX_IDLE)
            .test_before_acquire(false)
            .connect_lazy_with(options);
        let sql = Queries::new(&table);
        let store = PostgresStore {
            inner: Arc::new(Inner {
                ends: pg_listen::hub(pool.clone(), sql.channel.clone()),
                pool,
                command_timeout: self.command_timeout,
                attempts: self.max_connections.saturating_add(1),
                sql,
            }),
        };
        bounded(
            StoreOp::Setup,
            self.connect_timeout + self.command_timeout,
            store.migrate(),
        )
        .await?;
        if let Some(every) = self.sweep_interval {
            sweeper::spawn(
                &store.inner,
                every,
                self.clock,
                "postgres",
                |inner, now| async move { PostgresStore { inner }.sweep(now).await },
            );
        }
        Ok(store)
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host/db`) with the
    /// default settings, creating the table if needed.
    ///
    /// # Errors
    ///
    /// As [`PostgresStoreBuilder::connect`].
    ///
    /// ```no_run
    /// use session_runtime::{PostgresStore, SessionConfig, SessionLayer};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let url = std::env::var("DATABASE_URL")?; // postgres://user:password@host/db
    /// let store = PostgresStore::connect(&url).await?;
    /// let layer = SessionLayer::new(store, SessionConfig::default());
    /// # let _ = layer;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::builder(url).connect().await
    }

    /// A builder for a store on the database at `url` with other settings.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::PostgresStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = PostgresStore::builder("postgres://app@localhost/app")
    ///     .table("auth.sessions")
    ///     .connect_timeout(Duration::from_secs(1))
    ///     .command_timeout(Duration::from_secs(2))
    ///     .max_connections(20)
    ///     .connect()
    ///     .await?;
    /// # let _ = store; Ok(()) }
    /// ```
    pub fn builder(url: &str) -> PostgresStoreBuilder {
        PostgresStoreBuilder {
            url: url.to_owned(),
            table: DEFAULT_TABLE.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            max_connections: 10,
            sweep_interval: Some(sweeper::DEFAULT_SWEEP_INTERVAL),
            clock: Arc::new(SystemClock),
        }
    }

    /// The table the store keeps sessions in, as configured (`sessions`, `app.sessions`).
    ///
    /// ```no_run
    /// use session_runtime::PostgresStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::StoreError> {
    /// let store = PostgresStore::builder("postgres://app@db.internal/app")
    ///     .table("auth.sessions")
    ///     .connect()
    ///     .await?;
    /// assert_eq!(store.table(), "auth.sessions");
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn table(&self) -> &str {
        &self.inner.sql.table
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let setup = map_err(StoreOp::Setup);
        let mut tx = self.inner.pool.begin().await.map_err(&setup)?;
        // Instances starting together would race on `CREATE ... IF NOT EXISTS`.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(&self.inner.sql.quoted)
            .execute(&mut *tx)
            .await
            .map_err(&setup)?;
        for statement in &self.inner.sql.schema {
            sqlx::query(AssertSqlSafe(statement.clone()))
                .execute(&mut *tx)
                .await
                .map_err(&setup)?;
        }
        tx.commit().await.map_err(&setup)
    }

    /// Runs one statement on a pooled connection, within the command timeout.
    ///
    /// The connection goes back to the pool only if the statement succeeded: one that
    /// failed, or whose statement was abandoned at the deadline, is closed. If the failure
    /// was the connection's ([`connection_failed`]: after a server restart every idle
    /// connection is dead), the statement runs again on another connection, at most
    /// [`Inner::attempts`] times in all: enough to get past every dead idle connection to a
    /// new one, and no more, so a server that is down still fails fast. Getting a connection is not retried: the pool already retries a refused
    /// connect until its acquire timeout.
    ///
    /// So every statement run here must be safe to run twice: its first run may have been
    /// made and only its answer lost. A read, a delete, an update or touch that sets the
    /// same values are (a second run reports what it found: a delete then deletes nothing,
    /// an update counts the version up once more). An insert or a move to a new key is not
    /// by itself, as its second run would find the first's effect and fail: those go through
    /// [`run_checked`](Self::run_checked) and look for their effect after a retry.
    async fn run<T: Fetch>(
        &self,
        op: StoreOp,
        statement: impl Fn() -> PgQuery,
    ) -> Result<T, StoreError> {
        self.run_checked(op, statement)
            .await
            .map(|(value, _)| value)
    }

    /// As [`run`](Self::run), also telling whether the statement ran more than once: an
    /// earlier run may then have been made before its connection failed.
    async fn run_checked<T: Fetch>(
        &self,
        op: StoreOp,
        statement: impl Fn() -> PgQuery,
    ) -> Result<(T, Retried), StoreError> {
        let inner = &*self.inner;
        bounded(op, inner.command_timeout, async {
            let mut attempt = 1;
            loop {
                let mut conn = Checkout(Some(inner.pool.acquire().await.map_err(map_err(op))?));
                match T::fetch(statement(), conn.get()).await {
                    Ok(value) => {
                        conn.give_back();
                        return Ok((value, Retried(attempt > 1)));
                    }
                    Err(error) => {
                        drop(conn);
                        if attempt < inner.attempts && connection_failed(&error) {
                            attempt += 1;
                            continue;
                        }
                        return Err(map_err(op)(error));
                    }
                }
            }
        })
        .await
    }

    fn q(statement: &Arc<str>) -> PgQuery {
        sqlx::query(AssertSqlSafe(statement.clone()))
    }
}

/// A statement with its arguments bound (they are encoded when bound: nothing borrowed).
type PgQuery = sqlx::query::Query<'static, Postgres, PgArguments>;

/// What a statement gives back, and how it is read from the connection.
trait Fetch: Sized {
    fn fetch(
        query: PgQuery,
        conn: &mut PgConnection,
    ) -> impl Future<Output = Result<Self, sqlx::Error>> + Send + '_;
}

impl Fetch for Option<PgRow> {
    fn fetch(
        query: PgQuery,
        conn: &mut PgConnection,
    ) -> impl Future<Output = Result<Self, sqlx::Error>> + Send + '_ {
        query.fetch_optional(conn)
    }
}

impl Fetch for Vec<PgRow> {
    fn fetch(
        query: PgQuery,
        conn: &mut PgConnection,
    ) -> impl Future<Output = Result<Self, sqlx::Error>> + Send + '_ {
        query.fetch_all(conn)
    }
}

impl Fetch for PgQueryResult {
    fn fetch(
        query: PgQuery,
        conn: &mut PgConnection,
    ) -> impl Future<Output = Result<Self, sqlx::Error>> + Send + '_ {
        query.execute(conn)
    }
}

/// Whether a statement ran more than once because a connection failed under it: an earlier
/// run may then have been made, its answer lost.
#[derive(Clone, Copy)]
struct Retried(bool);

/// Whether `error` is the connection's failure (closed, reset, out of step, or ended by the
/// server) rather than the database's answer to the statement: on another connection the
/// statement may well succeed.
fn connection_failed(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // A server that ends a session (shutdown, restart, terminated backend, idle session
        // timeout) says so with a FATAL error before it closes the connection.
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<PgDatabaseError>()
            .is_some_and(|db| matches!(db.severity(), PgSeverity::Fatal | PgSeverity::Panic)),
        _ => false,
    }
}

/// A pooled connection that goes back to the pool only through
/// [`give_back`](Self::give_back); dropped otherwise (its statement failed, or was abandoned
/// mid-way at the deadline), it is closed and the pool may open a new one in its place.
struct Checkout(Option<PoolConnection<Postgres>>);

impl Checkout {
    fn get(&mut self) -> &mut PgConnection {
        self.0.as_mut().expect("checked out until given back")
    }

    fn give_back(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            drop(conn.detach());
        }
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("table", &self.inner.sql.table)
            .finish_non_exhaustive()
    }
}

/// Every statement, built once with the validated table name.
struct Queries {
    /// The table name as configured.
    table: String,
    /// The channel its deletes notify (`pg_listen.rs`).
    channel: String,
    /// The quoted table name.
    quoted: String,
    schema: Vec<Arc<str>>,
    load: Arc<str>,
    create: Arc<str>,
    /// Whether the key holds the record a create wrote (after a retried create).
    created: Arc<str>,
    /// Whether a key holds a row (after a retried rotation: the new key).
    exists: Arc<str>,
    update: Arc<str>,
    rotate: Arc<str>,
    touch: Arc<str>,
    delete: Arc<str>,
    list_user: Arc<str>,
    delete_user: Arc<str>,
    delete_public: Arc<str>,
    sweep: Arc<str>,
}

impl Queries {
    fn new(table: &TableName) -> Self {
        let (t, b) = (&table.quoted, &table.bare);
        let s = |sql: String| -> Arc<str> { sql.into() };
        let channel = pg_listen::channel(&table.name);
        Self {
            channel: channel.clone(),
            table: table.name.clone(),
            quoted: t.clone(),
            schema: vec![
                s(format!(
                    "CREATE TABLE IF NOT EXISTS {t} (
                        key BYTEA PRIMARY KEY,
                        public_id TEXT NOT NULL,
                        user_id TEXT,
                        data JSONB NOT NULL,
                        created_at BIGINT NOT NULL,
                        last_seen BIGINT NOT NULL,
                        expires_at BIGINT NOT NULL,
                        absolute_expires_at BIGINT NOT NULL,
                        authenticated_at BIGINT,
                        device TEXT,
                        version BIGINT NOT NULL,
                        kind TEXT NOT NULL DEFAULT 'browser',
                        CONSTRAINT \"{b}_public_id_key\" UNIQUE (public_id)
                    )"
                )),
                // Tables made before kinds existed gain the column; their rows are browsers'.
                s(format!(
                    "ALTER TABLE {t} ADD COLUMN IF NOT EXISTS kind TEXT NOT NULL DEFAULT 'browser'"
                )),
                s(format!(
                    "CREATE INDEX IF NOT EXISTS \"{b}_user_idx\" ON {t} (user_id) \
                     WHERE user_id IS NOT NULL"
                )),
                s(format!(
                    "CREATE INDEX IF NOT EXISTS \"{b}_expires_idx\" ON {t} (expires_at)"
                )),
            ],
            load: s(format!(
                "SELECT public_id, user_id, data::text AS data, created_at, last_seen, \
                 expires_at, absolute_expires_at, authenticated_at, device, version, kind \
                 FROM {t} WHERE key = $1 AND expires_at > $2"
            )),
            create: s(format!(
                "INSERT INTO {t} (key, public_id, user_id, data, created_at, last_seen, \
                 expires_at, absolute_expires_at, authenticated_at, device, version, kind) \
                 VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT DO NOTHING"
            )),
            created: s(format!(
                "SELECT 1 FROM {t} WHERE key = $1 AND public_id = $2 AND created_at = $3"
            )),
            exists: s(format!("SELECT 1 FROM {t} WHERE key = $1")),
            update: s(format!(
                "UPDATE {t} SET data = (data - $2::text[]) || $3::jsonb, \
                 last_seen = COALESCE($4, last_seen), expires_at = COALESCE($5, expires_at), \
                 version = version + 1 WHERE key = $1"
            )),
            rotate: s(format!(
                "UPDATE {t} SET key = $2, data = (data - $3::text[]) || $4::jsonb, \
                 last_seen = COALESCE($5, last_seen), expires_at = COALESCE($6, expires_at), \
                 version = version + 1 WHERE key = $1"
            )),
            touch: s(format!(
                "UPDATE {t} SET last_seen = $2, expires_at = $3 WHERE key = $1"
            )),
            delete: s(ended(&format!("DELETE FROM {t} WHERE key = $1"), &channel)),
            list_user: s(format!(
                "SELECT public_id, user_id, device, created_at, last_seen, expires_at, kind FROM {t} \
                 WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen DESC"
            )),
            delete_user: s(ended(
                &format!("DELETE FROM {t} WHERE user_id = $1 AND ($2::bytea IS NULL OR key <> $2)"),
                &channel,
            )),
            delete_public: s(ended(
                &format!("DELETE FROM {t} WHERE public_id = $1 AND user_id = $2"),
                &channel,
            )),
            // One bounded batch, its own short transaction. By the rows' physical ids
            // (`ctid`): a row updated meanwhile has a new one and is left for the next sweep.
            // (By key and `FOR UPDATE SKIP LOCKED`, each batch locked its rows twice and a
            // sweep of 1,000,000 took four times as long: 14 s against 3.5 s.)
            sweep: s(format!(
                "DELETE FROM {t} WHERE ctid = ANY(ARRAY(\
                 SELECT ctid FROM {t} WHERE expires_at <= $1 LIMIT $2))"
            )),
        }
    }
}

/// `delete` (a `DELETE` statement) that also notifies `channel` of each public id it
/// deleted, in the same statement: the notices go out when the delete commits. One row per
/// deleted record comes back.
fn ended(delete: &str, channel: &str) -> String {
    format!(
        "WITH d AS ({delete} RETURNING public_id) SELECT pg_notify('{channel}', public_id) FROM d"
    )
}

fn corrupt(e: sqlx::Error) -> StoreError {
    StoreError::Corrupt {
        reason: e.to_string(),
    }
}

fn record_from(row: &PgRow) -> Result<Record, StoreError> {
    record_from_columns(Columns {
        public_id: row.try_get("public_id").map_err(corrupt)?,
        user_id: row.try_get("user_id").map_err(corrupt)?,
        data: row.try_get("data").map_err(corrupt)?,
        created_at: row.try_get("created_at").map_err(corrupt)?,
        last_seen: row.try_get("last_seen").map_err(corrupt)?,
        expires_at: row.try_get("expires_at").map_err(corrupt)?,
        absolute_expires_at: row.try_get("absolute_expires_at").map_err(corrupt)?,
        authenticated_at: row.try_get("authenticated_at").map_err(corrupt)?,
        device: row.try_get("device").map_err(corrupt)?,
        version: row.try_get("version").map_err(corrupt)?,
        kind: row.try_get("kind").map_err(corrupt)?,
    })
}

fn info_from(row: &PgRow) -> Result<SessionInfo, StoreError> {
    Ok(SessionInfo {
        public_id: PublicId::new(row.try_get::<String, _>("public_id").map_err(corrupt)?),
        user_id: row.try_get("user_id").map_err(corrupt)?,
        device: row.try_get("device").map_err(corrupt)?,
        created_at: from_millis(row.try_get("created_at").map_err(corrupt)?),
        last_seen: from_millis(row.try_get("last_seen").map_err(corrupt)?),
        expires_at: from_millis(row.try_get("expires_at").map_err(corrupt)?),
        kind: kind_from_column(&row.try_get::<String, _>("kind").map_err(corrupt)?)?,
    })
}

impl SessionStore for PostgresStore {
    async fn load(&self, key: &SessionKey, now: SystemTime) -> Result<Option<Record>, StoreError> {
        let sql = &self.inner.sql;
        let row: Option<PgRow> = self
            .run(StoreOp::Load, || {
                Self::q(&sql.load)
                    .bind(key.as_bytes().as_slice())
                    .bind(to_millis(now))
            })
            .await?;
        row.as_ref().map(record_from).transpose()
    }

    async fn create(&self, key: &SessionKey, record: &Record) -> Result<(), StoreError> {
        // `ON CONFLICT DO NOTHING`: a taken key or public id inserts nothing and is a
        // conflict. If the insert ran twice because a connection failed, the first may have
        // been made and the second found it: the row under the key is then ours (a key is
        // the hash of a token drawn for this session, and the row has this record's public
        // id and creation time), and the create succeeded.
        let data = encode_data(&record.data);
        let sql = &self.inner.sql;
        let (done, Retried(retried)) = self
            .run_checked::<PgQueryResult>(StoreOp::Create, || {
                Self::q(&sql.create)
                    .bind(key.as_bytes().as_slice())
                    .bind(record.public_id.as_str())
                    .bind(record.user_id.as_deref())
                    .bind(data.as_str())
                    .bind(to_millis(record.created_at))
                    .bind(to_millis(record.last_seen))
                    .bind(to_millis(record.expires_at))
                    .bind(to_millis(record.absolute_expires_at))
                    .bind(record.authenticated_at.map(to_millis))
                    .bind(record.device.as_deref())
                    .bind(i64::try_from(record.version).unwrap_or(i64::MAX))
                    .bind(record.kind.as_str())
            })
            .await?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        if retried {
            let ours: Option<PgRow> = self
                .run(StoreOp::Create, || {
                    Self::q(&sql.created)
                        .bind(key.as_bytes().as_slice())
                        .bind(record.public_id.as_str())
                        .bind(to_millis(record.created_at))
                })
                .await?;
            if ours.is_some() {
                return Ok(());
            }
        }
        Err(StoreError::Conflict)
    }

    async fn update(&self, key: &SessionKey, update: &Update) -> Result<bool, StoreError> {
        let set = encode_set(update);
        let sql = &self.inner.sql;
        let done: PgQueryResult = self
            .run(StoreOp::Update, || {
                Self::q(&sql.update)
                    .bind(key.as_bytes().as_slice())
                    .bind(update.remove.as_slice())
                    .bind(set.as_str())
                    .bind(update.last_seen.map(to_millis))
                    .bind(update.expires_at.map(to_millis))
            })
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn rotate(
        &self,
        old: &SessionKey,
        new: &SessionKey,
        update: &Update,
    ) -> Result<bool, StoreError> {
        // One statement moves the row to its new key: atomic, so there is never a moment
        // with neither key (nor with both), and a failure leaves the old row as it was. A
        // save racing it waits for the row lock, then finds the old key gone. If the move ran
        // twice because a connection failed, the first may have been made and the second
        // found the old key gone: a row under the new key is then the moved session (the
        // new key is the hash of a token drawn for this rotation, so no other session can
        // hold it), and the rotation succeeded.
        let set = encode_set(update);
        let sql = &self.inner.sql;
        let (done, Retried(retried)): (PgQueryResult, _) = self
            .run_checked(StoreOp::Rotate, || {
                Self::q(&sql.rotate)
                    .bind(old.as_bytes().as_slice())
                    .bind(new.as_bytes().as_slice())
                    .bind(update.remove.as_slice())
                    .bind(set.as_str())
                    .bind(update.last_seen.map(to_millis))
                    .bind(update.expires_at.map(to_millis))
            })
            .await?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        if !retried {
            return Ok(false);
        }
        let moved: Option<PgRow> = self
            .run(StoreOp::Rotate, || {
                Self::q(&sql.exists).bind(new.as_bytes().as_slice())
            })
            .await?;
        Ok(moved.is_some())
    }

    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        let sql = &self.inner.sql;
        let done: PgQueryResult = self
            .run(StoreOp::Touch, || {
                Self::q(&sql.touch)
                    .bind(key.as_bytes().as_slice())
                    .bind(to_millis(last_seen))
                    .bind(to_millis(expires_at))
            })
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let sql = &self.inner.sql;
        let ended: Vec<PgRow> = self
            .run(StoreOp::Delete, || {
                Self::q(&sql.delete).bind(key.as_bytes().as_slice())
            })
            .await?;
        Ok(ended.len() == 1)
    }

    async fn list_user(
        &self,
        user_id: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        let sql = &self.inner.sql;
        let rows: Vec<PgRow> = self
            .run(StoreOp::PerUser, || {
                Self::q(&sql.list_user).bind(user_id).bind(to_millis(now))
            })
            .await?;
        rows.iter().map(info_from).collect()
    }

    async fn delete_user(
        &self,
        user_id: &str,
        keep: Option<&SessionKey>,
    ) -> Result<u64, StoreError> {
        let sql = &self.inner.sql;
        let ended: Vec<PgRow> = self
            .run(StoreOp::PerUser, || {
                Self::q(&sql.delete_user)
                    .bind(user_id)
                    .bind(keep.map(|k| k.as_bytes().as_slice()))
            })
            .await?;
        Ok(ended.len() as u64)
    }

    async fn delete_public(&self, user_id: &str, public_id: &PublicId) -> Result<bool, StoreError> {
        let sql = &self.inner.sql;
        let ended: Vec<PgRow> = self
            .run(StoreOp::PerUser, || {
                Self::q(&sql.delete_public)
                    .bind(public_id.as_str())
                    .bind(user_id)
            })
            .await?;
        Ok(ended.len() == 1)
    }

    fn session_ends(&self) -> Option<&Arc<SessionEnds>> {
        Some(&self.inner.ends)
    }

    async fn sweep(&self, now: SystemTime) -> Result<u64, StoreError> {
        // In batches, each its own statement (within the command timeout) and transaction,
        // so a sweep of a million expired sessions holds no lock for long.
        let sql = &self.inner.sql;
        let batch = i64::try_from(SWEEP_BATCH).unwrap_or(i64::MAX);
        let mut deleted = 0;
        loop {
            let done: PgQueryResult = self
                .run(StoreOp::Sweep, || {
                    Self::q(&sql.sweep).bind(to_millis(now)).bind(batch)
                })
                .await?;
            deleted += done.rows_affected();
            if done.rows_affected() < SWEEP_BATCH {
                return Ok(deleted);
            }
        }
    }
}
