// Every mistake is reported in one pass, and nothing else: code that uses the schema
// compiles against a stub, so it adds no follow-up errors.
use session_runtime::{RequireStaff, Session, SessionSchema};

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: i64,
    #[session(staff, rename = 1)]
    pub is_staff: bool,
    #[session(renmae = "c")]
    pub cart: Vec<u64>,
    #[session(rename = "")]
    pub theme: String,
    #[session(superuser = true)]
    pub is_superuser: bool,
}

async fn handler(session: Session<AppSession>, _staff: RequireStaff<AppSession>) {
    let _cart: Vec<u64> = session.cart();
    let _ = session.set_theme(String::new());
    let _key = AppSession::CART;
}

fn main() {
    let _ = handler;
}
