//! The store conformance suite on `PostgresStore` against a real server
//! (`SESSION_TEST_POSTGRES_URL`), plus what only a shared, networked store does: a server
//! that goes away and comes back, two app instances, one round trip per read.
//!
//! Each test works in a schema of its own, named at random and dropped at the end, so tests
//! run in parallel and a schema left by a failed run is in no later run's way.

#[path = "common/mod.rs"]
mod common;

/// The session cookie's name in this binary's apps (the default name), for `common`'s helpers.
pub const COOKIE: &str = "session";
#[path = "remember_flow/mod.rs"]
mod remember_flow;
mod store_suite;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use session_runtime::{PostgresStore, SessionConfig, SessionStore, StoreError, StoreOp, Update};
use sqlx::Connection as _;
use store_suite::servers::{Proxy, Wire, server_url};
use store_suite::store_suite;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

const URL_VAR: &str = "SESSION_TEST_POSTGRES_URL";

/// A schema of its own on the test server.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    async fn new() -> Option<Self> {
        let url = server_url(URL_VAR)?;
        // Random, so that a schema left by a failed run cannot clash with this one.
        let name = format!("session_test_{:016x}", rand::random::<u64>());
        let mut admin = sqlx::PgConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("{URL_VAR} is set but the server is unreachable: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{name}\"")))
            .execute(&mut admin)
            .await
            .unwrap();
        Some(Self { url, name })
    }

    fn table(&self) -> String {
        format!("{}.sessions", self.name)
    }

    /// The URL with its host and port replaced by `addr` (a [`Proxy`]).
    fn url_via(&self, addr: std::net::SocketAddr) -> String {
        let mut url: sqlx::postgres::PgConnectOptions = self.url.parse().unwrap();
        url = url.host(&addr.ip().to_string()).port(addr.port());
        let _ = &url;
        let (user, db) = (
            url.get_username().to_owned(),
            url.get_database().unwrap_or("postgres").to_owned(),
        );
        format!("postgres://{user}@{addr}/{db}")
    }

    fn target(&self) -> String {
        let opts: sqlx::postgres::PgConnectOptions = self.url.parse().unwrap();
        format!("{}:{}", opts.get_host(), opts.get_port())
    }

    async fn store(&self) -> PostgresStore {
        PostgresStore::builder(&self.url)
            .table(self.table())
            .no_background_sweep()
            .connect()
            .await
            .expect("connect to the test server")
    }

    async fn drop_schema(name: &str, url: &str) {
        let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{name}\" CASCADE"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
    }

    async fn drop(self) {
        Self::drop_schema(&self.name, &self.url).await;
    }
}

async fn suite_store() -> Option<PostgresStore> {
    Some(Schema::new().await?.store().await)
}

store_suite!(suite_store(), |store: PostgresStore| async move {
    let schema = store.table().split('.').next().unwrap().to_owned();
    let url = std::env::var(URL_VAR).unwrap();
    Schema::drop_schema(&schema, &url).await;
});

/// Options for a store behind a proxy: short timeouts, so a dead server fails fast.
async fn store_via(schema: &Schema, proxy: &Proxy) -> PostgresStore {
    PostgresStore::builder(&schema.url_via(proxy.addr()))
        .table(schema.table())
        .connect_timeout(Duration::from_millis(300))
        .command_timeout(Duration::from_millis(800))
        .no_background_sweep()
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_server_that_goes_away_gives_fast_503s_and_sessions_come_back() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    let proxy = Proxy::new(&schema.target(), Wire::Postgres).await;
    let store = store_via(&schema, &proxy).await;
    let app = common::routes::app(store, SessionConfig::default());
    let token = common::post(&app, "/login/1", None).await.token().unwrap();
    assert_eq!(common::get(&app, "/me", Some(&token)).await.status, 200);

    proxy.stop();
    for _ in 0..2 {
        let started = Instant::now();
        let r = common::get(&app, "/me", Some(&token)).await;
        assert_eq!(r.status, 503, "{}", r.body);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }
    assert_eq!(common::post(&app, "/cart/1", None).await.status, 503);
    assert_eq!(common::get(&app, "/public", Some(&token)).await.status, 200);

    proxy.start().await;
    let r = common::get(&app, "/me", Some(&token)).await;
    assert_eq!(r.status, 200, "back without a restart: {}", r.body);
    assert_eq!(
        common::post(&app, "/cart/2", Some(&token)).await.status,
        200
    );
    schema.drop().await;
}

/// A field update of `a` to `value`, moving `last_seen` to `at`.
fn set_a(value: &str, at: std::time::SystemTime) -> Update {
    Update {
        set: [("a".to_owned(), value.to_owned())].into(),
        last_seen: Some(at),
        ..Update::default()
    }
}

#[tokio::test]
async fn the_first_write_after_a_server_restart_succeeds() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    let proxy = Proxy::new(&schema.target(), Wire::Postgres).await;
    let store = store_via(&schema, &proxy).await;
    let (key, t) = (store_suite::key(), store_suite::now());
    let record = store_suite::record(Some("1"), &[("a", "\"0\"")], t);
    store.create(&key, &record).await.unwrap();
    // Several connections idle in the pool, each dead once the proxy drops them.
    let fill = async || {
        let (a, b, c, d) = tokio::join!(
            store.load(&key, t),
            store.load(&key, t),
            store.load(&key, t),
            store.load(&key, t)
        );
        for loaded in [a, b, c, d] {
            assert!(loaded.unwrap().is_some());
        }
    };

    // A restart: every open connection is cut, the server is back at once.
    fill().await;
    proxy.stop();
    proxy.start().await;
    let later = t + Duration::from_secs(60);
    let expiry = later + Duration::from_secs(1800);
    assert!(store.touch(&key, later, expiry).await.unwrap(), "touch");

    fill().await;
    proxy.stop();
    proxy.start().await;
    let updated = store.update(&key, &set_a("\"1\"", later)).await;
    assert!(updated.unwrap(), "update");

    let loaded = store.load(&key, t).await.unwrap().unwrap();
    assert_eq!(
        (
            loaded.data["a"].as_str(),
            loaded.last_seen,
            loaded.expires_at
        ),
        ("\"1\"", later, expiry)
    );
    schema.drop().await;
}

#[tokio::test]
async fn a_write_after_the_server_ends_the_session_succeeds() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    // One connection, so the one the server ends is the one the write gets.
    let store = PostgresStore::builder(&schema.url)
        .table(schema.table())
        .max_connections(1)
        .no_background_sweep()
        .connect()
        .await
        .unwrap();
    let (key, t) = (store_suite::key(), store_suite::now());
    store
        .create(&key, &store_suite::record(None, &[], t))
        .await
        .unwrap();
    assert!(store.load(&key, t).await.unwrap().is_some());

    // What a server shutting down does to an idle session: a FATAL error, then it closes.
    assert_eq!(end_every_connection(&schema).await, 1);

    let later = t + Duration::from_secs(60);
    assert!(store.update(&key, &set_a("\"1\"", later)).await.unwrap());
    let loaded = store.load(&key, t).await.unwrap().unwrap();
    assert_eq!(loaded.data["a"], "\"1\"");
    schema.drop().await;
}

/// Ends every connection the store holds to the server, as a server shutting down does
/// (a FATAL error, then it closes): the store's connections are those whose last statement
/// names this test's schema. Waits until they are gone; returns how many there were.
async fn end_every_connection(schema: &Schema) -> usize {
    let mut admin = sqlx::PgConnection::connect(&schema.url).await.unwrap();
    let pattern = format!("%\"{}\"%", schema.name);
    let ended: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE query LIKE $1 AND pid <> pg_backend_pid()",
    )
    .bind(&pattern)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (left,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()",
        )
        .bind(&pattern)
        .fetch_one(&mut admin)
        .await
        .unwrap();
        if left == 0 {
            return ended.len();
        }
        assert!(Instant::now() < deadline, "the sessions were not ended");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_login_and_a_rotation_right_after_the_server_ends_every_connection_succeed() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    let proxy = Proxy::new(&schema.target(), Wire::Postgres).await;
    let app = common::routes::app(store_via(&schema, &proxy).await, SessionConfig::default());
    let token = common::post(&app, "/login/1", None).await.token().unwrap();
    // Several connections idle in the pool, each dead once the proxy drops them.
    let fill = async || {
        let reads = futures_join4(&app, &token).await;
        assert!(reads.iter().all(|status| *status == 200), "{reads:?}");
    };

    // A restart: every open connection is cut, the server is back at once. A login with no
    // session is a create, the first statement on a dead connection.
    fill().await;
    proxy.stop();
    proxy.start().await;
    let login = common::post(&app, "/login/2", None).await;
    assert_eq!(login.status, 200, "login after a restart: {}", login.body);
    let second = login.token().unwrap();
    assert_eq!(common::get(&app, "/me", Some(&second)).await.status, 200);

    fill().await;
    proxy.stop();
    proxy.start().await;
    let rotated = common::post(&app, "/rotate", Some(&token)).await;
    assert_eq!(
        rotated.status, 200,
        "rotation after a restart: {}",
        rotated.body
    );
    let new = rotated.token().unwrap();
    assert_eq!(common::get(&app, "/me", Some(&new)).await.status, 200);
    assert_eq!(common::get(&app, "/me", Some(&token)).await.status, 401);

    // The server ends the sessions itself (pg_terminate_backend: a FATAL error first).
    let direct = PostgresStore::builder(&schema.url)
        .table(schema.table())
        .max_connections(1)
        .no_background_sweep()
        .connect()
        .await
        .unwrap();
    let app = common::routes::app(direct, SessionConfig::default());
    assert_eq!(common::post(&app, "/login/3", None).await.status, 200);
    // (The proxied store's connections too, which name the schema as well.)
    assert!(end_every_connection(&schema).await >= 1);
    let login = common::post(&app, "/login/4", None).await;
    assert_eq!(
        login.status, 200,
        "login after the server ended it: {}",
        login.body
    );
    schema.drop().await;
}

/// Four reads at once of the session `token`, so that the pool holds several connections;
/// their statuses.
async fn futures_join4(app: &axum::Router, token: &str) -> [u16; 4] {
    let (a, b, c, d) = tokio::join!(
        common::get(app, "/me", Some(token)),
        common::get(app, "/me", Some(token)),
        common::get(app, "/me", Some(token)),
        common::get(app, "/me", Some(token))
    );
    [a, b, c, d].map(|r| r.status.as_u16())
}

/// A store on one connection through `tap`: the connection whose reply is lost is the one
/// the next statement uses.
async fn store_via_tap(schema: &Schema, tap: &Wiretap) -> PostgresStore {
    PostgresStore::builder(&schema.url_via(tap.addr))
        .table(schema.table())
        .max_connections(1)
        .no_background_sweep()
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_create_and_a_rotation_whose_replies_were_lost_after_they_were_made_succeed() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    let tap = Wiretap::new(schema.target()).await;
    let store = store_via_tap(&schema, &tap).await;
    let (key, t) = (store_suite::key(), store_suite::now());
    let user = format!("\"lost-{}\"", key.to_hex());
    let record = store_suite::record(Some(&user), &[("a", "\"0\"")], t);

    // The insert is made, its answer lost; the retry finds the record it wrote.
    tap.lose_reply_to_execute(1);
    store
        .create(&key, &record)
        .await
        .expect("create whose reply was lost");
    assert!(tap.reply_lost());
    let loaded = store.load(&key, t).await.unwrap().unwrap();
    assert_eq!(loaded.public_id, record.public_id);
    assert_eq!(store.list_user(&user, t).await.unwrap().len(), 1);

    // The move is made, its answer lost; the retry finds the old key gone and the session
    // under the new one.
    let new = store_suite::key();
    tap.lose_reply_to_execute(1);
    let moved = store.rotate(&key, &new, &set_a("\"1\"", t)).await;
    assert!(
        moved.expect("rotation whose reply was lost"),
        "reported missing"
    );
    assert!(tap.reply_lost());
    assert!(store.load(&key, t).await.unwrap().is_none(), "old key gone");
    let loaded = store.load(&new, t).await.unwrap().unwrap();
    assert_eq!(
        (loaded.public_id, loaded.data["a"].as_str()),
        (record.public_id, "\"1\"")
    );

    // A rotation of a session that is gone still says so, retried or not.
    tap.lose_reply_to_execute(1);
    let gone = store
        .rotate(&key, &store_suite::key(), &set_a("\"2\"", t))
        .await;
    assert!(!gone.unwrap(), "the old key was already gone");
    schema.drop().await;
}

#[tokio::test]
async fn a_taken_key_is_still_a_conflict_when_the_reply_is_lost() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    let tap = Wiretap::new(schema.target()).await;
    let store = store_via_tap(&schema, &tap).await;
    let (key, t) = (store_suite::key(), store_suite::now());
    let first = store_suite::record(None, &[("a", "\"first\"")], t);
    store.create(&key, &first).await.unwrap();

    // Another record under the same key: refused, whether or not the answer got through.
    let other = store_suite::record(None, &[("a", "\"other\"")], t);
    let err = store.create(&key, &other).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    tap.lose_reply_to_execute(1);
    let err = store.create(&key, &other).await.unwrap_err();
    assert!(tap.reply_lost());
    assert!(
        matches!(err, StoreError::Conflict),
        "after a lost reply: {err:?}"
    );

    // Another session's public id under a new key: refused too.
    let mut same_id = store_suite::record(None, &[], t);
    same_id.public_id = first.public_id.clone();
    tap.lose_reply_to_execute(1);
    let err = store
        .create(&store_suite::key(), &same_id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict),
        "taken public id: {err:?}"
    );

    // A rotation onto a key another session holds.
    let (mine, taken) = (store_suite::key(), key);
    store
        .create(&mine, &store_suite::record(None, &[], t))
        .await
        .unwrap();
    let err = store
        .rotate(&mine, &taken, &set_a("\"x\"", t))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict),
        "rotation onto a taken key: {err:?}"
    );
    let loaded = store.load(&taken, t).await.unwrap().unwrap();
    assert_eq!(
        loaded.data["a"], "\"first\"",
        "the other session is untouched"
    );
    assert!(store.load(&mine, t).await.unwrap().is_some());
    schema.drop().await;
}

#[tokio::test]
async fn a_remembered_device_logs_in_again_across_two_instances() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    remember_flow::a_remembered_device_logs_in_again_and_a_replay_ends_everything(
        schema.store().await,
        schema.store().await,
    )
    .await;
    schema.drop().await;
}

#[tokio::test]
async fn every_end_reaches_a_waiter_on_another_instance() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    remember_flow::every_end_reaches_a_waiter_on_another_instance(
        schema.store().await,
        schema.store().await,
    )
    .await;
    let mut took =
        remember_flow::end_latencies(schema.store().await, schema.store().await, 100).await;
    let (median, max) = remember_flow::median_and_max(&mut took);
    println!(
        "PostgreSQL, two instances: 100 ends reached their waiters in median {median:?}, max {max:?}"
    );
    schema.drop().await;
}

#[tokio::test]
async fn a_lost_listen_connection_ends_the_wait_with_an_error_and_comes_back() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    let proxy = Proxy::new(&schema.target(), Wire::Postgres).await;
    let clock = session_runtime::ManualClock::new();
    let users = remember_flow::Users::with_demo_users();
    let app_a = remember_flow::app(store_via(&schema, &proxy).await, &clock, &users);
    let app_b = remember_flow::app(schema.store().await, &clock, &users);
    let client = remember_flow::logged_in(&app_a).await;
    let mut watch = remember_flow::Watch::open(&app_a, &client).await;
    // Reading on starts the wait, which subscribes.
    assert_eq!(watch.line(Duration::from_millis(500)).await, None);

    proxy.stop();
    let line = watch.line(Duration::from_secs(3)).await.unwrap_or_default();
    assert!(line.starts_with("error: lost the connection"), "{line:?}");

    proxy.start().await;
    // The subscription comes back by itself: a new wait hears an end from the other
    // instance (the first requests may meet the pool's dead connections).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut client = loop {
        let mut client = session_runtime::testing::TestClient::new(app_a.clone());
        if client.post_json("/login/1", &()).await.status() == 200 {
            break client;
        }
        assert!(Instant::now() < deadline, "app A never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let id = remember_flow::current_id(&mut client).await;
    let mut watch = remember_flow::Watch::open(&app_a, &client).await;
    let mut admin = remember_flow::logged_in(&app_b).await;
    let revoke = axum::http::Request::delete(format!("/sessions/{id}"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(admin.request(revoke).await.status(), 204);
    assert_eq!(
        watch.line(Duration::from_secs(2)).await.as_deref(),
        Some("ended")
    );
    schema.drop().await;
}

#[tokio::test]
async fn two_app_instances_share_sessions() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    let clock = session_runtime::ManualClock::new();
    let a = common::routes::app(schema.store().await, common::config(&clock));
    let b = common::routes::app(schema.store().await, common::config(&clock));
    let token = common::post(&a, "/login/5", None).await.token().unwrap();
    let me = common::get(&b, "/me", Some(&token)).await;
    assert_eq!(
        (me.status.as_u16(), me.json()["user_id"].as_i64()),
        (200, Some(5))
    );
    assert_eq!(common::post(&b, "/logout", Some(&token)).await.status, 204);
    assert_eq!(common::get(&a, "/me", Some(&token)).await.status, 401);
    schema.drop().await;
}

/// A forwarder to the test server that records the type of every message a client sends
/// after its startup: `P`arse, `B`ind, `E`xecute, `S`ync... (the shared [`Proxy`] logs only
/// syncs, and the pool's check of a connection given back is a lone sync too).
///
/// It can also lose a reply ([`lose_reply_to_execute`](Self::lose_reply_to_execute)): the
/// statement reaches the server, which runs and commits it, and the connection is cut before
/// its answer reaches the client, as when a network fails at the worst moment.
struct Wiretap {
    addr: SocketAddr,
    sent: Arc<Mutex<String>>,
    cut: Arc<Cut>,
}

/// Which reply a [`Wiretap`] loses.
#[derive(Default)]
struct Cut {
    /// Executes to let through before the one whose reply is lost; 0: none is lost.
    executes_left: AtomicUsize,
    /// The server's next bytes are not forwarded: the connection is cut instead.
    cutting: AtomicBool,
}

impl Wiretap {
    async fn new(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (sent, cut) = (Arc::<Mutex<String>>::default(), Arc::<Cut>::default());
        let (addr, log, cuts) = (listener.local_addr().unwrap(), sent.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(&target).await.unwrap();
                tokio::spawn(tap(client, server, log.clone(), cuts.clone()));
            }
        });
        Self { addr, sent, cut }
    }

    /// Loses the reply to the `n`th statement executed from now (1: the next one): the
    /// server runs it, the client's connection is cut before the answer.
    fn lose_reply_to_execute(&self, n: usize) {
        self.cut.executes_left.store(n, Ordering::SeqCst);
    }

    /// Whether the reply set up by [`lose_reply_to_execute`](Self::lose_reply_to_execute)
    /// has been lost.
    fn reply_lost(&self) -> bool {
        self.cut.executes_left.load(Ordering::SeqCst) == 0
            && !self.cut.cutting.load(Ordering::SeqCst)
    }

    /// What clients sent since the last call, one letter per message.
    fn take(&self) -> String {
        std::mem::take(&mut *self.sent.lock().unwrap())
    }

    /// Waits (at most 3 s) until the pool's check of the connection given back after the
    /// last statement has been sent (sqlx pings every connection returned to it: a lone
    /// sync), so that it is counted with the request it follows, not the next one. With one
    /// connection, the next request's statement waits for the check's answer.
    async fn wait_for_release_check(&self) {
        let deadline = Instant::now() + Duration::from_secs(3);
        while !self.sent.lock().unwrap().ends_with("SS") && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

async fn tap(client: TcpStream, server: TcpStream, log: Arc<Mutex<String>>, cut: Arc<Cut>) {
    let cut_up = cut.clone();
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let upstream = async move {
        let (mut pending, mut chunk, mut started) = (Vec::new(), vec![0u8; 16 * 1024], false);
        while let Ok(n @ 1..) = client_rx.read(&mut chunk).await {
            pending.extend_from_slice(&chunk[..n]);
            // Untyped startup messages (`length`, `code`) first, then `type`, `length`.
            loop {
                let at = usize::from(started);
                if pending.len() < at + if started { 4 } else { 8 } {
                    break;
                }
                let len = at + u32::from_be_bytes(pending[at..at + 4].try_into().unwrap()) as usize;
                if pending.len() < len {
                    break;
                }
                if started {
                    log.lock().unwrap().push(char::from(pending[0]));
                    // Set before the bytes go to the server, so before its answer comes.
                    let armed = |left: usize| left.checked_sub(1);
                    if pending[0] == b'E'
                        && cut_up.executes_left.fetch_update(
                            Ordering::SeqCst,
                            Ordering::SeqCst,
                            armed,
                        ) == Ok(1)
                    {
                        cut_up.cutting.store(true, Ordering::SeqCst);
                    }
                } else {
                    let code = u32::from_be_bytes(pending[4..8].try_into().unwrap());
                    // An SSLRequest or GSSENCRequest comes before the startup message.
                    started = !matches!(code, 80_877_103 | 80_877_104);
                }
                pending.drain(..len);
            }
            if server_tx.write_all(&chunk[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_tx.shutdown().await;
    };
    let downstream = async move {
        let mut chunk = vec![0u8; 16 * 1024];
        while let Ok(n @ 1..) = server_rx.read(&mut chunk).await {
            if cut.cutting.swap(false, Ordering::SeqCst) {
                break;
            }
            if client_tx.write_all(&chunk[..n]).await.is_err() {
                break;
            }
        }
        let _ = client_tx.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}

#[tokio::test]
async fn a_read_only_request_is_one_round_trip_and_writes_nothing() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    let tap = Wiretap::new(schema.target()).await;
    // One connection: every request gets the one the last request gave back, once the pool
    // has checked it, never a new one (which would prepare its statements afresh).
    let store = PostgresStore::builder(&schema.url_via(tap.addr))
        .table(schema.table())
        .max_connections(1)
        .no_background_sweep()
        .connect()
        .await
        .unwrap();
    let clock = session_runtime::ManualClock::new();
    let app = common::routes::app(store, common::config(&clock));
    let token = common::post(&app, "/login/1", None).await.token().unwrap();
    assert_eq!(
        common::post(&app, "/note/same", Some(&token)).await.status,
        200
    );
    // The first read on the connection prepares the statement; count from the second.
    assert_eq!(common::get(&app, "/read", Some(&token)).await.status, 200);
    tap.wait_for_release_check().await;

    // Setting a field to the value it has changes nothing: the load, and no write.
    for (method, uri) in [("GET", "/read"), ("POST", "/note/same"), ("GET", "/me")] {
        tap.take();
        let reply = match method {
            "GET" => common::get(&app, uri, Some(&token)).await,
            _ => common::post(&app, uri, Some(&token)).await,
        };
        assert_eq!(reply.status, 200, "{method} {uri}: {}", reply.body);
        tap.wait_for_release_check().await;
        // The load (bind, execute, close the portal, sync): the first thing sent (no test
        // query before it), the one round trip the request waits for, and the only
        // statement (nothing written). Then at most one lone sync: the pool's check of the
        // connection given back, after the request has its answer.
        let sent = tap.take();
        let (statement, after) = sent.split_at(sent.find('S').map_or(sent.len(), |s| s + 1));
        assert!(
            statement.starts_with('B')
                && statement.ends_with('S')
                && statement.matches('E').count() == 1
                && (after.is_empty() || after == "S"),
            "{method} {uri}: one statement first, then at most the pool's release check; \
             sent {sent:?}"
        );
    }
    schema.drop().await;
}

#[tokio::test]
async fn per_user_operations_and_the_sweep_use_indexes() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    let store = schema.store().await;
    let mut conn = sqlx::PgConnection::connect(&schema.url).await.unwrap();
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .unwrap();
    let t = format!("\"{}\".sessions", schema.name);
    for query in [
        format!("SELECT * FROM {t} WHERE user_id = '1' AND expires_at > 1"),
        format!("DELETE FROM {t} WHERE user_id = '1' AND (NULL::bytea IS NULL OR key <> NULL)"),
        format!("DELETE FROM {t} WHERE public_id = 'x' AND user_id = '1'"),
        format!(
            "DELETE FROM {t} WHERE ctid = ANY(ARRAY(\
             SELECT ctid FROM {t} WHERE expires_at <= 1 LIMIT 1000))"
        ),
    ] {
        let plan: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN {query}")))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let plan: Vec<String> = plan.into_iter().map(|(line,)| line).collect();
        assert!(
            plan.iter().any(|l| l.contains("Index"))
                && !plan.iter().any(|l| l.contains("Seq Scan")),
            "{query}: {plan:#?}"
        );
    }
    drop(store);
    schema.drop().await;
}

#[tokio::test]
async fn an_unreachable_server_or_bad_settings_are_errors_not_panics() {
    // Port 1 on loopback: nothing listens there.
    let err = PostgresStore::builder("postgres://postgres@127.0.0.1:1/x")
        .connect_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Backend {
                op: StoreOp::Setup,
                ..
            } | StoreError::Timeout { op: StoreOp::Setup }
        ),
        "{err}"
    );
    let err = PostgresStore::builder("postgres://postgres@127.0.0.1:1/x")
        .table("x y")
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Config { .. }), "{err}");
    let err = PostgresStore::connect("mysql://nope").await.unwrap_err();
    assert!(matches!(err, StoreError::Config { .. }), "{err}");
}

#[tokio::test]
async fn connecting_twice_is_an_idempotent_migration() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    let (a, b) = tokio::join!(schema.store(), schema.store());
    drop((a, b));
    drop(schema.store().await);
    schema.drop().await;
}

#[tokio::test]
async fn a_sweep_deletes_every_expired_session_in_bounded_batches() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    let store = schema.store().await;
    let (live, t) = (store_suite::key(), store_suite::now());
    store
        .create(&live, &store_suite::record(Some("1"), &[], t))
        .await
        .unwrap();
    // More expired sessions than one batch deletes (1,000), expired in 1970.
    let mut admin = sqlx::PgConnection::connect(&schema.url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO \"{}\".sessions (key, public_id, data, created_at, last_seen, expires_at, \
         absolute_expires_at, version) \
         SELECT sha256(i::text::bytea), 'swept-' || i, '{{}}', 0, 0, 1, 1, 0 \
         FROM generate_series(1, 2500) AS i",
        schema.name
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    assert_eq!(store.sweep(t).await.unwrap(), 2_500);
    assert!(
        store.load(&live, t).await.unwrap().is_some(),
        "the live one stays"
    );
    assert_eq!(store.sweep(t).await.unwrap(), 0);
    schema.drop().await;
}
