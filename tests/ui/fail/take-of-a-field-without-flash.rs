use session_runtime::{Session, SessionSchema};

#[derive(SessionSchema)]
pub struct AppSession {
    pub notice: Option<String>,
}

fn show(session: Session<AppSession>) -> Option<String> {
    session.take_notice()
}

fn main() {
    let _ = show;
}
