//! A custom guard from a predicate, `Option` guards, and a guard on a whole router.

use axum::Router;
use axum::middleware::from_extractor;
use axum::routing::get;
use session_runtime::{
    Guard, MemoryStore, Policy, RequireAuth, RequireStaff, Session, SessionConfig, SessionLayer,
    SessionSchema,
};

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    #[session(staff)]
    pub is_staff: bool,
    pub roles: Vec<String>,
}

impl AppSessionHandle {
    pub fn can_edit(&self) -> bool {
        self.is_staff() || self.roles().iter().any(|role| role == "editor")
    }
}

pub struct CanEdit;

impl Policy<AppSession> for CanEdit {
    const NAME: &'static str = "editor";

    fn admits(session: &Session<AppSession>) -> bool {
        session.can_edit()
    }
}

pub type RequireEditor = Guard<AppSession, CanEdit>;

async fn edit(editor: RequireEditor) -> String {
    let id: i64 = editor.user_id();
    format!("{id} {:?}", editor.roles())
}

async fn home(user: Option<RequireAuth<AppSession>>, editor: Option<RequireEditor>) -> String {
    format!("{:?} {}", user.map(|u| u.user_id()), editor.is_some())
}

fn main() {
    let admin: Router = Router::new()
        .route("/users", get(|| async { "staff only" }))
        .route_layer(from_extractor::<RequireStaff<AppSession>>());
    let _app: Router = Router::new()
        .route("/", get(home))
        .route("/edit", get(edit))
        .nest("/admin", admin)
        .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
}
