//! Typed keys: one per schema field, with the field's stored name, default and JSON codec.

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

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
    ///
    /// ```
    /// use session_runtime::SessionSchema;
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     pub theme: Option<String>,
    ///     #[session(rename = "c")]
    ///     pub cart: Vec<u64>,
    /// }
    ///
    /// assert_eq!(AppSession::THEME.name(), "theme");
    /// assert_eq!(AppSession::CART.name(), "c");
    /// ```
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Whether changing this field changes privileges (a `staff`, `superuser` or
    /// `#[session(privileged)]` field): the session token is rotated when such a change is
    /// saved.
    ///
    /// ```
    /// use session_runtime::SessionSchema;
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    ///     #[session(staff)]
    ///     pub is_staff: bool,
    ///     pub theme: Option<String>,
    /// }
    ///
    /// assert!(AppSession::IS_STAFF.is_privileged());
    /// assert!(!AppSession::THEME.is_privileged());
    /// ```
    #[must_use]
    pub const fn is_privileged(&self) -> bool {
        self.privileged
    }

    /// The field's default value, returned when the session does not hold the field.
    ///
    /// ```
    /// use session_runtime::SessionSchema;
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     pub cart: Vec<u64>,
    ///     #[session(default = "default_page_size")]
    ///     pub page_size: u32,
    /// }
    ///
    /// fn default_page_size() -> u32 {
    ///     25
    /// }
    ///
    /// assert!(AppSession::CART.default_value().is_empty()); // `Default::default()`
    /// assert_eq!(AppSession::PAGE_SIZE.default_value(), 25);
    /// ```
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
