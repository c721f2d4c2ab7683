// The schema of the design document, used the way handlers use it.
use axum::Router;
use axum::routing::get;
use session_runtime::{
    HasStaff, HasSuperuser, HasUserId, Key, RequireAuth, RequireStaff, RequireSuperuser, Session,
    SessionError, SessionSchema,
};

#[derive(SessionSchema)]
pub struct AppSession {
    #[session(user_id)]
    pub user_id: Option<i64>,
    pub username: Option<String>,
    #[session(staff)]
    pub is_staff: bool,
    #[session(superuser)]
    pub is_superuser: bool,
    #[session(rename = "c")]
    pub cart: Vec<u64>,
}

async fn me(user: RequireAuth<AppSession>) -> String {
    let id: i64 = user.user_id();
    format!("{id} {:?}", user.username())
}

async fn admin(staff: RequireStaff<AppSession>) -> String {
    format!("{}", staff.is_staff())
}

async fn root(root: RequireSuperuser<AppSession>) -> String {
    format!("{}", root.is_superuser())
}

async fn cart(session: Session<AppSession>) -> Result<String, SessionError> {
    let maybe_id: Option<i64> = session.user_id();
    session.update_cart(|cart| cart.push(1))?;
    session.set_username(Some("alice".into()))?;
    session.set_is_staff(false)?;
    session.remove_cart()?;
    Ok(format!("{maybe_id:?} {:?}", session.cart()))
}

fn main() {
    let _app: Router = Router::new()
        .route("/me", get(me))
        .route("/admin", get(admin))
        .route("/root", get(root))
        .route("/cart", get(cart));

    let key: Key<AppSession, Vec<u64>> = AppSession::CART;
    assert_eq!(key.name(), "c");
    assert!(!key.is_privileged());
    assert!(AppSession::IS_STAFF.is_privileged());
    assert!(AppSession::IS_SUPERUSER.is_privileged());
    assert_eq!(AppSession::USERNAME.default_value(), None);
    assert_eq!(
        <AppSession as SessionSchema>::KEYS,
        ["username", "is_staff", "is_superuser", "c"]
    );
    assert_eq!(<AppSession as HasStaff>::STAFF_KEY.name(), "is_staff");
    assert_eq!(
        <AppSession as HasSuperuser>::SUPERUSER.name(),
        "is_superuser"
    );
    let _: <AppSession as HasUserId>::UserId = 42_i64;
}
