//! The one error type of every store.

use std::error::Error as StdError;
use std::fmt;

/// The store operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreOp {
    /// Reading a session.
    Load,
    /// Writing a new session.
    Create,
    /// Writing changed fields.
    Update,
    /// Moving a session to a new token.
    Rotate,
    /// Refreshing rolling expiry.
    Touch,
    /// Deleting a session.
    Delete,
    /// Listing or revoking a user's sessions.
    PerUser,
    /// Deleting expired sessions.
    Sweep,
    /// Preparing the store (connecting, creating the schema).
    Setup,
}

impl fmt::Display for StoreOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Load => "load",
            Self::Create => "create",
            Self::Update => "update",
            Self::Rotate => "rotate",
            Self::Touch => "touch",
            Self::Delete => "delete",
            Self::PerUser => "per-user operation",
            Self::Sweep => "sweep",
            Self::Setup => "setup",
        })
    }
}

/// Why a store operation failed.
///
/// The runtime answers `503 Service Unavailable` for any of these in a request path; none of
/// them is ever turned into an empty session.
///
/// A [`Backend`](Self::Backend) error or a [`Timeout`](Self::Timeout) of a write leaves it
/// unknown whether the write happened (the backend may have applied it and lost its reply).
/// Where that matters, the runtime reads the session back before deciding: a new record
/// (a login, a rotation, a guest's first save) that is there counts as written, and a
/// session it was deleting that is gone counts as deleted. A write of changed fields that
/// answers `503` may therefore still have been made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend could not be reached or answered with an error.
    #[error("session store failed during {op}: {source}")]
    Backend {
        /// The operation that failed.
        op: StoreOp,
        /// The backend's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The backend did not answer in time.
    #[error("session store timed out during {op}")]
    Timeout {
        /// The operation that timed out.
        op: StoreOp,
    },
    /// A record with this key or public id already exists.
    #[error("a session with this key or public id already exists")]
    Conflict,
    /// The store holds its maximum number of sessions and refuses new anonymous ones.
    #[error("session store is full ({limit} sessions): new anonymous sessions are refused")]
    CapacityExceeded {
        /// The configured maximum.
        limit: usize,
    },
    /// A stored record could not be decoded.
    #[error("stored session record is corrupt: {reason}")]
    Corrupt {
        /// What was wrong with it.
        reason: String,
    },
    /// The store was configured with a value it cannot use (an invalid table name or key
    /// prefix, a malformed URL): reported when the store is built, never per request.
    #[error("invalid session store configuration: {reason}")]
    Config {
        /// What was wrong.
        reason: String,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Rng(String),
}

impl From<crate::token::RngFailed> for StoreError {
    fn from(failed: crate::token::RngFailed) -> Self {
        Self::Rng(failed.0)
    }
}

impl StoreError {
    /// Whether the operation may have been carried out although it failed: a backend error
    /// or a timeout can come after the backend applied a write (the reply was lost, or came
    /// too late). Every other error is given before anything is written.
    pub(crate) fn outcome_unknown(&self) -> bool {
        matches!(self, Self::Backend { .. } | Self::Timeout { .. })
    }

    /// Wraps a backend error.
    ///
    /// ```
    /// use session_runtime::{StoreError, StoreOp};
    ///
    /// let e = StoreError::backend(StoreOp::Load, "connection refused");
    /// assert_eq!(e.to_string(), "session store failed during load: connection refused");
    /// ```
    pub fn backend(op: StoreOp, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::Backend {
            op,
            source: source.into(),
        }
    }
}
