use session_runtime::{RequireAuth, Session, SessionError, SessionSchema};

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    #[session(flash)]
    pub notice: Option<String>,
    #[session(flash, rename = "m")]
    pub messages: std::vec::Vec<String>,
    #[session(privileged)]
    pub tenant: Option<u64>,
    #[session(privileged, rename = "r", default = "guest_roles")]
    pub roles: Vec<String>,
    pub theme: Option<String>,
}

fn guest_roles() -> Vec<String> {
    vec!["reader".to_owned()]
}

async fn set(session: Session<AppSession>) -> Result<(), SessionError> {
    session.set_notice(Some("Saved".to_owned()))?;
    session.update_messages(|m| m.push("one".to_owned()))?;
    session.set_tenant(Some(7))?;
    session.update_roles(|r| r.push("admin".to_owned()))
}

async fn show(user: RequireAuth<AppSession>) -> String {
    let notice: Option<String> = user.take_notice();
    let messages: Vec<String> = user.take_messages();
    format!("{notice:?} {messages:?} {:?}", user.tenant())
}

fn main() {
    let _ = (set, show);
    assert!(AppSession::TENANT.is_privileged());
    assert!(AppSession::ROLES.is_privileged());
    assert!(!AppSession::NOTICE.is_privileged());
    assert!(!AppSession::THEME.is_privileged());
    assert_eq!(AppSession::ROLES.default_value(), ["reader"]);
    assert_eq!(<AppSession as SessionSchema>::KEYS, ["notice", "m", "tenant", "r", "theme"]);
}
