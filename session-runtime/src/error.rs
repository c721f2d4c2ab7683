//! Errors of session operations in handlers.

use axum_core::response::{IntoResponse, Response};
use http::StatusCode;

use crate::response::json_error;
use crate::store::StoreError;

/// Why a session operation failed.
///
/// Implements [`IntoResponse`], so handlers can return `Result<_, SessionError>` and use `?`:
/// a store failure answers `503`, data over the size cap `413`, an unencodable value `500`.
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
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        match &self {
            Self::Store(e) => {
                tracing::error!(error = %e, "session store failed in a handler");
                json_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "session_store_unavailable",
                    "the session store is unavailable; try again shortly",
                )
            }
            Self::TooLarge { .. } => {
                tracing::warn!(error = %self, "session data over the size cap");
                json_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "session_too_large",
                    &self.to_string(),
                )
            }
            Self::Encode { .. } => {
                tracing::error!(error = %self, "session value could not be encoded");
                json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "session_encode_failed",
                    "a session value could not be encoded",
                )
            }
        }
    }
}
