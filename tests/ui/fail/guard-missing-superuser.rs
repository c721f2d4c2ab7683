use session_runtime::{RequireSuperuser, SessionSchema};

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    #[session(staff)]
    pub is_staff: bool,
}

async fn root(_root: RequireSuperuser<AppSession>) {}

fn main() {}
