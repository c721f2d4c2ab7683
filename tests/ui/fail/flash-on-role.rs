use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    #[session(staff, flash)]
    pub is_staff: bool,
    #[session(flash, superuser)]
    pub is_superuser: bool,
}

fn main() {}
