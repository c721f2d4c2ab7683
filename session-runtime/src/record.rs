//! The data a store exchanges with the runtime: a whole session ([`Record`]), the changes
//! one request makes to it ([`Update`]), and a session as a listing shows it
//! ([`SessionInfo`]). These three are the only shapes of a session's data that cross the
//! [`SessionStore`](crate::SessionStore) trait; a request keeps the `Record` it loaded and
//! an `Update` of its own changes, and each store keeps records in whatever form suits it.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use crate::token::PublicId;

/// Stored keys that begin with this prefix belong to the runtime (the CSRF token, `__csrf`),
/// never to a schema: they are never dropped as stale, and `Debug` never shows their values,
/// which are secrets. The derive refuses schema keys with this prefix.
pub(crate) const RUNTIME_KEY_PREFIX: &str = "__";

/// Field name → value, for `Debug`, with the values of the runtime's own keys redacted.
struct Fields<'a, I>(&'a I);

impl<'a, I> fmt::Debug for Fields<'a, I>
where
    &'a I: IntoIterator<Item = (&'a String, &'a String)>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            if name.starts_with(RUNTIME_KEY_PREFIX) {
                map.entry(name, &format_args!("<redacted>"));
            } else {
                map.entry(name, value);
            }
        }
        map.finish()
    }
}

/// One whole session, under the hash of its token ([`SessionKey`](crate::SessionKey)): what
/// [`create`](crate::SessionStore::create) writes and [`load`](crate::SessionStore::load) reads.
///
/// Field values are JSON text, one entry per schema field, so that a save can write only the
/// fields a request changed. The user id is kept apart from the data (as canonical JSON text,
/// `42` or `"alice"`) so stores can index sessions per user.
///
/// Its `Debug` shows every field's value but those of the runtime's own keys (the CSRF
/// token), which it redacts.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    /// Random id for listing and revoking; unrelated to the token.
    pub public_id: PublicId,
    /// The logged-in user's id as canonical JSON text, or `None` for a guest session.
    pub user_id: Option<String>,
    /// Field name → JSON value.
    pub data: BTreeMap<String, String>,
    /// When the session was created.
    pub created_at: SystemTime,
    /// When the session was last used (refreshed at most once per touch interval).
    pub last_seen: SystemTime,
    /// When the session expires: the earlier of idle and absolute expiry.
    pub expires_at: SystemTime,
    /// The absolute deadline, fixed at creation; rolling expiry never passes it.
    pub absolute_expires_at: SystemTime,
    /// When the user last proved their identity (the login time), for logged-in sessions.
    pub authenticated_at: Option<SystemTime>,
    /// A short label of the client, from its `User-Agent`.
    pub device: Option<String>,
    /// Incremented by the store on every write of the record.
    pub version: u64,
    /// What the record is: a browser's session, or a device's remember-me token.
    pub kind: SessionKind,
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("public_id", &self.public_id)
            .field("user_id", &self.user_id)
            .field("data", &Fields(&self.data))
            .field("created_at", &self.created_at)
            .field("last_seen", &self.last_seen)
            .field("expires_at", &self.expires_at)
            .field("absolute_expires_at", &self.absolute_expires_at)
            .field("authenticated_at", &self.authenticated_at)
            .field("device", &self.device)
            .field("version", &self.version)
            .field("kind", &self.kind)
            .finish()
    }
}

impl fmt::Debug for Update {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Update")
            .field("set", &Fields(&self.set))
            .field("remove", &self.remove)
            .field("last_seen", &self.last_seen)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Record {
    /// Whether the record has expired at `now`: a store's `load` returns no record for
    /// which this is true.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use std::time::{Duration, SystemTime};
    /// # use session_runtime::{PublicId, Record};
    /// # let now = SystemTime::now();
    /// # let record = Record {
    /// #     public_id: PublicId::new("p1"),
    /// #     user_id: Some("42".to_owned()),
    /// #     data: BTreeMap::from([("theme".to_owned(), r#""dark""#.to_owned())]),
    /// #     created_at: now,
    /// #     last_seen: now,
    /// #     expires_at: now + Duration::from_secs(30 * 60),
    /// #     absolute_expires_at: now + Duration::from_secs(12 * 60 * 60),
    /// #     authenticated_at: Some(now),
    /// #     device: None,
    /// #     version: 1,
    /// #     kind: session_runtime::SessionKind::Browser,
    /// # };
    /// // `record` expires 30 minutes from `now`.
    /// assert!(!record.is_expired(now));
    /// assert!(record.is_expired(now + Duration::from_secs(30 * 60)));
    /// ```
    #[must_use]
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at <= now
    }

    /// Bytes of field data (names and JSON values), the quantity the size cap limits.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use std::time::{Duration, SystemTime};
    /// # use session_runtime::{PublicId, Record};
    /// # let now = SystemTime::now();
    /// # let record = Record {
    /// #     public_id: PublicId::new("p1"),
    /// #     user_id: Some("42".to_owned()),
    /// #     data: BTreeMap::from([("theme".to_owned(), r#""dark""#.to_owned())]),
    /// #     created_at: now,
    /// #     last_seen: now,
    /// #     expires_at: now + Duration::from_secs(30 * 60),
    /// #     absolute_expires_at: now + Duration::from_secs(12 * 60 * 60),
    /// #     authenticated_at: Some(now),
    /// #     device: None,
    /// #     version: 1,
    /// #     kind: session_runtime::SessionKind::Browser,
    /// # };
    /// // One field: `theme` = `"dark"` (JSON text, quotes included).
    /// assert_eq!(record.data_size(), "theme".len() + r#""dark""#.len());
    /// ```
    #[must_use]
    pub fn data_size(&self) -> usize {
        self.data.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// The public view of this record, as [`list_user`](crate::SessionStore::list_user)
    /// returns it.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use std::time::{Duration, SystemTime};
    /// # use session_runtime::{PublicId, Record};
    /// # let now = SystemTime::now();
    /// # let record = Record {
    /// #     public_id: PublicId::new("p1"),
    /// #     user_id: Some("42".to_owned()),
    /// #     data: BTreeMap::from([("theme".to_owned(), r#""dark""#.to_owned())]),
    /// #     created_at: now,
    /// #     last_seen: now,
    /// #     expires_at: now + Duration::from_secs(30 * 60),
    /// #     absolute_expires_at: now + Duration::from_secs(12 * 60 * 60),
    /// #     authenticated_at: Some(now),
    /// #     device: None,
    /// #     version: 1,
    /// #     kind: session_runtime::SessionKind::Browser,
    /// # };
    /// let info = record.info();
    /// assert_eq!(info.public_id, record.public_id);
    /// assert_eq!(info.user_id.as_deref(), Some("42"));
    /// assert_eq!(info.expires_at, record.expires_at);
    /// ```
    #[must_use]
    pub fn info(&self) -> SessionInfo {
        SessionInfo {
            public_id: self.public_id.clone(),
            user_id: self.user_id.clone(),
            device: self.device.clone(),
            created_at: self.created_at,
            last_seen: self.last_seen,
            expires_at: self.expires_at,
            kind: self.kind,
        }
    }
}

/// The changes one request makes to an existing record: only the fields it changed, so that
/// concurrent requests that change different fields both keep their change. A request builds
/// one as its handler sets and removes fields, and sends it with
/// [`update`](crate::SessionStore::update) or [`rotate`](crate::SessionStore::rotate). A
/// name is never both in `set` and in `remove`.
///
/// Its `Debug` redacts the runtime's own keys, as [`Record`]'s does.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Update {
    /// Fields to write: name → JSON value.
    pub set: BTreeMap<String, String>,
    /// Fields to remove.
    pub remove: Vec<String>,
    /// New last-seen time, if it moves.
    pub last_seen: Option<SystemTime>,
    /// New expiry, if it moves.
    pub expires_at: Option<SystemTime>,
}

impl Update {
    /// [`apply_to`](Self::apply_to), moving the values instead of copying them.
    pub(crate) fn apply_owned(self, record: &mut Record) {
        for name in &self.remove {
            record.data.remove(name);
        }
        record.data.extend(self.set);
        if let Some(t) = self.last_seen {
            record.last_seen = t;
        }
        if let Some(t) = self.expires_at {
            record.expires_at = t;
        }
        record.version += 1;
    }

    /// Whether the update changes no field (it may still move the times).
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use session_runtime::Update;
    ///
    /// let touch = Update { last_seen: Some(SystemTime::now()), ..Update::default() };
    /// assert!(touch.changes_no_field());
    ///
    /// let mut save = Update::default();
    /// save.set.insert("theme".to_owned(), r#""dark""#.to_owned());
    /// assert!(!save.changes_no_field());
    /// ```
    #[must_use]
    pub fn changes_no_field(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }

    /// What the update says of one field: `Some(Some(value))` set, `Some(None)` removed,
    /// `None` untouched.
    pub(crate) fn field(&self, name: &str) -> Option<Option<&str>> {
        match self.set.get(name) {
            Some(value) => Some(Some(value)),
            None => self.remove.iter().any(|n| n == name).then_some(None),
        }
    }

    /// Sets a field, replacing any earlier change of it.
    pub(crate) fn set_field(&mut self, name: &str, value: String) {
        self.remove.retain(|n| n != name);
        self.set.insert(name.to_owned(), value);
    }

    /// Removes a field, replacing any earlier change of it.
    pub(crate) fn remove_field(&mut self, name: &str) {
        self.set.remove(name);
        if !self.remove.iter().any(|n| n == name) {
            self.remove.push(name.to_owned());
        }
    }

    /// Applies the update to a record in memory (what every store does, in its own way),
    /// and counts the write in its `version`.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// # use std::time::{Duration, SystemTime};
    /// # use session_runtime::{PublicId, Record};
    /// # let now = SystemTime::now();
    /// # let mut record = Record {
    /// #     public_id: PublicId::new("p1"),
    /// #     user_id: Some("42".to_owned()),
    /// #     data: BTreeMap::from([("theme".to_owned(), r#""dark""#.to_owned())]),
    /// #     created_at: now,
    /// #     last_seen: now,
    /// #     expires_at: now + Duration::from_secs(30 * 60),
    /// #     absolute_expires_at: now + Duration::from_secs(12 * 60 * 60),
    /// #     authenticated_at: Some(now),
    /// #     device: None,
    /// #     version: 1,
    /// #     kind: session_runtime::SessionKind::Browser,
    /// # };
    /// use session_runtime::Update;
    ///
    /// let mut update = Update::default();
    /// update.set.insert("lang".to_owned(), r#""fr""#.to_owned());
    /// update.remove.push("theme".to_owned());
    /// update.apply_to(&mut record);
    ///
    /// assert_eq!(record.data.get("lang").map(String::as_str), Some(r#""fr""#));
    /// assert!(!record.data.contains_key("theme"));
    /// assert_eq!(record.version, 2);
    /// ```
    pub fn apply_to(&self, record: &mut Record) {
        for name in &self.remove {
            record.data.remove(name);
        }
        for (name, value) in &self.set {
            record.data.insert(name.clone(), value.clone());
        }
        if let Some(t) = self.last_seen {
            record.last_seen = t;
        }
        if let Some(t) = self.expires_at {
            record.expires_at = t;
        }
        record.version += 1;
    }
}

/// A session as a listing of a user's sessions shows it: the record without its data, which
/// [`list_user`](crate::SessionStore::list_user) need not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session's public id.
    pub public_id: PublicId,
    /// The owner's id as canonical JSON text.
    pub user_id: Option<String>,
    /// A short label of the client, from its `User-Agent`.
    pub device: Option<String>,
    /// When the session was created.
    pub created_at: SystemTime,
    /// When the session was last used.
    pub last_seen: SystemTime,
    /// When the session expires if unused.
    pub expires_at: SystemTime,
    /// What the record is: a browser's session, or a device's remember-me token.
    pub kind: SessionKind,
}

/// What a stored record is. Every kind is listed with the user's sessions, revoked by its
/// public id and ended by logout-everywhere; only a [`Browser`](Self::Browser) session is
/// ever named by a session cookie, and only an [`Api`](Self::Api) one by a bearer token.
///
/// Stores keep it as its [`as_str`](Self::as_str) text; a record written before kinds
/// existed reads as `Browser`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SessionKind {
    /// A session a browser holds through its session cookie.
    #[default]
    Browser,
    /// A device's remember-me series ([`SessionLayer::remember_me`](crate::SessionLayer::remember_me)):
    /// it logs the device in again once its browser session has ended.
    Remembered,
    /// An API token ([`Session::create_api_token`](crate::Session::create_api_token)),
    /// sent as `Authorization: Bearer TOKEN`.
    Api,
}

impl SessionKind {
    /// The text a store keeps: `browser`, `remembered` or `api`.
    ///
    /// ```
    /// use session_runtime::SessionKind;
    ///
    /// assert_eq!(SessionKind::Remembered.as_str(), "remembered");
    /// assert_eq!(SessionKind::parse("remembered"), Some(SessionKind::Remembered));
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Browser => "browser",
            Self::Remembered => "remembered",
            Self::Api => "api",
        }
    }

    /// The kind a store's text names, `None` for a text no version of this crate writes.
    ///
    /// ```
    /// use session_runtime::SessionKind;
    ///
    /// assert_eq!(SessionKind::parse("browser"), Some(SessionKind::Browser));
    /// assert_eq!(SessionKind::parse("Browser"), None);
    /// ```
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "browser" => Some(Self::Browser),
            "remembered" => Some(Self::Remembered),
            "api" => Some(Self::Api),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_runtimes_own_keys_and_shows_the_rest() {
        let now = SystemTime::now();
        let data = BTreeMap::from([
            ("__csrf".to_owned(), "\"csrf-secret-value\"".to_owned()),
            ("cart".to_owned(), "[7]".to_owned()),
        ]);
        let record = Record {
            public_id: PublicId::new("p"),
            user_id: Some("42".to_owned()),
            data: data.clone(),
            created_at: now,
            last_seen: now,
            expires_at: now,
            absolute_expires_at: now,
            authenticated_at: None,
            device: None,
            version: 1,
            kind: SessionKind::Browser,
        };
        let update = Update {
            set: data,
            ..Update::default()
        };
        for shown in [format!("{record:?}"), format!("{update:?}")] {
            assert!(!shown.contains("csrf-secret-value"), "{shown}");
            assert!(shown.contains("\"__csrf\": <redacted>"), "{shown}");
            assert!(shown.contains("[7]"), "{shown}");
        }
    }
}
