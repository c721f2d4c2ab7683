use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(default = 1)]
    pub visits: u64,
    #[session(default = "|| 1")]
    pub likes: u64,
}

fn main() {}
