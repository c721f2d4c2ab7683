use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(staff)]
    pub is_staff: bool,
    #[session(superuser)]
    pub is_superuser: bool,
}

fn main() {}
