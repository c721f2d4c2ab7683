//! Guard extractors: a session that is logged in, and holds a role.

use std::fmt;
use std::ops::Deref;

use axum_core::extract::FromRequestParts;
use http::header::ACCEPT;
use http::request::Parts;

use super::SessionRejection;
use crate::config::ConfigInner;
use crate::schema::{HasStaff, HasSuperuser, HasUserId, SessionSchema};
use crate::session::Session;

/// Whether the client is a browser that wants a page rather than JSON.
fn accepts_html(parts: &Parts) -> bool {
    parts
        .headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"))
}

/// Characters kept as they are in the `next` query parameter.
const NEXT_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn unauthenticated(parts: &Parts, config: &ConfigInner) -> SessionRejection {
    SessionRejection::Unauthenticated {
        login_redirect: login_redirect(parts, config),
    }
}

/// For a browser request, the configured login URL with `next` set to the requested path.
pub(crate) fn login_redirect(parts: &Parts, config: &ConfigInner) -> Option<String> {
    match &config.login_url {
        Some(url) if accepts_html(parts) => {
            let next = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
            let sep = if url.contains('?') { '&' } else { '?' };
            Some(format!(
                "{url}{sep}next={}",
                percent_encoding::utf8_percent_encode(next, NEXT_SET)
            ))
        }
        _ => None,
    }
}

/// Loads the session and requires a logged-in user.
async fn authenticate<S: HasUserId>(
    parts: &Parts,
) -> Result<(Session<S>, S::UserId), SessionRejection> {
    let ctx = super::context(parts)?;
    ctx.load()
        .await
        .map_err(|_| SessionRejection::StoreUnavailable)?;
    let session = Session::<S>::from_context(ctx.clone());
    match session.current_user_id() {
        Some(id) => Ok((session, id)),
        None => Err(unauthenticated(parts, &ctx.config)),
    }
}

fn is_staff<S: HasStaff>(session: &Session<S>) -> bool {
    session.get(&S::STAFF_KEY) || is_superuser_opt(session)
}

fn is_superuser_opt<S: SessionSchema>(session: &Session<S>) -> bool {
    S::SUPERUSER_KEY.is_some_and(|key| session.get(&key))
}

macro_rules! guard {
    (
        $(#[$doc:meta])*
        $name:ident, $bound:ident, $check:expr, $role:literal
    ) => {
        $(#[$doc])*
        pub struct $name<S: $bound> {
            session: Session<S>,
            user_id: S::UserId,
        }

        impl<S: $bound> $name<S> {
            /// The logged-in user's id: the plain id type, since the guard proved it is there.
            #[must_use]
            pub fn user_id(&self) -> S::UserId {
                self.user_id.clone()
            }

            /// The underlying session, for `logout`, `rotate` and typed-key access.
            #[must_use]
            pub fn session(&self) -> &Session<S> {
                &self.session
            }

            /// Gives up the guard for the session it wraps.
            #[must_use]
            pub fn into_session(self) -> Session<S> {
                self.session
            }
        }

        impl<S: $bound> Deref for $name<S> {
            type Target = <S as SessionSchema>::Handle;

            fn deref(&self) -> &Self::Target {
                &self.session
            }
        }

        impl<S: $bound> fmt::Debug for $name<S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("session", &self.session)
                    .finish_non_exhaustive()
            }
        }

        impl<S: $bound, St: Send + Sync> FromRequestParts<St> for $name<S> {
            type Rejection = SessionRejection;

            async fn from_request_parts(
                parts: &mut Parts,
                _state: &St,
            ) -> Result<Self, Self::Rejection> {
                let (session, user_id) = authenticate::<S>(parts).await?;
                let check: fn(&Session<S>) -> bool = $check;
                if !check(&session) {
                    return Err(SessionRejection::Forbidden {
                        role: $role,
                        html: accepts_html(parts),
                    });
                }
                Ok(Self { session, user_id })
            }
        }
    };
}

guard! {
    /// Admits logged-in sessions; `user_id()` returns the plain id.
    ///
    /// Anonymous requests get `401` with a JSON body, or for a browser request (one that
    /// accepts `text/html`) a `303` to the configured login URL with `?next=` set to the
    /// requested path. Dereferences to the schema's handle, so every accessor works.
    ///
    /// ```
    /// use session_runtime::{RequireAuth, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    ///     pub username: Option<String>,
    /// }
    ///
    /// async fn me(user: RequireAuth<AppSession>) -> String {
    ///     let id: i64 = user.user_id();
    ///     format!("{id} {:?}", user.username())
    /// }
    /// ```
    RequireAuth, HasUserId, |_| true, "authenticated"
}

guard! {
    /// Admits logged-in sessions whose `#[session(staff)]` field is `true`, or whose
    /// `#[session(superuser)]` field is `true` (a superuser passes every staff check).
    ///
    /// Anonymous requests are refused as by [`RequireAuth`]; logged-in users without the role
    /// get `403`. Using it with a schema that has no staff field does not compile.
    ///
    /// ```
    /// use session_runtime::{RequireStaff, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    ///     #[session(staff)]
    ///     pub is_staff: bool,
    /// }
    ///
    /// async fn admin(staff: RequireStaff<AppSession>) -> String {
    ///     format!("hello, staff member {}", staff.user_id())
    /// }
    /// ```
    RequireStaff, HasStaff, is_staff::<S>, "staff"
}

guard! {
    /// Admits logged-in sessions whose `#[session(superuser)]` field is `true`.
    ///
    /// Anonymous requests are refused as by [`RequireAuth`]; logged-in users without the role
    /// get `403`. Using it with a schema that has no superuser field does not compile.
    ///
    /// ```
    /// use session_runtime::{RequireSuperuser, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    ///     #[session(superuser)]
    ///     pub is_superuser: bool,
    /// }
    ///
    /// async fn root(root: RequireSuperuser<AppSession>) -> String {
    ///     format!("hello, superuser {}", root.user_id())
    /// }
    /// ```
    RequireSuperuser, HasSuperuser, |s| s.get(&S::SUPERUSER), "superuser"
}
