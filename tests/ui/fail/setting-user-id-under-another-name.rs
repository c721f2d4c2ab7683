use session_runtime::{RequireAuth, Session, SessionError, SessionSchema};

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub account: Option<i64>,
}

async fn switch(session: Session<AppSession>) -> Result<(), SessionError> {
    session.update_account(|id| *id = Some(7))?;
    session.remove_account()
}

async fn impersonate(user: RequireAuth<AppSession>) -> Result<(), SessionError> {
    user.set_account(Some(1))
}

fn main() {
    let _ = (switch, impersonate);
}
