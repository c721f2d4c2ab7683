//! The per-request session: what the layer parsed, what the handler changed.
//!
//! The first extractor that asks for the session creates the request's [`Context`] (see
//! `service.rs`); a request whose handler ignores the session has none. The cookie is only
//! read, and the store only touched, when an extractor calls [`Context::load`], at most once
//! per request. After that, reads and writes of fields are synchronous and in memory; the
//! response phase ([`crate::commit`]) writes what changed.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use http::header::USER_AGENT;
use http::{HeaderMap, HeaderValue};

use crate::cookie::read_session_cookie;
use crate::data::Data;
use crate::error::SessionError;
use crate::record::{Record, Snapshot};
use crate::shared::Shared;
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
    /// Everything else, under one lock: a request takes it a few times, never across an
    /// `.await`.
    state: Mutex<State>,
}

/// A load that is finished, or the store round trip that will finish it.
enum Loading<'a> {
    /// Loaded (or failed) without waiting: the session was loaded before, there was no
    /// cookie, or the store is a [`MemoryStore`](crate::MemoryStore). The state's lock is
    /// still held, for the caller to read what it loaded for.
    Done(Result<(), LoadFailed>, MutexGuard<'a, State>),
    /// The store must be asked; boxed, so that the extractors' futures stay small.
    Pending(Pin<Box<dyn Future<Output = Result<(), LoadFailed>> + Send>>),
}

/// What the store had for the request's token.
enum Fetched {
    /// No live session (unknown, expired, revoked): remove the cookie.
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
    /// Whether the session was loaded, once an extractor asked for it.
    pub(crate) loaded: Option<Result<(), LoadFailed>>,
    /// The request carried a cookie of the session's name, valid or not (known once loaded).
    pub(crate) had_cookie: bool,
    /// The request's `User-Agent`, for the device label of a session it creates.
    user_agent: Option<HeaderValue>,
    pub(crate) bound: Option<Bound>,
    /// The fields, with this request's changes; those not yet written are marked unsaved.
    pub(crate) data: Data,
    /// The user id as canonical JSON text.
    pub(crate) user_id: Option<Arc<str>>,
    /// A privilege field changed: rotate the token when saving.
    pub(crate) rotate_pending: bool,
    pub(crate) cookie: CookieOut,
    /// The schemas this request viewed the session through: their keys are live.
    pub(crate) schemas: Schemas,
}

/// The stored keys of the schemas this request viewed the session through: nearly always
/// one, kept inline. Their keys are live; any other stored key is stale (`evolution.rs`).
#[derive(Debug, Default)]
pub(crate) struct Schemas {
    first: Option<&'static [&'static str]>,
    more: Vec<&'static [&'static str]>,
}

impl Schemas {
    /// The key lists of every schema registered.
    pub(crate) fn all(&self) -> impl Iterator<Item = &'static [&'static str]> {
        self.first.into_iter().chain(self.more.iter().copied())
    }

    /// Whether no schema was registered yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// Records that the request views the session through a schema with these keys.
    pub(crate) fn register(&mut self, keys: &'static [&'static str]) {
        if self.first.is_none() {
            self.first = Some(keys);
        } else if !self.all().any(|known| std::ptr::eq(known, keys)) {
            self.more.push(keys);
        }
    }
}

impl State {
    /// Forgets the bound record and all data: the session is now anonymous and empty.
    pub(crate) fn reset(&mut self) {
        self.bound = None;
        self.data.clear();
        self.user_id = None;
        self.rotate_pending = false;
    }

    /// Binds the request to a record (loaded, or created by a login).
    pub(crate) fn bind(&mut self, token: Token, key: SessionKey, record: Snapshot, fresh: bool) {
        self.bound = Some(Bound {
            token,
            key,
            public_id: record.public_id,
            last_seen: record.last_seen,
            expires_at: record.expires_at,
            absolute_expires_at: record.absolute_expires_at,
            authenticated_at: record.authenticated_at,
            fresh,
        });
        self.data = Data::new(record.fields);
        self.user_id = record.user_id;
        self.rotate_pending = false;
        if fresh {
            self.cookie = CookieOut::Set;
        }
    }

    /// Makes what the store had the request's session.
    fn adopt(&mut self, fetched: Fetched) {
        match fetched {
            Fetched::Stale => self.cookie = CookieOut::Remove,
            Fetched::Found(token, key, snapshot) => self.bind(token, key, snapshot, false),
        }
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

    /// Loads the session, once per request: reads the session cookie from the request's
    /// `headers`, then the record it names. `keys`: the stored keys of the schema the
    /// caller views the session through (see `evolution.rs`).
    ///
    /// Unknown, expired and malformed tokens give an anonymous session (and the stale cookie
    /// is removed in the response); they are never adopted.
    pub(crate) async fn load(
        self: &Arc<Self>,
        headers: &HeaderMap,
        keys: Option<&'static [&'static str]>,
    ) -> Result<(), LoadFailed> {
        self.load_then(headers, keys, |_| ()).await
    }

    /// [`load`](Self::load), then `read` on the state: under the lock the load took, when it
    /// did not wait for the store (a guard reads the user id that way, in one lock).
    pub(crate) async fn load_then<R>(
        self: &Arc<Self>,
        headers: &HeaderMap,
        keys: Option<&'static [&'static str]>,
        read: impl FnOnce(&State) -> R,
    ) -> Result<R, LoadFailed> {
        let fetch = match self.start_load(headers, keys) {
            Loading::Done(result, st) => return result.map(|()| read(&st)),
            Loading::Pending(fetch) => fetch,
        };
        fetch.await?;
        Ok(read(&self.state()))
    }

    /// Does what [`load`](Self::load) can do without waiting, all under one lock; gives
    /// back the store round trip that is left, if any.
    fn start_load(
        self: &Arc<Self>,
        headers: &HeaderMap,
        keys: Option<&'static [&'static str]>,
    ) -> Loading<'_> {
        let mut st = self.state();
        if let Some(keys) = keys {
            st.schemas.register(keys);
        }
        if let Some(done) = st.loaded {
            return Loading::Done(done, st);
        }
        let (incoming, had_cookie) = read_session_cookie(headers, &self.shared.config.cookie.name);
        st.had_cookie = had_cookie;
        st.user_agent = headers.get(USER_AGENT).cloned();
        let Some(token) = incoming else {
            if had_cookie {
                st.cookie = CookieOut::Remove;
            }
            st.loaded = Some(Ok(()));
            return Loading::Done(Ok(()), st);
        };
        let key = token.key();
        match (&self.shared.memory, &self.shared.auth) {
            (Some(memory), None) => {
                // Bound straight from the store's copy, without going through `Fetched`.
                match memory.snapshot(&key, self.now) {
                    Some(snapshot) => st.bind(token, key, snapshot, false),
                    None => st.cookie = CookieOut::Remove,
                }
                st.loaded = Some(Ok(()));
                Loading::Done(Ok(()), st)
            }
            _ => {
                drop(st);
                let ctx = self.clone();
                Loading::Pending(Box::pin(async move {
                    let fetched = ctx.fetch(token, key).await;
                    // Should two loads of one request overlap, the first to finish is
                    // adopted and the other discarded.
                    let mut st = ctx.state();
                    if st.loaded.is_none() {
                        let result = fetched.map(|fetched| st.adopt(fetched));
                        st.loaded = Some(result);
                    }
                    st.loaded.unwrap_or(Err(LoadFailed))
                }))
            }
        }
    }

    /// Reads the record a token names from the store, and checks its credentials.
    async fn fetch(&self, token: Token, key: SessionKey) -> Result<Fetched, LoadFailed> {
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
        self.state().bind(token, key, record, fresh);
    }

    /// The expiry of a session used now, given its absolute deadline.
    pub(crate) fn expiry(&self, absolute: SystemTime) -> SystemTime {
        (self.now + self.shared.config.idle_timeout).min(absolute)
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
        }
    }

    /// Writes a new record under a new token, retrying on the (astronomically unlikely)
    /// collision of a token hash or public id; gives back what the request keeps of it.
    pub(crate) async fn create_record(
        &self,
        record: &mut Record,
    ) -> Result<(Token, SessionKey, Snapshot), StoreError> {
        let mut attempts = 0;
        loop {
            let token = Token::generate()?;
            let key = token.key();
            let created = match &self.shared.memory {
                Some(memory) => memory.create_now(&key, record),
                None => (self.shared.store.create(&key, record).await)
                    .map(|()| Snapshot::from(&*record)),
            };
            match created {
                Ok(snapshot) => return Ok((token, key, snapshot)),
                Err(StoreError::Conflict) if attempts < 3 => {
                    attempts += 1;
                    record.public_id = PublicId::generate();
                }
                Err(e) => return Err(e),
            }
        }
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
        let limit = self.shared.config.max_data_bytes;
        if st.data.size_bound() + name.len() + json.len() > limit {
            let size = st.data.size() - old_len + name.len() + json.len();
            if size > limit {
                return Err(SessionError::TooLarge { size, limit });
            }
        }
        st.data.insert(name, json);
        if privileged {
            st.rotate_pending = true;
        }
        Ok(())
    }

    /// Removes a field (back to its default).
    pub(crate) fn remove_value(&self, name: &'static str, privileged: bool) {
        let mut st = self.state();
        if st.data.remove(name) && privileged {
            st.rotate_pending = true;
        }
    }
}
