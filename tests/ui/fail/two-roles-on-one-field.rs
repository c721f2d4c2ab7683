use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    #[session(staff, superuser)]
    pub is_admin: bool,
}

fn main() {}
