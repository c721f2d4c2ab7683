//! This project's server-backed stores against tower-sessions' on the same local servers, in
//! one run: `PostgresStore` against `tower-sessions-sqlx-store`'s `PostgresStore`, and
//! `RedisStore` against `tower-sessions-redis-store` (fred). Then how the costs grow: listing
//! and revoking a user's sessions at 1, 100 and 10,000 sessions, and a sweep of many expired
//! sessions with live reads going on.
//!
//! How to run it, how to read it, and the current figures: `BENCHMARKS.md`, "Stores".
//!
//! ```sh
//! export SESSION_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test
//! export SESSION_TEST_REDIS_URL=redis://127.0.0.1:6379
//! cargo bench -p session-benches --bench stores                    # a few minutes
//! cargo bench -p session-benches --bench stores -- --smoke         # tiny sizes: proves it runs
//! cargo bench -p session-benches --bench stores -- --sweep 1000000 # the million-session sweep
//! cargo bench -p session-benches --bench stores -- --only requests # or growth, or sweep
//! ```
//!
//! Every variant serves the same three routes with the same handler bodies on axum 0.8
//! (`Router::layer`), driven in-process with `oneshot`; only the store is across the network
//! (loopback). The peers' stores are built on tower-sessions 0.14 (there is no release of
//! them for 0.15), so that is the tower-sessions measured here. Workloads: `read` (a
//! logged-in GET that reads the user id), `write` (a POST that sets one field to a new value),
//! `login` (no cookie in, a new session with a user id and a name out).
//!
//! Times: rounds of `--iters` requests a variant, ours and the peer's interleaved in an order
//! that alternates round by round, on connections straight to the server; the peer's time ÷
//! ours is taken within each round and summarised over rounds. Round trips: the same requests
//! again on a second instance of each variant whose connections go through a counting
//! forwarder (`wire.rs`), so that counting costs the timed runs nothing.

mod wire;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use axum::routing::{get, post};
use tower::ServiceExt as _;
use wire::{Counter, Wire};

/// A fresh value for every write, so that no variant can skip the write as unchanged.
static COUNTER: AtomicU64 = AtomicU64::new(1);

fn next_value() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// A name no other run uses.
fn unique(prefix: &str) -> String {
    format!("{prefix}_{:012x}", rand::random::<u64>() >> 16)
}

/// This project: the session schema and handlers, on any store.
mod ours {
    use super::*;
    use session_runtime::{
        RequireAuth, Session, SessionConfig, SessionError, SessionLayer, SessionSchema,
        SessionStore,
    };

    /// The session of every benchmark route.
    #[derive(SessionSchema)]
    pub struct BenchSession {
        #[session(user_id)]
        pub user_id: Option<i64>,
        pub username: Option<String>,
        pub counter: u64,
    }

    async fn me(user: RequireAuth<BenchSession>) -> String {
        user.user_id().to_string()
    }

    async fn write(session: Session<BenchSession>) -> Result<&'static str, SessionError> {
        session.set_counter(next_value())?;
        Ok("ok")
    }

    async fn login(session: Session<BenchSession>) -> Result<&'static str, SessionError> {
        session.login(42).await?;
        session.set_username(Some("alice".to_owned()))?;
        Ok("ok")
    }

    pub fn app(store: impl SessionStore) -> Router {
        Router::new()
            .route("/me", get(me))
            .route("/write", post(write))
            .route("/login", post(login))
            .layer(SessionLayer::new(store, SessionConfig::default()))
            .with_state(())
    }
}

/// tower-sessions 0.14, the version its server-backed stores are built on.
mod peer {
    use super::*;
    use tower_sessions_014::{Expiry, Session, SessionManagerLayer, SessionStore};

    async fn me(session: Session) -> Result<String, StatusCode> {
        match session.get::<i64>("user_id").await {
            Ok(Some(id)) => Ok(id.to_string()),
            Ok(None) => Err(StatusCode::UNAUTHORIZED),
            Err(_) => Err(StatusCode::SERVICE_UNAVAILABLE),
        }
    }

    async fn write(session: Session) -> Result<&'static str, StatusCode> {
        session
            .insert("counter", next_value())
            .await
            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
        Ok("ok")
    }

    async fn login(session: Session) -> Result<&'static str, StatusCode> {
        let failed = |_| StatusCode::SERVICE_UNAVAILABLE;
        session.cycle_id().await.map_err(failed)?;
        session.insert("user_id", 42_i64).await.map_err(failed)?;
        session.insert("username", "alice").await.map_err(failed)?;
        Ok("ok")
    }

    pub fn app(store: impl SessionStore + Clone) -> Router {
        // A fixed expiry an hour away: sessions end by themselves (Redis keys expire), and
        // a read does not save to push the expiry on, as `OnInactivity` would.
        let expiry = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
        Router::new()
            .route("/me", get(me))
            .route("/write", post(write))
            .route("/login", post(login))
            .layer(SessionManagerLayer::new(store).with_expiry(Expiry::AtDateTime(expiry)))
            .with_state(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Backend {
    Postgres,
    Redis,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "PostgreSQL",
            Backend::Redis => "Redis",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Workload {
    Read,
    Write,
    Login,
}

const WORKLOADS: [Workload; 3] = [Workload::Read, Workload::Write, Workload::Login];

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Read => "read",
            Workload::Write => "write",
            Workload::Login => "login",
        }
    }

    fn request(self) -> (&'static str, &'static str, bool) {
        match self {
            Workload::Read => ("GET", "/me", true),
            Workload::Write => ("POST", "/write", true),
            Workload::Login => ("POST", "/login", false),
        }
    }
}

fn request(method: &str, path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::empty()).expect("valid request")
}

async fn call(app: &Router, req: Request<Body>) -> Response<Body> {
    let res: Result<_, Infallible> = app.clone().oneshot(req).await;
    res.expect("infallible")
}

/// Logs in; the `Cookie` header that carries the new session.
async fn login_cookie(app: &Router, what: &str) -> String {
    let res = call(app, request("POST", "/login", None)).await;
    assert_eq!(res.status(), StatusCode::OK, "{what}: login");
    let cookies: Vec<&str> = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::trim)
        .collect();
    assert!(!cookies.is_empty(), "{what} set no cookie");
    cookies.join("; ")
}

/// One variant, ready: its app and a logged-in session's cookie.
struct Subject {
    name: String,
    app: Router,
    cookie: String,
}

impl Subject {
    async fn new(name: String, app: Router) -> Self {
        let cookie = login_cookie(&app, &name).await;
        let res = call(&app, request("GET", "/me", Some(&cookie))).await;
        assert_eq!(res.status(), StatusCode::OK, "{name}: read after login");
        Self { name, app, cookie }
    }

    /// `n` requests of `workload` one after the other; ns per request.
    async fn run(&self, workload: Workload, n: usize) -> f64 {
        let (method, path, with_cookie) = workload.request();
        let cookie = with_cookie.then_some(self.cookie.as_str());
        let start = Instant::now();
        for _ in 0..n {
            let status = call(&self.app, request(method, path, cookie))
                .await
                .status();
            assert_eq!(status, StatusCode::OK, "{}: {method} {path}", self.name);
        }
        start.elapsed().as_nanos() as f64 / n as f64
    }
}

/// Where the servers are, and what this run created there (removed at the end).
struct Servers {
    pg_url: String,
    redis_url: String,
    pg: SocketAddr,
    redis: SocketAddr,
    /// PostgreSQL schemas made by this run.
    schemas: Vec<String>,
    /// Redis key prefixes used by this run.
    prefixes: Vec<String>,
}

fn host_port(url: &str) -> String {
    let rest = url.split("://").nth(1).expect("a URL");
    let rest = rest.rsplit('@').next().expect("host");
    rest.split('/').next().expect("host:port").to_owned()
}

async fn resolve(host_port: &str) -> SocketAddr {
    tokio::net::lookup_host(host_port)
        .await
        .expect("server address")
        .next()
        .expect("one address")
}

/// `url` with its host and port replaced by `addr`.
fn via(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (auth, rest) = match rest.rsplit_once('@') {
        Some((auth, rest)) => (format!("{auth}@"), rest),
        None => (String::new(), rest),
    };
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    format!("{scheme}://{auth}{addr}{path}")
}

impl Servers {
    async fn new(pg_url: String, redis_url: String) -> Self {
        let pg = resolve(&host_port(&pg_url)).await;
        let redis = resolve(&host_port(&redis_url)).await;
        Self {
            pg_url,
            redis_url,
            pg,
            redis,
            schemas: Vec::new(),
            prefixes: Vec::new(),
        }
    }

    async fn admin(&self) -> sqlx::PgConnection {
        use sqlx::Connection as _;
        sqlx::PgConnection::connect(&self.pg_url)
            .await
            .expect("PostgreSQL admin connection")
    }

    async fn new_schema(&mut self, prefix: &str) -> String {
        let name = unique(prefix);
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{name}\"")))
            .execute(&mut self.admin().await)
            .await
            .expect("create schema");
        self.schemas.push(name.clone());
        name
    }

    /// Our PostgreSQL store on table `schema.sessions`, straight or through `through`.
    async fn ours_pg(
        &self,
        schema: &str,
        through: Option<SocketAddr>,
    ) -> session_runtime::PostgresStore {
        let url = through.map_or_else(|| self.pg_url.clone(), |a| via(&self.pg_url, a));
        session_runtime::PostgresStore::builder(&url)
            .table(format!("{schema}.sessions"))
            .command_timeout(Duration::from_secs(30))
            .no_background_sweep()
            .connect()
            .await
            .expect("PostgresStore")
    }

    async fn peer_pg(
        &self,
        schema: &str,
        through: Option<SocketAddr>,
    ) -> tower_sessions_sqlx_store::PostgresStore {
        let url = through.map_or_else(|| self.pg_url.clone(), |a| via(&self.pg_url, a));
        let pool = tower_sessions_sqlx_store::sqlx::postgres::PgPoolOptions::new()
            .max_connections(10)
            .connect(&url)
            .await
            .expect("peer's PostgreSQL pool");
        let store = tower_sessions_sqlx_store::PostgresStore::new(pool)
            .with_schema_name(schema)
            .expect("schema name");
        store.migrate().await.expect("peer's migration");
        store
    }

    async fn ours_redis(
        &self,
        prefix: &str,
        through: Option<SocketAddr>,
    ) -> session_runtime::RedisStore {
        let url = through.map_or_else(|| self.redis_url.clone(), |a| via(&self.redis_url, a));
        session_runtime::RedisStore::builder(&url)
            .prefix(prefix)
            .command_timeout(Duration::from_secs(30))
            .no_background_sweep()
            .connect()
            .await
            .expect("RedisStore")
    }

    async fn peer_redis(
        &self,
        through: Option<SocketAddr>,
    ) -> tower_sessions_redis_store::RedisStore<tower_sessions_redis_store::fred::prelude::Pool>
    {
        use tower_sessions_redis_store::fred::prelude::*;
        let url = through.map_or_else(|| self.redis_url.clone(), |a| via(&self.redis_url, a));
        let pool = Pool::new(
            Config::from_url(&url).expect("fred config"),
            None,
            None,
            None,
            1,
        )
        .expect("fred pool");
        // The connection tasks run on by themselves (their handles are not needed).
        let _tasks = pool.connect();
        pool.wait_for_connect().await.expect("fred connects");
        tower_sessions_redis_store::RedisStore::new(pool)
    }

    async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.redis_url.as_str())
            .expect("Redis URL")
            .get_multiplexed_async_connection()
            .await
            .expect("Redis connection")
    }

    async fn clean_up(&self) {
        let mut admin = self.admin().await;
        for schema in &self.schemas {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
            )))
            .execute(&mut admin)
            .await
            .expect("drop schema");
        }
        let mut conn = self.redis().await;
        for prefix in &self.prefixes {
            // SCAN in steps, not KEYS: a million keys must not block the server.
            let mut cursor = 0_u64;
            loop {
                let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(format!("{prefix}*"))
                    .arg("COUNT")
                    .arg(1_000)
                    .query_async(&mut conn)
                    .await
                    .expect("scan");
                if !keys.is_empty() {
                    let _: i64 = redis::cmd("UNLINK")
                        .arg(&keys)
                        .query_async(&mut conn)
                        .await
                        .expect("unlink");
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
    }
}

/// The median of `xs` (sorted in place).
fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn percentile(xs: &mut [f64], p: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let i = ((xs.len() - 1) as f64 * p).round() as usize;
    xs[i]
}

struct Options {
    smoke: bool,
    rounds: usize,
    iters: usize,
    growth: Vec<usize>,
    sweep: usize,
    /// `--only requests|growth|sweep`: one part of the run.
    only: Option<String>,
}

impl Options {
    fn parse() -> Self {
        let mut o = Self {
            smoke: false,
            rounds: 21,
            iters: 200,
            growth: vec![1, 100, 10_000],
            sweep: 100_000,
            only: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut num = |what: &str| -> usize {
                args.next()
                    .and_then(|v| v.replace('_', "").parse().ok())
                    .unwrap_or_else(|| panic!("{what} takes a number"))
            };
            match arg.as_str() {
                "--smoke" => {
                    o.smoke = true;
                    o.rounds = 3;
                    o.iters = 5;
                    o.growth = vec![1, 10];
                    o.sweep = 1_000;
                }
                "--rounds" => o.rounds = num("--rounds").max(1),
                "--iters" => o.iters = num("--iters").max(1),
                "--sweep" => o.sweep = num("--sweep").max(1),
                "--only" => o.only = args.next(),
                "--bench" => {}
                other => panic!("unknown argument {other:?}"),
            }
        }
        o
    }
}

fn main() {
    let options = Options::parse();
    let (Ok(pg_url), Ok(redis_url)) = (
        std::env::var("SESSION_TEST_POSTGRES_URL"),
        std::env::var("SESSION_TEST_REDIS_URL"),
    ) else {
        println!(
            "skipped: the stores bench needs SESSION_TEST_POSTGRES_URL and SESSION_TEST_REDIS_URL"
        );
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(options, pg_url, redis_url));
}

async fn run(options: Options, pg_url: String, redis_url: String) {
    let mut servers = Servers::new(pg_url, redis_url).await;
    println!("# Stores: this project against tower-sessions 0.14's stores");
    println!(
        "{} rounds of {} requests a variant; one current-thread runtime; servers {} and {}{}",
        options.rounds,
        options.iters,
        servers.pg,
        servers.redis,
        if options.smoke { " (smoke run)" } else { "" }
    );
    if let Ok(cpu) = std::fs::read_to_string("/proc/cpuinfo")
        && let Some(model) = cpu.lines().find(|l| l.starts_with("model name"))
    {
        println!("CPU: {}", model.split(':').nth(1).unwrap_or("").trim());
    }
    let part = |name: &str| options.only.as_deref().is_none_or(|only| only == name);
    if part("requests") {
        for backend in [Backend::Postgres, Backend::Redis] {
            per_request(&mut servers, backend, &options).await;
        }
    }
    if part("growth") {
        for backend in [Backend::Postgres, Backend::Redis] {
            growth(&mut servers, backend, &options).await;
        }
    }
    if part("sweep") {
        sweep_postgres(&mut servers, &options).await;
        sweep_redis(&mut servers, &options).await;
    }
    servers.clean_up().await;
}

/// The two variants of `backend`, straight to the server or through `through`.
async fn subjects(
    servers: &mut Servers,
    backend: Backend,
    through: Option<SocketAddr>,
) -> [Subject; 2] {
    match backend {
        Backend::Postgres => {
            let ours_schema = servers.new_schema("bench_ours").await;
            let peer_schema = unique("bench_peer");
            servers.schemas.push(peer_schema.clone());
            let ours = ours::app(servers.ours_pg(&ours_schema, through).await);
            let peer = peer::app(servers.peer_pg(&peer_schema, through).await);
            [
                Subject::new("typed-sessions PostgresStore".into(), ours).await,
                Subject::new("tower-sessions-sqlx-store".into(), peer).await,
            ]
        }
        Backend::Redis => {
            let prefix = format!("{}:", unique("bench"));
            servers.prefixes.push(prefix.clone());
            let ours = ours::app(servers.ours_redis(&prefix, through).await);
            let peer = peer::app(servers.peer_redis(through).await);
            [
                Subject::new("typed-sessions RedisStore".into(), ours).await,
                Subject::new("tower-sessions-redis-store".into(), peer).await,
            ]
        }
    }
}

async fn per_request(servers: &mut Servers, backend: Backend, options: &Options) {
    println!("\n## {}: per request", backend.name());
    let timed = subjects(servers, backend, None).await;
    // Warm up: statements prepared, scripts loaded, pools filled.
    for subject in &timed {
        for workload in WORKLOADS {
            subject.run(workload, options.iters.min(50)).await;
        }
    }
    let mut times: Vec<[Vec<f64>; 2]> = WORKLOADS.iter().map(|_| Default::default()).collect();
    let mut ratios: Vec<Vec<f64>> = WORKLOADS.iter().map(|_| Vec::new()).collect();
    for round in 0..options.rounds {
        for (w, workload) in WORKLOADS.into_iter().enumerate() {
            let mut pair = [0.0; 2];
            // Ours first on even rounds, the peer first on odd ones.
            for i in [round % 2, 1 - round % 2] {
                pair[i] = timed[i].run(workload, options.iters).await;
                times[w][i].push(pair[i]);
            }
            ratios[w].push(pair[1] / pair[0]);
        }
    }

    // Round trips, on a second pair through the counting forwarder.
    let target = match backend {
        Backend::Postgres => servers.pg,
        Backend::Redis => servers.redis,
    };
    let wire = match backend {
        Backend::Postgres => Wire::Postgres,
        Backend::Redis => Wire::Redis,
    };
    let counter = Counter::new(target, wire).await;
    let counted = subjects(servers, backend, Some(counter.addr)).await;
    let n = options.iters.clamp(20, 200);
    let mut trips = Vec::new();
    for workload in WORKLOADS {
        let mut pair = [(0.0, 0.0); 2];
        for (i, subject) in counted.iter().enumerate() {
            subject.run(workload, 10).await; // prepared, loaded
            tokio::time::sleep(Duration::from_millis(20)).await;
            counter.take();
            subject.run(workload, n).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let (statements, pings) = counter.take();
            pair[i] = (statements as f64 / n as f64, pings as f64 / n as f64);
        }
        trips.push(pair);
    }

    println!(
        "| workload | {} µs | {} µs | peer ÷ ours (median, min–max) | round trips ours | round trips peer |",
        timed[0].name, timed[1].name
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (w, workload) in WORKLOADS.into_iter().enumerate() {
        let ours = median(&mut times[w][0]) / 1000.0;
        let peer = median(&mut times[w][1]) / 1000.0;
        let r = &mut ratios[w];
        let med = median(r);
        let (lo, hi) = (r[0], r[r.len() - 1]);
        let show = |(s, p): (f64, f64)| {
            if backend == Backend::Postgres {
                format!("{s:.2} (+{p:.2} ping)")
            } else {
                format!("{s:.2}")
            }
        };
        println!(
            "| {} | {ours:.1} | {peer:.1} | {med:.2}× ({lo:.2}–{hi:.2}) {} | {} | {} |",
            workload.name(),
            if med >= 1.0 { "ahead" } else { "BEHIND" },
            show(trips[w][0]),
            show(trips[w][1]),
        );
    }
}

/// Listing and revoking a user's sessions as they grow (this project only: tower-sessions
/// has no per-user operations).
async fn growth(servers: &mut Servers, backend: Backend, options: &Options) {
    println!(
        "\n## {}: a user's sessions, listed and revoked",
        backend.name()
    );
    println!("| sessions of the user | list (ms, median of 5) | revoke all (ms) |");
    println!("| ---: | ---: | ---: |");
    let store: Box<dyn GrowthStore> = match backend {
        Backend::Postgres => {
            let schema = servers.new_schema("bench_growth").await;
            Box::new(servers.ours_pg(&schema, None).await)
        }
        Backend::Redis => {
            let prefix = format!("{}:", unique("bench_growth"));
            servers.prefixes.push(prefix.clone());
            Box::new(servers.ours_redis(&prefix, None).await)
        }
    };
    for &size in &options.growth {
        let user = format!("\"{}\"", unique("user"));
        let now = SystemTime::now();
        fill_user(store.as_ref(), &user, size, now).await;
        let mut lists = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            let listed = store.list(&user, now).await;
            lists.push(start.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(listed, size, "listed");
        }
        let start = Instant::now();
        let revoked = store.revoke(&user).await;
        let revoke = start.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(revoked, size as u64, "revoked");
        println!("| {size} | {:.2} | {revoke:.2} |", median(&mut lists));
    }
}

/// The per-user operations of either store, boxed.
trait GrowthStore {
    fn add_session<'a>(&'a self, user: &'a str, now: SystemTime) -> BoxFuture<'a, ()>;
    fn list<'a>(&'a self, user: &'a str, now: SystemTime) -> BoxFuture<'a, usize>;
    fn revoke<'a>(&'a self, user: &'a str) -> BoxFuture<'a, u64>;
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

impl<S: session_runtime::SessionStore> GrowthStore for S {
    fn add_session<'a>(&'a self, user: &'a str, now: SystemTime) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let (key, record) = record_for(Some(user), now, Duration::from_secs(3600));
            self.create(&key, &record).await.expect("create");
        })
    }

    fn list<'a>(&'a self, user: &'a str, now: SystemTime) -> BoxFuture<'a, usize> {
        Box::pin(async move { self.list_user(user, now).await.expect("list").len() })
    }

    fn revoke<'a>(&'a self, user: &'a str) -> BoxFuture<'a, u64> {
        Box::pin(async move { self.delete_user(user, None).await.expect("revoke") })
    }
}

async fn fill_user(store: &dyn GrowthStore, user: &str, size: usize, now: SystemTime) {
    let mut done = 0;
    while done < size {
        let chunk = (size - done).min(64);
        let creates: Vec<_> = (0..chunk).map(|_| store.add_session(user, now)).collect();
        for create in creates {
            create.await;
        }
        done += chunk;
    }
}

/// A new session's key and record for `user`, expiring `ttl` after `now`.
fn record_for(
    user: Option<&str>,
    now: SystemTime,
    ttl: Duration,
) -> (session_runtime::SessionKey, session_runtime::Record) {
    let key = session_runtime::SessionKey::from_bytes(rand::random());
    let record = session_runtime::Record {
        public_id: session_runtime::PublicId::new(format!("{:026x}", rand::random::<u128>())),
        user_id: user.map(str::to_owned),
        data: [("counter".to_owned(), "1".to_owned())].into(),
        created_at: now,
        last_seen: now,
        expires_at: now + ttl,
        absolute_expires_at: now + ttl,
        authenticated_at: user.map(|_| now),
        device: Some("bench/1.0".into()),
        version: 0,
        kind: session_runtime::SessionKind::Browser,
    };
    (key, record)
}

/// Live reads while something else runs: one session loaded every millisecond.
struct Reader {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<f64>>,
}

impl Reader {
    fn start<S: session_runtime::SessionStore + Clone>(
        store: &S,
        key: session_runtime::SessionKey,
    ) -> Self {
        let (store, stop) = (store.clone(), Arc::new(AtomicBool::new(false)));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                let start = Instant::now();
                let found = store
                    .load(&key, SystemTime::now())
                    .await
                    .expect("live read");
                latencies.push(start.elapsed().as_secs_f64() * 1000.0);
                assert!(found.is_some(), "the live session is there");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            latencies
        });
        Self { stop, task }
    }

    async fn finish(self) -> Vec<f64> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("reader")
    }
}

fn report_sweep(
    what: &str,
    n: usize,
    swept: u64,
    took: Duration,
    before: &mut [f64],
    during: &mut [f64],
) {
    println!(
        "| {what} | {n} | {swept} | {:.2} | {:.0} | {:.2} / {:.2} | {:.2} / {:.2} / {:.2} ({} reads) |",
        took.as_secs_f64(),
        swept as f64 / took.as_secs_f64(),
        percentile(before, 0.5),
        percentile(before, 0.99),
        percentile(during, 0.5),
        percentile(during, 0.99),
        percentile(during, 1.0),
        during.len(),
    );
}

fn sweep_header() {
    println!(
        "| sweep | expired | deleted | seconds | per second | live read before, p50 / p99 ms | during, p50 / p99 / max ms |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
}

async fn sweep_postgres(servers: &mut Servers, options: &Options) {
    use session_runtime::SessionStore as _;
    println!("\n## Sweeps of expired sessions, live reads going on");
    sweep_header();
    let n = options.sweep;
    let schema = servers.new_schema("bench_sweep").await;
    let store = servers.ours_pg(&schema, None).await;
    let now = SystemTime::now();
    let (live, record) = record_for(Some("\"live\""), now, Duration::from_secs(3600));
    store.create(&live, &record).await.expect("live session");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO \"{schema}\".sessions (key, public_id, user_id, data, created_at, last_seen, \
         expires_at, absolute_expires_at, version) \
         SELECT sha256(i::text::bytea), 'expired-' || i, 'u' || (i % 1000), '{{}}', 0, 0, 1, 1, 0 \
         FROM generate_series(1, {n}) AS i"
    )))
    .execute(&mut servers.admin().await)
    .await
    .expect("expired rows");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ANALYZE \"{schema}\".sessions"
    )))
    .execute(&mut servers.admin().await)
    .await
    .expect("analyze");
    let reader = Reader::start(&store, live);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut before = reader.finish().await;
    let reader = Reader::start(&store, live);
    let start = Instant::now();
    let swept = store.sweep(SystemTime::now()).await.expect("sweep");
    let took = start.elapsed();
    let mut during = reader.finish().await;
    report_sweep(
        "typed-sessions PostgresStore",
        n,
        swept,
        took,
        &mut before,
        &mut during,
    );

    // The peer's `delete_expired`: one DELETE of every expired row.
    let peer_schema = unique("bench_peer_sweep");
    servers.schemas.push(peer_schema.clone());
    let peer = servers.peer_pg(&peer_schema, None).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO \"{peer_schema}\".session (id, data, expiry_date) \
         SELECT 'expired-' || i, '\\x80'::bytea, now() - interval '1 hour' \
         FROM generate_series(1, {n}) AS i"
    )))
    .execute(&mut servers.admin().await)
    .await
    .expect("peer's expired rows");
    use tower_sessions_014::ExpiredDeletion as _;
    let reader = Reader::start(&store, live);
    let start = Instant::now();
    peer.delete_expired().await.expect("peer's sweep");
    let took = start.elapsed();
    let mut during = reader.finish().await;
    let (left,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM \"{peer_schema}\".session"
    )))
    .fetch_one(&mut servers.admin().await)
    .await
    .expect("count");
    report_sweep(
        "tower-sessions-sqlx-store delete_expired (live reads on ours)",
        n,
        (n as u64).saturating_sub(left as u64),
        took,
        &mut before,
        &mut during,
    );
}

async fn sweep_redis(servers: &mut Servers, options: &Options) {
    use session_runtime::SessionStore as _;
    let n = options.sweep;
    let prefix = format!("{}:", unique("bench_sweep"));
    servers.prefixes.push(prefix.clone());
    let store = servers.ours_redis(&prefix, None).await;
    let now = SystemTime::now();
    let (live, record) = record_for(Some("\"live\""), now, Duration::from_secs(3600));
    store.create(&live, &record).await.expect("live session");
    // Expired by the app's clock an hour ago, with no server TTL: what the sweep finds when
    // the server has not expired them itself (the index entries outlive nothing else).
    let fill = redis::Script::new(
        r"
local prefix, from, to, exp = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
for i = from, to do
  local hex = string.format('%064x', i)
  redis.call('HSET', prefix .. 's:' .. hex, 'pid', 'expired-' .. i, 'uid', 'u' .. (i % 1000), 'exp', exp)
  redis.call('SET', prefix .. 'id:expired-' .. i, hex)
  redis.call('ZADD', prefix .. 'u:u' .. (i % 1000), exp, hex)
  redis.call('ZADD', prefix .. 'exp', exp, hex)
end
return to - from + 1
",
    );
    let exp = (now - Duration::from_secs(3600))
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis()
        .to_string();
    let mut conn = servers.redis().await;
    let mut from = 1;
    while from <= n {
        let to = (from + 999).min(n);
        let _: i64 = fill
            .arg(&prefix)
            .arg(from)
            .arg(to)
            .arg(&exp)
            .invoke_async(&mut conn)
            .await
            .expect("fill Redis");
        from = to + 1;
    }
    let reader = Reader::start(&store, live);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut before = reader.finish().await;
    let reader = Reader::start(&store, live);
    let start = Instant::now();
    let swept = store.sweep(SystemTime::now()).await.expect("sweep");
    let took = start.elapsed();
    let mut during = reader.finish().await;
    report_sweep(
        "typed-sessions RedisStore",
        n,
        swept,
        took,
        &mut before,
        &mut during,
    );
    println!(
        "(tower-sessions-redis-store has no sweep: each session is a key with a TTL that the \
         server expires by itself.)"
    );
}
