//! The `Session<S>` extractor.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use axum_core::extract::FromRequestParts;
use http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::Context;
use crate::error::SessionError;
use crate::extract::SessionRejection;
use crate::handle::RawSession;
use crate::schema::{HasUserId, Key, SchemaHandle, SessionSchema};
use crate::token::PublicId;

/// The request's session, typed by schema `S`.
///
/// Dereferences to the handle that `#[derive(SessionSchema)]` generates, so the typed
/// accessors (`session.cart()`, `session.set_cart(..)`) work without imports. Extracting it
/// loads the session from the store (once per request, however many extractors ask); reads
/// and writes of fields are then synchronous, and the response phase writes only the fields
/// that changed.
///
/// ```
/// use axum::{Json, Router, routing::post};
/// use session_runtime::{MemoryStore, Session, SessionConfig, SessionError, SessionLayer, SessionSchema};
///
/// #[derive(SessionSchema)]
/// pub struct Cart {
///     pub items: Vec<u64>,
/// }
///
/// async fn add(session: Session<Cart>, Json(item): Json<u64>) -> Result<Json<Vec<u64>>, SessionError> {
///     session.update_items(|items| items.push(item))?;
///     Ok(Json(session.items()))
/// }
///
/// let app: Router = Router::new()
///     .route("/cart", post(add))
///     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
/// ```
///
/// # Rejections
///
/// [`SessionRejection::MissingLayer`] (`500`) without a [`SessionLayer`](crate::SessionLayer);
/// [`SessionRejection::StoreUnavailable`] (`503`) when the store cannot load the session:
/// the handler never runs with an empty session in place of a real one.
pub struct Session<S: SessionSchema> {
    handle: S::Handle,
}

impl<S: SessionSchema> Session<S> {
    pub(crate) fn from_context(ctx: Arc<Context>) -> Self {
        Self {
            handle: S::Handle::__from_raw(RawSession::new(ctx)),
        }
    }

    fn raw(&self) -> &RawSession<S> {
        self.handle.__raw()
    }

    pub(crate) fn ctx(&self) -> &Context {
        &self.raw().ctx
    }

    /// Reads a field by its typed key (for generic code; prefer the generated accessors).
    ///
    /// A stored value that no longer decodes gives the field's default and a warning.
    pub fn get<T: DeserializeOwned>(&self, key: &Key<S, T>) -> T {
        self.raw().get(key)
    }

    /// Writes a field by its typed key.
    ///
    /// # Errors
    ///
    /// [`SessionError::TooLarge`] past the size cap, [`SessionError::Encode`] if `value` does
    /// not serialize. Nothing changes on error.
    pub fn set<T: Serialize>(&self, key: &Key<S, T>, value: T) -> Result<(), SessionError> {
        self.raw().set(key, value)
    }

    /// Removes a field by its typed key: reads give its default again.
    ///
    /// # Errors
    ///
    /// Never fails today; the `Result` keeps setters uniform.
    pub fn remove<T>(&self, key: &Key<S, T>) -> Result<(), SessionError> {
        self.raw().remove(key)
    }

    /// Changes a field in place by its typed key.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set).
    pub fn update<T: Serialize + DeserializeOwned>(
        &self,
        key: &Key<S, T>,
        f: impl FnOnce(&mut T),
    ) -> Result<(), SessionError> {
        self.raw().update(key, f)
    }

    /// The session's public id (for listing and revoking), once it is stored.
    #[must_use]
    pub fn public_id(&self) -> Option<PublicId> {
        self.ctx().public_id()
    }

    /// Ends the session: deletes it from the store at once and removes the cookie. Data set
    /// afterwards in the same request starts a new anonymous session.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails; the session is then unchanged.
    pub async fn logout(&self) -> Result<(), SessionError> {
        self.ctx().logout().await
    }

    /// Moves the session to a new token (the old one is dead at once), keeping its data.
    /// Call it after any change of privilege that the schema's role fields do not capture.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails; the session is then unchanged.
    pub async fn rotate(&self) -> Result<(), SessionError> {
        Ok(self.ctx().rotate().await?)
    }
}

impl<S: HasUserId> Session<S> {
    /// Logs the user in under a new token; the old token is dead at once.
    ///
    /// A guest's data (a cart) is kept; a login as a different user than the one logged in
    /// starts from empty data. Takes effect in the store when awaited, and the response
    /// carries the new cookie whatever its status.
    ///
    /// # Errors
    ///
    /// [`SessionError::Encode`] if the id does not serialize, [`SessionError::Store`] if the
    /// store fails; the session is then unchanged.
    pub async fn login(&self, user_id: S::UserId) -> Result<(), SessionError> {
        self.ctx()
            .login(encode_user_id::<S>(&user_id)?, false)
            .await
    }

    /// Logs the user in like [`login`](Self::login), and ends every other session of the
    /// user: after it returns, this is the user's only session.
    ///
    /// # Errors
    ///
    /// As [`login`](Self::login); on error no session was ended and none was created.
    pub async fn login_exclusive(&self, user_id: S::UserId) -> Result<(), SessionError> {
        self.ctx().login(encode_user_id::<S>(&user_id)?, true).await
    }

    /// The logged-in user's id, or `None` for a guest.
    #[must_use]
    pub fn current_user_id(&self) -> Option<S::UserId> {
        self.raw().user_id()
    }
}

/// The canonical text form of a user id, as stores index it.
pub(crate) fn encode_user_id<S: HasUserId>(user_id: &S::UserId) -> Result<String, SessionError> {
    serde_json::to_string(user_id).map_err(|source| SessionError::Encode {
        field: "user_id",
        source,
    })
}

impl<S: SessionSchema> Deref for Session<S> {
    type Target = S::Handle;

    fn deref(&self) -> &S::Handle {
        &self.handle
    }
}

impl<S: SessionSchema> fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("public_id", &self.public_id())
            .finish_non_exhaustive()
    }
}

impl<S: SessionSchema, St: Send + Sync> FromRequestParts<St> for Session<S> {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Self::Rejection> {
        let ctx = crate::extract::load::<S>(parts).await?;
        Ok(Self::from_context(ctx))
    }
}
