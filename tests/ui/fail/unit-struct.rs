use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession;

fn main() {}
