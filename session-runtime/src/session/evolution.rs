//! Schema evolution: sessions written by an older deploy, read through today's schema.
//!
//! - A field added since: not in the record, so it reads as its default.
//! - A field renamed in code with `#[session(rename = "old")]`: same stored key, still read.
//! - A stored value that no longer decodes: its default and a warning (`RawSession::get`),
//!   or, for a `#[session(strict)]` schema, the whole session is discarded (`load.rs`).
//! - A field removed since: its stored key is *stale*. Reads never see it, and the next save
//!   of the session removes it from the store, through the ordinary `Update::remove`.
//!
//! The request learns which keys are live when an extractor views the session through a
//! schema ([`Schemas::register`]); keys of every schema used in the request are live, so two
//! schemas sharing one session never drop each other's fields.

use crate::record::RUNTIME_KEY_PREFIX;

/// The stored keys of the schemas this request viewed the session through: nearly always
/// one, kept without an allocation. Their keys are live; any other stored key is stale.
#[derive(Debug, Default)]
pub(crate) struct Schemas {
    first: Option<&'static [&'static str]>,
    more: Vec<&'static [&'static str]>,
}

impl Schemas {
    /// Records that the request views the session through a schema with these keys.
    pub(crate) fn register(&mut self, keys: &'static [&'static str]) {
        if self.first.is_none() {
            self.first = Some(keys);
        } else if !self.all().any(|known| std::ptr::eq(known, keys)) {
            self.more.push(keys);
        }
    }

    fn all(&self) -> impl Iterator<Item = &'static [&'static str]> {
        self.first.into_iter().chain(self.more.iter().copied())
    }

    /// Whether a stored key belongs to no schema the request used. With no schema known,
    /// nothing is stale.
    pub(crate) fn is_stale(&self, key: &str) -> bool {
        self.first.is_some()
            && !key.starts_with(RUNTIME_KEY_PREFIX)
            && !self.all().any(|keys| keys.contains(&key))
    }

    /// Whether data holds a field some schema can read: a session holding only stale keys
    /// is as empty as one holding nothing.
    pub(crate) fn any_live<'a>(&self, mut keys: impl Iterator<Item = &'a str>) -> bool {
        keys.any(|key| !self.is_stale(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static V1: &[&str] = &["a", "b"];
    static V2: &[&str] = &["b", "c"];

    #[test]
    fn keys_of_no_registered_schema_are_stale() {
        let mut schemas = Schemas::default();
        assert!(!schemas.is_stale("x"), "no schema known: nothing is stale");
        schemas.register(V1);
        assert!(schemas.is_stale("c"));
        assert!(!schemas.is_stale("a"));
        schemas.register(V2);
        assert!(!schemas.is_stale("c"), "live in the second schema");
        assert!(!schemas.is_stale("__csrf"), "runtime keys are never stale");
        schemas.register(V1);
        assert_eq!(schemas.all().count(), 2, "a schema is registered once");
    }

    #[test]
    fn a_session_of_stale_keys_only_is_empty() {
        let mut schemas = Schemas::default();
        schemas.register(V1);
        assert!(!schemas.any_live(["gone", "old"].into_iter()));
        assert!(schemas.any_live(["gone", "b"].into_iter()));
        assert!(schemas.any_live(["__csrf"].into_iter()));
    }
}
