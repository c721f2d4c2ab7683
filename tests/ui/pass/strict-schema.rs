//! `#[session(strict)]` on the struct, with and without a user id.

use session_runtime::SessionSchema;

#[derive(SessionSchema)]
#[session(strict)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<String>,
    #[session(rename = "c")]
    pub cart: Vec<u64>,
}

#[derive(SessionSchema)]
#[session(strict)]
pub struct Guest {
    pub visits: u32,
}

#[derive(SessionSchema)]
pub struct Lenient {
    pub visits: u32,
}

fn main() {
    assert!(<AppSession as SessionSchema>::STRICT.is_some());
    assert!(<Guest as SessionSchema>::STRICT.is_some());
    assert!(<Lenient as SessionSchema>::STRICT.is_none());
}
