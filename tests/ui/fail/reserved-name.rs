use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub uid: Option<i64>,
    pub login: String,
    pub user_id: String,
}

fn main() {}
