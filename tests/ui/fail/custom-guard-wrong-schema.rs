use session_runtime::{Guard, Policy, Session, SessionSchema};

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    pub roles: Vec<String>,
}

#[derive(SessionSchema)]
pub struct OtherSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
}

/// Written for `AppSession` only.
pub struct CanEdit;

impl Policy<AppSession> for CanEdit {
    const NAME: &'static str = "editor";

    fn admits(session: &Session<AppSession>) -> bool {
        session.roles().iter().any(|role| role == "editor")
    }
}

fn edit(_editor: Guard<OtherSession, CanEdit>) {}

fn main() {
    let _ = edit;
}
