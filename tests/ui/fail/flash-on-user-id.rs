use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id, flash)]
    pub user_id: Option<i64>,
}

fn main() {}
