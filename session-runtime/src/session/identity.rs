//! Identity changes that take effect in the store when awaited: login and logout.

use std::collections::BTreeMap;

use super::state::{Context, CookieOut};
use crate::error::SessionError;
use crate::record::SessionKind;
use crate::store::StoreError;
use crate::token::PublicId;

impl Context {
    /// Logs `user` (canonical JSON of the id) in under a new token; the old token dies.
    ///
    /// A guest's data, and the data of a session already logged in as `user`, is carried
    /// over (through the login hooks, which renew what must not survive a login); a login
    /// as a different user starts from empty data. An exclusive login (asked for, or the
    /// configured default) ends the user's other sessions; otherwise the per-user cap, if
    /// any, ends the least recently used ones. This device's remember-me series, if any,
    /// ends: a password login remembers the device only if the handler asks again.
    pub(crate) async fn login(&self, user: String, exclusive: bool) -> Result<(), SessionError> {
        if self.is_bearer() {
            return Err(SessionError::BearerSession);
        }
        let exclusive = exclusive || self.shared.config.exclusive_login;
        self.forget_device().await?;
        let (old_key, mut data, device) = {
            let st = self.state();
            let carry = st.user_id().is_none_or(|current| current == user);
            let data = if carry { st.data() } else { BTreeMap::new() };
            (st.bound.as_ref().map(|b| b.key), data, st.device_label())
        };
        for hook in &self.shared.login_hooks {
            hook.on_login(&mut data)?;
        }
        // Boxed from the start, as `Bound` keeps it: the future does not carry it whole.
        let mut record = Box::new(self.new_record(Some(user), data, device));
        let (token, key) = self.create_record(&mut record).await?;
        let user = record.user_id.as_deref().unwrap_or_default();
        // Boxed, as is the cap below: paths that only some configurations take, whose
        // futures would otherwise make every login's larger (and every login moves it).
        let ended_others = if exclusive {
            Box::pin(self.end_others(user, &record.public_id)).await
        } else {
            Ok(())
        };
        let ended_old = match (&ended_others, old_key) {
            (Ok(()), Some(old)) => self.delete_record(&old).await,
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
            Box::pin(self.enforce_session_cap(user, &record.public_id, max)).await;
        }
        self.state().bind(token, key, record, true);
        crate::observe::login(crate::observe::Login::Login);
        Ok(())
    }

    /// Ends every browser session and remembered device of `user` but the new session
    /// (public id `kept`); API tokens stay. A failure with an unknown outcome is read back:
    /// if none of them is left, they ended.
    async fn end_others(&self, user: &str, kept: &PublicId) -> Result<(), StoreError> {
        let Err(error) = self.end_browser_sessions(user, kept).await else {
            return Ok(());
        };
        if error.outcome_unknown()
            && let Ok(left) = self.shared.store.list_user(user, self.now).await
            && left
                .iter()
                .all(|s| &s.public_id == kept || s.kind == SessionKind::Api)
        {
            super::write::confirmed_by_reading_back(&error);
            return Ok(());
        }
        Err(error)
    }

    /// Deletes the user's browser sessions and remembered devices but `kept`, one by one;
    /// how many ended. API tokens stay: a script's credential is not a browser's session.
    pub(crate) async fn end_browser_sessions(
        &self,
        user: &str,
        kept: &PublicId,
    ) -> Result<u64, StoreError> {
        let store = &self.shared.store;
        let mut ended = 0;
        for s in store.list_user(user, self.now).await? {
            if &s.public_id != kept
                && s.kind != SessionKind::Api
                && store.delete_public(user, &s.public_id).await?
            {
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// Ends the user's least recently used browser sessions beyond `max`, sparing
    /// `current` (remembered devices do not count). Best effort: a failure leaves the user
    /// over the cap until their next login.
    pub(crate) async fn enforce_session_cap(&self, user: &str, current: &PublicId, max: usize) {
        let mut sessions = match self.shared.store.list_user(user, self.now).await {
            Ok(mut sessions) => {
                sessions.retain(|s| s.kind == SessionKind::Browser);
                if sessions.len() <= max {
                    return;
                }
                sessions
            }
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

    /// Deletes the session, and this device's remember-me series, from the store and makes
    /// the request anonymous.
    pub(crate) async fn logout(&self) -> Result<(), SessionError> {
        let key = self.state().bound.as_ref().map(|b| b.key);
        if let Some(key) = &key {
            self.delete_record(key).await?;
        }
        self.forget_device().await?;
        let mut st = self.state();
        st.reset();
        st.cookie = if key.is_some() || st.had_cookie {
            CookieOut::Remove
        } else {
            CookieOut::Keep
        };
        Ok(())
    }
}
