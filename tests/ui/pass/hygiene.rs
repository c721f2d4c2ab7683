//! The expansion names everything by absolute path, so local items that shadow the prelude
//! change nothing; and it causes no warning, not even for a private schema no code uses.
#![deny(warnings)]
#![warn(missing_docs)]

#[allow(dead_code)]
struct Option {}
#[allow(dead_code)]
struct Result {}
#[allow(dead_code)]
struct Some {}
#[allow(dead_code)]
struct Ok {}
#[allow(dead_code)]
struct String {}
#[allow(dead_code)]
struct Vec {}
#[allow(dead_code)]
struct Default {}
#[allow(dead_code)]
struct Key {}
#[allow(dead_code)]
struct Session {}
#[allow(dead_code)]
struct Check {}
#[allow(dead_code)]
struct SessionValue {}
#[allow(dead_code, non_camel_case_types)]
struct bool {}
#[allow(dead_code)]
trait FnOnce {}
#[allow(dead_code)]
trait Sized {}
#[allow(unused_macros)]
macro_rules! unreachable {
    () => {
        compile_error!("the expansion names `::core::unreachable!`")
    };
}
#[allow(dead_code, non_snake_case)]
fn Some() {}
#[allow(dead_code, non_snake_case)]
fn Ok() {}
#[allow(dead_code, non_snake_case)]
fn None() {}
#[allow(dead_code, non_snake_case)]
fn Err() {}

mod core {}
mod std {}
mod serde {}
mod session_runtime {}

#[derive(::session_runtime::SessionSchema)]
struct PrivateSession {
    #[session(user_id)]
    user_id: ::core::option::Option<u32>,
    #[session(staff)]
    is_staff: ::core::primitive::bool,
    #[session(superuser)]
    is_superuser: ::core::primitive::bool,
    name: ::std::string::String,
    #[session(rename = "c")]
    cart: ::std::vec::Vec<u64>,
    #[session(flash)]
    notice: ::core::option::Option<::std::string::String>,
    #[session(privileged)]
    tenant: u64,
}

/// A strict schema: its generated decoding checks are hygienic too.
#[derive(::session_runtime::SessionSchema)]
#[session(strict)]
pub struct StrictSession {
    /// The user.
    #[session(user_id)]
    pub user_id: ::core::option::Option<u32>,
    /// The theme.
    pub theme: ::std::string::String,
}

/// A documented public schema: the generated items are documented too.
#[derive(::session_runtime::SessionSchema)]
pub struct PublicSession {
    /// The user.
    #[session(user_id)]
    pub user_id: ::core::option::Option<u32>,
    /// The cart.
    pub cart: ::std::vec::Vec<u64>,
    /// Notices for the next page.
    #[session(flash)]
    pub notices: ::std::vec::Vec<::std::string::String>,
}

fn main() {}
