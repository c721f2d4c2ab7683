//! Secrets never show in `Debug` (and so never in a log line that formats a value): the
//! passwords of the login and password-change bodies, the password hashes of the user
//! directory.

use crate::USERS;
use crate::server::api::{Credentials, PasswordChange};
use crate::server::pages::LoginForm;

fn parse<T: serde::de::DeserializeOwned>(json: serde_json::Value) -> T {
    serde_json::from_value(json).expect("a valid body")
}

#[test]
fn request_bodies_hide_their_passwords() {
    let credentials: Credentials =
        parse(serde_json::json!({"username": "alice", "password": "hunter2-secret"}));
    let shown = format!("{credentials:?}");
    assert!(shown.contains("alice"), "{shown}");
    assert!(!shown.contains("hunter2-secret"), "{shown}");

    let change: PasswordChange =
        parse(serde_json::json!({"old": "old-secret", "new": "new-secret"}));
    let shown = format!("{change:?}");
    assert!(
        !shown.contains("old-secret") && !shown.contains("new-secret"),
        "{shown}"
    );

    let form: LoginForm = parse(serde_json::json!({
        "username": "sam", "password": "form-secret", "next": "/admin"
    }));
    let shown = format!("{form:?}");
    assert!(shown.contains("sam") && shown.contains("/admin"), "{shown}");
    assert!(!shown.contains("form-secret"), "{shown}");
}

#[test]
fn the_user_directory_hides_its_password_hashes() {
    let shown = format!("{:?}", *USERS);
    assert!(shown.contains("alice"), "{shown}");
    assert!(!shown.contains("$argon2"), "a hash in {shown}");
    assert!(!shown.contains("alice-pass"), "{shown}");
}
