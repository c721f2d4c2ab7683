//! What the SQL stores share: the table name rule, the data column's encoding, error mapping.
//!
//! Both SQL stores keep one row per session with the fields in one JSON object column,
//! `{"name": "<the field's JSON text>"}`. Each value is kept as a JSON *string* holding the
//! field's JSON text, so it reads back byte for byte (PostgreSQL's `jsonb` would otherwise
//! reorder keys and reformat numbers) and a `null` in a patch can only mean "remove".

use super::{StoreError, StoreOp};
use crate::record::Update;

/// The table name used when none is configured.
pub(crate) const DEFAULT_TABLE: &str = "sessions";

/// A validated table name, optionally schema-qualified (`schema.table`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableName {
    /// The name as configured.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) name: String,
    /// The quoted name to put in SQL: `"sessions"` or `"app"."sessions"`.
    pub(crate) quoted: String,
    /// The bare table name, used to name its indexes.
    pub(crate) bare: String,
}

impl TableName {
    /// Accepts `name` or `schema.name`, each part an ASCII identifier: a letter or `_`, then
    /// letters, digits or `_`, at most 48 characters (so index names stay under PostgreSQL's
    /// 63-byte limit). Anything else is refused, so a name can never inject SQL.
    pub(crate) fn parse(name: &str) -> Result<Self, StoreError> {
        let parts: Vec<&str> = name.split('.').collect();
        let valid = |p: &str| {
            let mut chars = p.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
                && p.len() <= 48
        };
        if parts.len() > 2 || !parts.iter().all(|p| valid(p)) {
            return Err(StoreError::Config {
                reason: format!(
                    "table name {name:?} must be `name` or `schema.name`, each an identifier \
                     of at most 48 ASCII letters, digits or `_`, not starting with a digit"
                ),
            });
        }
        Ok(Self {
            name: name.to_owned(),
            quoted: parts
                .iter()
                .map(|p| format!("\"{p}\""))
                .collect::<Vec<_>>()
                .join("."),
            bare: parts[parts.len() - 1].to_owned(),
        })
    }
}

pub(crate) use super::codec::encode_data;

/// The fields an update writes, as a JSON object (for PostgreSQL's `jsonb ||`).
#[cfg(feature = "postgres")]
pub(crate) fn encode_set(update: &Update) -> String {
    encode_data(&update.set)
}

/// The update as an RFC 7396 merge patch: set fields as strings, removed ones as `null`.
/// A field both removed and set is set (the order [`Update::apply_to`] applies them in).
#[cfg(feature = "sqlite")]
pub(crate) fn merge_patch(update: &Update) -> String {
    let mut patch = serde_json::Map::new();
    for name in &update.remove {
        patch.insert(name.clone(), serde_json::Value::Null);
    }
    for (name, value) in &update.set {
        patch.insert(name.clone(), serde_json::Value::String(value.clone()));
    }
    serde_json::Value::Object(patch).to_string()
}

/// Maps a driver error: a unique violation is a [`StoreError::Conflict`], a pool that could
/// not hand out a connection in time is a [`StoreError::Timeout`], anything else is
/// [`StoreError::Backend`].
pub(crate) fn map_err(op: StoreOp) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::PoolTimedOut => StoreError::Timeout { op },
        other => StoreError::backend(op, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_identifiers() {
        let t = TableName::parse("sessions").unwrap();
        assert_eq!(
            (t.quoted.as_str(), t.bare.as_str()),
            ("\"sessions\"", "sessions")
        );
        let t = TableName::parse("app.user_sessions2").unwrap();
        assert_eq!(t.quoted, "\"app\".\"user_sessions2\"");
        assert_eq!(t.bare, "user_sessions2");
        for bad in [
            "",
            "1abc",
            "a-b",
            "a b",
            "a.b.c",
            ".a",
            "a.",
            "x\"; DROP TABLE y; --",
            "ünï",
            &"a".repeat(49),
        ] {
            assert!(
                matches!(TableName::parse(bad), Err(StoreError::Config { .. })),
                "{bad:?} was accepted"
            );
        }
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn merge_patch_nulls_removed_fields() {
        let mut u = Update::default();
        u.set.insert("a".into(), "1".into());
        u.remove.push("b".into());
        assert_eq!(merge_patch(&u), r#"{"a":"1","b":null}"#);
    }
}
