//! [`FaultStore`]: a [`MemoryStore`] behind a wrapper that counts every call and makes the
//! one call it is armed for fail, in one of the ways a networked backend fails.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use session_runtime::{
    MemoryStore, PublicId, Record, SessionInfo, SessionKey, SessionStore, StoreError, StoreOp,
    Update,
};

/// The deadline of one store call, as a networked store bounds it (their default
/// `command_timeout`): a call that hangs past it fails with [`StoreError::Timeout`].
pub const DEADLINE: Duration = Duration::from_secs(3);

/// How the armed call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The backend refuses the call; nothing is carried out.
    Error,
    /// The backend does not answer in time; nothing is carried out.
    Timeout,
    /// The backend never answers, and carries nothing out: the deadline ends the wait (on
    /// tokio's paused clock, so the test does not really wait).
    Hang,
    /// The backend carries the call out, then never answers: the deadline ends the wait.
    HangAfterWrite,
    /// The backend carries the call out, but its answer is lost: the caller gets an error
    /// for a write that happened.
    LostReply,
}

impl Fault {
    /// Every kind, in the order the matrix runs them.
    pub const ALL: [Self; 5] = [
        Self::Error,
        Self::Timeout,
        Self::Hang,
        Self::HangAfterWrite,
        Self::LostReply,
    ];
}

/// The store of one world: a real [`MemoryStore`], a call counter and the armed fault.
#[derive(Clone)]
pub struct FaultStore {
    /// The real store; tests read it directly to check what is stored.
    pub inner: MemoryStore,
    plan: Arc<Plan>,
}

/// Which call fails, and the calls made since the store was armed.
#[derive(Default)]
struct Plan {
    calls: AtomicUsize,
    armed: Mutex<Option<(usize, Fault)>>,
    ops: Mutex<Vec<StoreOp>>,
}

impl FaultStore {
    /// A fault-free store over `inner`.
    pub fn new(inner: MemoryStore) -> Self {
        Self {
            inner,
            plan: Arc::default(),
        }
    }

    /// Starts counting calls from zero; with `fault`, the call numbered `nth` (from 1)
    /// fails that way.
    pub fn arm(&self, fault: Option<(usize, Fault)>) {
        self.plan.calls.store(0, Ordering::SeqCst);
        self.plan.ops.lock().unwrap().clear();
        *self.plan.armed.lock().unwrap() = fault;
    }

    /// Stops injecting; the calls made since [`arm`](Self::arm), in order.
    pub fn disarm(&self) -> Vec<StoreOp> {
        *self.plan.armed.lock().unwrap() = None;
        std::mem::take(&mut *self.plan.ops.lock().unwrap())
    }

    /// Counts one call of `op`, and runs `inner` unless this is the armed call.
    async fn call<T>(
        &self,
        op: StoreOp,
        inner: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let nth = self.plan.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.plan.ops.lock().unwrap().push(op);
        let armed = *self.plan.armed.lock().unwrap();
        let fault = match armed {
            Some((at, fault)) if at == nth => fault,
            _ => return inner.await,
        };
        match fault {
            Fault::Error => Err(StoreError::backend(op, "connection reset (injected)")),
            Fault::Timeout => Err(StoreError::Timeout { op }),
            Fault::Hang => past_deadline(op, std::future::pending()).await,
            Fault::HangAfterWrite => {
                past_deadline(op, async {
                    let _ = inner.await;
                    std::future::pending::<()>().await;
                })
                .await
            }
            Fault::LostReply => {
                let _ = inner.await;
                Err(StoreError::backend(op, "reply lost (injected)"))
            }
        }
    }
}

/// Waits for `silent`, which never ends, until the deadline: a timeout of `op`.
async fn past_deadline<T>(op: StoreOp, silent: impl Future<Output = ()>) -> Result<T, StoreError> {
    let _ = tokio::time::timeout(DEADLINE, silent).await;
    Err(StoreError::Timeout { op })
}

impl SessionStore for FaultStore {
    async fn load(&self, key: &SessionKey, now: SystemTime) -> Result<Option<Record>, StoreError> {
        self.call(StoreOp::Load, self.inner.load(key, now)).await
    }
    async fn create(&self, key: &SessionKey, record: &Record) -> Result<(), StoreError> {
        self.call(StoreOp::Create, self.inner.create(key, record))
            .await
    }
    async fn update(&self, key: &SessionKey, update: &Update) -> Result<bool, StoreError> {
        self.call(StoreOp::Update, self.inner.update(key, update))
            .await
    }
    async fn rotate(
        &self,
        old: &SessionKey,
        new: &SessionKey,
        update: &Update,
    ) -> Result<bool, StoreError> {
        self.call(StoreOp::Rotate, self.inner.rotate(old, new, update))
            .await
    }
    async fn touch(
        &self,
        key: &SessionKey,
        last_seen: SystemTime,
        expires_at: SystemTime,
    ) -> Result<bool, StoreError> {
        let touch = self.inner.touch(key, last_seen, expires_at);
        self.call(StoreOp::Touch, touch).await
    }
    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        self.call(StoreOp::Delete, self.inner.delete(key)).await
    }
    async fn list_user(
        &self,
        user_id: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        self.call(StoreOp::PerUser, self.inner.list_user(user_id, now))
            .await
    }
    async fn delete_user(
        &self,
        user_id: &str,
        keep: Option<&SessionKey>,
    ) -> Result<u64, StoreError> {
        self.call(StoreOp::PerUser, self.inner.delete_user(user_id, keep))
            .await
    }
    async fn delete_public(&self, user_id: &str, public_id: &PublicId) -> Result<bool, StoreError> {
        let delete = self.inner.delete_public(user_id, public_id);
        self.call(StoreOp::PerUser, delete).await
    }
    async fn sweep(&self, now: SystemTime) -> Result<u64, StoreError> {
        self.call(StoreOp::Sweep, self.inner.sweep(now)).await
    }
}
