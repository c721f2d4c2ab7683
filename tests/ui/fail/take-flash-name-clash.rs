use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(flash)]
    pub notice: Option<String>,
    pub take_notice: bool,
}

fn main() {}
