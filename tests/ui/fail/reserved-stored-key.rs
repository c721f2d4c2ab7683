use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    pub __internal: u32,
    #[session(rename = "__csrf")]
    pub csrf: String,
}

fn main() {}
