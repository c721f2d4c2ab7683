//! Why the CSRF check refused a request.

use std::fmt;

use axum_core::response::{IntoResponse, Response};
use http::StatusCode;

use crate::extract::SessionRejection;
use crate::response::{html_error, json_error};

/// Why [`CsrfLayer`](super::CsrfLayer) refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsrfRejection {
    /// `403`: the browser says the request comes from another site.
    CrossSite,
    /// `403`: no token, or not the session's token.
    BadToken,
    /// `413`: a form too large to look for the token in.
    FormTooLarge,
    /// The session could not be loaded (`503`).
    Session(SessionRejection),
}

impl fmt::Display for CsrfRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CrossSite => f.write_str("cross-site request refused"),
            Self::BadToken => f.write_str(
                "missing or invalid CSRF token: reload the page and submit the form again",
            ),
            Self::FormTooLarge => f.write_str("form too large"),
            Self::Session(inner) => inner.fmt(f),
        }
    }
}

impl std::error::Error for CsrfRejection {}

impl CsrfRejection {
    /// The response, as an HTML page for browsers or JSON for other clients.
    pub(crate) fn respond(self, html: bool) -> Response {
        let (status, code) = match &self {
            Self::CrossSite => (StatusCode::FORBIDDEN, "cross_site_request"),
            Self::BadToken => (StatusCode::FORBIDDEN, "csrf_token_invalid"),
            Self::FormTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "form_too_large"),
            Self::Session(inner) => return inner.clone().into_response(),
        };
        tracing::debug!(status = status.as_u16(), reason = %self, "CSRF check refused the request");
        if html {
            html_error(status, "Request refused", &self.to_string())
        } else {
            json_error(status, code, &self.to_string())
        }
    }
}

impl IntoResponse for CsrfRejection {
    fn into_response(self) -> Response {
        self.respond(false)
    }
}
