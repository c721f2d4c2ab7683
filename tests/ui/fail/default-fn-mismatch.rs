use session_runtime::SessionSchema;

fn zero() -> u8 {
    0
}

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(default = "no_such_fn")]
    pub theme: String,
    #[session(default = "zero")]
    pub visits: u64,
}

fn main() {}
