//! The per-request session: what the layer parsed, what the handler changed.
//!
//! The first extractor that asks for the session creates the request's [`Context`] (see
//! `service.rs`); a request whose handler ignores the session has none. The cookie is only
//! read, and the store only touched, when an extractor calls [`Context::load`], at most once
//! per request. After that, reads and writes of fields are synchronous and in memory; the
//! response phase ([`crate::commit`]) writes what changed.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

use http::header::USER_AGENT;
use http::{HeaderMap, HeaderValue};

use crate::cookie::read_session_cookie;
use crate::data::Data;
use crate::error::SessionError;
use crate::record::{Record, Snapshot};
use crate::service::Shared;
use crate::store::StoreError;
use crate::token::{PublicId, SessionKey, Token};

/// The most characters of a `User-Agent` kept as a device label.
const DEVICE_LABEL_MAX: usize = 120;

/// The store failed while loading the session; the request must not run without it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoadFailed;

pub(crate) struct Context {
    /// The layer's store, configuration and auth check.
    pub(crate) shared: Arc<Shared>,
    pub(crate) now: SystemTime,
    /// The request carried a cookie of the session's name, valid or not (known once loaded).
    had_cookie: AtomicBool,
    /// The request's `User-Agent`, for the device label of a session it creates.
    user_agent: OnceLock<HeaderValue>,
    loaded: OnceLock<Result<(), LoadFailed>>,
    state: Mutex<State>,
}

/// What [`Context::fetch`] found.
enum Fetched {
    /// No session cookie.
    Nothing,
    /// A cookie naming no live session (malformed, unknown, expired, revoked): remove it.
    Stale,
    /// A live session.
    Found(Token, SessionKey, Snapshot),
}

/// The record this request is bound to.
#[derive(Debug, Clone)]
pub(crate) struct Bound {
    pub(crate) token: Token,
    pub(crate) key: SessionKey,
    pub(crate) public_id: PublicId,
    pub(crate) last_seen: SystemTime,
    pub(crate) expires_at: SystemTime,
    pub(crate) absolute_expires_at: SystemTime,
    /// When the user last proved their identity (the login time).
    pub(crate) authenticated_at: Option<SystemTime>,
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

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) bound: Option<Bound>,
    pub(crate) data: Data,
    /// The user id as canonical JSON text.
    pub(crate) user_id: Option<Arc<str>>,
    /// Names of fields changed by this request and not yet written, each once.
    pub(crate) dirty: Vec<Cow<'static, str>>,
    /// A privilege field changed: rotate the token when saving.
    pub(crate) rotate_pending: bool,
    pub(crate) cookie: CookieOut,
    /// The schemas this request viewed the session through: their keys are live.
    pub(crate) schemas: crate::evolution::Schemas,
}

impl State {
    /// Notes that a field changed and must be written.
    pub(crate) fn mark_dirty(&mut self, name: &'static str) {
        if !self.dirty.iter().any(|n| n == name) {
            self.dirty.push(Cow::Borrowed(name));
        }
    }

    /// Forgets the bound record and all data: the session is now anonymous and empty.
    pub(crate) fn reset(&mut self) {
        self.bound = None;
        self.data.clear();
        self.user_id = None;
        self.dirty.clear();
        self.rotate_pending = false;
    }
}

impl Context {
    /// The context of a request that just asked for its session: "now" is this moment.
    pub(crate) fn new(shared: &Arc<Shared>) -> Self {
        Self {
            now: shared.config.clock.now(),
            shared: shared.clone(),
            had_cookie: AtomicBool::new(false),
            user_agent: OnceLock::new(),
            loaded: OnceLock::new(),
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

    /// Whether an extractor asked for the session during this request.
    pub(crate) fn was_loaded(&self) -> Option<Result<(), LoadFailed>> {
        self.loaded.get().copied()
    }

    /// Whether the request carried a cookie of the session's name, valid or not.
    pub(crate) fn had_cookie(&self) -> bool {
        self.had_cookie.load(Ordering::Relaxed)
    }

    /// Loads the session from the store, once per request: reads the session cookie from
    /// the request's `headers`, then the record it names.
    ///
    /// Unknown, expired and malformed tokens give an anonymous session (and the stale cookie
    /// is removed in the response); they are never adopted. Should two loads of one request
    /// overlap, the first to finish is adopted and the other discarded.
    pub(crate) async fn load(&self, headers: &HeaderMap) -> Result<(), LoadFailed> {
        if let Some(done) = self.loaded.get() {
            return *done;
        }
        let fetched = self.fetch(headers).await;
        *self.loaded.get_or_init(|| self.adopt(fetched))
    }

    /// Reads the cookie and the record it names.
    async fn fetch(&self, headers: &HeaderMap) -> Result<Fetched, LoadFailed> {
        let (incoming, had_cookie) = read_session_cookie(headers, &self.shared.config.cookie_name);
        self.had_cookie.store(had_cookie, Ordering::Relaxed);
        if let Some(agent) = headers.get(USER_AGENT) {
            let _ = self.user_agent.set(agent.clone());
        }
        let Some(token) = incoming else {
            return Ok(if had_cookie {
                Fetched::Stale
            } else {
                Fetched::Nothing
            });
        };
        let key = token.key();
        let found = match &self.shared.memory {
            Some(memory) => memory.snapshot(&key, self.now),
            None => match self.shared.store.load(&key, self.now).await {
                Ok(record) => record
                    .filter(|record| !record.is_expired(self.now))
                    .map(|record| Snapshot::from(&record)),
                Err(error) => {
                    tracing::error!(%error, "session store failed to load a session");
                    return Err(LoadFailed);
                }
            },
        };
        let Some(snapshot) = found else {
            return Ok(Fetched::Stale);
        };
        if !self.credentials_still_valid(&key, &snapshot).await? {
            return Ok(Fetched::Stale);
        }
        Ok(Fetched::Found(token, key, snapshot))
    }

    /// Makes what [`fetch`](Self::fetch) found the request's session.
    fn adopt(&self, fetched: Result<Fetched, LoadFailed>) -> Result<(), LoadFailed> {
        match fetched? {
            Fetched::Nothing => {}
            Fetched::Stale => self.state().cookie = CookieOut::Remove,
            Fetched::Found(token, key, snapshot) => self.bind(token, key, snapshot, false),
        }
        Ok(())
    }

    /// Runs the auth hash check, if configured, on a logged-in record; a record whose
    /// credentials changed is deleted.
    async fn credentials_still_valid(
        &self,
        key: &SessionKey,
        record: &Snapshot,
    ) -> Result<bool, LoadFailed> {
        let (Some(check), Some(user)) = (&self.shared.auth, &record.user_id) else {
            return Ok(true);
        };
        match check.matches(user, &record.fields).await {
            Ok(true) => Ok(true),
            Ok(false) => {
                tracing::info!("ending a session whose credentials changed since its login");
                if let Err(error) = self.shared.store.delete(key).await {
                    tracing::error!(%error, "session store failed to delete a stale session");
                    return Err(LoadFailed);
                }
                Ok(false)
            }
            Err(error) => {
                tracing::error!(%error, "the auth hash lookup failed; answering 503");
                Err(LoadFailed)
            }
        }
    }

    /// Binds the request to a record (loaded, or created by a login).
    pub(crate) fn bind(&self, token: Token, key: SessionKey, record: Snapshot, fresh: bool) {
        let mut st = self.state();
        st.bound = Some(Bound {
            token,
            key,
            public_id: record.public_id,
            last_seen: record.last_seen,
            expires_at: record.expires_at,
            absolute_expires_at: record.absolute_expires_at,
            authenticated_at: record.authenticated_at,
            fresh,
        });
        st.data = Data::new(record.fields);
        st.user_id = record.user_id;
        st.dirty.clear();
        st.rotate_pending = false;
        if fresh {
            st.cookie = CookieOut::Set;
        }
    }

    /// The expiry of a session used now, given its absolute deadline.
    pub(crate) fn expiry(&self, absolute: SystemTime) -> SystemTime {
        (self.now + self.shared.config.idle_timeout).min(absolute)
    }

    /// How long the cookie should live.
    pub(crate) fn max_age(&self, expires_at: SystemTime) -> Duration {
        expires_at.duration_since(self.now).unwrap_or_default()
    }

    /// A new record owned by `user_id` holding `data`, created now.
    pub(crate) fn new_record(
        &self,
        user_id: Option<String>,
        data: BTreeMap<String, String>,
    ) -> Result<Record, StoreError> {
        let absolute = self.now + self.shared.config.absolute_timeout;
        Ok(Record {
            public_id: PublicId::generate()?,
            authenticated_at: user_id.as_ref().map(|_| self.now),
            user_id,
            data,
            created_at: self.now,
            last_seen: self.now,
            expires_at: self.expiry(absolute),
            absolute_expires_at: absolute,
            device: self.device_label(),
            version: 0,
        })
    }

    /// Writes a new record under a new token, retrying on the (astronomically unlikely)
    /// collision of a token hash or public id; gives back what the request keeps of it.
    pub(crate) async fn create_record(
        &self,
        mut record: Record,
    ) -> Result<(Token, SessionKey, Snapshot), StoreError> {
        let mut attempts = 0;
        loop {
            let token = Token::generate()?;
            let key = token.key();
            let created = match &self.shared.memory {
                Some(memory) => memory.create_now(&key, &record),
                None => (self.shared.store.create(&key, &record).await)
                    .map(|()| Snapshot::from(&record)),
            };
            match created {
                Ok(snapshot) => return Ok((token, key, snapshot)),
                Err(StoreError::Conflict) if attempts < 3 => {
                    attempts += 1;
                    record.public_id = PublicId::generate()?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn device_label(&self) -> Option<String> {
        let ua = self.user_agent.get()?.to_str().ok()?;
        let label: String = ua
            .chars()
            .filter(|c| !c.is_control())
            .take(DEVICE_LABEL_MAX)
            .collect();
        let label = label.trim();
        (!label.is_empty()).then(|| label.to_owned())
    }

    // ---- field access, synchronous ----

    pub(crate) fn with_value<R>(&self, name: &str, f: impl FnOnce(Option<&str>) -> R) -> R {
        let st = self.state();
        f(st.data.get(name))
    }

    /// Runs `f` on the user id's JSON text, under the lock: no copy of it is made.
    pub(crate) fn with_user_id_json<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        self.state().user_id.as_deref().map(f)
    }

    pub(crate) fn public_id(&self) -> Option<PublicId> {
        self.state().bound.as_ref().map(|b| b.public_id.clone())
    }

    /// Sets a field to a JSON value; refuses, changing nothing, past the size cap.
    pub(crate) fn set_value(
        &self,
        name: &'static str,
        json: String,
        privileged: bool,
    ) -> Result<(), SessionError> {
        let mut st = self.state();
        let old_len = match st.data.get(name) {
            Some(old) if *old == json => return Ok(()),
            Some(old) => name.len() + old.len(),
            None => 0,
        };
        let size = st.data.size() - old_len + name.len() + json.len();
        let limit = self.shared.config.max_data_bytes;
        if size > limit {
            return Err(SessionError::TooLarge { size, limit });
        }
        st.data.insert(name, json);
        st.mark_dirty(name);
        if privileged {
            st.rotate_pending = true;
        }
        Ok(())
    }

    /// Removes a field (back to its default).
    pub(crate) fn remove_value(&self, name: &'static str, privileged: bool) {
        let mut st = self.state();
        if st.data.remove(name) {
            st.mark_dirty(name);
            if privileged {
                st.rotate_pending = true;
            }
        }
    }
}
