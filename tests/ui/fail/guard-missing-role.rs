use session_runtime::{RequireStaff, SessionSchema};

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    pub username: Option<String>,
}

async fn admin(_staff: RequireStaff<AppSession>) {}

fn main() {}
