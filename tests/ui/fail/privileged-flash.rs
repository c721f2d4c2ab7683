use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(flash, privileged)]
    pub notice: Option<String>,
}

fn main() {}
