//! The request's [`Context`]: what the request loaded, what its handler changed, and the
//! synchronous reads and writes of fields.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use http::HeaderValue;

use super::evolution::Schemas;
use super::shared::Shared;
use crate::error::SessionError;
use crate::record::{Record, SessionKind, Update};
use crate::token::{PublicId, SessionKey, Token};

/// The most characters of a `User-Agent` kept as a device label.
const DEVICE_LABEL_MAX: usize = 120;

/// One request's session. Created by the first extractor that asks (see `service.rs`); a
/// request whose handler ignores the session has none.
pub(crate) struct Context {
    /// The layer's store, configuration and hooks.
    pub(crate) shared: Arc<Shared>,
    /// "Now" for every decision of this request: read once, when the context is created.
    pub(crate) now: SystemTime,
    /// Everything else, under one lock: a request takes it a few times, never across an
    /// `.await`.
    state: Mutex<State>,
}

/// The store failed while loading the session; the request must not run without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LoadFailed;

/// The record this request is bound to.
#[derive(Debug, Clone)]
pub(crate) struct Bound {
    pub(crate) token: Token,
    pub(crate) key: SessionKey,
    /// The record as the store has it, with every change this request saved applied.
    /// Boxed where it is loaded: the load hands it through several futures and the
    /// state, and a box moves as one word where the record is 192 bytes.
    pub(crate) record: Box<Record>,
    /// Created during this request: its token has never been sent, so it needs no rotation.
    pub(crate) fresh: bool,
}

/// What the response should do with the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum CookieOut {
    /// Nothing.
    #[default]
    Keep,
    /// Send the bound token (a new session, a rotation or refreshed expiry).
    Set,
    /// Remove the cookie (logout, or a stale cookie).
    Remove,
}

/// The mutable part of a [`Context`].
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Whether the session was loaded, once an extractor asked for it.
    pub(crate) loaded: Option<Result<(), LoadFailed>>,
    /// The request carried a cookie of the session's name, valid or not (known once loaded).
    pub(crate) had_cookie: bool,
    /// The request's `User-Agent`, for the device label of a session it creates.
    pub(crate) user_agent: Option<HeaderValue>,
    /// The stored session, if the request has one.
    pub(crate) bound: Option<Bound>,
    /// The handler's changes not yet written to the store (for a guest without a record:
    /// all of its data).
    pub(crate) pending: Update,
    /// A privilege field changed: rotate the token when saving.
    pub(crate) rotate_pending: bool,
    pub(crate) cookie: CookieOut,
    /// Other cookies of this crate the response sets or removes, whole `Set-Cookie` values
    /// (a feature's own, such as the CSRF cookie of a visitor without a session).
    pub(crate) other_cookies: Vec<HeaderValue>,
    /// The schemas this request viewed the session through: their keys are live.
    pub(crate) schemas: Schemas,
    /// This device's remember-me series: the one its cookie names, or the one this
    /// request remembered or restored it with (`session/remember.rs`).
    pub(crate) remember_series: Option<SessionKey>,
    /// The request carried a remember cookie, valid or not.
    pub(crate) remember_present: bool,
    /// The remember cookie's `Set-Cookie` for the response, if it changes.
    pub(crate) remember_cookie: Option<HeaderValue>,
    /// The request carried `Authorization: Bearer`: an API client, which gets no cookie.
    pub(crate) bearer: bool,
}

impl State {
    /// Forgets the bound record and all data: the session is now anonymous and empty.
    pub(crate) fn reset(&mut self) {
        self.bound = None;
        self.pending = Update::default();
        self.rotate_pending = false;
    }

    /// Forgets the session and removes its cookie: it ended (logout, revocation, a record
    /// that vanished meanwhile).
    pub(crate) fn end(&mut self) {
        self.reset();
        self.cookie = CookieOut::Remove;
    }

    /// Binds the request to a record (loaded, or created by a login), with no pending change.
    pub(crate) fn bind(&mut self, token: Token, key: SessionKey, record: Box<Record>, fresh: bool) {
        self.bound = Some(Bound {
            token,
            key,
            record,
            fresh,
        });
        self.pending = Update::default();
        self.rotate_pending = false;
        if fresh {
            self.cookie = CookieOut::Set;
        }
    }

    /// Takes the pending changes out, to be written.
    pub(crate) fn take_pending(&mut self) -> Update {
        std::mem::take(&mut self.pending)
    }

    /// The changes [`take_pending`](Self::take_pending) gave are in the store: they become
    /// part of the bound record.
    pub(crate) fn saved(&mut self, update: Update) {
        if let Some(b) = self.bound.as_mut() {
            update.apply_owned(&mut b.record);
        }
    }

    /// The changes [`take_pending`](Self::take_pending) gave were not written: they are
    /// pending again, under any made since.
    pub(crate) fn unsaved(&mut self, mut update: Update) {
        update.last_seen = None;
        update.expires_at = None;
        let newer = std::mem::replace(&mut self.pending, update);
        for name in newer.remove {
            self.pending.remove_field(&name);
        }
        for (name, value) in newer.set {
            self.pending.set_field(&name, value);
        }
    }

    /// One field's JSON text, with this request's changes.
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        match self.pending.field(name) {
            Some(changed) => changed,
            None => self
                .bound
                .as_ref()?
                .record
                .data
                .get(name)
                .map(String::as_str),
        }
    }

    /// The stored fields (before this request's changes).
    pub(crate) fn stored(&self) -> impl Iterator<Item = (&str, &str)> {
        self.bound
            .iter()
            .flat_map(|b| b.record.data.iter())
            .map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Every field, with this request's changes.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        let stored = self
            .stored()
            .filter(|(name, _)| self.pending.field(name).is_none());
        let set = self
            .pending
            .set
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()));
        stored.chain(set)
    }

    /// Every field, with this request's changes, as an owned map.
    pub(crate) fn data(&self) -> BTreeMap<String, String> {
        self.fields()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    /// The logged-in user (canonical JSON of the id), if any.
    pub(crate) fn user_id(&self) -> Option<&str> {
        self.bound.as_ref()?.record.user_id.as_deref()
    }

    /// A short label of the client, from the request's `User-Agent`.
    pub(crate) fn device_label(&self) -> Option<String> {
        let ua = self.user_agent.as_ref()?.to_str().ok()?;
        let label: String = ua
            .chars()
            .filter(|c| !c.is_control())
            .take(DEVICE_LABEL_MAX)
            .collect();
        let label = label.trim();
        (!label.is_empty()).then(|| label.to_owned())
    }
}

impl Context {
    /// The context of a request that just asked for its session: "now" is this moment.
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            now: shared.config.clock.now(),
            shared,
            state: Mutex::new(State::default()),
        }
    }

    /// The state, even if a panicking handler poisoned the lock (the data stays consistent:
    /// every change is applied under one lock acquisition).
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The expiry of a session used now, given its absolute deadline.
    pub(crate) fn expiry(&self, absolute: SystemTime) -> SystemTime {
        (self.now + self.shared.config.idle_timeout).min(absolute)
    }

    /// The expiry of `record` used now: rolling for a browser's session, fixed at its
    /// absolute deadline for the kinds without an idle timeout (API tokens, remembered
    /// devices).
    pub(crate) fn expiry_of(&self, record: &Record) -> SystemTime {
        match record.kind {
            SessionKind::Browser => self.expiry(record.absolute_expires_at),
            _ => record.absolute_expires_at,
        }
    }

    /// How long the cookie should live.
    pub(crate) fn max_age(&self, expires_at: SystemTime) -> Duration {
        expires_at.duration_since(self.now).unwrap_or_default()
    }

    /// A new record owned by `user_id` holding `data`, created now; `device`: the
    /// [`State::device_label`].
    pub(crate) fn new_record(
        &self,
        user_id: Option<String>,
        data: BTreeMap<String, String>,
        device: Option<String>,
    ) -> Record {
        let absolute = self.now + self.shared.config.absolute_timeout;
        Record {
            public_id: PublicId::generate(),
            authenticated_at: user_id.as_ref().map(|_| self.now),
            user_id,
            data,
            created_at: self.now,
            last_seen: self.now,
            expires_at: self.expiry(absolute),
            absolute_expires_at: absolute,
            device,
            version: 0,
            kind: SessionKind::Browser,
        }
    }

    // ---- field access, synchronous ----

    /// Runs `f` on one field's JSON text, under the lock: no copy of it is made.
    pub(crate) fn with_value<R>(&self, name: &str, f: impl FnOnce(Option<&str>) -> R) -> R {
        f(self.state().value(name))
    }

    /// Runs `f` on the user id's JSON text, under the lock.
    pub(crate) fn with_user_id_json<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        self.state().user_id().map(f)
    }

    /// Whether the request carried `Authorization: Bearer` (known once loaded).
    pub(crate) fn is_bearer(&self) -> bool {
        self.state().bearer
    }

    /// Whether the request has a stored session (loaded, or created by a login).
    pub(crate) fn has_record(&self) -> bool {
        self.state().bound.is_some()
    }

    /// Adds a cookie of this crate, besides the session cookie, to the response: a whole
    /// `Set-Cookie` value, set or removed by a feature (see `State::other_cookies`).
    pub(crate) fn send_cookie(&self, set_cookie: HeaderValue) {
        self.state().other_cookies.push(set_cookie);
    }

    /// The stored session's public id.
    pub(crate) fn public_id(&self) -> Option<PublicId> {
        self.state()
            .bound
            .as_ref()
            .map(|b| b.record.public_id.clone())
    }

    /// When the user last proved their identity in this session, or `None` for a guest.
    pub(crate) fn authenticated_at(&self) -> Option<SystemTime> {
        let st = self.state();
        st.user_id()?;
        st.bound.as_ref()?.record.authenticated_at
    }

    /// Sets a field to a JSON value; refuses, changing nothing, past the size cap.
    pub(crate) fn set_value(
        &self,
        name: &str,
        json: String,
        privileged: bool,
    ) -> Result<(), SessionError> {
        let mut st = self.state();
        let old_len = match st.value(name) {
            Some(old) if *old == json => return Ok(()),
            Some(old) => name.len() + old.len(),
            None => 0,
        };
        let limit = self.shared.config.max_data_bytes;
        let current: usize = st.fields().map(|(n, v)| n.len() + v.len()).sum();
        let size = current - old_len + name.len() + json.len();
        if size > limit {
            return Err(SessionError::TooLarge { size, limit });
        }
        st.pending.set_field(name, json);
        if privileged {
            st.rotate_pending = true;
        }
        Ok(())
    }

    /// Removes a field (back to its default) and gives its JSON text, if it was set.
    pub(crate) fn take_value(&self, name: &str, privileged: bool) -> Option<String> {
        let mut st = self.state();
        let json = st.value(name)?.to_owned();
        st.pending.remove_field(name);
        if privileged {
            st.rotate_pending = true;
        }
        Some(json)
    }

    /// Removes a field (back to its default).
    pub(crate) fn remove_value(&self, name: &str, privileged: bool) {
        let mut st = self.state();
        if st.value(name).is_none() {
            return;
        }
        st.pending.remove_field(name);
        if privileged {
            st.rotate_pending = true;
        }
    }
}
