use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    #[session(staff)]
    pub is_staff: bool,
    #[session(staff)]
    pub is_moderator: bool,
}

fn main() {}
