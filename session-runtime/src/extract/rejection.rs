//! Why a session extractor or guard refused a request.

use std::fmt;

use http::StatusCode;

use crate::rejection::{ErrorPage, Reject, rejection_type};

/// Why [`Session`](crate::Session) or a guard refused a request. Each variant is a complete
/// response: a status, a JSON body `{"error": code, "message": ...}`, for a browser an HTML
/// page (replaceable with
/// [`SessionConfigBuilder::error_page`](crate::SessionConfigBuilder::error_page)), and for a
/// browser that must log in first a redirect to the login page.
///
/// A handler that wants to answer a refusal itself takes `Result<Guard, SessionRejection>`:
///
/// ```
/// use axum::http::StatusCode;
/// use session_runtime::{RequireAuth, SessionRejection, SessionSchema};
///
/// #[derive(SessionSchema)]
/// pub struct AppSession {
///     #[session(user_id)]
///     pub user_id: Option<i64>,
/// }
///
/// async fn greeting(user: Result<RequireAuth<AppSession>, SessionRejection>) -> (StatusCode, String) {
///     match user {
///         Ok(user) => (StatusCode::OK, format!("hello, user {}", user.user_id())),
///         // A store outage is still an error, never a guest.
///         Err(rejection) if rejection.status() == StatusCode::SERVICE_UNAVAILABLE => {
///             (rejection.status(), "try again shortly".to_owned())
///         }
///         Err(_) => (StatusCode::OK, "hello, stranger".to_owned()),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionRejection {
    /// `500`: the route has no [`SessionLayer`](crate::SessionLayer).
    MissingLayer,
    /// `503`: the session store could not load the session.
    StoreUnavailable,
    /// `401`, or `303` to the login page for a browser request when a
    /// [login URL](crate::SessionConfigBuilder::login_url) is configured.
    Unauthenticated {
        /// The redirect target (login URL with `next`), for browser requests.
        login_redirect: Option<String>,
    },
    /// `403`: logged in, but without the role the guard requires.
    Forbidden {
        /// The missing role (`"staff"`, `"superuser"`, or a custom guard's name).
        role: &'static str,
    },
    /// `401` with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750): the request
    /// carried `Authorization: Bearer` with a token that is malformed, unknown, revoked or
    /// expired. Never a redirect: an API client has no login page.
    InvalidBearer,
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
            Self::Forbidden { role } => write!(f, "forbidden: this requires the {role} role"),
            Self::InvalidBearer => f.write_str("the bearer token is invalid, revoked or expired"),
        }
    }
}

impl std::error::Error for SessionRejection {}

impl Reject for SessionRejection {
    fn status(&self) -> StatusCode {
        match self {
            Self::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
            Self::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unauthenticated {
                login_redirect: Some(_),
            } => StatusCode::SEE_OTHER,
            Self::Unauthenticated { .. } | Self::InvalidBearer => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::MissingLayer => "session_layer_missing",
            Self::StoreUnavailable => "session_store_unavailable",
            Self::Unauthenticated { .. } => "unauthenticated",
            Self::Forbidden { .. } => "forbidden",
            Self::InvalidBearer => "invalid_token",
        }
    }

    fn page(&self) -> ErrorPage {
        match self {
            Self::MissingLayer => ErrorPage::Other,
            Self::StoreUnavailable => ErrorPage::Unavailable,
            Self::Unauthenticated { .. } | Self::InvalidBearer => ErrorPage::Unauthenticated,
            Self::Forbidden { .. } => ErrorPage::Forbidden,
        }
    }

    fn challenge(&self) -> Option<&'static str> {
        match self {
            Self::InvalidBearer => Some(r#"Bearer error="invalid_token""#),
            _ => None,
        }
    }

    fn redirect(&self) -> Option<&str> {
        match self {
            Self::Unauthenticated { login_redirect } => login_redirect.as_deref(),
            _ => None,
        }
    }
}

rejection_type!(
    SessionRejection,
    example = r#"use axum::http::StatusCode;
use session_runtime::SessionRejection;

assert_eq!(SessionRejection::StoreUnavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
assert_eq!(SessionRejection::Forbidden { role: "staff" }.status(), StatusCode::FORBIDDEN);"#,
);
