//! The derive's expansion is clean under `clippy::pedantic`.
//!
//! A trybuild pass case cannot run clippy, but CI runs `cargo clippy --all-targets` with
//! `-D warnings`: this test target is linted there, with every pedantic lint denied, so a
//! generated item that trips one fails CI. The schemas cover every attribute and a custom
//! guard.
#![deny(warnings, clippy::all, clippy::pedantic)]

use session_runtime::{Guard, Policy, Session, SessionSchema};

/// Every field attribute.
#[derive(SessionSchema)]
pub struct AppSession {
    /// The user.
    #[session(user_id)]
    pub user_id: Option<i64>,
    /// The user's name.
    pub username: Option<String>,
    /// Staff flag.
    #[session(staff)]
    pub is_staff: bool,
    /// Superuser flag.
    #[session(superuser)]
    pub is_superuser: bool,
    /// The cart, stored as `c`.
    #[session(rename = "c")]
    pub cart: Vec<u64>,
    /// The theme, `light` by default.
    #[session(default = "default_theme")]
    pub theme: String,
    /// A notice for the next page.
    #[session(flash)]
    pub notice: Option<String>,
    /// Notices for the next page, stored as `n`.
    #[session(flash, rename = "n")]
    pub notices: Vec<String>,
    /// The tenant: switching it rotates the token.
    #[session(privileged)]
    pub tenant: Option<u64>,
}

fn default_theme() -> String {
    "light".to_owned()
}

/// A strict schema with a string id, private fields and no roles.
#[derive(SessionSchema)]
#[session(strict)]
struct Strict {
    #[session(user_id)]
    user_id: Option<String>,
    visits: u32,
}

/// A custom guard.
pub struct CanEdit;

impl Policy<AppSession> for CanEdit {
    const NAME: &'static str = "editor";

    fn admits(session: &Session<AppSession>) -> bool {
        session.is_staff() || session.theme() == "editor"
    }
}

/// The custom guard's name in handler signatures.
pub type RequireEditor = Guard<AppSession, CanEdit>;

async fn edit(editor: RequireEditor) -> String {
    format!("{} {:?}", editor.user_id(), editor.cart())
}

async fn visits(session: Session<Strict>) -> Result<String, session_runtime::SessionError> {
    session.update_visits(|v| *v += 1)?;
    Ok(format!("{:?} {}", session.user_id(), session.visits()))
}

#[test]
fn the_pedantic_fixture_builds() {
    assert_eq!(AppSession::CART.name(), "c");
    assert_eq!(AppSession::NOTICES.name(), "n");
    assert!(AppSession::TENANT.is_privileged());
    assert_eq!(Strict::VISITS.name(), "visits");
    let _ = (edit, visits);
}
