use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(rename = 5)]
    pub cart: Vec<u64>,
    #[session(rename = theme_v2)]
    pub theme: String,
}

fn main() {}
