use session_runtime::{Session, SessionError, SessionSchema};

#[derive(SessionSchema)]
pub struct AppSession {
    pub username: Option<String>,
}

async fn handler(session: Session<AppSession>) -> Result<(), SessionError> {
    session.set_username("alice")
}

fn main() {
    let _ = handler;
}
