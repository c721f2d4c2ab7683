//! Errors of session operations in handlers.

use http::StatusCode;

use crate::rejection::{ErrorPage, Reject, rejection_type};
use crate::store::StoreError;

/// Why a session operation failed.
///
/// Implements [`IntoResponse`](axum_core::response::IntoResponse), so handlers can return `Result<_, SessionError>` and use `?`:
/// a store failure answers `503`, data over the size cap `413`, an unencodable value `500`,
/// each with a JSON body like every rejection of this crate (an HTML page for browsers).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session store failed; nothing was changed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The change would make the session's data larger than the configured cap; nothing was
    /// changed.
    #[error("session data would take {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// The size the change would have led to.
        size: usize,
        /// The configured cap ([`SessionConfigBuilder::max_data_bytes`](crate::SessionConfigBuilder::max_data_bytes)).
        limit: usize,
    },
    /// A value could not be encoded as JSON; nothing was changed.
    #[error("could not encode session field `{field}`: {source}")]
    Encode {
        /// The stored name of the field.
        field: &'static str,
        /// The encoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// [`remember_device`](crate::Session::remember_device) on a session nobody is logged
    /// in to; nothing was changed.
    #[error("no user is logged in to this session")]
    NotLoggedIn,
    /// [`remember_device`](crate::Session::remember_device) without
    /// [`SessionLayer::remember_me`](crate::SessionLayer::remember_me); nothing was changed.
    #[error("remember me is not configured: call SessionLayer::remember_me")]
    RememberMeNotConfigured,
    /// A login, remembering the device or minting an API token on a session an API token
    /// carries (`Authorization: Bearer`); nothing was changed. A token is not a password:
    /// it cannot log in again nor make other credentials.
    #[error("this session is an API token's: it cannot log in, remember a device or mint tokens")]
    BearerSession,
}

impl Reject for SessionError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Encode { .. } | Self::RememberMeNotConfigured => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::NotLoggedIn => StatusCode::UNAUTHORIZED,
            Self::BearerSession => StatusCode::FORBIDDEN,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Store(StoreError::CapacityExceeded { .. }) => "session_store_full",
            Self::Store(_) => "session_store_unavailable",
            Self::TooLarge { .. } => "session_too_large",
            Self::Encode { .. } => "session_encode_failed",
            Self::NotLoggedIn => "not_logged_in",
            Self::RememberMeNotConfigured => "remember_me_not_configured",
            Self::BearerSession => "not_allowed_with_bearer_token",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Store(StoreError::CapacityExceeded { .. }) => {
                "too many sessions are open; try again later".to_owned()
            }
            Self::Store(_) => "the session store is unavailable; try again shortly".to_owned(),
            Self::TooLarge { .. } => self.to_string(),
            Self::Encode { .. } => "a session value could not be encoded".to_owned(),
            Self::NotLoggedIn => "log in first".to_owned(),
            Self::RememberMeNotConfigured => "the server cannot remember this device".to_owned(),
            Self::BearerSession => self.to_string(),
        }
    }

    fn page(&self) -> ErrorPage {
        match self {
            Self::Store(_) => ErrorPage::Unavailable,
            Self::NotLoggedIn => ErrorPage::Unauthenticated,
            Self::BearerSession => ErrorPage::Forbidden,
            _ => ErrorPage::Other,
        }
    }

    fn log(&self) {
        match self {
            Self::Store(error) => tracing::error!(%error, "session store failed; answering 503"),
            Self::TooLarge { .. } => {
                tracing::warn!(error = %self, "session data over the size cap")
            }
            Self::Encode { .. } | Self::RememberMeNotConfigured => {
                tracing::error!(error = %self, "session operation failed")
            }
            Self::NotLoggedIn | Self::BearerSession => {
                tracing::info!(error = %self, "session operation refused")
            }
        }
    }
}

rejection_type!(
    SessionError,
    example = r#"use axum::http::StatusCode;
use session_runtime::{SessionError, StoreError, StoreOp};

let too_large = SessionError::TooLarge { size: 20_000, limit: 16_384 };
assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
let store_down = SessionError::from(StoreError::Timeout { op: StoreOp::Update });
assert_eq!(store_down.status(), StatusCode::SERVICE_UNAVAILABLE);"#,
);
