//! The load path: the session cookie, then the record it names, then the checks that may
//! end it. At most once per request, when an extractor first asks.

use http::HeaderMap;
use http::header::{AUTHORIZATION, USER_AGENT};

use super::state::{Context, CookieOut, LoadFailed};
use crate::cookie::{MAX_CANDIDATES, read_session_cookie};
use crate::key::Check;
use crate::record::{Record, SessionKind};
use crate::store::StoreError;
use crate::token::{SessionKey, Token};

impl Context {
    /// Loads the session, once per request: reads the session cookie from the request's
    /// `headers`, then the record it names. `keys`: the stored keys of the schema the
    /// caller views the session through (see `evolution.rs`).
    ///
    /// Unknown, expired and malformed tokens give an anonymous session (and the stale cookie
    /// is removed in the response); they are never adopted. When the request carries
    /// several session cookies (one may be planted by a sibling subdomain), each
    /// well-formed token is tried in turn, up to [`MAX_CANDIDATES`], and the first that
    /// names a live session wins; the cookie is removed only if none does.
    ///
    /// With remember me configured, a request without a live session whose remember cookie
    /// is valid is logged in again here (`remember.rs`): a new session, bound as if a
    /// login had just made it.
    pub(crate) async fn load(
        &self,
        headers: &HeaderMap,
        keys: Option<&'static [&'static str]>,
    ) -> Result<(), LoadFailed> {
        {
            let mut st = self.state();
            if let Some(keys) = keys {
                st.schemas.register(keys);
            }
            if let Some(done) = st.loaded {
                return done;
            }
            st.user_agent = headers.get(USER_AGENT).cloned();
        }
        if let Some(bearer) = bearer_token(headers) {
            // An API client: its token alone decides; cookies are not even read.
            self.state().bearer = true;
            let found = match bearer {
                Some(token) => self
                    .fetch(&token, SessionKind::Api)
                    .await
                    .map(|f| f.map(|(key, record)| (token, key, record))),
                None => Ok(None),
            };
            return self.adopt(found, false, false);
        }
        let name = &self.shared.config.cookie.name;
        let mut had_cookie = false;
        let mut found = Ok(None);
        for nth in 0..MAX_CANDIDATES {
            let (token, present) = read_session_cookie(headers, name, nth);
            had_cookie |= present;
            let Some(token) = token else {
                break;
            };
            found = self
                .fetch(&token, SessionKind::Browser)
                .await
                .map(|f| f.map(|(key, record)| (token, key, record)));
            // A live session, or a store that failed: either way, no other candidate.
            if !matches!(found, Ok(None)) {
                break;
            }
        }
        let mut restored = false;
        if let Some(remember) = self.shared.remember.as_deref() {
            let (cookie, present) = remember.read(headers);
            {
                let mut st = self.state();
                st.remember_present = present;
                st.remember_series = cookie.as_ref().map(|c| c.series.key());
            }
            match cookie {
                Some(cookie) if matches!(found, Ok(None)) => {
                    // Boxed: a rare path whose future is larger than the rest of the load's
                    // together, and every request would otherwise carry (and move) it.
                    found = Box::pin(self.restore(remember, cookie)).await;
                    restored = matches!(found, Ok(Some(_)));
                }
                // A remember cookie that is not `SERIES.TOKEN`: it logs nobody in.
                None if present => self.drop_remember_cookie(),
                _ => {}
            }
        }
        self.adopt(found, had_cookie, restored)
    }

    /// Binds the request to what its load found. Should two loads of one request overlap,
    /// the first to finish is adopted.
    fn adopt(
        &self,
        found: Result<Option<(Token, SessionKey, Box<Record>)>, LoadFailed>,
        had_cookie: bool,
        restored: bool,
    ) -> Result<(), LoadFailed> {
        let mut st = self.state();
        if st.loaded.is_none() {
            st.had_cookie = had_cookie;
            st.loaded = Some(found.map(|found| match found {
                // No live session (unknown, expired, revoked, credentials changed).
                None if had_cookie => st.cookie = CookieOut::Remove,
                None => {}
                Some((token, key, record)) => st.bind(token, key, record, restored),
            }));
        }
        st.loaded.unwrap_or(Err(LoadFailed))
    }

    /// Reads the live record of `kind` a token names from the store, and checks its
    /// credentials. A record of another kind is no session for this carrier (the series id
    /// of a remember cookie, or an API token, sent as a session cookie; a browser's token
    /// sent as a bearer token).
    async fn fetch(
        &self,
        token: &Token,
        kind: SessionKind,
    ) -> Result<Option<(SessionKey, Box<Record>)>, LoadFailed> {
        let key = token.key();
        let store = &self.shared.store;
        // `if let`, not `match`: the store's answer is out of the future's state before the
        // wait (the scrutinee is dropped before `else`), so the future does not carry a
        // record-sized slot for it; `live` takes the answer by value, likewise.
        let loaded = if let Some(loaded) = store.load_now(&key, self.now) {
            loaded
        } else {
            store.load(&key, self.now).await
        };
        let Some(record) = self.live(loaded, kind)? else {
            return Ok(None);
        };
        // Only with an auth hash check configured; boxed, so that the load's future (which
        // every request moves around) does not carry the check's.
        if self.shared.auth.is_some()
            && !Box::pin(self.credentials_still_valid(&key, &record)).await?
        {
            return Ok(None);
        }
        Ok(Some((key, record)))
    }

    /// The record of a store's answer to a load, boxed, if it is live and of `kind`.
    fn live(
        &self,
        loaded: Result<Option<Record>, StoreError>,
        kind: SessionKind,
    ) -> Result<Option<Box<Record>>, LoadFailed> {
        match loaded {
            Ok(Some(record)) if !record.is_expired(self.now) && record.kind == kind => {
                Ok(Some(Box::new(record)))
            }
            Ok(_) => Ok(None),
            Err(error) => {
                tracing::error!(%error, "session store failed to load a session");
                Err(LoadFailed)
            }
        }
    }

    /// Runs the auth hash check, if configured, on a logged-in record; a record whose
    /// credentials changed is deleted.
    pub(crate) async fn credentials_still_valid(
        &self,
        key: &SessionKey,
        record: &Record,
    ) -> Result<bool, LoadFailed> {
        let (Some(check), Some(user)) = (&self.shared.auth, &record.user_id) else {
            return Ok(true);
        };
        match check.matches(user, &record.data).await {
            Ok(true) => Ok(true),
            Ok(false) => {
                tracing::info!("ending a session whose credentials changed since its login");
                if let Err(error) = self.delete_record(key).await {
                    tracing::error!(%error, "session store failed to delete a stale session");
                    return Err(LoadFailed);
                }
                crate::observe::revocations(crate::observe::Revocation::AuthHash, 1);
                Ok(false)
            }
            Err(error) => {
                tracing::error!(%error, "the auth hash lookup failed; answering 503");
                Err(LoadFailed)
            }
        }
    }

    /// For a `#[session(strict)]` schema: a session holding a value that no longer decodes
    /// (`checks`, one per field and the user id) is logged out, and the request goes on as
    /// anonymous.
    pub(crate) async fn discard_if_undecodable(&self, checks: &[Check]) -> Result<(), LoadFailed> {
        let failed = {
            let st = self.state();
            checks.iter().find_map(|check| {
                let (name, json) = match check.field {
                    Some(name) => (name, st.value(name)),
                    None => ("user_id", st.user_id()),
                };
                json.filter(|json| !(check.decodes)(json)).map(|_| name)
            })
        };
        if let Some(field) = failed {
            tracing::warn!(
                field,
                "stored session value does not decode into the strict schema; discarding the session"
            );
            Box::pin(self.logout()).await.map_err(|_| LoadFailed)?;
        }
        Ok(())
    }
}

/// The token of an `Authorization: Bearer TOKEN` header: `None` without such a header (the
/// request is a browser's), `Some(None)` for one whose token is malformed.
fn bearer_token(headers: &HeaderMap) -> Option<Option<Token>> {
    let value = headers.get(AUTHORIZATION)?.as_bytes().trim_ascii();
    let (scheme, token) = match value.iter().position(|b| *b == b' ') {
        Some(space) => (&value[..space], &value[space + 1..]),
        None => (value, &[][..]),
    };
    scheme
        .eq_ignore_ascii_case(b"bearer")
        .then(|| Token::parse(token.trim_ascii()))
}

/// Whether the request carries an `Authorization: Bearer` header, valid or not: such a
/// request never uses a cookie, so cross-site request forgery does not apply to it.
pub(crate) fn carries_bearer(headers: &HeaderMap) -> bool {
    bearer_token(headers).is_some()
}
