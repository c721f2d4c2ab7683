use session_runtime::SessionSchema;

#[derive(Default)]
pub struct Basket;

#[derive(SessionSchema)]
pub struct AppSession {
    pub basket: Basket,
}

fn main() {}
