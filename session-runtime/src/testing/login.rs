//! [`LoginAs`]: a logged-in session made directly in the store, with chosen field values.

use std::collections::BTreeMap;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;

use super::TestClient;
use crate::config::SessionConfig;
use crate::csrf::CSRF_KEY;
use crate::error::SessionError;
use crate::key::Key;
use crate::record::Record;
use crate::schema::{HasUserId, encode_user_id};
use crate::store::{DynStore, SessionStore, StoreError};
use crate::token::{PublicId, Token, random_text};

/// A logged-in session about to be made in the store: made by
/// [`TestClient::login_as`], given field values with [`with`](Self::with), created when
/// awaited.
///
/// Awaiting it writes the record to the store, as a login of `user_id` from a new browser
/// would leave it (with a CSRF token, which the client will send with its forms), and gives
/// the client its cookie. It answers the session's public id.
///
/// # Errors
///
/// Awaiting it fails with [`SessionError::Encode`] if a value given to `with` does not
/// encode as JSON, and with [`SessionError::Store`] if the store fails.
///
/// ```
/// use axum::{Router, routing::get};
/// use session_runtime::testing::TestClient;
/// use session_runtime::{MemoryStore, RequireStaff, SessionConfig, SessionLayer, SessionSchema};
///
/// #[derive(SessionSchema)]
/// pub struct AppSession {
///     #[session(user_id)]
///     pub user_id: Option<i64>,
///     #[session(staff)]
///     pub is_staff: bool,
///     pub cart: Vec<u64>,
/// }
///
/// async fn admin(staff: RequireStaff<AppSession>) -> String {
///     format!("{} {:?}", staff.user_id(), staff.cart())
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), session_runtime::SessionError> {
/// let (store, config) = (MemoryStore::new(), SessionConfig::default());
/// let app: Router = Router::new()
///     .route("/admin", get(admin))
///     .layer(SessionLayer::new(store.clone(), config.clone()));
///
/// let mut client = TestClient::new(app);
/// client
///     .login_as::<AppSession>(&store, &config, 7)
///     .with(AppSession::IS_STAFF, true)
///     .with(AppSession::CART, vec![1, 2])
///     .await?;
/// assert_eq!(client.get("/admin").await.text(), "7 [1, 2]");
/// # Ok(()) }
/// ```
#[must_use = "the session is made only when awaited"]
pub struct LoginAs<'a, S: HasUserId> {
    client: &'a mut TestClient,
    store: &'a dyn DynStore,
    config: &'a SessionConfig,
    user_id: S::UserId,
    data: Result<BTreeMap<String, String>, SessionError>,
    schema: PhantomData<fn() -> S>,
}

impl TestClient {
    /// Starts a session logged in as `user_id` directly in `store` (the store of the app's
    /// [`SessionLayer`](crate::SessionLayer), with its `config`): no login route is called.
    /// Set fields with [`LoginAs::with`], then await it; see [`LoginAs`].
    ///
    /// The previous session cookie of the client, if any, is replaced (its session is left
    /// in the store). The record is what a login leaves: a new token and public id, the
    /// configured idle and absolute expiry on the configured clock, `authenticated_at` now
    /// (so [`RequireRecentLogin`](crate::RequireRecentLogin) admits it), and a CSRF token
    /// that the client sends with its forms. It is a plain create: an exclusive login or a
    /// per-user cap of the configuration does not end the user's other sessions.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use session_runtime::testing::TestClient;
    /// use session_runtime::{MemoryStore, RequireAuth, SessionConfig, SessionLayer, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_runtime::SessionError> {
    /// let (store, config) = (MemoryStore::new(), SessionConfig::default());
    /// let app: Router = Router::new()
    ///     .route("/me", get(|u: RequireAuth<AppSession>| async move { u.user_id().to_string() }))
    ///     .layer(SessionLayer::new(store.clone(), config.clone()));
    ///
    /// let mut client = TestClient::new(app);
    /// assert_eq!(client.get("/me").await.status(), 401);
    /// client.login_as::<AppSession>(&store, &config, 42).await?;
    /// assert_eq!(client.get("/me").await.text(), "42");
    /// # Ok(()) }
    /// ```
    pub fn login_as<'a, S: HasUserId>(
        &'a mut self,
        store: &'a impl SessionStore,
        config: &'a SessionConfig,
        user_id: S::UserId,
    ) -> LoginAs<'a, S> {
        LoginAs {
            client: self,
            store,
            config,
            user_id,
            data: Ok(BTreeMap::new()),
            schema: PhantomData,
        }
    }
}

impl<S: HasUserId> LoginAs<'_, S> {
    /// Gives the session's field `key` the value `value` (a later `with` of the same key
    /// wins). The key is the schema's typed constant (`AppSession::CART`), so the value's
    /// type is checked.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use session_runtime::testing::TestClient;
    /// use session_runtime::{MemoryStore, RequireAuth, SessionConfig, SessionLayer, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    ///     pub username: Option<String>,
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), session_runtime::SessionError> {
    /// let (store, config) = (MemoryStore::new(), SessionConfig::default());
    /// let app: Router = Router::new()
    ///     .route("/me", get(|u: RequireAuth<AppSession>| async move { u.username().unwrap_or_default() }))
    ///     .layer(SessionLayer::new(store.clone(), config.clone()));
    ///
    /// let mut client = TestClient::new(app);
    /// client
    ///     .login_as::<AppSession>(&store, &config, 1)
    ///     .with(AppSession::USERNAME, Some("alice".to_owned()))
    ///     .await?;
    /// assert_eq!(client.get("/me").await.text(), "alice");
    /// # Ok(()) }
    /// ```
    pub fn with<T>(mut self, key: Key<S, T>, value: T) -> Self {
        if let Ok(data) = &mut self.data {
            match key.encode(&value) {
                Ok(json) => {
                    data.insert(key.name().to_owned(), json);
                }
                Err(source) => {
                    self.data = Err(SessionError::Encode {
                        field: key.name(),
                        source,
                    });
                }
            }
        }
        self
    }

    async fn create(self) -> Result<PublicId, SessionError> {
        let mut data = self.data?;
        let user_id = encode_user_id::<S>(&self.user_id)?;
        let csrf = random_text::<32>().map_err(StoreError::from)?;
        data.insert(CSRF_KEY.to_owned(), format!("\"{csrf}\""));
        let token = Token::generate().map_err(StoreError::from)?;

        let config = &self.config.inner;
        let now = config.clock.now();
        let absolute = now + config.absolute_timeout;
        let record = Record {
            public_id: PublicId::generate(),
            user_id: Some(user_id),
            data,
            created_at: now,
            last_seen: now,
            expires_at: (now + config.idle_timeout).min(absolute),
            absolute_expires_at: absolute,
            authenticated_at: Some(now),
            device: None,
            version: 0,
            kind: crate::record::SessionKind::Browser,
        };
        self.store.create(&token.key(), &record).await?;

        let value = String::from_utf8_lossy(token.as_bytes()).into_owned();
        self.client.jar.set(config.cookie.name.clone(), value);
        self.client.csrf = Some(csrf);
        Ok(record.public_id)
    }
}

impl<'a, S: HasUserId> IntoFuture for LoginAs<'a, S> {
    type Output = Result<PublicId, SessionError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.create())
    }
}

impl<S: HasUserId> fmt::Debug for LoginAs<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginAs")
            .field("fields", &self.data.as_ref().map(BTreeMap::len))
            .finish_non_exhaustive()
    }
}
