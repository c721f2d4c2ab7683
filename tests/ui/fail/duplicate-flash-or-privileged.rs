use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(privileged, privileged)]
    pub tenant: Option<u64>,
    #[session(flash)]
    #[session(flash)]
    pub notice: Option<String>,
}

fn main() {}
