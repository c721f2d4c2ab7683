//! API tokens: credentials for scripts and mobile apps, sent as `Authorization: Bearer`
//! (see [`Session::create_api_token`](crate::Session::create_api_token)).

use std::fmt;
use std::time::SystemTime;

use crate::token::PublicId;

/// A new API token, as [`Session::create_api_token`](crate::Session::create_api_token)
/// gives it: the secret is shown to the user once and never again (the store keeps only
/// its hash). Its `Debug` hides the secret.
///
/// ```
/// use axum::{Json, http::StatusCode};
/// use serde::Deserialize;
/// use serde_json::{Value, json};
/// use session_runtime::{RequireRecentLogin, SessionError, SessionSchema};
///
/// #[derive(SessionSchema)]
/// pub struct AppSession {
///     #[session(user_id)]
///     pub user_id: Option<i64>,
/// }
///
/// #[derive(Deserialize)]
/// struct NewToken {
///     name: String,
/// }
///
/// async fn mint(
///     user: RequireRecentLogin<AppSession, 600>,
///     Json(new): Json<NewToken>,
/// ) -> Result<(StatusCode, Json<Value>), SessionError> {
///     let token = user.session().create_api_token(&new.name).await?;
///     let body = json!({ "id": token.id(), "name": token.name(), "token": token.secret() });
///     Ok((StatusCode::CREATED, Json(body)))
/// }
/// ```
#[derive(Clone)]
pub struct ApiToken {
    pub(crate) id: PublicId,
    pub(crate) name: String,
    pub(crate) secret: String,
    pub(crate) expires_at: SystemTime,
}

impl ApiToken {
    /// The token's public id: it is listed with the user's sessions under this id (kind
    /// `api`), and revoked by it.
    ///
    /// ```
    /// # fn show(token: &session_runtime::ApiToken) {
    /// println!("revoke it with DELETE /api/sessions/{}", token.id());
    /// # }
    /// ```
    #[must_use]
    pub fn id(&self) -> &PublicId {
        &self.id
    }

    /// The name it was given (its device label in listings).
    ///
    /// ```
    /// # fn show(token: &session_runtime::ApiToken) {
    /// println!("{}", token.name());
    /// # }
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The secret the client sends as `Authorization: Bearer SECRET`: show it once.
    ///
    /// ```
    /// # fn show(token: &session_runtime::ApiToken) {
    /// println!("Authorization: Bearer {}", token.secret());
    /// # }
    /// ```
    #[must_use]
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// When it expires (its lifetime has no idle timeout).
    ///
    /// ```
    /// # fn show(token: &session_runtime::ApiToken) {
    /// let days = token.expires_at().duration_since(std::time::SystemTime::now()).unwrap_or_default().as_secs() / 86_400;
    /// println!("valid for {days} more days");
    /// # }
    /// ```
    #[must_use]
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiToken")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("secret", &format_args!("<redacted>"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}
