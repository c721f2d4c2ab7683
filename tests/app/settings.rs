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
fn stores_not_in_this_build_are_named_in_the_error() {
    for url in [
        "sqlite://sessions.db",
        "postgres://localhost/db",
        "redis://127.0.0.1",
    ] {
        let e = settings(&[("SESSION_STORE", url)]).unwrap_err();
        assert!(e.contains("not available"), "{e}");
    }
}
