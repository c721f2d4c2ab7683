//! How the external stores write a record down and read it back, as pure functions of what
//! a driver hands over (the SQL stores' columns, the Redis store's hash), with no server and
//! no driver types. The stores call them; so do the fuzz targets in `fuzz/`, which feed them
//! whatever a corrupted or hostile database could hold.

#[cfg(any(feature = "postgres", feature = "sqlite", feature = "fuzzing"))]
use std::collections::BTreeMap;
#[cfg(any(feature = "redis", feature = "fuzzing"))]
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::StoreError;
use crate::record::{Record, SessionKind};
use crate::token::PublicId;

/// Milliseconds since the Unix epoch, the resolution every external store keeps (times
/// before 1970 clamp to 0, after year 292 million to `i64::MAX`).
pub(crate) fn to_millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The inverse of [`to_millis`] (negative values, which it never writes, read as the epoch).
pub(crate) fn from_millis(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// A session row of the SQL stores, its columns as the driver reads them.
#[cfg(any(feature = "postgres", feature = "sqlite", feature = "fuzzing"))]
#[derive(Debug, Clone)]
pub struct Columns {
    /// `public_id`.
    pub public_id: String,
    /// `user_id`, `NULL` for a guest.
    pub user_id: Option<String>,
    /// `data`: the fields as one JSON object of strings.
    pub data: String,
    /// `created_at`, in milliseconds since the epoch.
    pub created_at: i64,
    /// `last_seen`, in milliseconds since the epoch.
    pub last_seen: i64,
    /// `expires_at`, in milliseconds since the epoch.
    pub expires_at: i64,
    /// `absolute_expires_at`, in milliseconds since the epoch.
    pub absolute_expires_at: i64,
    /// `authenticated_at`, in milliseconds since the epoch, `NULL` for a guest.
    pub authenticated_at: Option<i64>,
    /// `device`.
    pub device: Option<String>,
    /// `version` (a negative one, which no store writes, reads as 0).
    pub version: i64,
    /// `kind`: `browser` or `remembered` ([`SessionKind::as_str`]).
    pub kind: String,
}

/// The record a SQL row holds; the data column must be a JSON object of strings.
#[cfg(any(feature = "postgres", feature = "sqlite", feature = "fuzzing"))]
pub(crate) fn record_from_columns(columns: Columns) -> Result<Record, StoreError> {
    Ok(Record {
        public_id: PublicId::new(columns.public_id),
        user_id: columns.user_id,
        data: decode_data(&columns.data)?,
        created_at: from_millis(columns.created_at),
        last_seen: from_millis(columns.last_seen),
        expires_at: from_millis(columns.expires_at),
        absolute_expires_at: from_millis(columns.absolute_expires_at),
        authenticated_at: columns.authenticated_at.map(from_millis),
        device: columns.device,
        version: u64::try_from(columns.version).unwrap_or(0),
        kind: kind_from_column(&columns.kind)?,
    })
}

/// The kind a `kind` column or field holds; a text no version of this crate writes is
/// corrupt, never guessed.
#[cfg(any(
    feature = "postgres",
    feature = "sqlite",
    feature = "redis",
    feature = "fuzzing"
))]
pub(crate) fn kind_from_column(text: &str) -> Result<SessionKind, StoreError> {
    SessionKind::parse(text).ok_or_else(|| StoreError::Corrupt {
        reason: format!("unknown session kind {text:?}"),
    })
}

/// The data column's text for these fields.
#[cfg(any(feature = "postgres", feature = "sqlite", feature = "fuzzing"))]
pub(crate) fn encode_data(data: &BTreeMap<String, String>) -> String {
    serde_json::to_string(data).unwrap_or_else(|_| "{}".to_owned())
}

/// Reads the data column back.
#[cfg(any(feature = "postgres", feature = "sqlite", feature = "fuzzing"))]
pub(crate) fn decode_data(text: &str) -> Result<BTreeMap<String, String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        reason: format!("data column is not a JSON object of strings: {e}"),
    })
}

/// A corrupt Redis session hash: what is wrong with it.
#[cfg(any(feature = "redis", feature = "fuzzing"))]
pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt {
        reason: format!("Redis session hash: {what}"),
    }
}

/// The fields of the Redis hash that holds `record`: `pid`, the times in milliseconds
/// (`ctime`, `seen`, `exp`, `abs`, `auth`), `ver`, `uid` and `dev`, and each data field as
/// `d:<name>`.
#[cfg(any(feature = "redis", feature = "fuzzing"))]
pub(crate) fn hash_fields(record: &Record) -> Vec<(String, Vec<u8>)> {
    let ms = |t: SystemTime| to_millis(t).to_string().into_bytes();
    let mut pairs: Vec<(String, Vec<u8>)> = vec![
        ("pid".into(), record.public_id.as_str().as_bytes().to_vec()),
        ("ctime".into(), ms(record.created_at)),
        ("seen".into(), ms(record.last_seen)),
        ("exp".into(), ms(record.expires_at)),
        ("abs".into(), ms(record.absolute_expires_at)),
        ("ver".into(), record.version.to_string().into_bytes()),
    ];
    if let Some(uid) = &record.user_id {
        pairs.push(("uid".into(), uid.as_bytes().to_vec()));
    }
    if let Some(auth) = record.authenticated_at {
        pairs.push(("auth".into(), ms(auth)));
    }
    if let Some(dev) = &record.device {
        pairs.push(("dev".into(), dev.as_bytes().to_vec()));
    }
    // A browser's session, by far the most common, has no `kind` field.
    if record.kind != SessionKind::Browser {
        pairs.push(("kind".into(), record.kind.as_str().as_bytes().to_vec()));
    }
    for (name, value) in &record.data {
        pairs.push((format!("d:{name}"), value.as_bytes().to_vec()));
    }
    pairs
}

#[cfg(any(feature = "redis", feature = "fuzzing"))]
fn millis_field(hash: &HashMap<String, String>, name: &str) -> Result<SystemTime, StoreError> {
    let text = hash
        .get(name)
        .ok_or_else(|| corrupt(&format!("no `{name}`")))?;
    let ms: i64 = text
        .parse()
        .map_err(|_| corrupt(&format!("`{name}` is not a number")))?;
    Ok(from_millis(ms))
}

/// The record a Redis hash holds (`HGETALL`), as [`hash_fields`] wrote it.
#[cfg(any(feature = "redis", feature = "fuzzing"))]
pub(crate) fn record_from_hash(mut hash: HashMap<String, String>) -> Result<Record, StoreError> {
    let data = hash
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("d:")?.to_owned(), v.clone())))
        .collect();
    Ok(Record {
        public_id: PublicId::new(hash.remove("pid").ok_or_else(|| corrupt("no `pid`"))?),
        user_id: hash.remove("uid"),
        data,
        created_at: millis_field(&hash, "ctime")?,
        last_seen: millis_field(&hash, "seen")?,
        expires_at: millis_field(&hash, "exp")?,
        absolute_expires_at: millis_field(&hash, "abs")?,
        authenticated_at: match hash.contains_key("auth") {
            true => Some(millis_field(&hash, "auth")?),
            false => None,
        },
        device: hash.remove("dev"),
        version: hash.get("ver").and_then(|v| v.parse().ok()).unwrap_or(0),
        kind: match hash.get("kind") {
            Some(kind) => kind_from_column(kind)?,
            None => SessionKind::Browser,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(any(feature = "postgres", feature = "sqlite", feature = "fuzzing"))]
    #[test]
    fn data_round_trips_exactly() {
        let mut data = BTreeMap::new();
        data.insert("c".to_owned(), r#"{"b": 1,  "a": 2.50}"#.to_owned());
        data.insert("q\"uote".to_owned(), "\"\\u0000\"".to_owned());
        assert_eq!(decode_data(&encode_data(&data)).unwrap(), data);
        assert!(matches!(
            decode_data("[1]"),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
