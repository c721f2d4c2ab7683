//! Ending sessions when the user's credentials change: the auth hash check.
//!
//! At login the app stores a fingerprint of the user's credentials (for example a hash of the
//! password hash) in a schema field. [`SessionLayer::verify_auth_hash`] then compares it, on
//! every request that loads a logged-in session, with the user's current fingerprint: after a
//! password change elsewhere, every session holding the old fingerprint is ended and the
//! request is anonymous (as Django and axum-login do).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use subtle::ConstantTimeEq as _;

use crate::key::Key;
use crate::schema::HasUserId;

/// Any error of the app's credential lookup.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The future of an [`AuthCheck`].
pub(crate) type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, BoxError>> + Send + 'a>>;

/// The schema-erased check the load path runs after loading a logged-in session.
pub(crate) trait AuthCheck: Send + Sync + 'static {
    /// The schema field that holds the fingerprint.
    fn field(&self) -> &'static str;

    /// Whether the session's stored fingerprint matches the user's current one.
    fn matches<'a>(
        &'a self,
        user_json: &'a str,
        data: &'a BTreeMap<String, String>,
    ) -> CheckFuture<'a>;
}

/// [`AuthCheck`] for a schema `S`: the fingerprint in the field `key`, the user's current
/// one from `current`.
pub(crate) struct TypedCheck<S, F> {
    pub(crate) key: Key<S, Option<String>>,
    pub(crate) current: F,
}

impl<S, F, Fut, E> AuthCheck for TypedCheck<S, F>
where
    S: HasUserId,
    F: Fn(S::UserId) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<String>, E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn field(&self) -> &'static str {
        self.key.name()
    }

    fn matches<'a>(
        &'a self,
        user_json: &'a str,
        data: &'a BTreeMap<String, String>,
    ) -> CheckFuture<'a> {
        Box::pin(async move {
            let Ok(user) = serde_json::from_str::<S::UserId>(user_json) else {
                return Ok(false);
            };
            let stored = data
                .get(self.key.name())
                .and_then(|json| serde_json::from_str::<Option<String>>(json).ok())
                .flatten();
            let current = (self.current)(user).await.map_err(Into::into)?;
            Ok(match (stored, current) {
                (Some(stored), Some(current)) => {
                    bool::from(stored.as_bytes().ct_eq(current.as_bytes()))
                }
                // No fingerprint in the session, or no such user any more: not a match.
                _ => false,
            })
        })
    }
}
