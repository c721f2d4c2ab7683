use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(renmae = "c")]
    pub cart: Vec<u64>,
    #[session(expires)]
    pub theme: String,
}

fn main() {}
