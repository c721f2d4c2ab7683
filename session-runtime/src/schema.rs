//! The schema traits that `#[derive(SessionSchema)]` implements, and typed keys.

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::handle::RawSession;

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

/// A type a session field can hold: one that serde can both serialize and deserialize.
///
/// Implemented for every `T: Serialize + DeserializeOwned`; there is nothing to implement by
/// hand. It exists so that a field type without serde support fails to compile with one
/// message that says what to derive, on the field's type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a session: it does not implement serde's `Serialize` and `Deserialize`",
    label = "not serializable with serde",
    note = "add `#[derive(serde::Serialize, serde::Deserialize)]` to `{Self}`, or use a type that has them (for a foreign type, look for a `serde` feature of its crate)"
)]
pub trait SessionValue: Serialize + DeserializeOwned {}

// `do_not_recommend`: a type that lacks both traits gets one error, about `SessionValue`,
// rather than one per missing serde trait.
#[diagnostic::do_not_recommend]
impl<T: Serialize + DeserializeOwned> SessionValue for T {}

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

/// A typed key: one field of schema `S`, holding a `T`.
///
/// The derive generates one per field as an associated constant of the schema
/// (`AppSession::CART` for the field `cart`). Keys cannot be built from strings in user
/// code, so a misspelled or mistyped key is a compile error. Use them with
/// [`Session::get`](crate::Session::get) and friends in generic code.
pub struct Key<S, T> {
    name: &'static str,
    default: fn() -> T,
    privileged: bool,
    codec: Codec<T>,
    schema: PhantomData<fn() -> S>,
}

/// How a field's value goes to and from its stored JSON text.
///
/// Kept as function pointers, made where `T: SessionValue` is proven (when the derive builds
/// the key), so that the accessors need no serde bound: a field type without serde support
/// is reported once, on the field, not once per accessor.
struct Codec<T> {
    encode: fn(&T) -> serde_json::Result<String>,
    decode: fn(&str) -> serde_json::Result<T>,
    decodes: fn(&str) -> bool,
}

impl<T> Clone for Codec<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Codec<T> {}

fn encode<T: SessionValue>(value: &T) -> serde_json::Result<String> {
    serde_json::to_string(value)
}

fn decode<T: SessionValue>(json: &str) -> serde_json::Result<T> {
    serde_json::from_str(json)
}

fn decodes<T: SessionValue>(json: &str) -> bool {
    decode::<T>(json).is_ok()
}

impl<S, T: SessionValue> Key<S, T> {
    /// Builds a key. Used by the derive only.
    #[doc(hidden)]
    #[must_use]
    pub const fn __new(name: &'static str, default: fn() -> T, privileged: bool) -> Self {
        Self {
            name,
            default,
            privileged,
            codec: Codec {
                encode: encode::<T>,
                decode: decode::<T>,
                decodes: decodes::<T>,
            },
            schema: PhantomData,
        }
    }
}

impl<S, T> Key<S, T> {
    /// A key that is never used: the derive's stand-in while it reports errors.
    #[doc(hidden)]
    #[must_use]
    pub const fn __stub() -> Self {
        Self {
            name: "",
            default: || unreachable!(),
            privileged: false,
            codec: Codec {
                encode: |_| unreachable!(),
                decode: |_| unreachable!(),
                decodes: |_| unreachable!(),
            },
            schema: PhantomData,
        }
    }

    /// The name under which the field is stored.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Whether changing this field changes privileges (a `staff` or `superuser` field):
    /// the session token is rotated when such a change is saved.
    #[must_use]
    pub const fn is_privileged(&self) -> bool {
        self.privileged
    }

    /// The field's default value, returned when the session does not hold the field.
    #[must_use]
    pub fn default_value(&self) -> T {
        (self.default)()
    }

    pub(crate) fn encode(&self, value: &T) -> serde_json::Result<String> {
        (self.codec.encode)(value)
    }

    pub(crate) fn decode(&self, json: &str) -> serde_json::Result<T> {
        (self.codec.decode)(json)
    }
}

/// One decoding check of a `#[session(strict)]` schema: a stored field, or the user id.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Check {
    /// The stored field name; `None` for the user id.
    pub(crate) field: Option<&'static str>,
    pub(crate) decodes: fn(&str) -> bool,
}

impl Check {
    /// Checks that the stored value of `key` decodes.
    #[must_use]
    pub const fn field<S, T>(key: &Key<S, T>) -> Self {
        Self {
            field: Some(key.name),
            decodes: key.codec.decodes,
        }
    }

    /// Checks that the stored user id decodes into `Id`.
    #[must_use]
    pub const fn user_id<Id: SessionValue>() -> Self {
        Self {
            field: None,
            decodes: decodes::<Id>,
        }
    }
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check").field("field", &self.field).finish()
    }
}

impl<S, T> Clone for Key<S, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S, T> Copy for Key<S, T> {}

impl<S, T> fmt::Debug for Key<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("name", &self.name)
            .field("privileged", &self.privileged)
            .finish()
    }
}
