use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(flash)]
    pub notice: String,
    #[session(flash)]
    pub messages: std::collections::HashSet<String>,
}

fn main() {}
