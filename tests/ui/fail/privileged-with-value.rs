use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(privileged = true)]
    pub roles: Vec<String>,
    #[session(flash = "once")]
    pub notice: Option<String>,
}

fn main() {}
