use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub enum AppSession {
    Guest,
    User(i64),
}

fn main() {}
