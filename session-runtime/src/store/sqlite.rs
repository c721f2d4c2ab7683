//! The SQLite store: sessions in one embedded file that survives restarts.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row as _};

use super::codec::{Columns, kind_from_column, record_from_columns};
use super::deadline::{DEFAULT_COMMAND_TIMEOUT, bounded, from_millis, to_millis};
use super::sql::{DEFAULT_TABLE, TableName, encode_data, map_err, merge_patch};
use super::{SessionStore, StoreError, StoreOp, sweeper};
use crate::clock::{Clock, SystemClock};
use crate::ends::SessionEnds;
use crate::record::{Record, SessionInfo, Update};
use crate::token::{PublicId, SessionKey};

/// Sessions in an SQLite file: embedded (bundled SQLite, no server), persistent across
/// restarts of the app.
///
/// Available with the `sqlite` feature of `session-runtime`, which is off by default. The
/// crate is not on crates.io: turn the feature on in its `git` (or `path`) dependency:
///
/// ```toml
/// session-runtime = { git = "<repository URL>", features = ["sqlite"] }
/// ```
///
/// One table (default `sessions`, created with its indexes on first use) holds one row per
/// session, keyed by the token's SHA-256; the fields live in a JSON column that each save
/// patches in a single `UPDATE ... json_patch(...)`, so concurrent saves of different fields
/// both keep their change and a save of a deleted session changes nothing. Writes go through
/// one connection (SQLite has one writer at a time anyway), reads through a small pool, in
/// WAL mode so reads never wait for writes. A background task deletes expired rows.
///
/// Clones share the same connections.
///
/// ```
/// use session_runtime::{SessionConfig, SessionLayer, SqliteStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = std::env::temp_dir().join(format!("session-runtime-doc-{}-type", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let store = SqliteStore::open(dir.join("sessions.db")).await?;
/// let layer = SessionLayer::new(store, SessionConfig::default());
/// # let _ = layer;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: SqlitePool,
    reader: SqlitePool,
    command_timeout: Duration,
    sql: Queries,
    /// Told of every session this store deletes (in-process: clones of one store share
    /// it; a second `open` of the same file has its own).
    ends: Arc<SessionEnds>,
}

/// Configures a [`SqliteStore`]; see [`SqliteStore::builder`].
///
/// Available with the `sqlite` feature.
#[derive(Debug, Clone)]
#[must_use]
pub struct SqliteStoreBuilder {
    path: PathBuf,
    table: String,
    command_timeout: Duration,
    readers: u32,
    sweep_interval: Option<Duration>,
    clock: Arc<dyn Clock>,
}

impl SqliteStoreBuilder {
    /// The table to keep sessions in (default `sessions`): letters, digits and `_`, not
    /// starting with a digit.
    ///
    /// ```
    /// use session_runtime::{SqliteStore, StoreError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = std::env::temp_dir().join(format!("session-runtime-doc-{}-table", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("app.db"); // a database the app uses for more than sessions
    /// let store = SqliteStore::builder(&path).table("web_sessions").open().await?;
    /// # let _ = store;
    ///
    /// let refused = SqliteStore::builder(&path).table("web-sessions").open().await;
    /// assert!(matches!(refused, Err(StoreError::Config { .. })));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// The longest one operation may take, waiting for the file lock included (default 3 s);
    /// past it the operation fails with [`StoreError::Timeout`] and the request gets `503`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::SqliteStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = std::env::temp_dir().join(format!("session-runtime-doc-{}-command-timeout", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let store = SqliteStore::builder(dir.join("sessions.db"))
    ///     .command_timeout(Duration::from_millis(500))
    ///     .open()
    ///     .await?;
    /// # let _ = store;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    pub fn command_timeout(mut self, limit: Duration) -> Self {
        self.command_timeout = limit;
        self
    }

    /// How many connections serve reads (default 4). Writes always use one.
    ///
    /// ```
    /// use session_runtime::SqliteStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = std::env::temp_dir().join(format!("session-runtime-doc-{}-read-connections", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let store = SqliteStore::builder(dir.join("sessions.db"))
    ///     .read_connections(8)
    ///     .open()
    ///     .await?;
    /// # let _ = store;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    pub fn read_connections(mut self, n: u32) -> Self {
        self.readers = n.max(1);
        self
    }

    /// How often a background task deletes expired sessions (default 5 minutes).
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::SqliteStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = std::env::temp_dir().join(format!("session-runtime-doc-{}-sweep-interval", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let store = SqliteStore::builder(dir.join("sessions.db"))
    ///     .sweep_interval(Duration::from_secs(60))
    ///     .open()
    ///     .await?;
    /// # let _ = store;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    pub fn sweep_interval(mut self, every: Duration) -> Self {
        self.sweep_interval = Some(every);
        self
    }

    /// No background sweep: expired sessions are then only deleted by
    /// [`SessionStore::sweep`] (they are never returned by a read either way).
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use session_runtime::{SessionStore as _, SqliteStore};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = std::env::temp_dir().join(format!("session-runtime-doc-{}-no-sweep", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let store = SqliteStore::builder(dir.join("sessions.db"))
    ///     .no_background_sweep()
    ///     .open()
    ///     .await?;
    ///
    /// // A job of your own, run every night:
    /// let swept = store.sweep(SystemTime::now()).await?;
    /// assert_eq!(swept, 0); // nothing had expired
    /// # std::fs::remove_dir_all(&dir)?;
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
    /// ```
    /// use session_runtime::{ManualClock, SessionConfig, SessionLayer, SqliteStore};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = std::env::temp_dir().join(format!("session-runtime-doc-{}-clock", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let clock = ManualClock::new();
    /// let store = SqliteStore::builder(dir.join("sessions.db"))
    ///     .clock(clock.clone())
    ///     .open()
    ///     .await?;
    /// let config = SessionConfig::builder().clock(clock).build()?;
    /// let layer = SessionLayer::new(store, config);
    /// # let _ = layer;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Opens (creating if needed) the file and the table with its indexes.
    ///
    /// # Errors
    ///
    /// [`StoreError::Config`] for an invalid table name; [`StoreError::Backend`] (operation
    /// [`StoreOp::Setup`]) if the file cannot be opened or the schema cannot be created.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::SqliteStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = std::env::temp_dir().join(format!("session-runtime-doc-{}-builder-open", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("sessions.db");
    /// let store = SqliteStore::builder(&path)
    ///     .command_timeout(Duration::from_secs(1))
    ///     .open()
    ///     .await?;
    /// assert!(path.exists()); // created with its table
    /// # let _ = store;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    pub async fn open(self) -> Result<SqliteStore, StoreError> {
        let table = TableName::parse(&self.table)?;
        let options = SqliteConnectOptions::new()
            .filename(&self.path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(self.command_timeout);
        let setup = map_err(StoreOp::Setup);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(self.command_timeout)
            .connect_with(options.clone())
            .await
            .map_err(&setup)?;
        let sql = Queries::new(&table);
        for statement in sql.schema.iter() {
            sqlx::query(AssertSqlSafe(statement.clone()))
                .execute(&writer)
                .await
                .map_err(&setup)?;
        }
        // A table made before kinds existed gains the column; its rows are browsers'.
        // SQLite has no `ADD COLUMN IF NOT EXISTS`: a duplicate column means it is there.
        if let Err(error) = sqlx::query(AssertSqlSafe(sql.add_kind.clone()))
            .execute(&writer)
            .await
            && !error.to_string().contains("duplicate column name")
        {
            return Err(setup(error));
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(self.readers)
            .acquire_timeout(self.command_timeout)
            .connect_lazy_with(options);
        let store = SqliteStore {
            inner: Arc::new(Inner {
                path: self.path,
                writer,
                reader,
                command_timeout: self.command_timeout,
                sql,
                ends: SessionEnds::in_process(),
            }),
        };
        if let Some(every) = self.sweep_interval {
            sweeper::spawn(
                &store.inner,
                every,
                self.clock,
                "sqlite",
                |inner, now| async move { SqliteStore { inner }.sweep(now).await },
            );
        }
        Ok(store)
    }
}

impl SqliteStore {
    /// Opens the store in the file at `path` (created if missing) with the default settings.
    ///
    /// # Errors
    ///
    /// As [`SqliteStoreBuilder::open`].
    ///
    /// Sessions outlive the app: a store opened again on the same file has them.
    ///
    /// ```
    /// use session_runtime::{SessionAdmin, SqliteStore};
    /// # use axum::{Router, body::Body, http::Request, routing::post};
    /// # use session_runtime::{Session, SessionConfig, SessionError, SessionLayer, SessionSchema};
    /// # use tower::ServiceExt as _;
    /// # #[derive(SessionSchema)]
    /// # pub struct AppSession {
    /// #     #[session(user_id)]
    /// #     pub user_id: Option<i64>,
    /// # }
    /// # async fn log_in_42(store: &SqliteStore) {
    /// #     let app: Router = Router::new()
    /// #         .route("/login", post(|s: Session<AppSession>| async move { s.login(42).await }))
    /// #         .layer(SessionLayer::new(store.clone(), SessionConfig::default()));
    /// #     app.oneshot(Request::post("/login").body(Body::empty()).unwrap()).await.unwrap();
    /// # }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = std::env::temp_dir().join(format!("session-runtime-doc-{}-open", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("sessions.db");
    /// let store = SqliteStore::open(&path).await?;
    /// log_in_42(&store).await; // a request in which user 42 logs in
    /// store.close().await; // the app stops
    ///
    /// let store = SqliteStore::open(&path).await?; // and starts again
    /// assert_eq!(SessionAdmin::<AppSession>::new(store).list(&42).await?.len(), 1);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::builder(path).open().await
    }

    /// A builder for a store in the file at `path` with other settings.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::SqliteStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = std::env::temp_dir().join(format!("session-runtime-doc-{}-builder", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let store = SqliteStore::builder(dir.join("sessions.db"))
    ///     .table("web_sessions")
    ///     .command_timeout(Duration::from_secs(1))
    ///     .open()
    ///     .await?;
    /// # let _ = store;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    pub fn builder(path: impl AsRef<Path>) -> SqliteStoreBuilder {
        SqliteStoreBuilder {
            path: path.as_ref().to_owned(),
            table: DEFAULT_TABLE.to_owned(),
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            readers: 4,
            sweep_interval: Some(sweeper::DEFAULT_SWEEP_INTERVAL),
            clock: Arc::new(SystemClock),
        }
    }

    /// The file the store keeps sessions in.
    ///
    /// ```
    /// use session_runtime::SqliteStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = std::env::temp_dir().join(format!("session-runtime-doc-{}-path", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("sessions.db");
    /// let store = SqliteStore::open(&path).await?;
    /// assert_eq!(store.path(), path);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Closes the connections; further operations fail with [`StoreError::Backend`].
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use session_runtime::{SessionStore as _, SqliteStore, StoreError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = std::env::temp_dir().join(format!("session-runtime-doc-{}-close", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let store = SqliteStore::open(dir.join("sessions.db")).await?;
    /// // ... serve requests until shutdown, then:
    /// store.close().await;
    ///
    /// let after = store.sweep(SystemTime::now()).await;
    /// assert!(matches!(after, Err(StoreError::Backend { .. })));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    pub async fn close(&self) {
        self.inner.reader.close().await;
        self.inner.writer.close().await;
    }

    async fn run<T>(
        &self,
        op: StoreOp,
        fut: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        bounded(op, self.inner.command_timeout, async {
            fut.await.map_err(map_err(op))
        })
        .await
    }

    fn q(
        statement: &Arc<str>,
    ) -> sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
        sqlx::query(AssertSqlSafe(statement.clone()))
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("table", &self.inner.sql.table)
            .finish_non_exhaustive()
    }
}

/// Every statement, built once with the validated table name.
struct Queries {
    table: String,
    schema: Vec<Arc<str>>,
    /// Adds the `kind` column to a table made by an earlier version.
    add_kind: Arc<str>,
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

const COLUMNS: &str = "public_id, user_id, data, created_at, last_seen, expires_at, \
                       absolute_expires_at, authenticated_at, device, version, kind";

impl Queries {
    fn new(table: &TableName) -> Self {
        let (t, b) = (&table.quoted, &table.bare);
        let s = |sql: String| -> Arc<str> { sql.into() };
        Self {
            table: t.clone(),
            schema: vec![
                s(format!(
                    "CREATE TABLE IF NOT EXISTS {t} (
                        key BLOB PRIMARY KEY NOT NULL,
                        public_id TEXT NOT NULL UNIQUE,
                        user_id TEXT,
                        data TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        last_seen INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        absolute_expires_at INTEGER NOT NULL,
                        authenticated_at INTEGER,
                        device TEXT,
                        version INTEGER NOT NULL,
                        kind TEXT NOT NULL DEFAULT 'browser'
                    ) WITHOUT ROWID"
                )),
                s(format!(
                    "CREATE INDEX IF NOT EXISTS \"{b}_user_idx\" ON {t} (user_id) \
                     WHERE user_id IS NOT NULL"
                )),
                s(format!(
                    "CREATE INDEX IF NOT EXISTS \"{b}_expires_idx\" ON {t} (expires_at)"
                )),
            ],
            add_kind: s(format!(
                "ALTER TABLE {t} ADD COLUMN kind TEXT NOT NULL DEFAULT 'browser'"
            )),
            load: s(format!(
                "SELECT {COLUMNS} FROM {t} WHERE key = ?1 AND expires_at > ?2"
            )),
            create: s(format!(
                "INSERT INTO {t} (key, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
            )),
            update: s(format!(
                "UPDATE {t} SET data = json_patch(data, ?2), \
                 last_seen = COALESCE(?3, last_seen), expires_at = COALESCE(?4, expires_at), \
                 version = version + 1 WHERE key = ?1"
            )),
            rotate: s(format!(
                "UPDATE {t} SET key = ?2, data = json_patch(data, ?3), \
                 last_seen = COALESCE(?4, last_seen), expires_at = COALESCE(?5, expires_at), \
                 version = version + 1 WHERE key = ?1"
            )),
            touch: s(format!(
                "UPDATE {t} SET last_seen = ?2, expires_at = ?3 WHERE key = ?1"
            )),
            delete: s(format!(
                "DELETE FROM {t} WHERE key = ?1 RETURNING public_id"
            )),
            list_user: s(format!(
                "SELECT public_id, user_id, device, created_at, last_seen, expires_at, kind FROM {t} \
                 WHERE user_id = ?1 AND expires_at > ?2 ORDER BY last_seen DESC"
            )),
            delete_user: s(format!(
                "DELETE FROM {t} WHERE user_id = ?1 AND (?2 IS NULL OR key <> ?2) \
                 RETURNING public_id"
            )),
            delete_public: s(format!(
                "DELETE FROM {t} WHERE public_id = ?1 AND user_id = ?2 RETURNING public_id"
            )),
            sweep: s(format!("DELETE FROM {t} WHERE expires_at <= ?1")),
        }
    }
}

impl SqliteStore {
    /// Tells the waiters of the deleted sessions (`RETURNING public_id` rows) that they
    /// ended; how many there were.
    fn ended(&self, rows: &[SqliteRow]) -> u64 {
        for row in rows {
            if let Ok(id) = row.try_get::<String, _>("public_id") {
                self.inner.ends.ended(&PublicId::new(id));
            }
        }
        rows.len() as u64
    }
}

fn record_from(row: &SqliteRow) -> Result<Record, StoreError> {
    let get = |e: sqlx::Error| StoreError::Corrupt {
        reason: e.to_string(),
    };
    record_from_columns(Columns {
        public_id: row.try_get("public_id").map_err(get)?,
        user_id: row.try_get("user_id").map_err(get)?,
        data: row.try_get("data").map_err(get)?,
        created_at: row.try_get("created_at").map_err(get)?,
        last_seen: row.try_get("last_seen").map_err(get)?,
        expires_at: row.try_get("expires_at").map_err(get)?,
        absolute_expires_at: row.try_get("absolute_expires_at").map_err(get)?,
        authenticated_at: row.try_get("authenticated_at").map_err(get)?,
        device: row.try_get("device").map_err(get)?,
        version: row.try_get("version").map_err(get)?,
        kind: row.try_get("kind").map_err(get)?,
    })
}

fn info_from(row: &SqliteRow) -> Result<SessionInfo, StoreError> {
    let get = |e: sqlx::Error| StoreError::Corrupt {
        reason: e.to_string(),
    };
    Ok(SessionInfo {
        public_id: PublicId::new(row.try_get::<String, _>("public_id").map_err(get)?),
        user_id: row.try_get("user_id").map_err(get)?,
        device: row.try_get("device").map_err(get)?,
        created_at: from_millis(row.try_get("created_at").map_err(get)?),
        last_seen: from_millis(row.try_get("last_seen").map_err(get)?),
        expires_at: from_millis(row.try_get("expires_at").map_err(get)?),
        kind: kind_from_column(&row.try_get::<String, _>("kind").map_err(get)?)?,
    })
}

impl SessionStore for SqliteStore {
    async fn load(&self, key: &SessionKey, now: SystemTime) -> Result<Option<Record>, StoreError> {
        let row = self
            .run(
                StoreOp::Load,
                Self::q(&self.inner.sql.load)
                    .bind(key.as_bytes().as_slice())
                    .bind(to_millis(now))
                    .fetch_optional(&self.inner.reader),
            )
            .await?;
        row.as_ref().map(record_from).transpose()
    }

    async fn create(&self, key: &SessionKey, record: &Record) -> Result<(), StoreError> {
        self.run(
            StoreOp::Create,
            Self::q(&self.inner.sql.create)
                .bind(key.as_bytes().as_slice())
                .bind(record.public_id.as_str())
                .bind(record.user_id.as_deref())
                .bind(encode_data(&record.data))
                .bind(to_millis(record.created_at))
                .bind(to_millis(record.last_seen))
                .bind(to_millis(record.expires_at))
                .bind(to_millis(record.absolute_expires_at))
                .bind(record.authenticated_at.map(to_millis))
                .bind(record.device.as_deref())
                .bind(i64::try_from(record.version).unwrap_or(i64::MAX))
                .bind(record.kind.as_str())
                .execute(&self.inner.writer),
        )
        .await
        .map(drop)
    }

    async fn update(&self, key: &SessionKey, update: &Update) -> Result<bool, StoreError> {
        let done = self
            .run(
                StoreOp::Update,
                Self::q(&self.inner.sql.update)
                    .bind(key.as_bytes().as_slice())
                    .bind(merge_patch(update))
                    .bind(update.last_seen.map(to_millis))
                    .bind(update.expires_at.map(to_millis))
                    .execute(&self.inner.writer),
            )
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
        // with neither key (nor with both), and a failure leaves the old row as it was.
        let done = self
            .run(
                StoreOp::Rotate,
                Self::q(&self.inner.sql.rotate)
                    .bind(old.as_bytes().as_slice())
                    .bind(new.as_bytes().as_slice())
                    .bind(merge_patch(update))
                    .bind(update.last_seen.map(to_millis))
                    .bind(update.expires_at.map(to_millis))
                    .execute(&self.inner.writer),
            )
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        let done = self
            .run(
                StoreOp::Touch,
                Self::q(&self.inner.sql.touch)
                    .bind(key.as_bytes().as_slice())
                    .bind(to_millis(last_seen))
                    .bind(to_millis(expires_at))
                    .execute(&self.inner.writer),
            )
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let rows = self
            .run(
                StoreOp::Delete,
                Self::q(&self.inner.sql.delete)
                    .bind(key.as_bytes().as_slice())
                    .fetch_all(&self.inner.writer),
            )
            .await?;
        Ok(self.ended(&rows) == 1)
    }

    async fn list_user(
        &self,
        user_id: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        let rows = self
            .run(
                StoreOp::PerUser,
                Self::q(&self.inner.sql.list_user)
                    .bind(user_id)
                    .bind(to_millis(now))
                    .fetch_all(&self.inner.reader),
            )
            .await?;
        rows.iter().map(info_from).collect()
    }

    async fn delete_user(
        &self,
        user_id: &str,
        keep: Option<&SessionKey>,
    ) -> Result<u64, StoreError> {
        let rows = self
            .run(
                StoreOp::PerUser,
                Self::q(&self.inner.sql.delete_user)
                    .bind(user_id)
                    .bind(keep.map(|k| k.as_bytes().as_slice()))
                    .fetch_all(&self.inner.writer),
            )
            .await?;
        Ok(self.ended(&rows))
    }

    async fn delete_public(&self, user_id: &str, public_id: &PublicId) -> Result<bool, StoreError> {
        let rows = self
            .run(
                StoreOp::PerUser,
                Self::q(&self.inner.sql.delete_public)
                    .bind(public_id.as_str())
                    .bind(user_id)
                    .fetch_all(&self.inner.writer),
            )
            .await?;
        Ok(self.ended(&rows) == 1)
    }

    fn session_ends(&self) -> Option<&Arc<SessionEnds>> {
        Some(&self.inner.ends)
    }

    async fn sweep(&self, now: SystemTime) -> Result<u64, StoreError> {
        let done = self
            .run(
                StoreOp::Sweep,
                Self::q(&self.inner.sql.sweep)
                    .bind(to_millis(now))
                    .execute(&self.inner.writer),
            )
            .await?;
        Ok(done.rows_affected())
    }
}
