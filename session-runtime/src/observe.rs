//! What an operator sees of the session layer: a `tracing` span per store call, and, with
//! the `metrics` feature, counters, a histogram and a gauge through the
//! [`metrics`](https://docs.rs/metrics) facade.
//!
//! Everything lives here; the rest of the runtime makes one-line calls (`observe::login`,
//! `observe::rotated`, ...), and the store calls are wrapped once, in the object-safe
//! `DynStore` (`store/mod.rs`) that every store is reached through. Without the feature,
//! every function below but the spans' is empty and inlined away: no clock read, no
//! label, no call.
//!
//! # Spans
//!
//! `session_store`, at `DEBUG`, one per store call, with the fields `store` (the store's
//! [`SessionStore::name`]), `op` (the operation, as the metrics' `op` label) and
//! `public_id`, the session's [`PublicId`] when the call has one: the record a `create`
//! writes, the record a `load` finds, the session a `delete_public` names. Calls that name a
//! session by its key only (`update`, `touch`, `rotate`, `delete`) carry none: the token,
//! and the key (its SHA-256), are never put in a span.
//!
//! # Metrics (feature `metrics`)
//!
//! | name | kind | labels | counts |
//! | --- | --- | --- | --- |
//! | `sessions_logins_total` | counter | `how`: `login`, `remembered` | logins: [`Session::login`](crate::Session::login) and `login_exclusive`, and remembered devices logged in again |
//! | `sessions_logouts_total` | counter | | [`Session::logout`](crate::Session::logout) calls that succeeded |
//! | `sessions_rotations_total` | counter | | sessions moved to a new token: `rotate`, a privileged field's change, a password change |
//! | `sessions_revocations_total` | counter | `how`: `revoke`, `logout_others`, `logout_everywhere`, `password_change`, `auth_hash`, `admin`, `remember_replay` | sessions and remembered devices ended other than by their own logout |
//! | `sessions_refusals_total` | counter | `by`: a guard's policy name (`authenticated`, `staff`, `superuser`, a custom [`Policy::NAME`](crate::Policy::NAME)), `recent_login` or `csrf`; `reason`: `anonymous`, `forbidden`, `stale`, `cross_site`, `token`, `form_too_large` | requests refused by a guard or the CSRF check |
//! | `sessions_store_errors_total` | counter | `store`, `op`, `kind` | store calls that failed |
//! | `sessions_store_call_seconds` | histogram | `store`, `op` | how long each store call took |
//! | `sessions_live` | gauge | `store` | records in the store, for a store that can tell without a round trip ([`SessionStore::live_count`]; `MemoryStore` can) |
//!
//! `op` is one of `load`, `create`, `update`, `rotate`, `touch`, `delete`, `list_user`,
//! `delete_user`, `delete_public`; `kind` one of `backend`, `timeout`, `conflict`,
//! `capacity`, `corrupt`, `config`, `rng`.

use std::future::Future;

use crate::store::{BoxFuture, SessionStore, StoreError};
use crate::token::PublicId;

/// A store operation, as spans and metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Load,
    Create,
    Update,
    Rotate,
    Touch,
    Delete,
    ListUser,
    DeleteUser,
    DeletePublic,
}

impl Op {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Load => "load",
            Self::Create => "create",
            Self::Update => "update",
            Self::Rotate => "rotate",
            Self::Touch => "touch",
            Self::Delete => "delete",
            Self::ListUser => "list_user",
            Self::DeleteUser => "delete_user",
            Self::DeletePublic => "delete_public",
        }
    }
}

/// What a store call gives back, as far as observing it goes.
pub(crate) trait Outcome {
    /// The public id of the session the answer holds, if it holds one.
    fn public_id(&self) -> Option<&PublicId> {
        None
    }
}

impl Outcome for Option<crate::record::Record> {
    fn public_id(&self) -> Option<&PublicId> {
        self.as_ref().map(|record| &record.public_id)
    }
}

impl Outcome for () {}
impl Outcome for bool {}
impl Outcome for u64 {}
impl Outcome for Vec<crate::record::SessionInfo> {}

/// Whether a `tracing` subscriber may want the `DEBUG` spans of store calls: one atomic
/// load. Asked before a span is made, because the span macro alone, disabled, still builds
/// its fields for `log` (axum's default `tower-log` turns `tracing`'s `log` feature on), at
/// a few hundred instructions a call; and a disabled span still costs its drop.
#[inline(always)]
fn spans_wanted() -> bool {
    use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
    tracing::Level::DEBUG <= STATIC_MAX_LEVEL && tracing::Level::DEBUG <= LevelFilter::current()
}

/// The span of one store call (fields: see the module's docs).
fn span<S: SessionStore + ?Sized>(store: &S, op: Op, id: Option<&PublicId>) -> tracing::Span {
    tracing::debug_span!(
        "session_store",
        store = store.name(),
        op = op.as_str(),
        public_id = id.map(PublicId::as_str),
    )
}

/// Records the public id an answer holds on the call's span.
fn record_answer<T: Outcome>(span: &tracing::Span, result: &Result<T, StoreError>) {
    if !span.is_disabled()
        && let Ok(answer) = result
        && let Some(id) = answer.public_id()
    {
        span.record("public_id", id.as_str());
    }
}

/// A store call that waits for its backend: in its span and, with `metrics`, timed and
/// counted. `id`: the public id the call names, if any.
pub(crate) fn call<'a, S, T>(
    store: &'a S,
    op: Op,
    id: Option<&PublicId>,
    call: impl Future<Output = Result<T, StoreError>> + Send + 'a,
) -> BoxFuture<'a, T>
where
    S: SessionStore + ?Sized,
    T: Outcome + Send + 'a,
{
    let traced = spans_wanted();
    #[cfg(not(feature = "metrics"))]
    if !traced {
        return Box::pin(call);
    }
    let span = if traced {
        span(store, op, id)
    } else {
        tracing::Span::none()
    };
    Box::pin(async move {
        #[cfg(feature = "metrics")]
        let started = std::time::Instant::now();
        let result = tracing::Instrument::instrument(call, span.clone()).await;
        record_answer(&span, &result);
        #[cfg(feature = "metrics")]
        recorded::store_call(store, op, started, &result);
        result
    })
}

/// A store call answered without waiting (`call` gives `None` when the store must wait:
/// nothing happened then, and the waiting twin is observed instead). Its span is made once
/// the answer is there, the call taking no time to speak of.
#[inline(always)]
pub(crate) fn call_now<S, T>(
    store: &S,
    op: Op,
    id: Option<&PublicId>,
    call: impl FnOnce() -> Option<Result<T, StoreError>>,
) -> Option<Result<T, StoreError>>
where
    S: SessionStore + ?Sized,
    T: Outcome,
{
    // Off, the answer goes straight through: no copy of a record on the way.
    #[cfg(not(feature = "metrics"))]
    if !spans_wanted() {
        return call();
    }
    #[cfg(feature = "metrics")]
    let started = std::time::Instant::now();
    let result = call();
    if let Some(answer) = &result
        && spans_wanted()
    {
        record_answer(&span(store, op, id), answer);
    }
    #[cfg(feature = "metrics")]
    if let Some(answer) = &result {
        recorded::store_call(store, op, started, answer);
    }
    result
}

/// How a session was logged in.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) enum Login {
    /// `Session::login` or `login_exclusive`.
    Login,
    /// A remembered device, logged in again.
    Remembered,
}

/// How sessions were ended other than by their own logout.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) enum Revocation {
    /// `Session::revoke_session`.
    Revoke,
    /// `Session::logout_others`.
    LogoutOthers,
    /// `Session::logout_everywhere`.
    LogoutEverywhere,
    /// `Session::password_changed`.
    PasswordChange,
    /// The auth hash check found the credentials changed.
    AuthHash,
    /// `SessionAdmin::revoke` or `revoke_all`.
    Admin,
    /// A replaced remember-me token presented again: every session of its user ended.
    RememberReplay,
}

/// How many sessions an answer says ended.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) trait Ended {
    /// The count.
    fn ended(&self) -> u64;
}

impl Ended for bool {
    fn ended(&self) -> u64 {
        u64::from(*self)
    }
}

impl Ended for u64 {
    fn ended(&self) -> u64 {
        *self
    }
}

/// A login succeeded.
#[inline]
pub(crate) fn login(how: Login) {
    #[cfg(feature = "metrics")]
    recorded::login(how);
    #[cfg(not(feature = "metrics"))]
    let _ = how;
}

/// A logout: counted if it succeeded; the result is passed on.
#[inline]
pub(crate) fn logout<E>(result: Result<(), E>) -> Result<(), E> {
    #[cfg(feature = "metrics")]
    if result.is_ok() {
        recorded::logout();
    }
    result
}

/// A session moved to a new token.
#[inline]
pub(crate) fn rotated() {
    #[cfg(feature = "metrics")]
    recorded::rotated();
}

/// `n` sessions ended, `how`.
#[inline]
pub(crate) fn revocations(how: Revocation, n: u64) {
    #[cfg(feature = "metrics")]
    recorded::revocations(how, n);
    #[cfg(not(feature = "metrics"))]
    let _ = (how, n);
}

/// A revocation: the sessions its answer says ended are counted; the result is passed on.
#[inline]
pub(crate) fn revoked<T: Ended, E>(how: Revocation, result: Result<T, E>) -> Result<T, E> {
    #[cfg(feature = "metrics")]
    if let Ok(ended) = &result {
        recorded::revocations(how, ended.ended());
    }
    #[cfg(not(feature = "metrics"))]
    let _ = how;
    result
}

/// A guard whose policy is named `policy` answers `rejection`: counted if it is a refusal
/// (not a missing layer or a store failure).
#[inline]
pub(crate) fn guard_refused(policy: &'static str, rejection: &crate::SessionRejection) {
    #[cfg(feature = "metrics")]
    {
        use crate::SessionRejection::{Forbidden, Unauthenticated};
        match rejection {
            Unauthenticated { .. } => recorded::refused(policy, "anonymous"),
            Forbidden { .. } => recorded::refused(policy, "forbidden"),
            _ => {}
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (policy, rejection);
}

/// `RequireRecentLogin` refused a login that is not recent.
#[inline]
pub(crate) fn stale_login_refused() {
    #[cfg(feature = "metrics")]
    recorded::refused("recent_login", "stale");
}

/// The CSRF check answers `rejection`: counted if it is a refusal (not a session failure).
#[inline]
pub(crate) fn csrf_refused(rejection: &crate::CsrfRejection) {
    #[cfg(feature = "metrics")]
    {
        use crate::CsrfRejection::{BadToken, CrossSite, FormTooLarge};
        match rejection {
            CrossSite => recorded::refused("csrf", "cross_site"),
            BadToken => recorded::refused("csrf", "token"),
            FormTooLarge => recorded::refused("csrf", "form_too_large"),
            _ => {}
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = rejection;
}

/// A store type's name as [`SessionStore::name`] gives it by default: its type's name
/// without module path or generic arguments (`MemoryStore`, `Faulty`).
pub(crate) fn type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let path = full.split('<').next().unwrap_or(full);
    path.rsplit("::").next().unwrap_or(path)
}

/// The metrics' names, their descriptions, and the calls into the `metrics` facade.
#[cfg(feature = "metrics")]
mod recorded {
    use std::time::Instant;

    use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};

    use super::{Login, Op, Revocation};
    use crate::store::{SessionStore, StoreError};

    const LOGINS: &str = "sessions_logins_total";
    const LOGOUTS: &str = "sessions_logouts_total";
    const ROTATIONS: &str = "sessions_rotations_total";
    const REVOCATIONS: &str = "sessions_revocations_total";
    const REFUSALS: &str = "sessions_refusals_total";
    const STORE_ERRORS: &str = "sessions_store_errors_total";
    const STORE_CALL_SECONDS: &str = "sessions_store_call_seconds";
    const LIVE: &str = "sessions_live";

    pub(crate) fn describe() {
        describe_counter!(LOGINS, "Logins, by how (login, remembered).");
        describe_counter!(LOGOUTS, "Logouts that succeeded.");
        describe_counter!(ROTATIONS, "Sessions moved to a new token.");
        describe_counter!(
            REVOCATIONS,
            "Sessions and remembered devices ended other than by their own logout, by how."
        );
        describe_counter!(
            REFUSALS,
            "Requests refused by a guard (by its policy's name) or the CSRF check (by csrf)."
        );
        describe_counter!(STORE_ERRORS, "Session store calls that failed.");
        describe_histogram!(
            STORE_CALL_SECONDS,
            Unit::Seconds,
            "How long session store calls took."
        );
        describe_gauge!(
            LIVE,
            "Records in the session store, where it can tell cheaply."
        );
    }

    pub(super) fn login(how: Login) {
        let how = match how {
            Login::Login => "login",
            Login::Remembered => "remembered",
        };
        counter!(LOGINS, "how" => how).increment(1);
    }

    pub(super) fn logout() {
        counter!(LOGOUTS).increment(1);
    }

    pub(super) fn rotated() {
        counter!(ROTATIONS).increment(1);
    }

    pub(super) fn revocations(how: Revocation, n: u64) {
        if n == 0 {
            return;
        }
        let how = match how {
            Revocation::Revoke => "revoke",
            Revocation::LogoutOthers => "logout_others",
            Revocation::LogoutEverywhere => "logout_everywhere",
            Revocation::PasswordChange => "password_change",
            Revocation::AuthHash => "auth_hash",
            Revocation::Admin => "admin",
            Revocation::RememberReplay => "remember_replay",
        };
        counter!(REVOCATIONS, "how" => how).increment(n);
    }

    pub(super) fn refused(by: &'static str, reason: &'static str) {
        counter!(REFUSALS, "by" => by, "reason" => reason).increment(1);
    }

    pub(super) fn store_call<S: SessionStore + ?Sized, T>(
        store: &S,
        op: Op,
        started: Instant,
        result: &Result<T, StoreError>,
    ) {
        let name = store.name();
        let op = op.as_str();
        let seconds = started.elapsed().as_secs_f64();
        metrics::histogram!(STORE_CALL_SECONDS, "store" => name, "op" => op).record(seconds);
        if let Err(error) = result {
            let kind = match error {
                StoreError::Backend { .. } => "backend",
                StoreError::Timeout { .. } => "timeout",
                StoreError::Conflict => "conflict",
                StoreError::CapacityExceeded { .. } => "capacity",
                StoreError::Corrupt { .. } => "corrupt",
                StoreError::Config { .. } => "config",
                StoreError::Rng(_) => "rng",
            };
            counter!(STORE_ERRORS, "store" => name, "op" => op, "kind" => kind).increment(1);
        }
        if let Some(live) = store.live_count() {
            #[allow(clippy::cast_precision_loss)] // exact below 2^53 records
            gauge!(LIVE, "store" => name).set(live as f64);
        }
    }
}

/// Describes every metric of the session layer to the installed `metrics` recorder (the
/// `# HELP` lines of a Prometheus exporter, the seconds unit of the histogram). Call it once,
/// after installing the recorder; the metrics are recorded whether or not it is called.
///
/// | name | kind | labels |
/// | --- | --- | --- |
/// | `sessions_logins_total` | counter | `how` |
/// | `sessions_logouts_total` | counter | |
/// | `sessions_rotations_total` | counter | |
/// | `sessions_revocations_total` | counter | `how` |
/// | `sessions_refusals_total` | counter | `by`, `reason` |
/// | `sessions_store_errors_total` | counter | `store`, `op`, `kind` |
/// | `sessions_store_call_seconds` | histogram | `store`, `op` |
/// | `sessions_live` | gauge | `store` |
///
/// README's "Operating a fleet" says what each counts and which values its labels take.
///
/// ```
/// // With a recorder installed first (`metrics-exporter-prometheus`, say):
/// session_runtime::describe_metrics();
/// ```
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub fn describe_metrics() {
    recorded::describe();
}
