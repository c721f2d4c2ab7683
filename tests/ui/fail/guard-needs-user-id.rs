use session_runtime::{RequireAuth, SessionSchema};

#[derive(SessionSchema)]
pub struct Cart {
    pub items: Vec<u64>,
}

fn me(_user: RequireAuth<Cart>) {}

fn main() {}
