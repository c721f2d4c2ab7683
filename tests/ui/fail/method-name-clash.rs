use session_runtime::SessionSchema;

#[derive(SessionSchema)]
pub struct AppSession {
    pub theme: String,
    pub set_theme: bool,
    pub remove_theme: bool,
}

fn main() {}
