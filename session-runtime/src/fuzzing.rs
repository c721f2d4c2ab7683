//! **Not part of the API.** Thin wrappers that hand the library's parsers of untrusted input
//! to the coverage-guided fuzz targets in `fuzz/` (see `SECURITY.md`, "Fuzzing").
//!
//! Present only with the `fuzzing` feature, hidden from the documentation, and exempt from
//! semantic versioning: anything here may change or go in any release. Each wrapper calls
//! the code path the runtime itself uses, and converts nothing but its result types.

use std::collections::{BTreeMap, HashMap};

use http::HeaderMap;

use crate::record::Record;
use crate::store::StoreError;

pub use crate::store::codec::Columns as SqlColumns;

/// How many well-formed session cookies the load path tries, at most.
pub const MAX_CANDIDATES: usize = crate::cookie::MAX_CANDIDATES;

/// The session cookie reader: the `nth` well-formed token named `name` (as its text), and
/// whether any cookie of that name came.
#[must_use]
pub fn read_session_cookie(headers: &HeaderMap, name: &str, nth: usize) -> (Option<String>, bool) {
    let (token, present) = crate::cookie::read_session_cookie(headers, name, nth);
    (
        token.map(|t| String::from_utf8_lossy(t.as_bytes()).into_owned()),
        present,
    )
}

/// Token parsing: the token's text, if `value` is a well-formed token.
#[must_use]
pub fn parse_token(value: &[u8]) -> Option<Vec<u8>> {
    crate::token::Token::parse(value).map(|t| t.as_bytes().to_vec())
}

/// The CSRF check's reader of the `x-csrf-token` header: `None` without the header, else
/// whether it carries `expected`.
#[must_use]
pub fn csrf_header_carries(headers: &HeaderMap, expected: &str) -> Option<bool> {
    crate::csrf::layer::header_carries(headers, expected)
}

/// The CSRF check's reader of a form body: whether its `csrf_token` field is `expected`.
#[must_use]
pub fn csrf_form_carries(body: &[u8], expected: &str) -> bool {
    crate::csrf::layer::form_carries(body, expected)
}

/// Whether a `Content-Type` makes the CSRF check read the body as a form.
#[must_use]
pub fn is_urlencoded_form(content_type: &str) -> bool {
    crate::csrf::layer::is_urlencoded_form(content_type)
}

/// The CSRF check's origin half: whether the request is cross-site.
#[must_use]
pub fn is_cross_site(headers: &HeaderMap, trusted: &[String]) -> bool {
    crate::csrf::origin::is_cross_site(headers, trusted)
}

/// The visitor's CSRF cookie reader (`__Host-csrf` when `secure`, else `csrf`).
#[must_use]
pub fn read_visitor_cookie(headers: &HeaderMap, secure: bool) -> (Option<String>, bool) {
    crate::csrf::visitor::read(headers, secure)
}

/// The login redirect a guard builds: `login_url` with `next` set to the path asked for.
#[must_use]
pub fn with_next(login_url: &str, next: &str) -> String {
    crate::extract::guard::with_next(login_url, next)
}

/// The SQL stores' decoding of a row.
///
/// # Errors
///
/// [`StoreError::Corrupt`] for a data column that is not a JSON object of strings.
pub fn record_from_sql(columns: SqlColumns) -> Result<Record, StoreError> {
    crate::store::codec::record_from_columns(columns)
}

/// The SQL stores' data column, as they write it.
#[must_use]
pub fn encode_sql_data(data: &BTreeMap<String, String>) -> String {
    crate::store::codec::encode_data(data)
}

/// The Redis store's decoding of a session hash (`HGETALL`).
///
/// # Errors
///
/// [`StoreError::Corrupt`] for a hash that lacks a field or holds a time that is no number.
pub fn record_from_redis_hash(hash: HashMap<String, String>) -> Result<Record, StoreError> {
    crate::store::codec::record_from_hash(hash)
}

/// The fields of the Redis hash the store writes for `record`.
#[must_use]
pub fn redis_hash_fields(record: &Record) -> Vec<(String, Vec<u8>)> {
    crate::store::codec::hash_fields(record)
}
