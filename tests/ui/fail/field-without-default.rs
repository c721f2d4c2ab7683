use serde::{Deserialize, Serialize};
use session_runtime::SessionSchema;

#[derive(Serialize, Deserialize)]
pub enum Theme {
    Light,
    Dark,
}

#[derive(SessionSchema)]
pub struct AppSession {
    pub theme: Theme,
}

fn main() {}
