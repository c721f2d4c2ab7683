use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    pub cart: Vec<u64>,
    #[session(rename = "cart")]
    pub saved_cart: Vec<u64>,
}

fn main() {}
