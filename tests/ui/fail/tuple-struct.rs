use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession(Option<i64>, Vec<u64>);

fn main() {}
