//! Identity changes that take effect in the store when awaited: login, logout, rotation.

use std::collections::BTreeMap;

use crate::context::{Context, CookieOut, State};
use crate::error::SessionError;
use crate::record::Update;
use crate::store::StoreError;
use crate::token::Token;

impl Context {
    /// The changes of this request as a store update; with `refresh`, rolling expiry moves too.
    pub(crate) fn pending_update(&self, st: &State, refresh: bool) -> Update {
        let mut update = Update::default();
        for name in &st.dirty {
            match st.data.get(name) {
                Some(value) => {
                    update.set.insert(name.clone(), value.clone());
                }
                None => update.remove.push(name.clone()),
            }
        }
        if refresh && let Some(b) = &st.bound {
            update.last_seen = Some(self.now);
            update.expires_at = Some(self.expiry(b.absolute_expires_at));
        }
        update
    }

    /// Logs `user` (canonical JSON of the id) in under a new token; the old token dies.
    ///
    /// A guest's data, and the data of a session already logged in as `user`, is carried
    /// over; a login as a different user starts from empty data.
    pub(crate) async fn login(&self, user: String) -> Result<(), SessionError> {
        let (old_key, data) = {
            let st = self.state();
            let carry = st.user_id.as_deref().is_none_or(|current| current == user);
            let data = if carry {
                st.data.clone()
            } else {
                BTreeMap::new()
            };
            (st.bound.as_ref().map(|b| b.key), data)
        };
        let record = self.new_record(Some(user), data)?;
        let (token, key, record) = self.create_record(record).await?;
        if let Some(old) = old_key
            && let Err(error) = self.store.delete(&old).await
        {
            // The old token must be dead once login returns; undo rather than leave both.
            if let Err(undo) = self.store.delete(&key).await {
                tracing::error!(%undo, "could not remove the new session of a failed login");
            }
            return Err(error.into());
        }
        self.bind(token, key, record, true);
        Ok(())
    }

    /// Deletes the session from the store and makes the request anonymous.
    pub(crate) async fn logout(&self) -> Result<(), SessionError> {
        let key = self.state().bound.as_ref().map(|b| b.key);
        if let Some(key) = &key {
            self.store.delete(key).await?;
        }
        let mut st = self.state();
        st.reset();
        st.cookie = if key.is_some() || self.had_cookie {
            CookieOut::Remove
        } else {
            CookieOut::Keep
        };
        Ok(())
    }

    /// Moves the session to a new token, writing this request's changes on the way.
    ///
    /// If the session was deleted meanwhile (logout or revocation elsewhere), that wins: the
    /// request becomes anonymous and the cookie is removed.
    pub(crate) async fn rotate(&self) -> Result<(), StoreError> {
        let (old, update) = {
            let st = self.state();
            match &st.bound {
                Some(b) if !b.fresh => (b.key, self.pending_update(&st, true)),
                // No session yet, or one created in this request whose token was never sent.
                _ => return Ok(()),
            }
        };
        let token = Token::generate()?;
        let key = token.key();
        let moved = self.store.rotate(&old, &key, &update).await?;
        let mut st = self.state();
        if moved {
            if let Some(b) = st.bound.as_mut() {
                b.token = token;
                b.key = key;
                if let Some(t) = update.last_seen {
                    b.last_seen = t;
                }
                if let Some(t) = update.expires_at {
                    b.expires_at = t;
                }
            }
            st.dirty.clear();
            st.rotate_pending = false;
            st.cookie = CookieOut::Set;
        } else {
            st.reset();
            st.cookie = CookieOut::Remove;
        }
        Ok(())
    }
}
