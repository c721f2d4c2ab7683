//! The schema traits that `#[derive(SessionSchema)]` implements.

use crate::error::SessionError;
use crate::handle::RawSession;
use crate::key::{Check, Key, SessionValue};

/// A struct whose fields describe the data of one session.
///
/// Implemented by `#[derive(SessionSchema)]`; implementing it by hand is not supported.
/// Each field becomes its own key in the store, and the derive generates a handle type
/// (named by [`SessionSchema::Handle`]) with one getter, setter, remover and updater per field.
///
/// # Example
///
/// ```
/// use session_runtime::SessionSchema;
///
/// #[derive(SessionSchema)]
/// pub struct AppSession {
///     #[session(user_id)]
///     pub user_id: Option<i64>,
///     pub username: Option<String>,
///     #[session(rename = "c")]
///     pub cart: Vec<u64>,
/// }
///
/// // One typed key per field, for generic code:
/// let key = AppSession::CART;
/// assert_eq!(key.name(), "c");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a session schema",
    label = "not a session schema",
    note = "add `#[derive(SessionSchema)]` to the struct that describes your session data"
)]
pub trait SessionSchema: Sized + Send + Sync + 'static {
    /// The generated handle type that carries the typed accessors.
    ///
    /// [`Session<S>`](crate::Session) and the guards dereference to it, so
    /// `session.cart()` works without importing anything.
    type Handle: SchemaHandle<Self>;

    /// The stored names of every data field of the schema, in declaration order.
    const KEYS: &'static [&'static str];

    /// The superuser flag, if the schema has a `#[session(superuser)]` field.
    ///
    /// A superuser passes every staff check.
    #[doc(hidden)]
    const SUPERUSER_KEY: Option<Key<Self, bool>>;

    /// For a `#[session(strict)]` schema, a decoding check of every stored field and of the
    /// user id; `None` (the default) reads undecodable values as their default instead.
    #[doc(hidden)]
    const STRICT: Option<&'static [Check]> = None;
}

/// Connects a generated handle type to the runtime. Not part of the public API.
#[doc(hidden)]
pub trait SchemaHandle<S>: Send + Sync + 'static {
    /// Wraps the untyped request session.
    fn __from_raw(raw: RawSession<S>) -> Self;
    /// The untyped request session.
    fn __raw(&self) -> &RawSession<S>;
}

/// A schema with a `#[session(user_id)]` field: sessions can be logged in.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `#[session(user_id)]` field",
    label = "this schema has no user id",
    note = "add a field `#[session(user_id)] user_id: Option<YourIdType>` to `{Self}`"
)]
pub trait HasUserId: SessionSchema {
    /// The plain user id type (`i64` for a field of type `Option<i64>`).
    type UserId: SessionValue + Clone + Send + Sync + 'static;
}

/// Bounds the `set_` and `update_` methods that the derive gives the `#[session(user_id)]`
/// field, on `&'a Handle`: no handle implements it, so a call does not compile, and the
/// message says to log in instead. Not public API.
///
/// The bound names the method's lifetime, so that rustc checks it at each call rather than
/// rejecting it where the method is defined, as it does a bound on a concrete type alone.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the user id is set by logging in: call `session.login(id).await`",
    label = "the user id cannot be set directly",
    note = "`login` moves the session to a new token and kills the old one, so that a token planted by someone else never becomes logged in; `session.logout().await` clears the id"
)]
pub trait SetUserIdThroughLogin: sealed::Sealed {}

/// Bounds the `remove_` method that the derive gives the `#[session(user_id)]` field, as
/// [`SetUserIdThroughLogin`] does the others: a call does not compile, and the message says to
/// log out instead. Not public API.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the user id is cleared by logging out: call `session.logout().await`",
    label = "the user id cannot be removed directly",
    note = "`logout` deletes the session from the store and removes the cookie; `session.login(id).await` sets the id"
)]
pub trait RemoveUserIdThroughLogout: sealed::Sealed {}

/// Implemented for `()` only: no handle can meet the bounds above, and none is written
/// outside this crate (the traits are sealed). The impls are there only so that rustc does not
/// suggest adding one (`do_not_recommend` keeps them out of its messages).
mod sealed {
    pub trait Sealed {}

    impl Sealed for () {}
}

#[diagnostic::do_not_recommend]
impl SetUserIdThroughLogin for () {}

#[diagnostic::do_not_recommend]
impl RemoveUserIdThroughLogout for () {}

/// A schema with a `#[session(staff)]` field, which [`RequireStaff`](crate::RequireStaff) checks.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `#[session(staff)]` field",
    label = "this schema has no staff flag",
    note = "add a field `#[session(staff)] is_staff: bool` to `{Self}`"
)]
pub trait HasStaff: HasUserId {
    /// The staff flag.
    const STAFF_KEY: Key<Self, bool>;
}

/// A schema with a `#[session(superuser)]` field, which
/// [`RequireSuperuser`](crate::RequireSuperuser) checks.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `#[session(superuser)]` field",
    label = "this schema has no superuser flag",
    note = "add a field `#[session(superuser)] is_superuser: bool` to `{Self}`"
)]
pub trait HasSuperuser: HasUserId {
    /// The superuser flag.
    const SUPERUSER: Key<Self, bool>;
}

/// The canonical text form of a user id, as stores index it.
pub(crate) fn encode_user_id<S: HasUserId>(user_id: &S::UserId) -> Result<String, SessionError> {
    serde_json::to_string(user_id).map_err(|source| SessionError::Encode {
        field: "user_id",
        source,
    })
}
