use session_runtime::SessionSchema;

#[derive(SessionSchema)]
#[session(strict = true, stric, staff)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    #[session(strict)]
    pub cart: Vec<u64>,
}

fn main() {}
