// A guest-only schema: no user id, no roles.
use session_runtime::{Session, SessionError, SessionSchema};

#[derive(SessionSchema)]
pub struct Cart {
    pub items: Vec<u64>,
}

#[derive(SessionSchema)]
pub struct Empty {}

async fn add(session: Session<Cart>) -> Result<Vec<u64>, SessionError> {
    session.update_items(|items| items.push(7))?;
    Ok(session.items())
}

fn main() {
    let _ = add;
    assert_eq!(<Cart as SessionSchema>::KEYS, ["items"]);
    assert!(<Empty as SessionSchema>::KEYS.is_empty());
}
