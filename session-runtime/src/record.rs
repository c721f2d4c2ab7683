//! What a store keeps for one session, and the changes a request sends it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use smallvec::SmallVec;

use crate::data::Fields;
use crate::token::PublicId;

/// One session as a store keeps it, under the hash of its token ([`SessionKey`](crate::SessionKey)).
///
/// Field values are JSON text, one entry per schema field, so that a save can write only the
/// fields a request changed. The user id is kept apart from the data (as canonical JSON text,
/// `42` or `"alice"`) so stores can index sessions per user.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl Record {
    /// Whether the record has expired at `now`.
    #[must_use]
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at <= now
    }

    /// Bytes of field data (names and JSON values), the quantity the size cap limits.
    #[must_use]
    pub fn data_size(&self) -> usize {
        self.data.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// The public view of this record.
    #[must_use]
    pub fn info(&self) -> SessionInfo {
        SessionInfo {
            public_id: self.public_id.clone(),
            user_id: self.user_id.clone(),
            device: self.device.clone(),
            created_at: self.created_at,
            last_seen: self.last_seen,
            expires_at: self.expires_at,
        }
    }
}

/// The changes one request makes to an existing record: only the fields it changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
    /// Applies the update to a record in memory (what every store does, in its own way).
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

/// An [`Update`] borrowed from where its values already are (a request's state, or an
/// `Update`): what the memory store applies without copying anything.
#[derive(Debug, Default)]
pub(crate) struct Changes<'a> {
    /// Fields to write, sorted by name. A request changes a few fields: they fit inline.
    pub(crate) set: SmallVec<[(&'a str, &'a str); 4]>,
    /// Fields to remove.
    pub(crate) remove: SmallVec<[&'a str; 4]>,
    pub(crate) last_seen: Option<SystemTime>,
    pub(crate) expires_at: Option<SystemTime>,
}

impl Changes<'_> {
    /// The owned form, for a store's [`update`](crate::SessionStore::update).
    pub(crate) fn to_update(&self) -> Update {
        Update {
            set: self
                .set
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            remove: self.remove.iter().map(|n| (*n).to_owned()).collect(),
            last_seen: self.last_seen,
            expires_at: self.expires_at,
        }
    }
}

impl<'a> From<&'a Update> for Changes<'a> {
    fn from(update: &'a Update) -> Self {
        Self {
            set: update
                .set
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            remove: update.remove.iter().map(String::as_str).collect(),
            last_seen: update.last_seen,
            expires_at: update.expires_at,
        }
    }
}

/// A session as shown in a list of a user's sessions.
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
}

/// What a request keeps of a loaded or created record. From the memory store, its fields
/// and user id are the store's own shared copies: loading one allocates nothing.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) public_id: PublicId,
    pub(crate) user_id: Option<Arc<str>>,
    pub(crate) fields: Fields,
    pub(crate) last_seen: SystemTime,
    pub(crate) expires_at: SystemTime,
    pub(crate) absolute_expires_at: SystemTime,
    pub(crate) authenticated_at: Option<SystemTime>,
}

impl From<&Record> for Snapshot {
    fn from(record: &Record) -> Self {
        Self {
            public_id: record.public_id.clone(),
            user_id: record.user_id.as_deref().map(Arc::from),
            fields: Fields::from_map(&record.data),
            last_seen: record.last_seen,
            expires_at: record.expires_at,
            absolute_expires_at: record.absolute_expires_at,
            authenticated_at: record.authenticated_at,
        }
    }
}
