//! Decoding of the Redis store's session hash (`HGETALL`: field name → text).
//!
//! Checks: a hash decodes exactly when it has `pid` and every time it needs (`ctime`,
//! `seen`, `exp`, `abs`, and `auth` if present) is an integer and its `kind`, if present,
//! names a kind; then the record's data are
//! the `d:` fields without their prefix, its public id, user id and device the hash's
//! text; the hash the store writes for the record decodes to the same record; a hash that
//! does not decode is `StoreError::Corrupt`.

#![no_main]

use std::collections::{BTreeMap, HashMap};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use session_runtime::__fuzz;
use session_runtime::{SessionKind, StoreError};

/// A time field: milliseconds as the store writes them, any text, or none.
#[derive(Arbitrary, Debug)]
enum Time {
    Millis(i64),
    Text(String),
    Missing,
}

#[derive(Arbitrary, Debug)]
struct Hash {
    pid: Option<String>,
    uid: Option<String>,
    dev: Option<String>,
    ver: Option<String>,
    ctime: Time,
    seen: Time,
    exp: Time,
    abs: Time,
    auth: Time,
    data: Vec<(String, String)>,
    /// Any fields at all, written last (over the others).
    raw: Vec<(String, String)>,
}

fuzz_target!(|input: Hash| {
    let mut hash = HashMap::new();
    for (name, value) in [
        ("pid", input.pid),
        ("uid", input.uid),
        ("dev", input.dev),
        ("ver", input.ver),
    ] {
        if let Some(value) = value {
            hash.insert(name.to_owned(), value);
        }
    }
    for (name, time) in [
        ("ctime", input.ctime),
        ("seen", input.seen),
        ("exp", input.exp),
        ("abs", input.abs),
        ("auth", input.auth),
    ] {
        match time {
            Time::Millis(ms) => drop(hash.insert(name.to_owned(), ms.to_string())),
            Time::Text(text) => drop(hash.insert(name.to_owned(), text)),
            Time::Missing => {}
        }
    }
    for (name, value) in input.data {
        hash.insert(format!("d:{name}"), value);
    }
    hash.extend(input.raw);

    let is_ms = |name: &str| hash.get(name).is_some_and(|t| t.parse::<i64>().is_ok());
    let decodes = hash.contains_key("pid")
        && ["ctime", "seen", "exp", "abs"].iter().all(|n| is_ms(n))
        && (!hash.contains_key("auth") || is_ms("auth"))
        && hash
            .get("kind")
            .is_none_or(|k| SessionKind::parse(k).is_some());
    match __fuzz::record_from_redis_hash(hash.clone()) {
        Ok(record) => {
            assert!(decodes, "{hash:?}");
            let data: BTreeMap<String, String> = hash
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("d:")?.to_owned(), v.clone())))
                .collect();
            assert_eq!(record.data, data);
            assert_eq!(
                Some(record.public_id.as_str()),
                hash.get("pid").map(String::as_str)
            );
            assert_eq!(record.user_id.as_ref(), hash.get("uid"));
            assert_eq!(record.device.as_ref(), hash.get("dev"));
            assert_eq!(record.authenticated_at.is_some(), hash.contains_key("auth"));
            let kind = hash
                .get("kind")
                .map_or(Some(SessionKind::Browser), |k| SessionKind::parse(k));
            assert_eq!(Some(record.kind), kind);
            let written: HashMap<String, String> = __fuzz::redis_hash_fields(&record)
                .into_iter()
                .map(|(k, v)| (k, String::from_utf8(v).expect("the store writes text")))
                .collect();
            let again =
                __fuzz::record_from_redis_hash(written).expect("what the store writes reads back");
            assert_eq!(again, record);
        }
        Err(error) => {
            assert!(!decodes, "{hash:?}: {error:?}");
            assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
        }
    }
});
