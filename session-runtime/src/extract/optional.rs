//! `Option<Guard<S, P>>`: "maybe logged in" handlers.

use axum_core::extract::OptionalFromRequestParts;
use http::request::Parts;

use super::guard::{Guard, Refusal};
use super::{Policy, SessionRejection};
use crate::schema::HasUserId;

/// `None` for an anonymous request or one the policy refuses; `Some` for a session it admits.
/// A missing layer (`500`) and a store that cannot load the session (`503`) are still
/// rejections: a failure is never mistaken for a guest.
impl<S: HasUserId, P: Policy<S>, St: Send + Sync> OptionalFromRequestParts<St> for Guard<S, P> {
    type Rejection = SessionRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &St,
    ) -> Result<Option<Self>, Self::Rejection> {
        match Self::check(parts).await {
            Ok(guard) => Ok(Some(guard)),
            Err(Refusal::Anonymous | Refusal::Forbidden) => Ok(None),
            Err(Refusal::Failed(rejection)) => Err(rejection),
        }
    }
}
