//! The `Session<S>` extractor, and everything a handler does with its session.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::SystemTime;

use axum_core::extract::FromRequestParts;
use http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::SessionRejection;
use crate::admin::SessionSummary;
use crate::ends::SessionEndError;
use crate::error::SessionError;
use crate::handle::RawSession;
use crate::key::Key;
use crate::schema::{HasUserId, SchemaHandle, SessionSchema, encode_user_id};
use crate::session::Context;
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
/// use serde::Deserialize;
/// use session_runtime::{MemoryStore, Session, SessionConfig, SessionError, SessionLayer, SessionSchema};
///
/// #[derive(SessionSchema)]
/// pub struct Cart {
///     pub items: Vec<u64>,
/// }
///
/// #[derive(Deserialize)]
/// struct AddItem {
///     item: u64,
/// }
///
/// async fn add(session: Session<Cart>, Json(add): Json<AddItem>) -> Result<Json<Vec<u64>>, SessionError> {
///     session.update_items(|items| items.push(add.item))?;
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
///
/// # Saving, and a store that fails
///
/// When the response is ready, the fields the handler changed are written (nothing is for
/// a `5xx` response). If that save fails, the response becomes a `503`, and any cookie the
/// request already earned still goes with it (a login or rotation awaited in the handler
/// took effect in the store). A store that failed without answering (a timeout, a lost
/// reply) may still have written the changed fields: a `503` means "not known to be
/// saved", never "lost" or "rolled back". A save never re-creates a session that was
/// deleted meanwhile.
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
    ///
    /// ```
    /// use session_runtime::{Session, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     pub theme: Option<String>,
    /// }
    ///
    /// async fn theme(session: Session<AppSession>) -> String {
    ///     // The same as `session.theme()`.
    ///     session.get(&AppSession::THEME).unwrap_or_else(|| "light".to_owned())
    /// }
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &Key<S, T>) -> T {
        self.raw().get(key)
    }

    /// Writes a field by its typed key.
    ///
    /// # Errors
    ///
    /// [`SessionError::TooLarge`] past the size cap, [`SessionError::Encode`] if `value` does
    /// not serialize. Nothing changes on error.
    ///
    /// ```
    /// use session_runtime::{Session, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     pub theme: Option<String>,
    /// }
    ///
    /// async fn dark(session: Session<AppSession>) -> Result<(), SessionError> {
    ///     // The same as `session.set_theme(..)`.
    ///     session.set(&AppSession::THEME, Some("dark".to_owned()))
    /// }
    /// ```
    pub fn set<T: Serialize>(&self, key: &Key<S, T>, value: T) -> Result<(), SessionError> {
        self.raw().set(key, value)
    }

    /// Removes a field by its typed key: reads give its default again.
    ///
    /// # Errors
    ///
    /// Never fails today; the `Result` keeps setters uniform.
    ///
    /// ```
    /// use session_runtime::{Session, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     pub theme: Option<String>,
    /// }
    ///
    /// async fn reset(session: Session<AppSession>) -> Result<(), SessionError> {
    ///     session.remove(&AppSession::THEME)
    /// }
    /// ```
    pub fn remove<T>(&self, key: &Key<S, T>) -> Result<(), SessionError> {
        self.raw().remove(key)
    }

    /// Changes a field in place by its typed key.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set).
    ///
    /// ```
    /// use session_runtime::{Session, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     pub visits: u32,
    /// }
    ///
    /// async fn count(session: Session<AppSession>) -> Result<(), SessionError> {
    ///     session.update(&AppSession::VISITS, |n| *n += 1)
    /// }
    /// ```
    pub fn update<T: Serialize + DeserializeOwned>(
        &self,
        key: &Key<S, T>,
        f: impl FnOnce(&mut T),
    ) -> Result<(), SessionError> {
        self.raw().update(key, f)
    }

    /// The session's public id (for listing and revoking), once it is stored.
    ///
    /// ```
    /// use session_runtime::{Session, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     pub theme: Option<String>,
    /// }
    ///
    /// async fn which(session: Session<AppSession>) -> String {
    ///     match session.public_id() {
    ///         Some(id) => format!("session {id}"),
    ///         None => "no stored session yet".to_owned(),
    ///     }
    /// }
    /// ```
    #[must_use]
    pub fn public_id(&self) -> Option<PublicId> {
        self.ctx().public_id()
    }

    /// Ends the session: deletes it from the store at once and removes the cookie. Data set
    /// afterwards in the same request starts a new anonymous session.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails. Nothing changes then: the session stays
    /// valid and its cookie stays, and the error answers `503`, so that the user can try
    /// again. Removing only the cookie would sign the browser out while its session lived
    /// on, valid for anyone holding the token, and with nothing left in the browser to end
    /// it; ending it remains possible from the user's other sessions or through
    /// [`SessionAdmin`](crate::SessionAdmin). A store that deleted the session but lost its
    /// reply is read back: the session is gone, and the logout succeeds.
    ///
    /// ```
    /// use axum::http::StatusCode;
    /// use session_runtime::{Session, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn logout(session: Session<AppSession>) -> Result<StatusCode, SessionError> {
    ///     session.logout().await?;
    ///     Ok(StatusCode::NO_CONTENT)
    /// }
    /// ```
    pub async fn logout(&self) -> Result<(), SessionError> {
        crate::observe::logout(self.ctx().logout().await)
    }

    /// Moves the session to a new token (the old one is dead at once), keeping its data.
    /// Call it after any change of privilege that the schema's fields do not capture (a change
    /// of a `staff`, `superuser` or `#[session(privileged)]` field rotates by itself).
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails; the session is then unchanged. A store that
    /// moved the session but lost its reply is read back, and the rotation then succeeds.
    ///
    /// ```
    /// use session_runtime::{Session, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    ///     pub organisation: Option<u64>,
    /// }
    ///
    /// async fn switch_organisation(session: Session<AppSession>) -> Result<(), SessionError> {
    ///     session.set_organisation(Some(7))?;
    ///     session.rotate().await // a token seen before the switch is dead
    /// }
    /// ```
    pub async fn rotate(&self) -> Result<(), SessionError> {
        Ok(self.ctx().rotate().await?)
    }
}

impl<S: HasUserId> Session<S> {
    /// Logs the user in under a new token; the old token is dead at once.
    ///
    /// A guest's data (a cart) is kept; a login as a different user than the one logged in
    /// starts from empty data. Takes effect in the store when awaited, and the response
    /// carries the new cookie whatever its status. Check the credentials first: `login`
    /// trusts the id it is given.
    ///
    /// # Errors
    ///
    /// [`SessionError::Encode`] if the id does not serialize, [`SessionError::Store`] if the
    /// store fails; the session is then unchanged. A store that wrote the new session but lost
    /// its reply is read back, and the login then succeeds.
    ///
    /// What the handler sets after the login (a name, a fingerprint) is written when the
    /// response is ready. If that save fails, the response is a `503` that still carries the
    /// new cookie: the login happened, and the data set after it was not saved (or, if the
    /// store lost its reply, may have been).
    ///
    /// ```
    /// use axum::{Json, http::StatusCode};
    /// use serde::Deserialize;
    /// use session_runtime::{Session, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    ///     pub username: Option<String>,
    /// }
    ///
    /// #[derive(Deserialize)]
    /// struct Credentials {
    ///     username: String,
    ///     password: String,
    /// }
    ///
    /// # fn check_password(_: &str, _: &str) -> Option<i64> { Some(42) }
    /// async fn login(
    ///     session: Session<AppSession>,
    ///     Json(form): Json<Credentials>,
    /// ) -> Result<StatusCode, SessionError> {
    ///     let Some(user_id) = check_password(&form.username, &form.password) else {
    ///         return Ok(StatusCode::UNAUTHORIZED);
    ///     };
    ///     session.login(user_id).await?;
    ///     session.set_username(Some(form.username))?;
    ///     Ok(StatusCode::OK)
    /// }
    /// ```
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
    /// As [`login`](Self::login): on error this session is unchanged and no new one was
    /// created, but some of the user's other sessions may have ended (the store may have
    /// ended them before the failure); logging in again is safe.
    ///
    /// ```
    /// use session_runtime::{Session, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn login_here_only(session: Session<AppSession>) -> Result<(), SessionError> {
    ///     // ... check credentials first ...
    ///     session.login_exclusive(42).await
    /// }
    /// ```
    pub async fn login_exclusive(&self, user_id: S::UserId) -> Result<(), SessionError> {
        self.ctx().login(encode_user_id::<S>(&user_id)?, true).await
    }

    /// Remembers this device for the logged-in user (the "remember me" box of a login
    /// form): the response sets a second cookie that logs the device in again after its
    /// session has ended, for the configured lifetime. Call it after
    /// [`login`](Self::login); a password login without it ends this device's earlier
    /// remembered series. See [`SessionLayer::remember_me`](crate::SessionLayer::remember_me)
    /// for what a remembered device can and cannot do.
    ///
    /// # Errors
    ///
    /// [`SessionError::NotLoggedIn`] for a guest, [`SessionError::RememberMeNotConfigured`]
    /// without `SessionLayer::remember_me`, and [`SessionError::Store`] if the store fails
    /// (the login stands; the device is not remembered).
    ///
    /// ```
    /// use axum::{Form, http::StatusCode};
    /// use serde::Deserialize;
    /// use session_runtime::{Session, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// #[derive(Deserialize)]
    /// struct LoginForm {
    ///     username: String,
    ///     password: String,
    ///     #[serde(default)]
    ///     remember: Option<String>, // a checkbox: present when ticked
    /// }
    ///
    /// # fn check_password(_: &str, _: &str) -> Option<i64> { Some(42) }
    /// async fn login(session: Session<AppSession>, Form(form): Form<LoginForm>) -> Result<StatusCode, SessionError> {
    ///     let Some(user_id) = check_password(&form.username, &form.password) else {
    ///         return Ok(StatusCode::UNAUTHORIZED);
    ///     };
    ///     session.login(user_id).await?;
    ///     if form.remember.is_some() {
    ///         session.remember_device().await?;
    ///     }
    ///     Ok(StatusCode::NO_CONTENT)
    /// }
    /// ```
    pub async fn remember_device(&self) -> Result<(), SessionError> {
        self.ctx().remember_device().await
    }

    /// Mints an API token for the logged-in user, for a script or a mobile app: a session
    /// of kind `api` that starts with a copy of this session's fields (identity, roles, the
    /// auth hash fingerprint; not the CSRF token), so guards and the auth hash check treat
    /// it as they treat this session; later changes to either do not reach the other. It
    /// lives [`api_token_lifetime`](crate::SessionConfigBuilder::api_token_lifetime) (90
    /// days by default) with no idle timeout, named `name` in listings (kind `api`).
    ///
    /// A request with `Authorization: Bearer SECRET` then uses that session: every
    /// extractor and guard works as for a cookie, any session cookie on the request is
    /// ignored, no response sets a cookie, [`CsrfLayer`](crate::CsrfLayer) does not apply,
    /// and a guard refuses a malformed, unknown or ended token with `401` and
    /// `WWW-Authenticate: Bearer error="invalid_token"`. Its session is never rotated
    /// (the client could not learn a new token). [`revoke_session`](Self::revoke_session)
    /// with its id, [`logout_everywhere`](Self::logout_everywhere),
    /// [`password_changed`](Self::password_changed) and the auth hash check end it;
    /// [`logout_others`](Self::logout_others) does not.
    ///
    /// Guard the route that calls it with
    /// [`RequireRecentLogin`](crate::RequireRecentLogin): a token is a long-lived
    /// credential, worth a password typed recently.
    ///
    /// # Errors
    ///
    /// [`SessionError::NotLoggedIn`] for a guest, [`SessionError::BearerSession`] on a
    /// session a token carries (tokens do not mint tokens), [`SessionError::Store`] if the
    /// store fails.
    ///
    /// ```
    /// use axum::{Json, http::StatusCode};
    /// use serde_json::{Value, json};
    /// use session_runtime::{RequireRecentLogin, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn mint(user: RequireRecentLogin<AppSession, 600>) -> Result<(StatusCode, Json<Value>), SessionError> {
    ///     let token = user.session().create_api_token("deploy script").await?;
    ///     Ok((StatusCode::CREATED, Json(json!({ "id": token.id(), "token": token.secret() }))))
    /// }
    /// ```
    pub async fn create_api_token(&self, name: &str) -> Result<crate::ApiToken, SessionError> {
        self.ctx().create_api_token(name).await
    }

    /// Completes when this session ends, wherever it ends: logout, revocation,
    /// logout-others, logout-everywhere, a password change, the auth hash check or expiry,
    /// in this process or in another instance sharing the store. A rotation is not an end.
    /// For a long-lived response (Server-Sent Events, a WebSocket) that must stop when the
    /// session that authorised it does. The future owns what it needs: move it into the
    /// stream or task that outlives the handler.
    ///
    /// It completes at once for a request without a stored session. Waiting costs no store
    /// traffic beyond one check when it starts (and one when the expiry it knows comes):
    /// the store tells the process of every end through one subscription
    /// ([`SessionStore::session_ends`](crate::SessionStore::session_ends)).
    ///
    /// # Errors
    ///
    /// [`SessionEndError::Unsupported`] if the store cannot tell of ends,
    /// [`SessionEndError::Disconnected`] if the connection that carries the store's notices
    /// is (or goes) down, and [`SessionEndError::Store`] if a check fails: the session may
    /// or may not have ended; close the stream and let the client reconnect.
    ///
    /// ```
    /// use session_runtime::{RequireAuth, SessionEndError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn subscribe(user: RequireAuth<AppSession>) -> &'static str {
    ///     let ended = user.session().ended();
    ///     tokio::spawn(async move {
    ///         // ... stream updates to the client until:
    ///         match ended.await {
    ///             Ok(()) => { /* the session ended: close the connection */ }
    ///             Err(SessionEndError::Disconnected) => { /* unknown: close, let it reconnect */ }
    ///             Err(_) => {}
    ///         }
    ///     });
    ///     "subscribed"
    /// }
    /// ```
    pub fn ended(
        &self,
    ) -> impl std::future::Future<Output = Result<(), SessionEndError>> + Send + 'static + use<S>
    {
        self.ctx().ended()
    }

    /// The logged-in user's id, or `None` for a guest.
    ///
    /// ```
    /// use session_runtime::{Session, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn whoami(session: Session<AppSession>) -> String {
    ///     match session.current_user_id() {
    ///         Some(id) => format!("user {id}"),
    ///         None => "guest".to_owned(),
    ///     }
    /// }
    /// ```
    #[must_use]
    pub fn current_user_id(&self) -> Option<S::UserId> {
        self.raw().user_id()
    }

    /// The logged-in user's live sessions, this one first (`current: true`), then the most
    /// recently used. Empty for a guest.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails.
    ///
    /// ```
    /// use axum::Json;
    /// use session_runtime::{RequireAuth, SessionError, SessionSchema, SessionSummary};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn my_sessions(user: RequireAuth<AppSession>) -> Result<Json<Vec<SessionSummary>>, SessionError> {
    ///     Ok(Json(user.session().list_sessions().await?))
    /// }
    /// ```
    pub async fn list_sessions(&self) -> Result<Vec<SessionSummary>, SessionError> {
        self.ctx().list_mine().await
    }

    /// Ends one of the logged-in user's sessions by its public id. Returns `false` for an
    /// unknown id and for another user's id alike (answer both with `404`), and for a text
    /// that is not a public id at all, without asking the store. Revoking the current
    /// session logs it out.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails. The session may have ended even so (the
    /// store may have deleted it before its reply was lost); revoking it again is safe and
    /// then answers `false`. Revoking the current session fails as [`logout`](Self::logout)
    /// does.
    ///
    /// ```
    /// use axum::{extract::Path, http::StatusCode};
    /// use session_runtime::{PublicId, RequireAuth, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn revoke(user: RequireAuth<AppSession>, Path(id): Path<String>) -> Result<StatusCode, SessionError> {
    ///     let Some(id) = PublicId::parse(&id) else {
    ///         return Ok(StatusCode::NOT_FOUND);
    ///     };
    ///     Ok(if user.session().revoke_session(&id).await? {
    ///         StatusCode::NO_CONTENT
    ///     } else {
    ///         StatusCode::NOT_FOUND
    ///     })
    /// }
    /// ```
    pub async fn revoke_session(&self, id: &PublicId) -> Result<bool, SessionError> {
        let ended = self.ctx().revoke_mine(id).await;
        crate::observe::revoked(crate::observe::Revocation::Revoke, ended)
    }

    /// Ends the logged-in user's other browser sessions and every remembered device (this
    /// one's too: its remember cookie is removed); this session stays, and so do the user's
    /// API tokens. Returns how many ended.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails. Some or all of the other sessions may have
    /// ended then (the store may have ended them before its reply was lost): call it again,
    /// it is safe.
    ///
    /// ```
    /// use session_runtime::{RequireAuth, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn sign_out_elsewhere(user: RequireAuth<AppSession>) -> Result<String, SessionError> {
    ///     let ended = user.session().logout_others().await?;
    ///     Ok(format!("{ended} other sessions ended"))
    /// }
    /// ```
    pub async fn logout_others(&self) -> Result<u64, SessionError> {
        let ended = self.ctx().logout_others().await;
        crate::observe::revoked(crate::observe::Revocation::LogoutOthers, ended)
    }

    /// Ends every session of the logged-in user, this one included (its cookie is removed).
    /// Returns how many ended.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails. The cookie then stays, but some or all of
    /// the sessions, this one included, may have ended even so (the store may have ended
    /// them before its reply was lost): call it again, it is safe.
    ///
    /// ```
    /// use session_runtime::{RequireAuth, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn sign_out_everywhere(user: RequireAuth<AppSession>) -> Result<(), SessionError> {
    ///     user.session().logout_everywhere().await.map(drop)
    /// }
    /// ```
    pub async fn logout_everywhere(&self) -> Result<u64, SessionError> {
        let ended = self.ctx().logout_everywhere().await;
        crate::observe::revoked(crate::observe::Revocation::LogoutEverywhere, ended)
    }

    /// After the user changed their password: keeps this session under a new token (the
    /// old one is dead at once) and ends every other session of the user, API tokens and
    /// remembered devices included. Set the new auth
    /// hash field first if you use [`SessionLayer::verify_auth_hash`](crate::SessionLayer::verify_auth_hash).
    /// Returns how many other sessions ended.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] if the store fails. If the rotation failed, nothing changed. If
    /// it was the ending of the other sessions that failed, this session already has its new
    /// token (the response carries it, whatever its status; the old token is dead) and some
    /// of the other sessions may have ended: call it again to end the rest.
    ///
    /// ```
    /// use session_runtime::{RequireAuth, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn change_password(user: RequireAuth<AppSession>) -> Result<(), SessionError> {
    ///     // ... check the old password and store the new one first ...
    ///     user.session().password_changed().await.map(drop)
    /// }
    /// ```
    pub async fn password_changed(&self) -> Result<u64, SessionError> {
        self.rotate().await?;
        let ended = self.ctx().end_all_others().await;
        crate::observe::revoked(crate::observe::Revocation::PasswordChange, ended)
    }

    /// When the user last proved their identity in this session (the login), or `None`
    /// for a guest.
    ///
    /// ```
    /// use session_runtime::{RequireAuth, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn since(user: RequireAuth<AppSession>) -> String {
    ///     format!("logged in at {:?}", user.session().authenticated_at())
    /// }
    /// ```
    #[must_use]
    pub fn authenticated_at(&self) -> Option<SystemTime> {
        self.ctx().authenticated_at()
    }
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
        let ctx = super::load::<S>(parts).await?;
        Ok(Self::from_context(ctx))
    }
}
