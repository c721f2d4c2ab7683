//! Schema evolution: sessions written by an older deploy, read through today's schema.
//!
//! - A field added since: not in the record, so it reads as its default.
//! - A field renamed in code with `#[session(rename = "old")]`: same stored key, still read.
//! - A stored value that no longer decodes: its default and a warning (`RawSession::get`),
//!   or, for a `#[session(strict)]` schema, the whole session is discarded ([`strict_failure`]).
//! - A field removed since: its stored key is *stale*. Reads never see it, and the next save
//!   of the session removes it from the store, through the ordinary `Update::remove`.
//!
//! The request's context learns which keys are live when an extractor views the session
//! through a schema (`Schemas::register`); keys of every schema used in the request are
//! live, so two schemas sharing one session never drop each other's fields.

use crate::context::{Context, Schemas, State};
use crate::schema::Check;

/// Stored keys that begin with this prefix belong to the runtime, never to a schema, and are
/// never dropped as stale. The derive refuses schema keys with this prefix.
pub(crate) const RUNTIME_KEY_PREFIX: &str = "__";

impl Schemas {
    /// Whether a stored key belongs to no schema the request used. With no schema known,
    /// nothing is stale.
    fn is_stale(&self, key: &str) -> bool {
        !self.is_empty()
            && !key.starts_with(RUNTIME_KEY_PREFIX)
            && !self.all().any(|keys| keys.contains(&key))
    }
}

impl State {
    /// Stored keys that no schema of this request knows: fields removed from the schema.
    /// The next save removes them.
    ///
    /// Only the stored fields are looked at: a field this request wrote was written through
    /// a schema it used (or is the runtime's), so it is never stale.
    pub(crate) fn stale_keys(&self) -> impl Iterator<Item = &str> {
        self.data
            .stored_keys()
            .filter(|key| self.schemas.is_stale(key))
    }

    /// Whether the session holds data a schema can read: a session holding only stale keys
    /// is as empty as one holding nothing.
    pub(crate) fn has_live_data(&self) -> bool {
        let live = |key: &str| !self.schemas.is_stale(key);
        // A field this request wrote is nearly always live: asked first, it spares reading
        // the stored fields.
        self.data.written_keys().any(live) || self.data.keys().any(live)
    }
}

impl Context {
    /// For a strict schema: the first stored value that does not decode (`"user_id"` for the
    /// user id), or `None` if every one does.
    pub(crate) fn strict_failure(&self, checks: &[Check]) -> Option<&'static str> {
        let st = self.state();
        checks.iter().find_map(|check| {
            let (name, json) = match check.field {
                Some(name) => (name, st.data.get(name)),
                None => ("user_id", st.user_id.as_deref()),
            };
            json.filter(|json| !(check.decodes)(json)).map(|_| name)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Data, Fields};

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
    }

    #[test]
    fn a_session_of_stale_keys_only_is_empty() {
        let mut st = State::default();
        st.schemas.register(V1);
        let stored = [("b", "2"), ("gone", "1"), ("old", "3")];
        st.data = Data::new(Fields::pack(stored[1..].iter().copied()));
        assert!(!st.has_live_data());
        assert_eq!(st.stale_keys().collect::<Vec<_>>(), ["gone", "old"]);
        st.data.insert("a", "1".to_owned());
        assert!(st.has_live_data());
        assert_eq!(st.stale_keys().collect::<Vec<_>>(), ["gone", "old"]);

        let mut st = State::default();
        st.schemas.register(V1);
        st.data = Data::new(Fields::pack(stored.iter().copied()));
        assert!(st.has_live_data(), "b is live");
        st.data.remove("b");
        assert_eq!(st.stale_keys().collect::<Vec<_>>(), ["gone", "old"]);
    }
}
