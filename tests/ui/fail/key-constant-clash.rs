use session_runtime::SessionSchema;

#[derive(SessionSchema)]
#[allow(non_snake_case)]
pub struct AppSession {
    pub color: String,
    pub COLOR: String,
}

fn main() {}
