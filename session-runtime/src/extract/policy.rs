//! What a guard checks: the [`Policy`] trait, and the built-in policies behind
//! [`RequireAuth`](crate::RequireAuth), [`RequireStaff`](crate::RequireStaff) and
//! [`RequireSuperuser`](crate::RequireSuperuser).

use super::session::Session;
use crate::schema::{HasStaff, HasSuperuser, HasUserId};

/// A rule that a logged-in session must pass: the `P` of [`Guard<S, P>`](crate::Guard).
///
/// Write one to declare a custom guard: a unit struct, the name of the role it stands for
/// (shown in the `403` answer), and a predicate on the session. Anonymous requests never
/// reach [`admits`](Self::admits): the guard answers them `401` (or `303` to the login page)
/// first.
///
/// ```
/// use session_runtime::{Guard, Policy, Session, SessionSchema};
///
/// #[derive(SessionSchema)]
/// pub struct AppSession {
///     #[session(user_id)]
///     pub user_id: Option<i64>,
///     #[session(staff)]
///     pub is_staff: bool,
///     pub roles: Vec<String>,
/// }
///
/// impl AppSessionHandle {
///     /// Staff may edit, and so may users given the `editor` role.
///     pub fn can_edit(&self) -> bool {
///         self.is_staff() || self.roles().iter().any(|role| role == "editor")
///     }
/// }
///
/// /// Admits sessions that may edit.
/// pub struct CanEdit;
///
/// impl Policy<AppSession> for CanEdit {
///     const NAME: &'static str = "editor";
///
///     fn admits(session: &Session<AppSession>) -> bool {
///         session.can_edit()
///     }
/// }
///
/// /// The guard, named for handler signatures.
/// pub type RequireEditor = Guard<AppSession, CanEdit>;
///
/// async fn edit(editor: RequireEditor) -> String {
///     format!("user {} may edit", editor.user_id())
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a guard policy for the session schema `{S}`",
    label = "`{Self}` does not implement `Policy<{S}>`",
    note = "a guard `Guard<{S}, {Self}>` admits the sessions that `impl Policy<{S}> for {Self}` accepts; write that impl, or use the schema the policy is written for"
)]
pub trait Policy<S: HasUserId>: 'static {
    /// The role the policy stands for, as the `403` answer names it
    /// ("forbidden: this requires the editor role").
    const NAME: &'static str;

    /// Whether a logged-in session passes.
    fn admits(session: &Session<S>) -> bool;
}

/// The built-in policy `P` for a schema that has what `P` checks: `RequireStaff<S>` is
/// `Guard<S, <S as Guardable<Staff>>::Policy>`, and so on. Not public API.
///
/// Naming the policy through this projection makes a schema without the field one compile
/// error in the handler's signature, on the guard's type. With `Guard<S, Staff>`, the struct's
/// `P: Policy<S>` bound fails twice in an `async fn`: on the argument's type, and again on the
/// future's. (The projection is normalized again, and fails again, wherever the handler is
/// named, such as in `get(handler)`.)
#[doc(hidden)]
pub trait Guardable<P> {
    /// `P` itself.
    type Policy;
}

impl<S: HasUserId> Guardable<Authenticated> for S {
    type Policy = Authenticated;
}

impl<S: HasStaff> Guardable<Staff> for S {
    type Policy = Staff;
}

impl<S: HasSuperuser> Guardable<Superuser> for S {
    type Policy = Superuser;
}

/// Admits every logged-in session: the policy of [`RequireAuth`](crate::RequireAuth).
#[derive(Debug, Clone, Copy)]
pub struct Authenticated;

impl<S: HasUserId> Policy<S> for Authenticated {
    const NAME: &'static str = "authenticated";

    fn admits(_: &Session<S>) -> bool {
        true
    }
}

/// Admits sessions whose `#[session(staff)]` field is `true`, and superusers: the policy of
/// [`RequireStaff`](crate::RequireStaff).
#[derive(Debug, Clone, Copy)]
pub struct Staff;

impl<S: HasStaff> Policy<S> for Staff {
    const NAME: &'static str = "staff";

    fn admits(session: &Session<S>) -> bool {
        session.get(&S::STAFF_KEY) || S::SUPERUSER_KEY.is_some_and(|key| session.get(&key))
    }
}

/// Admits sessions whose `#[session(superuser)]` field is `true`: the policy of
/// [`RequireSuperuser`](crate::RequireSuperuser).
#[derive(Debug, Clone, Copy)]
pub struct Superuser;

impl<S: HasSuperuser> Policy<S> for Superuser {
    const NAME: &'static str = "superuser";

    fn admits(session: &Session<S>) -> bool {
        session.get(&S::SUPERUSER)
    }
}
