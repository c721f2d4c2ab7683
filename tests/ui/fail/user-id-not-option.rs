use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: i64,
}

fn main() {}
