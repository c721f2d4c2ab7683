//! The `#[derive(SessionSchema)]` macro of [`session-runtime`]. Use it through that crate,
//! which re-exports it next to the trait it implements; this crate is an implementation detail.
//!
//! [`session-runtime`]: https://docs.rs/session-runtime
//!
//! # What the derive generates
//!
//! For a struct `AppSession` (the *schema*), in the schema's module and with its visibility:
//!
//! - a handle type `AppSessionHandle`, which `Session<AppSession>` and the guards dereference
//!   to, with for every field `foo: T`:
//!   - `foo(&self) -> T`: the value, or the field's default when the session lacks it;
//!   - `set_foo(&self, value: T) -> Result<(), SessionError>`;
//!   - `remove_foo(&self) -> Result<(), SessionError>`: back to the default;
//!   - `update_foo(&self, f: impl FnOnce(&mut T)) -> Result<(), SessionError>`;
//!   - for a `flash` field, `take_foo(&self) -> T`: the value, which is then cleared;
//! - a typed key constant per field, `AppSession::FOO: Key<AppSession, T>`, for generic code;
//! - the impls of `SessionSchema` and, for the roles present, of `HasUserId`, `HasStaff` and
//!   `HasSuperuser`, which the guards `RequireAuth`, `RequireStaff` and `RequireSuperuser` need.
//!
//! The struct itself is never built: it needs no `Default` and no serde derive. Each field type
//! needs `Serialize + DeserializeOwned` (the runtime's `SessionValue`, asserted once per field
//! on its type, where `Key::__new` is called) and, without `default = "..."`, `Default`.
//!
//! # Attributes
//!
//! All of them go in `#[session(...)]` on a field; several can share one attribute
//! (`#[session(staff, rename = "s")]`).
//!
//! | attribute | meaning |
//! | --- | --- |
//! | `user_id` | The logged-in user's id: a field of type `Option<Id>`, `None` while anonymous. At most one per schema. It is not a stored key: the handle has a getter `user_id() -> Option<Id>` only, and the id changes through `Session::login(id)` and `Session::logout()`; a call to `set_user_id`, `remove_user_id` or `update_user_id` (hidden methods, bounded by a runtime trait no handle implements) fails to compile with a message that says so. Takes neither `rename` nor `default`. |
//! | `staff` | The staff flag that `RequireStaff` checks: a `bool`, at most one per schema, and the schema needs a `user_id` field. Changing it is a privilege change, so the session token is rotated on save. It always defaults to `false`, so `default` is refused. |
//! | `superuser` | The superuser flag that `RequireSuperuser` checks; a superuser also passes every staff check. Same rules as `staff`. |
//! | `flash` | A value read once: an `Option<T>` or `Vec<T>` field that also gets `take_foo() -> T`, which returns the value and clears it (a message set before a redirect shows on the next page only). Not on `user_id` or a role, and neither with `default` (a taken flash must read empty) nor with `privileged`. |
//! | `privileged` | Changing the field is a privilege change, as for `staff`: the token is rotated on save (a tenant switch, a role list). Sets the key's `privileged` flag. Not on `user_id` (login and logout rotate anyway), `staff` or `superuser` (privileged already), or a `flash` field. |
//! | `rename = "key"` | The name the field is stored under, instead of the field's name, so the field can be renamed in code without losing stored sessions. Not empty, and unique in the schema. |
//! | `default = "path"` | A function `fn() -> T` giving the value of a field the session does not hold, instead of `T::default()` (as in serde). |
//!
//! On the struct, `#[session(strict)]`: a stored value that no longer decodes into its field's
//! type discards the whole session (the request goes on as anonymous) instead of reading as the
//! field's default. The derive then emits a decoding check per field, `SessionSchema::STRICT`.
//!
//! ```ignore
//! use session_runtime::SessionSchema;
//!
//! #[derive(SessionSchema)]
//! pub struct AppSession {
//!     #[session(user_id)]
//!     pub user_id: Option<i64>, // Some(_) = logged in
//!     pub username: Option<String>,
//!     #[session(staff)]
//!     pub is_staff: bool,
//!     #[session(superuser)]
//!     pub is_superuser: bool,
//!     #[session(rename = "c")] // stored as "c", whatever the field is called
//!     pub cart: Vec<u64>,
//!     #[session(default = "default_theme")]
//!     pub theme: String,
//! }
//!
//! fn default_theme() -> String {
//!     "light".to_owned()
//! }
//!
//! // Generated:
//! //   pub struct AppSessionHandle { .. }
//! //   impl AppSessionHandle {
//! //       pub fn user_id(&self) -> Option<i64>;
//! //       pub fn cart(&self) -> Vec<u64>;
//! //       pub fn set_cart(&self, value: Vec<u64>) -> Result<(), SessionError>;
//! //       pub fn remove_cart(&self) -> Result<(), SessionError>;
//! //       pub fn update_cart(&self, f: impl FnOnce(&mut Vec<u64>)) -> Result<(), SessionError>;
//! //       // ... and the same for username, is_staff, is_superuser and theme
//! //   }
//! //   impl AppSession {
//! //       pub const USERNAME: Key<AppSession, Option<String>>;
//! //       pub const CART: Key<AppSession, Vec<u64>>; // CART.name() == "c"
//! //       // ... IS_STAFF, IS_SUPERUSER, THEME
//! //   }
//! //   impl SessionSchema for AppSession, HasUserId (UserId = i64), HasStaff, HasSuperuser
//! ```
//!
//! # Errors
//!
//! Misuse is a compile error on the offending tokens, and every error is reported at once:
//! a derive on anything but a struct with named fields, generic parameters, an unknown key
//! or a value of the wrong type in `#[session(...)]`, a duplicated role, a `user_id` that is
//! not an `Option`, a flag that is not a `bool`, a flag without a `user_id` field, two fields
//! stored under one key, a stored key starting with `__` (the runtime's), a misplaced
//! `strict`, a `flash` on `user_id`, a role, a type that is neither `Option` nor `Vec`, or
//! with `default` or `privileged`, a `privileged` on `user_id` or a role, and fields whose
//! generated names clash (`set_x` next to `x`, `take_x` of a flash next to a field `take_x`,
//! or a getter hidden by a method of `Session`, such as a field named `login`).
//!
//! # Layout
//!
//! Parse (`ast.rs`, `attr.rs`), check (`check.rs`, one function per rule, errors collected
//! by `ctxt.rs`), then generate (`expand.rs`), which cannot fail. With errors, `fallback.rs`
//! emits them along with a stub of the generated items, so no follow-up errors appear.

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod fallback;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ast::Input;
use crate::ctxt::Ctxt;

/// Derives `SessionSchema` for a struct that describes the data of a session.
///
/// See the [crate documentation](crate) for the generated items and the `#[session(...)]`
/// attributes.
#[proc_macro_derive(SessionSchema, attributes(session))]
pub fn derive_session_schema(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let node = syn::parse_macro_input!(input as DeriveInput);
    derive(&node).into()
}

/// Parse, check, then generate; on any error, the errors and a stub.
fn derive(node: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let input = Input::from_syn(&cx, node);
    if let Some(input) = &input {
        check::check(&cx, input);
    }
    match (cx.check(), input) {
        (Ok(()), Some(input)) => expand::expand(&input),
        (Err(errors), input) => fallback::expand(node, input.as_ref(), &errors),
        (Ok(()), None) => unreachable!("Input::from_syn records an error whenever it gives None"),
    }
}
