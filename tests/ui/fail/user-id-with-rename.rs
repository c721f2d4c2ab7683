use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id, rename = "uid", default = "guest")]
    pub user_id: Option<i64>,
}

fn guest() -> Option<i64> {
    None
}

fn main() {}
