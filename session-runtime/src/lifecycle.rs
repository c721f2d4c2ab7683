//! Identity changes that take effect in the store when awaited: login, logout, rotation.

use std::collections::BTreeMap;

use crate::context::{Context, CookieOut, State};
use crate::error::SessionError;
use crate::record::{Changes, Update};
use crate::store::StoreError;
use crate::token::{PublicId, Token};

impl Context {
    /// The changes of this request, borrowed from its state; with `refresh`, rolling expiry
    /// moves too.
    pub(crate) fn pending_changes<'a>(&self, st: &'a State, refresh: bool) -> Changes<'a> {
        let mut changes = Changes::default();
        for (name, value) in st.data.unsaved() {
            match value {
                Some(value) => changes.set.push((name, value)),
                None => changes.remove.push(name),
            }
        }
        changes.set.sort_unstable_by_key(|(name, _)| *name);
        // Fields removed from the schema since this session was written (evolution.rs).
        changes.remove.extend(st.stale_keys());
        if refresh && let Some(b) = &st.bound {
            changes.last_seen = Some(self.now);
            changes.expires_at = Some(self.expiry(b.absolute_expires_at));
        }
        changes
    }

    /// The changes of this request as a store update.
    pub(crate) fn pending_update(&self, st: &State, refresh: bool) -> Update {
        self.pending_changes(st, refresh).to_update()
    }

    /// Logs `user` (canonical JSON of the id) in under a new token; the old token dies.
    ///
    /// A guest's data, and the data of a session already logged in as `user`, is carried
    /// over; a login as a different user starts from empty data. An exclusive login (asked
    /// for, or the configured default) ends the user's other sessions; otherwise the
    /// per-user cap, if any, ends the least recently used ones.
    pub(crate) async fn login(&self, user: String, exclusive: bool) -> Result<(), SessionError> {
        let exclusive = exclusive || self.shared.config.exclusive_login;
        let (old_key, data, device) = {
            let st = self.state();
            let carry = st.user_id.as_deref().is_none_or(|current| current == user);
            let data = if carry {
                st.data.to_map()
            } else {
                BTreeMap::new()
            };
            (st.bound.as_ref().map(|b| b.key), data, st.device_label())
        };
        let data = crate::csrf::rotated(data)?;
        let mut record = self.new_record(Some(user), data, device);
        let (token, key, snapshot) = self.create_record(&mut record).await?;
        let user = record.user_id.as_deref().unwrap_or_default();
        let ended_others = if exclusive {
            self.shared
                .store
                .delete_user(user, Some(&key))
                .await
                .map(|_| ())
        } else {
            Ok(())
        };
        let ended_old = match (&ended_others, old_key) {
            (Ok(()), Some(old)) => self.shared.store.delete(&old).await.map(|_| ()),
            _ => Ok(()),
        };
        if let Err(error) = ended_others.and(ended_old) {
            // The old token (and, for an exclusive login, every other session) must be dead
            // once login returns; undo rather than leave both alive.
            if let Err(undo) = self.shared.store.delete(&key).await {
                tracing::error!(%undo, "could not remove the new session of a failed login");
            }
            return Err(error.into());
        }
        if !exclusive && let Some(max) = self.shared.config.max_sessions_per_user {
            self.enforce_session_cap(user, &snapshot.public_id, max)
                .await;
        }
        self.bind(token, key, snapshot, true);
        Ok(())
    }

    /// Ends the user's least recently used sessions beyond `max`, sparing `current`.
    /// Best effort: a failure leaves the user over the cap until their next login.
    async fn enforce_session_cap(&self, user: &str, current: &PublicId, max: usize) {
        let mut sessions = match self.shared.store.list_user(user, self.now).await {
            Ok(sessions) if sessions.len() > max => sessions,
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(%error, "could not list sessions to enforce the per-user cap");
                return;
            }
        };
        sessions.retain(|s| &s.public_id != current);
        sessions.sort_by_key(|s| s.last_seen);
        let excess = sessions.len() + 1 - max;
        for victim in sessions.iter().take(excess) {
            if let Err(error) = self
                .shared
                .store
                .delete_public(user, &victim.public_id)
                .await
            {
                tracing::warn!(%error, "could not end a session beyond the per-user cap");
            }
        }
    }

    /// Deletes the session from the store and makes the request anonymous.
    pub(crate) async fn logout(&self) -> Result<(), SessionError> {
        let key = self.state().bound.as_ref().map(|b| b.key);
        if let Some(key) = &key {
            self.shared.store.delete(key).await?;
        }
        let mut st = self.state();
        st.reset();
        st.cookie = if key.is_some() || st.had_cookie {
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
        let moved = self.shared.store.rotate(&old, &key, &update).await?;
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
            st.data.mark_saved();
            st.rotate_pending = false;
            st.cookie = CookieOut::Set;
        } else {
            st.reset();
            st.cookie = CookieOut::Remove;
        }
        Ok(())
    }
}
