use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession<T> {
    pub cart: Vec<T>,
}

fn main() {}
