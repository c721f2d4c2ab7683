//! Why an extractor refused a request.

use std::fmt;

use axum_core::response::{IntoResponse, Response};
use http::StatusCode;

use crate::response::{html_error, json_error};

/// Why [`Session`](crate::Session) or a guard refused a request. Each variant is a complete
/// response: status, body, and for browsers a redirect to the login page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionRejection {
    /// `500`: the route has no [`SessionLayer`](crate::SessionLayer).
    MissingLayer,
    /// `503`: the session store could not load the session.
    StoreUnavailable,
    /// `401` with a JSON body, or `303` to the login page for a browser request when a
    /// [login URL](crate::SessionConfigBuilder::login_url) is configured.
    Unauthenticated {
        /// The redirect target (login URL with `next`), for browser requests.
        login_redirect: Option<String>,
    },
    /// `403`: logged in, but without the role the guard requires.
    Forbidden {
        /// The missing role (`"staff"`, `"superuser"`, or a custom guard's name).
        role: &'static str,
        /// Whether to answer with an HTML page (the request accepts `text/html`).
        html: bool,
    },
}

impl SessionRejection {
    /// The response status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
            Self::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unauthenticated {
                login_redirect: Some(_),
            } => StatusCode::SEE_OTHER,
            Self::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
        }
    }
}

impl fmt::Display for SessionRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingLayer => f.write_str(
                "session extractor used on a route without SessionLayer: add \
                 `.layer(SessionLayer::new(store, SessionConfig::default()))` to the router",
            ),
            Self::StoreUnavailable => {
                f.write_str("the session store is unavailable; try again shortly")
            }
            Self::Unauthenticated { .. } => f.write_str("authentication required: log in first"),
            Self::Forbidden { role, .. } => write!(f, "forbidden: this requires the {role} role"),
        }
    }
}

impl std::error::Error for SessionRejection {}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.to_string();
        tracing::debug!(status = status.as_u16(), reason = %message, "session extractor refused the request");
        match &self {
            Self::MissingLayer => json_error(status, "session_layer_missing", &message),
            Self::StoreUnavailable => json_error(status, "session_store_unavailable", &message),
            Self::Unauthenticated {
                login_redirect: Some(url),
            } => crate::response::login_redirect(url, "Redirecting to the login page."),
            Self::Unauthenticated { .. } => json_error(status, "unauthenticated", &message),
            Self::Forbidden { html: true, .. } => html_error(status, "Forbidden", &message),
            Self::Forbidden { .. } => json_error(status, "forbidden", &message),
        }
    }
}
