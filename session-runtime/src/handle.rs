//! Typed access to the request's session: the generic code behind every generated accessor.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::error::SessionError;
use crate::key::Key;
use crate::session::Context;

/// The request's session seen through schema `S`. Generated handles wrap one; it is not part
/// of the public API (use the accessors, or [`Session`](crate::Session)'s key methods).
#[doc(hidden)]
pub struct RawSession<S> {
    pub(crate) ctx: Arc<Context>,
    schema: PhantomData<fn() -> S>,
}

impl<S> Clone for RawSession<S> {
    fn clone(&self) -> Self {
        Self {
            ctx: self.ctx.clone(),
            schema: PhantomData,
        }
    }
}

impl<S> fmt::Debug for RawSession<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSession")
            .field("public_id", &self.ctx.public_id())
            .finish_non_exhaustive()
    }
}

impl<S> RawSession<S> {
    /// Views the request's session through schema `S`. The context must know that
    /// `S::KEYS` are live fields (the others are dropped at the next save: see
    /// `session/evolution.rs`): the load that gave `ctx` registered them.
    pub(crate) fn new(ctx: Arc<Context>) -> Self {
        Self {
            ctx,
            schema: PhantomData,
        }
    }
}

impl<S> RawSession<S> {
    /// Reads a field: its stored value, or its default when unset.
    ///
    /// A stored value that no longer decodes into `T` (the field's type changed in a new
    /// deploy) gives the default and a `tracing` warning; the session itself is kept.
    pub fn get<T>(&self, key: &Key<S, T>) -> T {
        let decoded = self
            .ctx
            .with_value(key.name(), |json| json.map(|json| key.decode(json)));
        or_default(key, decoded)
    }

    /// Reads a field and removes it, in one step: a flash message, read once. Later reads
    /// (in this request or the next) give the default, `None` or empty.
    ///
    /// A stored value that no longer decodes is removed too, and gives the default with a
    /// warning, as in [`get`](Self::get).
    pub fn take<T>(&self, key: &Key<S, T>) -> T {
        let decoded = self
            .ctx
            .take_value(key.name(), key.is_privileged())
            .map(|json| key.decode(&json));
        or_default(key, decoded)
    }

    /// Writes a field.
    ///
    /// # Errors
    ///
    /// [`SessionError::TooLarge`] past the size cap, [`SessionError::Encode`] if the value
    /// does not serialize. In both cases nothing changes.
    pub fn set<T>(&self, key: &Key<S, T>, value: T) -> Result<(), SessionError> {
        let json = key.encode(&value).map_err(|source| SessionError::Encode {
            field: key.name(),
            source,
        })?;
        self.ctx.set_value(key.name(), json, key.is_privileged())
    }

    /// Removes a field: reads give its default again.
    ///
    /// # Errors
    ///
    /// Never fails today; the `Result` keeps setters uniform.
    pub fn remove<T>(&self, key: &Key<S, T>) -> Result<(), SessionError> {
        self.ctx.remove_value(key.name(), key.is_privileged());
        Ok(())
    }

    /// Reads a field, changes it in place, and writes it back.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set); nothing changes on error.
    pub fn update<T>(&self, key: &Key<S, T>, f: impl FnOnce(&mut T)) -> Result<(), SessionError> {
        let mut value = self.get(key);
        f(&mut value);
        self.set(key, value)
    }

    /// The logged-in user's id, if any.
    pub fn user_id<Id: DeserializeOwned>(&self) -> Option<Id> {
        self.ctx.with_user_id_json(decode_user_id).flatten()
    }
}

/// A user id from its stored JSON; `None`, with a warning, if it no longer decodes.
pub(crate) fn decode_user_id<Id: DeserializeOwned>(json: &str) -> Option<Id> {
    match serde_json::from_str::<Id>(json) {
        Ok(id) => Some(id),
        Err(error) => {
            // An id that no longer decodes cannot be trusted to name the right user.
            tracing::warn!(%error, "stored user id does not decode; treating the session as anonymous");
            None
        }
    }
}

/// A field's decoded value; its default when unset or (with a warning) undecodable.
fn or_default<S, T>(key: &Key<S, T>, decoded: Option<serde_json::Result<T>>) -> T {
    match decoded {
        None => key.default_value(),
        Some(Ok(value)) => value,
        Some(Err(error)) => {
            tracing::warn!(
                field = key.name(),
                %error,
                "stored session value does not decode into the field's type; using its default"
            );
            key.default_value()
        }
    }
}
