//! A user's sessions: list them, revoke one, log out the others or everywhere, from a
//! handler ([`Session`]) or from outside any request ([`SessionAdmin`]).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Serialize, Serializer};

use crate::clock::Clock;
use crate::context::{Context, CookieOut};
use crate::error::SessionError;
use crate::record::SessionInfo;
use crate::schema::HasUserId;
use crate::session::{Session, encode_user_id};
use crate::store::{DynStore, SessionStore};
use crate::token::PublicId;

/// One of a user's sessions, as a "your sessions" page shows it.
///
/// Serializes to JSON with RFC 3339 times:
/// `{"id": "...", "device": "Firefox ...", "created_at": "2026-11-23T04:36:56Z", "last_seen": "...", "current": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    /// The session's public id: pass it to [`Session::revoke_session`] to end it.
    pub id: PublicId,
    /// A label of the client, from its `User-Agent`.
    pub device: Option<String>,
    /// When the session was created (the login).
    #[serde(serialize_with = "rfc3339")]
    pub created_at: SystemTime,
    /// When the session was last used (to within the touch interval).
    #[serde(serialize_with = "rfc3339")]
    pub last_seen: SystemTime,
    /// Whether this is the session of the request that asked.
    pub current: bool,
}

fn rfc3339<Se: Serializer>(t: &SystemTime, s: Se) -> Result<Se::Ok, Se::Error> {
    s.collect_str(&humantime::format_rfc3339_seconds(*t))
}

fn summaries(infos: Vec<SessionInfo>, current: Option<&PublicId>) -> Vec<SessionSummary> {
    let mut list: Vec<SessionSummary> = infos
        .into_iter()
        .map(|info| SessionSummary {
            current: Some(&info.public_id) == current,
            id: info.public_id,
            device: info.device,
            created_at: info.created_at,
            last_seen: info.last_seen,
        })
        .collect();
    // Most recently used first, the current session on top.
    list.sort_by_key(|s| (!s.current, std::cmp::Reverse(s.last_seen)));
    list
}

impl Context {
    /// The logged-in user (canonical JSON) and this session's public id.
    fn owner(&self) -> Option<(String, PublicId)> {
        let st = self.state();
        Some((
            st.user_id.as_deref()?.to_owned(),
            st.bound.as_ref()?.public_id.clone(),
        ))
    }

    async fn list_mine(&self) -> Result<Vec<SessionSummary>, SessionError> {
        let Some((user, current)) = self.owner() else {
            return Ok(Vec::new());
        };
        let infos = self.shared.store.list_user(&user, self.now).await?;
        Ok(summaries(infos, Some(&current)))
    }

    async fn revoke_mine(&self, id: &PublicId) -> Result<bool, SessionError> {
        let Some((user, current)) = self.owner() else {
            return Ok(false);
        };
        if *id == current {
            self.logout().await?;
            return Ok(true);
        }
        // Unknown ids and other users' ids take the same path and give the same answer.
        Ok(self.shared.store.delete_public(&user, id).await?)
    }

    async fn logout_others(&self) -> Result<u64, SessionError> {
        let (user, key) = {
            let st = self.state();
            match (&st.user_id, &st.bound) {
                (Some(user), Some(b)) => (user.clone(), b.key),
                _ => return Ok(0),
            }
        };
        Ok(self.shared.store.delete_user(&user, Some(&key)).await?)
    }

    async fn logout_everywhere(&self) -> Result<u64, SessionError> {
        let Some(user) = self.state().user_id.clone() else {
            return Ok(0);
        };
        let ended = self.shared.store.delete_user(&user, None).await?;
        let mut st = self.state();
        st.reset();
        st.cookie = CookieOut::Remove;
        Ok(ended)
    }
}

impl<S: HasUserId> Session<S> {
    /// The logged-in user's live sessions, this one first (`current: true`), then the most
    /// recently used. Empty for a guest.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails.
    pub async fn list_sessions(&self) -> Result<Vec<SessionSummary>, SessionError> {
        self.ctx().list_mine().await
    }

    /// Ends one of the logged-in user's sessions by its public id. Returns `false` for an
    /// unknown id and for another user's id alike (answer both with `404`). Revoking the
    /// current session logs it out.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails.
    pub async fn revoke_session(&self, id: &PublicId) -> Result<bool, SessionError> {
        self.ctx().revoke_mine(id).await
    }

    /// Ends every other session of the logged-in user; this one stays. Returns how many
    /// ended.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails.
    pub async fn logout_others(&self) -> Result<u64, SessionError> {
        self.ctx().logout_others().await
    }

    /// Ends every session of the logged-in user, this one included (its cookie is removed).
    /// Returns how many ended.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails.
    pub async fn logout_everywhere(&self) -> Result<u64, SessionError> {
        self.ctx().logout_everywhere().await
    }

    /// After the user changed their password: keeps this session under a new token (the
    /// old one is dead at once) and ends every other session of the user. Set the new auth
    /// hash field first if you use [`SessionLayer::verify_auth_hash`](crate::SessionLayer::verify_auth_hash).
    /// Returns how many other sessions ended.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails.
    pub async fn password_changed(&self) -> Result<u64, SessionError> {
        self.rotate().await?;
        self.logout_others().await
    }

    /// When the user last proved their identity in this session (the login), or `None`
    /// for a guest.
    #[must_use]
    pub fn authenticated_at(&self) -> Option<SystemTime> {
        let st = self.ctx().state();
        st.user_id.as_ref()?;
        st.bound.as_ref()?.authenticated_at
    }
}

/// Manages users' sessions outside any request: for an admin tool, or a job that disables an
/// account. The next request of a revoked session is anonymous at once.
///
/// ```
/// use session_runtime::{MemoryStore, SessionAdmin, SessionSchema};
///
/// #[derive(SessionSchema)]
/// pub struct AppSession {
///     #[session(user_id)]
///     pub user_id: Option<i64>,
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = MemoryStore::new(); // clones share the sessions: give one to the layer
/// let admin = SessionAdmin::<AppSession>::new(store.clone());
/// assert!(admin.list(&42).await?.is_empty());
/// assert_eq!(admin.revoke_all(&42).await?, 0);
/// # Ok::<(), session_runtime::SessionError>(())
/// # }).unwrap();
/// ```
pub struct SessionAdmin<S> {
    store: Arc<dyn DynStore>,
    clock: Arc<dyn Clock>,
    schema: PhantomData<fn() -> S>,
}

impl<S> Clone for SessionAdmin<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            clock: self.clock.clone(),
            schema: PhantomData,
        }
    }
}

impl<S> fmt::Debug for SessionAdmin<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionAdmin").finish_non_exhaustive()
    }
}

impl<S: HasUserId> SessionAdmin<S> {
    /// An admin handle over `store`, on the system clock.
    pub fn new(store: impl SessionStore) -> Self {
        Self::from_parts(Arc::new(store), Arc::new(crate::clock::SystemClock))
    }

    pub(crate) fn from_parts(store: Arc<dyn DynStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            schema: PhantomData,
        }
    }

    /// The user's live sessions, most recently used first (`current` is always `false`).
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails; [`SessionError::Encode`] if the id does
    /// not serialize.
    pub async fn list(&self, user_id: &S::UserId) -> Result<Vec<SessionSummary>, SessionError> {
        let user = encode_user_id::<S>(user_id)?;
        let infos = self.store.list_user(&user, self.clock.now()).await?;
        Ok(summaries(infos, None))
    }

    /// Ends every session of the user (an account disabled, a password reset). Returns how
    /// many ended.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list).
    pub async fn revoke_all(&self, user_id: &S::UserId) -> Result<u64, SessionError> {
        let user = encode_user_id::<S>(user_id)?;
        Ok(self.store.delete_user(&user, None).await?)
    }

    /// Ends one session of the user by its public id. Returns `false` if the user has no
    /// session with that id.
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list).
    pub async fn revoke(&self, user_id: &S::UserId, id: &PublicId) -> Result<bool, SessionError> {
        let user = encode_user_id::<S>(user_id)?;
        Ok(self.store.delete_public(&user, id).await?)
    }
}
