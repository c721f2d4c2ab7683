//! Minting an API token from a logged-in browser session.

use super::state::Context;
use crate::api_token::ApiToken;
use crate::error::SessionError;
use crate::record::{RUNTIME_KEY_PREFIX, Record, SessionKind};
use crate::token::PublicId;

/// The most characters of a token's name kept.
const NAME_MAX: usize = 64;

impl Context {
    /// Creates an API token for the logged-in user: a session of kind `api` whose fields
    /// are a copy of this session's (identity, roles, the auth hash fingerprint), without
    /// the runtime's own (the CSRF token); `name` (control characters dropped, at most 64
    /// characters, `API token` if nothing is left) is its device label.
    pub(crate) async fn create_api_token(&self, name: &str) -> Result<ApiToken, SessionError> {
        if self.is_bearer() {
            return Err(SessionError::BearerSession);
        }
        let name: String = name
            .chars()
            .filter(|c| !c.is_control())
            .take(NAME_MAX)
            .collect();
        let name = match name.trim() {
            "" => "API token".to_owned(),
            trimmed => trimmed.to_owned(),
        };
        let (user, data) = {
            let st = self.state();
            let Some(user) = st.user_id().map(str::to_owned) else {
                return Err(SessionError::NotLoggedIn);
            };
            let data = st
                .fields()
                .filter(|(field, _)| !field.starts_with(RUNTIME_KEY_PREFIX))
                .map(|(field, value)| (field.to_owned(), value.to_owned()))
                .collect();
            (user, data)
        };
        let expires = self.now + self.shared.config.api_token_lifetime;
        let mut record = Record {
            public_id: PublicId::generate(),
            user_id: Some(user),
            data,
            created_at: self.now,
            last_seen: self.now,
            expires_at: expires,
            absolute_expires_at: expires,
            // A token proves no password: `RequireRecentLogin` refuses it.
            authenticated_at: None,
            device: Some(name.clone()),
            version: 0,
            kind: SessionKind::Api,
        };
        let (token, _) = self.create_record(&mut record).await?;
        Ok(ApiToken {
            id: record.public_id,
            name,
            secret: token.as_str().to_owned(),
            expires_at: expires,
        })
    }
}
