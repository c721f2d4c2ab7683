//! The store conformance suite on `PostgresStore` against a real server
//! (`SESSION_TEST_POSTGRES_URL`), plus what only a shared, networked store does: a server
//! that goes away and comes back, two app instances, one round trip per read.
//!
//! Each test works in a schema of its own, dropped at the end, so tests run in parallel.

#[path = "common/mod.rs"]
mod common;
mod store_suite;

use std::time::{Duration, Instant};

use session_runtime::{PostgresStore, SessionConfig, StoreError, StoreOp};
use sqlx::Connection as _;
use store_suite::servers::{Proxy, Wire, server_url, unique_name};
use store_suite::store_suite;

const URL_VAR: &str = "SESSION_TEST_POSTGRES_URL";

/// A schema of its own on the test server.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    async fn new() -> Option<Self> {
        let url = server_url(URL_VAR)?;
        let name = unique_name("session_test");
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

#[tokio::test]
async fn a_read_only_request_is_one_round_trip_and_writes_nothing() {
    let Some(schema) = Schema::new().await else {
        return;
    };
    let proxy = Proxy::new(&schema.target(), Wire::Postgres).await;
    let store = store_via(&schema, &proxy).await;
    let clock = session_runtime::ManualClock::new();
    let app = common::routes::app(store, common::config(&clock));
    let token = common::post(&app, "/login/1", None).await.token().unwrap();
    assert_eq!(
        common::post(&app, "/note/same", Some(&token)).await.status,
        200
    );
    // The first read on a connection prepares the statement; count from the second.
    common::get(&app, "/read", Some(&token)).await;
    proxy.take_log();

    assert_eq!(common::get(&app, "/read", Some(&token)).await.status, 200);
    assert_eq!(
        proxy.take_log(),
        ["sync"],
        "a read-only request: one round trip"
    );
    // Setting a field to the value it has changes nothing: the load, and no write.
    assert_eq!(
        common::post(&app, "/note/same", Some(&token)).await.status,
        200
    );
    assert_eq!(
        proxy.take_log(),
        ["sync"],
        "a request that changes nothing writes nothing"
    );
    assert_eq!(common::get(&app, "/me", Some(&token)).await.status, 200);
    assert_eq!(proxy.take_log(), ["sync"]);
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
        format!("DELETE FROM {t} WHERE expires_at <= 1"),
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
