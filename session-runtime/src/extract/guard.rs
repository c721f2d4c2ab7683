//! Guard extractors: a session that is logged in and passes a [`Policy`].

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::OriginalUri;
use axum_core::extract::FromRequestParts;
use http::request::Parts;

use super::SessionRejection;
use super::policy::{Authenticated, Guardable, Policy, Staff, Superuser};
use super::session::Session;
use crate::config::ConfigInner;
use crate::handle::decode_user_id;
use crate::redirect::local_path;
use crate::rejection::wants_html;
use crate::schema::{HasUserId, SessionSchema};

/// Admits logged-in sessions that pass the policy `P`; `user_id()` returns the plain id.
///
/// [`RequireAuth`], [`RequireStaff`] and [`RequireSuperuser`] are guards with built-in
/// policies; a [`Policy`] of your own makes a custom guard (see its docs for an example).
///
/// - Anonymous requests get `401` with a JSON body or, for a browser request (one that
///   accepts `text/html`) when a [login URL](crate::SessionConfigBuilder::login_url) is
///   configured, a `303` to it with `?next=` set to the requested path.
/// - Logged-in sessions the policy refuses get `403`, naming [`Policy::NAME`].
/// - A store that cannot load the session gives `503`, before the handler runs.
///
/// Dereferences to the schema's handle, so every generated accessor works on a guard.
///
/// # In axum
///
/// - `Option<RequireAuth<S>>` (or any `Option<Guard<S, P>>`) for handlers that serve
///   everyone but do more for some: `None` for an anonymous request or one the policy
///   refuses. A store failure is still a `503`, never `None`.
/// - A whole router behind a guard, without naming it in every handler:
///   `axum::middleware::from_extractor::<RequireStaff<S>>()` as a `route_layer`, inside the
///   [`SessionLayer`](crate::SessionLayer):
///
/// ```
/// use axum::{Router, middleware::from_extractor, routing::get};
/// use session_runtime::{MemoryStore, RequireStaff, SessionConfig, SessionLayer, SessionSchema};
///
/// #[derive(SessionSchema)]
/// pub struct AppSession {
///     #[session(user_id)]
///     pub user_id: Option<i64>,
///     #[session(staff)]
///     pub is_staff: bool,
/// }
///
/// let admin: Router = Router::new()
///     .route("/users", get(|| async { "every route here needs staff" }))
///     .route("/audit", get(|| async { "this one too" }))
///     .route_layer(from_extractor::<RequireStaff<AppSession>>());
///
/// let app: Router = Router::new()
///     .nest("/admin", admin)
///     .route("/", get(|| async { "public" }))
///     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
/// ```
pub struct Guard<S: HasUserId, P: Policy<S>> {
    session: Session<S>,
    user_id: S::UserId,
    policy: PhantomData<fn() -> P>,
}

/// Admits logged-in sessions; `user_id()` returns the plain id.
///
/// Anonymous requests get `401` with a JSON body, or for a browser request (one that
/// accepts `text/html`) a `303` to the configured login URL with `?next=` set to the
/// requested path. Dereferences to the schema's handle, so every accessor works. See
/// [`Guard`] for `Option<RequireAuth<S>>` and for guarding whole routers.
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
///
/// async fn home(user: Option<RequireAuth<AppSession>>) -> String {
///     match user {
///         Some(user) => format!("welcome back, {:?}", user.username()),
///         None => "welcome, guest".to_owned(),
///     }
/// }
/// ```
pub type RequireAuth<S> = Guard<S, <S as Guardable<Authenticated>>::Policy>;

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
pub type RequireStaff<S> = Guard<S, <S as Guardable<Staff>>::Policy>;

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
pub type RequireSuperuser<S> = Guard<S, <S as Guardable<Superuser>>::Policy>;

impl<S: HasUserId, P: Policy<S>> Guard<S, P> {
    /// The logged-in user's id: the plain id type, since the guard proved it is there.
    ///
    /// ```
    /// use session_runtime::{RequireAuth, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn orders(user: RequireAuth<AppSession>) -> String {
    ///     let id: i64 = user.user_id(); // not an `Option`: no guest gets here
    ///     format!("orders of user {id}")
    /// }
    /// ```
    #[must_use]
    pub fn user_id(&self) -> S::UserId {
        self.user_id.clone()
    }

    /// The underlying session, for `logout`, `rotate` and typed-key access.
    ///
    /// ```
    /// use session_runtime::{RequireAuth, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// async fn logout(user: RequireAuth<AppSession>) -> Result<(), SessionError> {
    ///     user.session().logout().await
    /// }
    /// ```
    #[must_use]
    pub fn session(&self) -> &Session<S> {
        &self.session
    }

    /// Gives up the guard for the session it wraps.
    ///
    /// ```
    /// use session_runtime::{RequireAuth, SessionError, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    ///     pub exports: u32,
    /// }
    ///
    /// async fn export(user: RequireAuth<AppSession>) -> Result<String, SessionError> {
    ///     let session = user.into_session();
    ///     // A task that the handler waits for, which owns the session it uses:
    ///     let task = tokio::spawn(async move {
    ///         // ... build the export ...
    ///         session.update_exports(|n| *n += 1)?;
    ///         Ok::<_, SessionError>(format!("export number {}", session.exports()))
    ///     });
    ///     task.await.expect("the export task panicked")
    /// }
    /// ```
    #[must_use]
    pub fn into_session(self) -> Session<S> {
        self.session
    }

    /// Runs the guard: the session if it is logged in and `P` admits it, else why not.
    pub(super) async fn check(parts: &Parts) -> Result<Self, Refusal> {
        let ctx = super::load::<S>(parts).await.map_err(Refusal::Failed)?;
        let user_id = ctx.with_user_id_json(decode_user_id).flatten();
        let session = Session::<S>::from_context(ctx);
        let Some(user_id) = user_id else {
            return Err(Refusal::Anonymous);
        };
        if !P::admits(&session) {
            return Err(Refusal::Forbidden);
        }
        Ok(Self {
            session,
            user_id,
            policy: PhantomData,
        })
    }
}

/// Why a guard refused a request.
pub(super) enum Refusal {
    /// Not logged in.
    Anonymous,
    /// Logged in, but the policy said no.
    Forbidden,
    /// The session could not be loaded (no layer, store down).
    Failed(SessionRejection),
}

impl Refusal {
    /// The rejection the plain (non-`Option`) guard answers with.
    fn into_rejection<S: HasUserId, P: Policy<S>>(self, parts: &Parts) -> SessionRejection {
        match self {
            Refusal::Anonymous => match super::context() {
                Ok(ctx) if ctx.is_bearer() => SessionRejection::InvalidBearer,
                Ok(ctx) => unauthenticated(parts, &ctx.shared.config),
                Err(rejection) => rejection,
            },
            Refusal::Forbidden => SessionRejection::Forbidden { role: P::NAME },
            Refusal::Failed(rejection) => rejection,
        }
    }
}

impl<S: HasUserId, P: Policy<S>> Deref for Guard<S, P> {
    type Target = <S as SessionSchema>::Handle;

    fn deref(&self) -> &Self::Target {
        &self.session
    }
}

impl<S: HasUserId, P: Policy<S>> fmt::Debug for Guard<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("policy", &P::NAME)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl<S: HasUserId, P: Policy<S>, St: Send + Sync> FromRequestParts<St> for Guard<S, P> {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Self::Rejection> {
        Self::check(parts)
            .await
            .map_err(|refusal| refusal.into_rejection::<S, P>(parts))
            .inspect_err(|rejection| crate::observe::guard_refused(P::NAME, rejection))
    }
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
///
/// The path is the one the browser asked for: under `Router::nest` axum strips the prefix
/// from the request's URI before the handler runs, and keeps the original in
/// [`OriginalUri`]. A `next` the login URL already carries is replaced, not repeated. A
/// request target that is not a [`local_path`] (a crafted `GET //evil.example/x`) gets
/// `next=/`, so a login page that trusts `next` is still no open redirect.
pub(crate) fn login_redirect(parts: &Parts, config: &ConfigInner) -> Option<String> {
    match &config.login_url {
        Some(url) if wants_html(&parts.headers) => {
            let uri = parts
                .extensions
                .get::<OriginalUri>()
                .map_or(&parts.uri, |original| &original.0);
            let next = uri
                .path_and_query()
                .and_then(|pq| local_path(pq.as_str()))
                .unwrap_or("/");
            Some(with_next(url, next))
        }
        _ => None,
    }
}

/// `url` with its query's `next` parameter set to `next` (percent-encoded); its other
/// parameters and its fragment are kept.
pub(crate) fn with_next(url: &str, next: &str) -> String {
    let (url, fragment) = match url.split_once('#') {
        Some((url, fragment)) => (url, Some(fragment)),
        None => (url, None),
    };
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut out = format!("{path}?");
    for pair in query.split('&') {
        let name = pair.split('=').next().unwrap_or_default();
        if !pair.is_empty() && name != "next" {
            out.push_str(pair);
            out.push('&');
        }
    }
    out.push_str("next=");
    out.extend(percent_encoding::utf8_percent_encode(next, NEXT_SET));
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}
