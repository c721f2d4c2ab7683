use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub union AppSession {
    pub user_id: u64,
    pub cart_size: u32,
}

fn main() {}
