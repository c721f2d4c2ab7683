//! Decoding of a SQL store's row (SQLite and PostgreSQL share it): the columns as the
//! driver reads them, the `data` column a JSON object of strings.
//!
//! Checks: a row decodes exactly when its data column is a JSON object of strings; then
//! every field is that object's, the data written back the way the stores write it reads
//! back to the same fields, the public id, user id and device are the columns' text, times
//! are the milliseconds (negative ones the epoch) and a negative version is 0; a row that
//! does not decode is `StoreError::Corrupt`.

#![no_main]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use session_runtime::__fuzz::{self, SqlColumns};
use session_runtime::{SessionKind, StoreError};

/// The data column: any text, or a JSON object written from fields (to reach the decoding
/// of odd names and values more often than random text would).
#[derive(Arbitrary, Debug)]
enum Data {
    Text(String),
    Fields(Vec<(String, String)>),
}

#[derive(Arbitrary, Debug)]
struct Row {
    public_id: String,
    user_id: Option<String>,
    data: Data,
    created_at: i64,
    last_seen: i64,
    expires_at: i64,
    absolute_expires_at: i64,
    authenticated_at: Option<i64>,
    device: Option<String>,
    version: i64,
    kind: String,
}

fn time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fuzz_target!(|row: Row| {
    let data = match row.data {
        Data::Text(text) => text,
        Data::Fields(fields) => {
            let object: serde_json::Map<String, serde_json::Value> = fields
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            serde_json::Value::Object(object).to_string()
        }
    };
    let columns = SqlColumns {
        public_id: row.public_id.clone(),
        user_id: row.user_id.clone(),
        data: data.clone(),
        created_at: row.created_at,
        last_seen: row.last_seen,
        expires_at: row.expires_at,
        absolute_expires_at: row.absolute_expires_at,
        authenticated_at: row.authenticated_at,
        device: row.device.clone(),
        version: row.version,
        kind: row.kind.clone(),
    };
    let reference = serde_json::from_str::<serde_json::Value>(&data)
        .ok()
        .and_then(|value| match value {
            serde_json::Value::Object(object) => object
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(v) => Some((k, v)),
                    _ => None,
                })
                .collect::<Option<BTreeMap<String, String>>>(),
            _ => None,
        });
    let kind = SessionKind::parse(&row.kind);
    match __fuzz::record_from_sql(columns.clone()) {
        Ok(record) => {
            assert_eq!(Some(&record.data), reference.as_ref());
            assert_eq!(Some(record.kind), kind);
            let written = __fuzz::encode_sql_data(&record.data);
            let again = __fuzz::record_from_sql(SqlColumns {
                data: written,
                ..columns
            })
            .expect("the data the stores write reads back");
            assert_eq!(again, record);
            assert_eq!(record.public_id.as_str(), row.public_id);
            assert_eq!(record.user_id, row.user_id);
            assert_eq!(record.device, row.device);
            assert_eq!(record.created_at, time(row.created_at));
            assert_eq!(record.last_seen, time(row.last_seen));
            assert_eq!(record.expires_at, time(row.expires_at));
            assert_eq!(record.absolute_expires_at, time(row.absolute_expires_at));
            assert_eq!(record.authenticated_at, row.authenticated_at.map(time));
            assert_eq!(record.version, u64::try_from(row.version).unwrap_or(0));
        }
        Err(error) => {
            assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
            assert!(
                reference.is_none() || kind.is_none(),
                "{data:?} {:?}",
                row.kind
            );
        }
    }
});
