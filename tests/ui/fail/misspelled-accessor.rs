use session_runtime::{Session, SessionSchema};

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(rename = "c")]
    pub cart: Vec<u64>,
}

async fn handler(session: Session<AppSession>) -> String {
    format!("{:?}", session.carts())
}

fn main() {
    let _ = handler;
}
