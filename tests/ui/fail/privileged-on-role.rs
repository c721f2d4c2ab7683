use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id, privileged)]
    pub user_id: Option<i64>,
    #[session(staff, privileged)]
    pub is_staff: bool,
}

fn main() {}
