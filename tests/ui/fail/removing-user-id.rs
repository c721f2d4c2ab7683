use session_runtime::{Session, SessionError, SessionSchema};

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
}

async fn handler(session: Session<AppSession>) -> Result<(), SessionError> {
    session.remove_user_id()
}

fn main() {
    let _ = handler;
}
