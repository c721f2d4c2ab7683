//! Why the CSRF check refused a request.

use std::fmt;

use http::StatusCode;

use crate::extract::SessionRejection;
use crate::rejection::{ErrorPage, Reject, rejection_type};

/// Why [`CsrfLayer`](super::CsrfLayer) refused a request. Answered like every rejection of
/// this crate: a JSON body, or for a browser the [`ErrorPage::Csrf`] page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsrfRejection {
    /// `403`: the browser says the request comes from another site.
    CrossSite,
    /// `403`: no token, or not the session's token.
    BadToken,
    /// `413`: a form too large to look for the token in.
    FormTooLarge,
    /// The session could not be loaded (`503`, or `500` without a session layer).
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

impl Reject for CsrfRejection {
    fn status(&self) -> StatusCode {
        match self {
            Self::CrossSite | Self::BadToken => StatusCode::FORBIDDEN,
            Self::FormTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Session(inner) => inner.status(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::CrossSite => "cross_site_request",
            Self::BadToken => "csrf_token_invalid",
            Self::FormTooLarge => "form_too_large",
            Self::Session(inner) => inner.code(),
        }
    }

    fn page(&self) -> ErrorPage {
        match self {
            Self::Session(inner) => inner.page(),
            _ => ErrorPage::Csrf,
        }
    }
}

rejection_type!(
    CsrfRejection,
    example = r#"use axum::http::StatusCode;
use session_runtime::CsrfRejection;

assert_eq!(CsrfRejection::BadToken.status(), StatusCode::FORBIDDEN);
assert_eq!(CsrfRejection::FormTooLarge.status(), StatusCode::PAYLOAD_TOO_LARGE);"#,
);
