//! `PORT` and `SESSION_STORE`.

use std::collections::HashMap;

use crate::server::{Settings, StoreChoice};

fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::from_env(|name| map.get(name).cloned())
}

#[test]
fn defaults_are_port_3000_and_memory() {
    assert_eq!(
        settings(&[]).unwrap(),
        Settings {
            port: 3000,
            store: StoreChoice::Memory
        }
    );
    assert_eq!(
        settings(&[("PORT", "8080"), ("SESSION_STORE", "memory")])
            .unwrap()
            .port,
        8080
    );
}

#[test]
fn bad_values_are_clear_errors() {
    let e = settings(&[("PORT", "eighty")]).unwrap_err();
    assert!(e.contains("PORT"), "{e}");
    let e = settings(&[("PORT", "70000")]).unwrap_err();
    assert!(e.contains("PORT"), "{e}");
    let e = settings(&[("SESSION_STORE", "mongodb://x")]).unwrap_err();
    assert!(e.contains("SESSION_STORE") && e.contains("memory"), "{e}");
}

#[test]
fn each_store_is_chosen_by_its_url() {
    let store = |url: &str| settings(&[("SESSION_STORE", url)]).unwrap().store;
    assert_eq!(
        store("sqlite://sessions.db"),
        StoreChoice::Sqlite("sessions.db".into())
    );
    assert_eq!(
        store("sqlite:///var/lib/app/s.db"),
        StoreChoice::Sqlite("/var/lib/app/s.db".into())
    );
    assert_eq!(
        store("postgres://u:secret@db/app"),
        StoreChoice::Postgres("postgres://u:secret@db/app".into())
    );
    assert_eq!(
        store("redis://127.0.0.1:6379"),
        StoreChoice::Redis("redis://127.0.0.1:6379".into())
    );
    assert_eq!(
        store("redis+cluster://10.0.0.1:7000, 10.0.0.2:7000"),
        StoreChoice::RedisCluster(vec![
            "redis://10.0.0.1:7000".into(),
            "redis://10.0.0.2:7000".into()
        ])
    );
    for no_nodes in ["redis+cluster://", "redis+cluster://a:1,,b:2"] {
        let e = settings(&[("SESSION_STORE", no_nodes)]).unwrap_err();
        assert!(e.contains("seed nodes"), "{no_nodes}: {e}");
    }
    let shown = format!("{:?}", store("redis+cluster://:secret@10.0.0.1:7000"));
    assert!(!shown.contains("secret"), "{shown}");
    assert_eq!(store(" memory "), StoreChoice::Memory);
    let e = settings(&[("SESSION_STORE", "sqlite://")]).unwrap_err();
    assert!(e.contains("path"), "{e}");
    let shown = format!("{:?}", store("postgres://u:secret@db/app"));
    assert!(!shown.contains("secret"), "{shown}");
}

/// The app runs on an SQLite file, and a login survives a restart of the whole app (store,
/// router and user directory rebuilt), the password fingerprint check included.
#[tokio::test]
async fn the_app_runs_on_a_sqlite_file_and_sessions_survive_a_restart() {
    let path = std::env::temp_dir().join(format!("app-settings-{}.db", std::process::id()));
    let settings = settings(&[("SESSION_STORE", &format!("sqlite://{}", path.display()))]).unwrap();
    let app = crate::server::build_app(&settings).await.unwrap();
    let r = crate::common::post_json(
        &app,
        "/api/login",
        None,
        serde_json::json!({"username": "alice", "password": "alice-pass"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.token().unwrap();
    drop(app);

    let restarted = crate::server::build_app(&settings).await.unwrap();
    let me = crate::common::get(&restarted, "/api/me", Some(&token)).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["username"], "alice");
    drop(restarted);
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
}

#[tokio::test]
async fn an_unreachable_store_is_an_error_at_start() {
    let settings = settings(&[("SESSION_STORE", "redis://127.0.0.1:1")]).unwrap();
    let e = crate::server::build_app(&settings).await.unwrap_err();
    assert!(e.contains("session store"), "{e}");
}
