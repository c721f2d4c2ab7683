use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(rename = "")]
    pub cart: Vec<u64>,
}

fn main() {}
