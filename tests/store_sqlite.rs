//! The store conformance suite on `SqliteStore`, and what only a file-backed store does:
//! surviving a restart of the app, using its indexes, failing cleanly.

#[path = "common/mod.rs"]
mod common;

/// The session cookie's name in this binary's apps (the default name), for `common`'s helpers.
pub const COOKIE: &str = "session";
#[path = "remember_flow/mod.rs"]
mod remember_flow;
mod store_suite;

use std::path::PathBuf;

use session_runtime::{SessionConfig, SessionStore, SqliteStore, StoreError, StoreOp};
use store_suite::servers::unique_name;
use store_suite::{key, now, record, store_suite};

/// A database file of its own in the temporary directory; removed, with its WAL files, by
/// [`remove_db`].
fn db_path() -> PathBuf {
    std::env::temp_dir().join(format!("{}.db", unique_name("session-store-test")))
}

fn remove_db(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
}

async fn open_db() -> Option<SqliteStore> {
    let store = SqliteStore::builder(db_path())
        .no_background_sweep()
        .open()
        .await
        .expect("open a fresh SQLite file");
    Some(store)
}

store_suite!(open_db(), |store: SqliteStore| async move {
    let path = store.path().to_owned();
    store.close().await;
    remove_db(&path);
});

#[tokio::test]
async fn a_session_survives_a_restart_of_the_app() {
    let path = db_path();
    let clock = session_runtime::ManualClock::new();
    let token = {
        let store = SqliteStore::open(&path).await.unwrap();
        let app = common::routes::app(store.clone(), common::config(&clock));
        let token = common::post(&app, "/login/7", None).await.token().unwrap();
        assert_eq!(
            common::post(&app, "/cart/3", Some(&token)).await.status,
            200
        );
        drop(app);
        store.close().await;
        token
    };
    // A new store and router over the same file: a restarted app.
    let store = SqliteStore::open(&path).await.unwrap();
    let app = common::routes::app(store.clone(), common::config(&clock));
    let me = common::get(&app, "/me", Some(&token)).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["user_id"], 7);
    let read = common::get(&app, "/read", Some(&token)).await;
    assert_eq!(read.json()["cart"], serde_json::json!([3]));
    store.close().await;
    remove_db(&path);
}

#[tokio::test]
async fn a_remembered_device_logs_in_again_after_a_restart_of_the_app() {
    let path = db_path();
    let clock = session_runtime::ManualClock::new();
    let users = remember_flow::Users::with_demo_users();
    let remember = {
        let store = SqliteStore::open(&path).await.unwrap();
        let app = remember_flow::app(store.clone(), &clock, &users);
        let device = remember_flow::remembered_browser(&app, 1).await;
        let remember = device.cookie(remember_flow::REMEMBER).unwrap().to_owned();
        drop((app, device));
        store.close().await;
        remember
    };
    // A restarted app over the same file: the remembered device logs in again.
    let store = SqliteStore::open(&path).await.unwrap();
    let app = remember_flow::app(store.clone(), &clock, &users);
    let mut device = session_runtime::testing::TestClient::new(app);
    device.set_cookie(remember_flow::REMEMBER, remember.clone());
    let me = device.get("/me").await;
    assert_eq!(me.status(), 200, "{}", me.text());
    assert_eq!(me.json::<serde_json::Value>()["username"], "alice");
    assert_ne!(
        device.cookie(remember_flow::REMEMBER),
        Some(remember.as_str())
    );
    store.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    remember_flow::a_remembered_device_logs_in_again_and_a_replay_ends_everything(
        store.clone(),
        store.clone(),
    )
    .await;
    store.close().await;
    remove_db(&path);
}

#[tokio::test]
async fn every_end_reaches_a_waiter() {
    let path = db_path();
    let store = SqliteStore::open(&path).await.unwrap();
    remember_flow::every_end_reaches_a_waiter_on_another_instance(store.clone(), store.clone())
        .await;
    store.close().await;
    remove_db(&path);
}

#[tokio::test]
async fn opening_twice_is_idempotent_and_keeps_the_data() {
    let path = db_path();
    let (k, t) = (key(), now());
    let first = SqliteStore::builder(&path)
        .table("custom_sessions")
        .open()
        .await
        .unwrap();
    first
        .create(&k, &record(Some("1"), &[("a", "1")], t))
        .await
        .unwrap();
    let second = SqliteStore::builder(&path)
        .table("custom_sessions")
        .open()
        .await
        .unwrap();
    assert!(second.load(&k, t).await.unwrap().is_some());
    first.close().await;
    second.close().await;
    remove_db(&path);
}

#[tokio::test]
async fn a_table_made_before_kinds_existed_gains_the_column_and_keeps_its_rows() {
    use sqlx::Connection as _;
    let path = db_path();
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut old = sqlx::SqliteConnection::connect(&url).await.unwrap();
    // The table as the previous release made it, with one guest session in it.
    sqlx::query(
        "CREATE TABLE sessions (
            key BLOB PRIMARY KEY NOT NULL, public_id TEXT NOT NULL UNIQUE, user_id TEXT,
            data TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL,
            expires_at INTEGER NOT NULL, absolute_expires_at INTEGER NOT NULL,
            authenticated_at INTEGER, device TEXT, version INTEGER NOT NULL
        ) WITHOUT ROWID",
    )
    .execute(&mut old)
    .await
    .unwrap();
    let k = key();
    sqlx::query(
        "INSERT INTO sessions VALUES (?1, 'p-old', '7', '{\"a\":\"1\"}', 0, 0, \
         9000000000000, 9000000000000, 0, NULL, 1)",
    )
    .bind(k.as_bytes().as_slice())
    .execute(&mut old)
    .await
    .unwrap();
    old.close().await.unwrap();

    for _ in 0..2 {
        // Opened twice: the second open finds the column there.
        let store = SqliteStore::open(&path).await.unwrap();
        let got = store.load(&k, now()).await.unwrap().expect("the old row");
        assert_eq!(got.kind, session_runtime::SessionKind::Browser);
        assert_eq!(got.data["a"], "1");
        store.close().await;
    }
    remove_db(&path);
}

#[tokio::test]
async fn per_user_operations_and_the_sweep_use_indexes() {
    let path = db_path();
    let store = SqliteStore::open(&path).await.unwrap();
    store.close().await;
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
        .await
        .unwrap();
    for query in [
        "SELECT * FROM sessions WHERE key = x'00' AND expires_at > 1",
        "SELECT * FROM sessions WHERE user_id = '1' AND expires_at > 1 ORDER BY last_seen DESC",
        "DELETE FROM sessions WHERE user_id = '1' AND (NULL IS NULL OR key <> NULL)",
        "DELETE FROM sessions WHERE public_id = 'x' AND user_id = '1'",
        "DELETE FROM sessions WHERE expires_at <= 1",
    ] {
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {query}")))
                .fetch_all(&mut conn)
                .await
                .unwrap();
        let detail: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
        assert!(
            detail.iter().all(|d| !d.starts_with("SCAN"))
                && detail.iter().any(|d| d.starts_with("SEARCH")),
            "{query}: {detail:?}"
        );
    }
    remove_db(&path);
}

#[tokio::test]
async fn bad_configuration_and_unusable_files_are_errors_not_panics() {
    let err = SqliteStore::builder(db_path())
        .table("sessions; DROP TABLE x")
        .open()
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Config { .. }), "{err}");
    let missing_dir = std::env::temp_dir()
        .join(unique_name("no-such-dir"))
        .join("s.db");
    let err = SqliteStore::open(&missing_dir).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Backend {
                op: StoreOp::Setup,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_closed_store_answers_503_and_public_routes_still_work() {
    let path = db_path();
    let store = SqliteStore::open(&path).await.unwrap();
    let app = common::routes::app(store.clone(), SessionConfig::default());
    let token = common::post(&app, "/login/1", None).await.token().unwrap();
    store.close().await;
    let r = common::get(&app, "/me", Some(&token)).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(common::get(&app, "/public", Some(&token)).await.status, 200);
    remove_db(&path);
}
