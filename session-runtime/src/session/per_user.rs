//! The logged-in user's sessions, from inside a request: list them, revoke one, log out the
//! others or everywhere.

use super::state::Context;
use crate::admin::{SessionSummary, summaries};
use crate::error::SessionError;
use crate::token::{PublicId, SessionKey};

impl Context {
    /// The logged-in user (canonical JSON), this session's key and public id.
    fn owner(&self) -> Option<(String, SessionKey, PublicId)> {
        let st = self.state();
        let b = st.bound.as_ref()?;
        Some((b.record.user_id.clone()?, b.key, b.record.public_id.clone()))
    }

    pub(crate) async fn list_mine(&self) -> Result<Vec<SessionSummary>, SessionError> {
        let Some((user, _, current)) = self.owner() else {
            return Ok(Vec::new());
        };
        let infos = self.shared.store.list_user(&user, self.now).await?;
        Ok(summaries(infos, Some(&current)))
    }

    pub(crate) async fn revoke_mine(&self, id: &PublicId) -> Result<bool, SessionError> {
        let Some((user, _, current)) = self.owner() else {
            return Ok(false);
        };
        if !id.can_name_a_session() {
            // Not an id this library makes: it names no session, and the store need not
            // see whatever bytes a URL carried.
            return Ok(false);
        }
        if *id == current {
            self.logout().await?;
            return Ok(true);
        }
        // Unknown ids and other users' ids take the same path and give the same answer.
        Ok(self.shared.store.delete_public(&user, id).await?)
    }

    /// Ends the user's other browser sessions and every remembered device (this one's
    /// too); API tokens stay.
    pub(crate) async fn logout_others(&self) -> Result<u64, SessionError> {
        let Some((user, _, current)) = self.owner() else {
            return Ok(0);
        };
        let ended = self.end_browser_sessions(&user, &current).await?;
        self.drop_remember_cookie();
        Ok(ended)
    }

    /// Ends every other session of the user, of every kind (after a password change: API
    /// tokens and remembered devices too).
    pub(crate) async fn end_all_others(&self) -> Result<u64, SessionError> {
        let Some((user, key, _)) = self.owner() else {
            return Ok(0);
        };
        let ended = self.shared.store.delete_user(&user, Some(&key)).await?;
        self.drop_remember_cookie();
        Ok(ended)
    }

    pub(crate) async fn logout_everywhere(&self) -> Result<u64, SessionError> {
        let Some(user) = self.state().user_id().map(str::to_owned) else {
            return Ok(0);
        };
        let ended = self.shared.store.delete_user(&user, None).await?;
        self.state().end();
        self.drop_remember_cookie();
        Ok(ended)
    }
}
