use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    #[session(user_id)]
    pub account_id: Option<i64>,
}

fn main() {}
