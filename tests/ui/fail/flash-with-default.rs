use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(flash, default = "hello")]
    pub notice: Option<String>,
}

fn hello() -> Option<String> {
    Some("hello".to_owned())
}

fn main() {}
