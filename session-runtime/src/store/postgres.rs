//! The PostgreSQL store: sessions shared by every app instance that reaches the database.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Connection as _, Row as _};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::deadline::{
    DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, bounded, from_millis, to_millis,
};
use super::sql::{DEFAULT_TABLE, TableName, decode_data, encode_data, encode_set, map_err};
use super::{SessionStore, StoreError, StoreOp, sweeper};
use crate::clock::{Clock, SystemClock};
use crate::record::{Record, SessionInfo, Update};
use crate::token::{PublicId, SessionKey};

/// Idle connections older than this are closed rather than reused.
const MAX_IDLE: Duration = Duration::from_secs(60);

/// Sessions in PostgreSQL: every app instance that reaches the database sees the same
/// sessions.
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
/// Every operation is one statement: a read-only request costs one round trip. Connecting is
/// bounded by [`connect_timeout`](PostgresStoreBuilder::connect_timeout) and every operation
/// by [`command_timeout`](PostgresStoreBuilder::command_timeout) (also set as the server's
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
    conns: Conns,
    command_timeout: Duration,
    sql: Queries,
}

/// Configures a [`PostgresStore`]; see [`PostgresStore::builder`].
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
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// The longest opening a connection may take (default 2 s).
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// The longest one operation may take, connecting included (default 3 s); past it the
    /// operation fails with [`StoreError::Timeout`] and the request gets `503`.
    pub fn command_timeout(mut self, limit: Duration) -> Self {
        self.command_timeout = limit;
        self
    }

    /// The most connections open at once (default 10).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How often a background task deletes expired sessions (default 5 minutes).
    pub fn sweep_interval(mut self, every: Duration) -> Self {
        self.sweep_interval = Some(every);
        self
    }

    /// No background sweep: expired sessions are then only deleted by
    /// [`SessionStore::sweep`] (they are never returned by a read either way).
    pub fn no_background_sweep(mut self) -> Self {
        self.sweep_interval = None;
        self
    }

    /// The clock the background sweep reads "now" from (default [`SystemClock`]): give it
    /// the same clock as the layer's configuration
    /// ([`SessionConfigBuilder::clock`](crate::SessionConfigBuilder::clock)), so that
    /// tests that move time see expired sessions swept.
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
        let store = PostgresStore {
            inner: Arc::new(Inner {
                conns: Conns {
                    options,
                    connect_timeout: self.connect_timeout,
                    permits: Semaphore::new(self.max_connections),
                    idle: Mutex::new(Vec::new()),
                },
                command_timeout: self.command_timeout,
                sql: Queries::new(&table),
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
    #[must_use]
    pub fn table(&self) -> &str {
        &self.inner.sql.table
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let setup = map_err(StoreOp::Setup);
        let mut lease = self.inner.conns.lease(StoreOp::Setup).await?;
        let mut tx = lease.conn().begin().await.map_err(&setup)?;
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
        tx.commit().await.map_err(&setup)?;
        lease.keep();
        Ok(())
    }

    fn q(
        statement: &Arc<str>,
    ) -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(AssertSqlSafe(statement.clone()))
    }
}

/// Runs one statement on a leased connection, within the command timeout. A connection
/// that failed is closed, not reused; a read that failed on a reused connection (the server
/// restarted since) is retried once on a new one.
macro_rules! run {
    ($self:ident, $op:expr, |$conn:ident| $body:expr) => {
        bounded($op, $self.inner.command_timeout, async {
            let mut retried = false;
            loop {
                let mut lease = $self.inner.conns.lease($op).await?;
                let reused = lease.reused;
                let $conn = lease.conn();
                match $body.await {
                    Ok(value) => {
                        lease.keep();
                        break Ok(value);
                    }
                    Err(error) => {
                        drop(lease);
                        let stale = matches!(error, sqlx::Error::Io(_) | sqlx::Error::Protocol(_));
                        if stale {
                            $self.inner.conns.clear_idle();
                        }
                        if stale && reused && !retried && matches!($op, StoreOp::Load) {
                            retried = true;
                            continue;
                        }
                        break Err(map_err($op)(error));
                    }
                }
            }
        })
        .await
    };
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("table", &self.inner.sql.table)
            .finish_non_exhaustive()
    }
}

/// A minimal connection pool: each operation leases one connection and gives it back only
/// if the statement succeeded, so a broken or cancelled connection is never reused. Unlike a
/// general-purpose pool it sends nothing but the statement (no test query before or after
/// use): an operation is exactly one round trip.
struct Conns {
    options: PgConnectOptions,
    connect_timeout: Duration,
    permits: Semaphore,
    idle: Mutex<Vec<(PgConnection, Instant)>>,
}

struct Lease<'a> {
    conns: &'a Conns,
    conn: Option<PgConnection>,
    reused: bool,
    _permit: SemaphorePermit<'a>,
}

impl Conns {
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<(PgConnection, Instant)>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn clear_idle(&self) {
        let stale = std::mem::take(&mut *self.idle());
        drop(stale);
    }

    async fn lease(&self, op: StoreOp) -> Result<Lease<'_>, StoreError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| StoreError::backend(op, e))?;
        let reusable = {
            let mut idle = self.idle();
            idle.retain(|(_, since)| since.elapsed() < MAX_IDLE);
            idle.pop()
        };
        let (conn, reused) = match reusable {
            Some((conn, _)) => (conn, true),
            None => {
                let conn = tokio::time::timeout(
                    self.connect_timeout,
                    PgConnection::connect_with(&self.options),
                )
                .await
                .map_err(|_| StoreError::Timeout { op })?
                .map_err(map_err(op))?;
                (conn, false)
            }
        };
        Ok(Lease {
            conns: self,
            conn: Some(conn),
            reused,
            _permit: permit,
        })
    }
}

impl Lease<'_> {
    fn conn(&mut self) -> &mut PgConnection {
        self.conn
            .as_mut()
            .expect("a lease holds its connection until kept")
    }

    /// Gives the connection back for reuse.
    fn keep(mut self) {
        if let Some(conn) = self.conn.take() {
            self.conns.idle().push((conn, Instant::now()));
        }
    }
}

/// Every statement, built once with the validated table name.
struct Queries {
    /// The table name as configured.
    table: String,
    /// The quoted table name.
    quoted: String,
    schema: Vec<Arc<str>>,
    load: Arc<str>,
    create: Arc<str>,
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
        Self {
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
                        CONSTRAINT \"{b}_public_id_key\" UNIQUE (public_id)
                    )"
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
                 expires_at, absolute_expires_at, authenticated_at, device, version \
                 FROM {t} WHERE key = $1 AND expires_at > $2"
            )),
            create: s(format!(
                "INSERT INTO {t} (key, public_id, user_id, data, created_at, last_seen, \
                 expires_at, absolute_expires_at, authenticated_at, device, version) \
                 VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11)"
            )),
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
            delete: s(format!("DELETE FROM {t} WHERE key = $1")),
            list_user: s(format!(
                "SELECT public_id, user_id, device, created_at, last_seen, expires_at FROM {t} \
                 WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen DESC"
            )),
            delete_user: s(format!(
                "DELETE FROM {t} WHERE user_id = $1 AND ($2::bytea IS NULL OR key <> $2)"
            )),
            delete_public: s(format!(
                "DELETE FROM {t} WHERE public_id = $1 AND user_id = $2"
            )),
            sweep: s(format!("DELETE FROM {t} WHERE expires_at <= $1")),
        }
    }
}

fn corrupt(e: sqlx::Error) -> StoreError {
    StoreError::Corrupt {
        reason: e.to_string(),
    }
}

fn record_from(row: &PgRow) -> Result<Record, StoreError> {
    let data: String = row.try_get("data").map_err(corrupt)?;
    Ok(Record {
        public_id: PublicId::new(row.try_get::<String, _>("public_id").map_err(corrupt)?),
        user_id: row.try_get("user_id").map_err(corrupt)?,
        data: decode_data(&data)?,
        created_at: from_millis(row.try_get("created_at").map_err(corrupt)?),
        last_seen: from_millis(row.try_get("last_seen").map_err(corrupt)?),
        expires_at: from_millis(row.try_get("expires_at").map_err(corrupt)?),
        absolute_expires_at: from_millis(row.try_get("absolute_expires_at").map_err(corrupt)?),
        authenticated_at: row
            .try_get::<Option<i64>, _>("authenticated_at")
            .map_err(corrupt)?
            .map(from_millis),
        device: row.try_get("device").map_err(corrupt)?,
        version: u64::try_from(row.try_get::<i64, _>("version").map_err(corrupt)?).unwrap_or(0),
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
    })
}

impl SessionStore for PostgresStore {
    async fn load(&self, key: &SessionKey, now: SystemTime) -> Result<Option<Record>, StoreError> {
        let row = run!(self, StoreOp::Load, |conn| Self::q(&self.inner.sql.load)
            .bind(key.as_bytes().as_slice())
            .bind(to_millis(now))
            .fetch_optional(conn))?;
        row.as_ref().map(record_from).transpose()
    }

    async fn create(&self, key: &SessionKey, record: &Record) -> Result<(), StoreError> {
        let data = encode_data(&record.data);
        run!(self, StoreOp::Create, |conn| Self::q(
            &self.inner.sql.create
        )
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
        .execute(conn))
        .map(drop)
    }

    async fn update(&self, key: &SessionKey, update: &Update) -> Result<bool, StoreError> {
        let set = encode_set(update);
        let done = run!(self, StoreOp::Update, |conn| Self::q(
            &self.inner.sql.update
        )
        .bind(key.as_bytes().as_slice())
        .bind(update.remove.as_slice())
        .bind(set.as_str())
        .bind(update.last_seen.map(to_millis))
        .bind(update.expires_at.map(to_millis))
        .execute(conn))?;
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
        // save racing it waits for the row lock, then finds the old key gone.
        let set = encode_set(update);
        let done = run!(self, StoreOp::Rotate, |conn| Self::q(
            &self.inner.sql.rotate
        )
        .bind(old.as_bytes().as_slice())
        .bind(new.as_bytes().as_slice())
        .bind(update.remove.as_slice())
        .bind(set.as_str())
        .bind(update.last_seen.map(to_millis))
        .bind(update.expires_at.map(to_millis))
        .execute(conn))?;
        Ok(done.rows_affected() == 1)
    }

    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        let done = run!(self, StoreOp::Touch, |conn| Self::q(&self.inner.sql.touch)
            .bind(key.as_bytes().as_slice())
            .bind(to_millis(last_seen))
            .bind(to_millis(expires_at))
            .execute(conn))?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let done = run!(self, StoreOp::Delete, |conn| Self::q(
            &self.inner.sql.delete
        )
        .bind(key.as_bytes().as_slice())
        .execute(conn))?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_user(
        &self,
        user_id: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        let rows = run!(self, StoreOp::PerUser, |conn| Self::q(
            &self.inner.sql.list_user
        )
        .bind(user_id)
        .bind(to_millis(now))
        .fetch_all(conn))?;
        rows.iter().map(info_from).collect()
    }

    async fn delete_user(
        &self,
        user_id: &str,
        keep: Option<&SessionKey>,
    ) -> Result<u64, StoreError> {
        let done = run!(self, StoreOp::PerUser, |conn| Self::q(
            &self.inner.sql.delete_user
        )
        .bind(user_id)
        .bind(keep.map(|k| k.as_bytes().as_slice()))
        .execute(conn))?;
        Ok(done.rows_affected())
    }

    async fn delete_public(&self, user_id: &str, public_id: &PublicId) -> Result<bool, StoreError> {
        let done = run!(self, StoreOp::PerUser, |conn| Self::q(
            &self.inner.sql.delete_public
        )
        .bind(public_id.as_str())
        .bind(user_id)
        .execute(conn))?;
        Ok(done.rows_affected() == 1)
    }

    async fn sweep(&self, now: SystemTime) -> Result<u64, StoreError> {
        let done = run!(self, StoreOp::Sweep, |conn| Self::q(&self.inner.sql.sweep)
            .bind(to_millis(now))
            .execute(conn))?;
        Ok(done.rows_affected())
    }
}
