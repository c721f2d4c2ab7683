use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    #[session(superuser, default = "yes")]
    pub is_superuser: bool,
}

fn yes() -> bool {
    true
}

fn main() {}
