//! `RequireRecentLogin`: sensitive actions need a login that is fresh (OWASP ASVS 3.7.1).

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use axum_core::extract::FromRequestParts;
use http::StatusCode;
use http::request::Parts;

use super::guard::login_redirect;
use super::session::Session;
use super::{RequireAuth, SessionRejection};
use crate::rejection::{ErrorPage, Reject, rejection_type};
use crate::schema::{HasUserId, SessionSchema};

/// Admits logged-in sessions whose login is at most `MAX_AGE_SECS` seconds old, for
/// sensitive actions (changing a password or an email address, paying).
///
/// A stale login gets `401` with `{"error": "reauthentication_required", ...}`, or for a
/// browser a `303` to the login page with `?next=`; after logging in again the action
/// passes. Anonymous requests are refused as by [`RequireAuth`].
///
/// ```
/// use session_runtime::{RequireRecentLogin, SessionSchema};
///
/// #[derive(SessionSchema)]
/// pub struct AppSession {
///     #[session(user_id)]
///     pub user_id: Option<i64>,
/// }
///
/// // A login from the last 5 minutes.
/// async fn delete_account(user: RequireRecentLogin<AppSession, 300>) -> String {
///     format!("deleting account {}", user.user_id())
/// }
/// ```
pub struct RequireRecentLogin<S: HasUserId, const MAX_AGE_SECS: u64> {
    auth: RequireAuth<S>,
}

impl<S: HasUserId, const MAX_AGE_SECS: u64> RequireRecentLogin<S, MAX_AGE_SECS> {
    /// The logged-in user's id.
    ///
    /// ```
    /// use session_runtime::{RequireRecentLogin, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn change_email(user: RequireRecentLogin<AppSession, 300>) -> String {
    ///     format!("changing the email address of user {}", user.user_id())
    /// }
    /// ```
    #[must_use]
    pub fn user_id(&self) -> S::UserId {
        self.auth.user_id()
    }

    /// The underlying session.
    ///
    /// ```
    /// use session_runtime::{RequireRecentLogin, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn change_password(user: RequireRecentLogin<AppSession, 300>) -> Result<(), SessionError> {
    ///     // ... store the new password ...
    ///     user.session().password_changed().await.map(drop) // sign out every other device
    /// }
    /// ```
    #[must_use]
    pub fn session(&self) -> &Session<S> {
        self.auth.session()
    }
}

impl<S: HasUserId, const MAX_AGE_SECS: u64> Deref for RequireRecentLogin<S, MAX_AGE_SECS> {
    type Target = <S as SessionSchema>::Handle;

    fn deref(&self) -> &Self::Target {
        &self.auth
    }
}

impl<S: HasUserId, const MAX_AGE_SECS: u64> fmt::Debug for RequireRecentLogin<S, MAX_AGE_SECS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireRecentLogin")
            .field("max_age_secs", &MAX_AGE_SECS)
            .finish_non_exhaustive()
    }
}

/// Why [`RequireRecentLogin`] refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecentLoginRejection {
    /// Not logged in, or the session could not be loaded.
    Session(SessionRejection),
    /// Logged in, but too long ago: `401` (or `303` to the login page for browsers).
    Stale {
        /// The redirect target for browser requests.
        login_redirect: Option<String>,
    },
}

impl fmt::Display for RecentLoginRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Session(inner) => inner.fmt(f),
            Self::Stale { .. } => {
                f.write_str("this action needs a recent login: log in again to continue")
            }
        }
    }
}

impl std::error::Error for RecentLoginRejection {}

impl Reject for RecentLoginRejection {
    fn status(&self) -> StatusCode {
        match self {
            Self::Session(inner) => inner.status(),
            Self::Stale {
                login_redirect: Some(_),
            } => StatusCode::SEE_OTHER,
            Self::Stale { .. } => StatusCode::UNAUTHORIZED,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Session(inner) => inner.code(),
            Self::Stale { .. } => "reauthentication_required",
        }
    }

    fn page(&self) -> ErrorPage {
        match self {
            Self::Session(inner) => inner.page(),
            Self::Stale { .. } => ErrorPage::Unauthenticated,
        }
    }

    fn redirect(&self) -> Option<&str> {
        match self {
            Self::Session(inner) => inner.redirect(),
            Self::Stale { login_redirect } => login_redirect.as_deref(),
        }
    }
}

rejection_type!(
    RecentLoginRejection,
    example = r#"use axum::http::StatusCode;
use session_runtime::RecentLoginRejection;

// A stale login: `401` for an API client, `303` to the login page for a browser.
let api = RecentLoginRejection::Stale { login_redirect: None };
assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
let browser = RecentLoginRejection::Stale { login_redirect: Some("/login?next=/pay".into()) };
assert_eq!(browser.status(), StatusCode::SEE_OTHER);"#,
);

impl<S: HasUserId, St: Send + Sync, const MAX_AGE_SECS: u64> FromRequestParts<St>
    for RequireRecentLogin<S, MAX_AGE_SECS>
{
    type Rejection = RecentLoginRejection;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        let auth = RequireAuth::<S>::from_request_parts(parts, state)
            .await
            .map_err(RecentLoginRejection::Session)?;
        let ctx = auth.session().ctx();
        let fresh = ctx
            .authenticated_at()
            .and_then(|at| ctx.now.duration_since(at).ok())
            .is_some_and(|age| age <= Duration::from_secs(MAX_AGE_SECS));
        if !fresh {
            crate::observe::stale_login_refused();
            return Err(RecentLoginRejection::Stale {
                login_redirect: login_redirect(parts, &ctx.shared.config),
            });
        }
        Ok(Self { auth })
    }
}
