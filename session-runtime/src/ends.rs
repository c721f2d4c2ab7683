//! Live revocation: a long-lived response (SSE, a WebSocket) awaits the end of its session,
//! wherever it ends (DESIGN §7).
//!
//! A store that supports it owns a [`SessionEnds`] hub and tells it of every session it
//! deletes, by public id: the in-process stores at once, the server-backed ones through the
//! server (PostgreSQL `LISTEN`/`NOTIFY`, Redis pub/sub), so that another instance sharing
//! the store hears of it too. However many waiters a process has, it holds one
//! subscription; a waiter costs an entry in the hub's map and a timer, and no store traffic
//! beyond one check when it starts. Rotation is not an end (the public id stays), and
//! expiry is found by the waiter's own timer, re-checked against the store when it fires.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use crate::token::PublicId;

/// Why waiting for the end of a session failed: the wait cannot say whether the session
/// ended, so a long-lived response should close (the client reconnects and is checked
/// afresh).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionEndError {
    /// The store does not tell of ended sessions
    /// ([`SessionStore::session_ends`](crate::SessionStore::session_ends) is `None`).
    #[error("this session store cannot tell when a session ends")]
    Unsupported,
    /// The connection that carries the store's notices was lost (it comes back by itself;
    /// waits that began before it came back end with this error).
    #[error("lost the connection that tells of ended sessions")]
    Disconnected,
    /// The store failed while checking the session.
    #[error("the session store failed: {0}")]
    Store(String),
}

/// How long a new waiter waits for the store's subscription to be up.
pub(crate) const LINK_WAIT: Duration = Duration::from_secs(5);

type Outcome = Result<(), SessionEndError>;

/// Starts a server-backed store's listener, once, on the first wait.
type Starter = Box<dyn FnOnce(Arc<SessionEnds>) + Send>;

/// Whether the store's notices can be trusted now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Subscribed: every end from now on is heard.
    Up,
    /// Not (yet, or no longer) subscribed.
    Down,
}

#[derive(Default)]
struct Waiters {
    by_id: HashMap<PublicId, Vec<(u64, oneshot::Sender<Outcome>)>>,
}

/// The hub of a store's ended sessions: waiters register by public id, and the store (or
/// its listener) reports each session it ended with [`ended`](Self::ended).
///
/// A store implements [`SessionStore::session_ends`](crate::SessionStore::session_ends) by
/// giving out its hub; an in-process store makes it with [`in_process`](Self::in_process)
/// and calls `ended` wherever it deletes a record. A store whose sessions other processes
/// change makes it with [`through_server`](Self::through_server), subscribes on the first
/// wait, and reports [`connected`](Self::connected) / [`disconnected`](Self::disconnected)
/// as its subscription comes and goes.
///
/// ```
/// use session_runtime::{PublicId, SessionEnds};
///
/// let ends = SessionEnds::in_process();
/// assert_eq!(ends.waiting(), 0);
/// ends.ended(&PublicId::new("nobody-waits")); // cheap when nobody waits
/// ```
pub struct SessionEnds {
    waiters: Mutex<Waiters>,
    /// How many waiters are registered: lets [`ended`](Self::ended) skip the lock.
    count: AtomicUsize,
    next: AtomicU64,
    link: watch::Sender<Link>,
    starter: Mutex<Option<Starter>>,
}

impl fmt::Debug for SessionEnds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionEnds")
            .field("waiting", &self.waiting())
            .field("up", &(*self.link.borrow() == Link::Up))
            .finish_non_exhaustive()
    }
}

impl SessionEnds {
    fn with(link: Link, starter: Option<Starter>) -> Arc<Self> {
        Arc::new(Self {
            waiters: Mutex::new(Waiters::default()),
            count: AtomicUsize::new(0),
            next: AtomicU64::new(0),
            link: watch::channel(link).0,
            starter: Mutex::new(starter),
        })
    }

    /// The hub of a store whose sessions only this process changes (`MemoryStore`,
    /// `SqliteStore`): always up.
    ///
    /// ```
    /// let ends = session_runtime::SessionEnds::in_process();
    /// # let _ = ends;
    /// ```
    #[must_use]
    pub fn in_process() -> Arc<Self> {
        Self::with(Link::Up, None)
    }

    /// The hub of a store whose sessions other processes change too: down until `start`
    /// (called once, on the first wait, with the hub) subscribes and reports
    /// [`connected`](Self::connected).
    ///
    /// ```
    /// use session_runtime::SessionEnds;
    ///
    /// let ends = SessionEnds::through_server(|hub| {
    ///     // Spawn the listener here: subscribe, then `hub.connected()`, then report
    ///     // each notice with `hub.ended(..)`; on a lost connection `hub.disconnected()`
    ///     // and subscribe again.
    ///     hub.connected();
    /// });
    /// # let _ = ends;
    /// ```
    pub fn through_server(start: impl FnOnce(Arc<SessionEnds>) + Send + 'static) -> Arc<Self> {
        Self::with(Link::Down, Some(Box::new(start)))
    }

    fn lock(&self) -> MutexGuard<'_, Waiters> {
        self.waiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many waits are registered.
    ///
    /// ```
    /// assert_eq!(session_runtime::SessionEnds::in_process().waiting(), 0);
    /// ```
    #[must_use]
    pub fn waiting(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// The session with this public id ended: its waiters complete.
    ///
    /// ```
    /// # use session_runtime::{PublicId, SessionEnds};
    /// let ends = SessionEnds::in_process();
    /// ends.ended(&PublicId::new("p1"));
    /// ```
    pub fn ended(&self, id: &PublicId) {
        if self.count.load(Ordering::Acquire) == 0 {
            return;
        }
        let done = self.lock().by_id.remove(id).unwrap_or_default();
        self.count.fetch_sub(done.len(), Ordering::AcqRel);
        for (_, waiter) in done {
            let _ = waiter.send(Ok(()));
        }
    }

    /// The subscription is up: every end from now on is heard.
    ///
    /// ```
    /// let ends = session_runtime::SessionEnds::through_server(|_| {});
    /// ends.connected();
    /// ```
    pub fn connected(&self) {
        self.link.send_replace(Link::Up);
    }

    /// The subscription was lost: every current wait ends with
    /// [`SessionEndError::Disconnected`], and new ones wait (a few seconds at most) for
    /// [`connected`](Self::connected).
    ///
    /// ```
    /// let ends = session_runtime::SessionEnds::through_server(|_| {});
    /// ends.disconnected();
    /// ```
    pub fn disconnected(&self) {
        self.link.send_replace(Link::Down);
        let all = std::mem::take(&mut self.lock().by_id);
        for (_, waiters) in all {
            self.count.fetch_sub(waiters.len(), Ordering::AcqRel);
            for (_, waiter) in waiters {
                let _ = waiter.send(Err(SessionEndError::Disconnected));
            }
        }
    }

    /// Starts the subscription if it is not yet, and waits (at most [`LINK_WAIT`]) until it
    /// is up.
    pub(crate) async fn up(self: &Arc<Self>) -> Result<(), SessionEndError> {
        let start = self
            .starter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(start) = start {
            start(self.clone());
        }
        let mut link = self.link.subscribe();
        let up = tokio::time::timeout(LINK_WAIT, link.wait_for(|l| *l == Link::Up)).await;
        match up {
            Ok(Ok(_)) => Ok(()),
            _ => Err(SessionEndError::Disconnected),
        }
    }

    /// Registers a wait for `id`; dropping the [`Registration`] withdraws it.
    pub(crate) fn register(self: &Arc<Self>, id: PublicId) -> Registration {
        let (tx, rx) = oneshot::channel();
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock()
            .by_id
            .entry(id.clone())
            .or_default()
            .push((n, tx));
        self.count.fetch_add(1, Ordering::AcqRel);
        Registration {
            hub: self.clone(),
            id,
            n,
            rx,
        }
    }

    fn withdraw(&self, id: &PublicId, n: u64) {
        let mut waiters = self.lock();
        if let Some(list) = waiters.by_id.get_mut(id) {
            let before = list.len();
            list.retain(|(m, _)| *m != n);
            self.count.fetch_sub(before - list.len(), Ordering::AcqRel);
            if list.is_empty() {
                waiters.by_id.remove(id);
            }
        }
    }
}

/// A server-backed store's subscription to its ended sessions, as [`keep_subscribed`]
/// holds it (`store/pg_listen.rs`, `store/redis_listen.rs`).
#[cfg(any(feature = "postgres", feature = "redis"))]
pub(crate) trait Subscription: Send {
    /// The public id of the next session that ended; `None` once the connection is lost.
    fn next_end(&mut self) -> impl Future<Output = Option<String>> + Send;
}

/// Keeps `hub` subscribed for as long as it exists: calls `subscribe(attempt)` (attempt 0,
/// 1, ...) until it succeeds, reports `connected`, then every end; on a lost connection it
/// reports `disconnected` (every current wait ends with an error) and subscribes again.
/// `subscribe` answers `Err(Some(why))` to be tried again shortly, `Err(None)` to give up
/// (the store was closed).
#[cfg(any(feature = "postgres", feature = "redis"))]
pub(crate) async fn keep_subscribed<S, F, Fut>(hub: std::sync::Weak<SessionEnds>, mut subscribe: F)
where
    S: Subscription,
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<S, Option<String>>>,
{
    /// How long a (re)subscription may take.
    const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// How long to wait after a failed subscription before trying again.
    const RETRY_AFTER: Duration = Duration::from_millis(500);
    /// How often an idle subscription checks that its store still exists.
    const IDLE_CHECK: Duration = Duration::from_secs(30);

    for attempt in 0.. {
        let subscribed = tokio::time::timeout(CONNECT_TIMEOUT, subscribe(attempt)).await;
        let mut subscription = match subscribed {
            Ok(Ok(subscription)) => subscription,
            Ok(Err(None)) => return,
            failed => {
                if hub.strong_count() == 0 {
                    return;
                }
                let error = match failed {
                    Ok(Err(Some(error))) => error,
                    _ => "timed out".to_owned(),
                };
                tracing::warn!(%error, "could not subscribe to ended sessions; retrying");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        };
        match hub.upgrade() {
            Some(hub) => hub.connected(),
            None => return,
        }
        loop {
            match tokio::time::timeout(IDLE_CHECK, subscription.next_end()).await {
                Ok(Some(id)) => match hub.upgrade() {
                    Some(hub) => hub.ended(&PublicId::new(id)),
                    None => return,
                },
                Ok(None) => {
                    tracing::warn!("lost the connection subscribed to ended sessions");
                    match hub.upgrade() {
                        Some(hub) => hub.disconnected(),
                        None => return,
                    }
                    break;
                }
                Err(_idle) if hub.strong_count() == 0 => return,
                Err(_idle) => {}
            }
        }
    }
}

/// One registered wait: its outcome arrives on `rx`.
pub(crate) struct Registration {
    hub: Arc<SessionEnds>,
    id: PublicId,
    n: u64,
    pub(crate) rx: oneshot::Receiver<Outcome>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.withdraw(&self.id, self.n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_end_completes_its_waiters_only_and_a_dropped_wait_is_withdrawn() {
        let hub = SessionEnds::in_process();
        let (a, b) = (PublicId::new("a"), PublicId::new("b"));
        let mut first = hub.register(a.clone());
        let mut second = hub.register(a.clone());
        let other = hub.register(b.clone());
        assert_eq!(hub.waiting(), 3);
        hub.ended(&a);
        assert_eq!((&mut first.rx).await, Ok(Ok(())));
        assert_eq!((&mut second.rx).await, Ok(Ok(())));
        assert_eq!(hub.waiting(), 1);
        drop(other);
        assert_eq!(hub.waiting(), 0);
        drop((first, second));
        assert_eq!(hub.waiting(), 0);
    }

    #[tokio::test]
    async fn a_lost_link_fails_every_wait_and_new_ones_wait_for_it() {
        let hub = SessionEnds::through_server(|hub| hub.connected());
        hub.up().await.unwrap();
        let mut wait = hub.register(PublicId::new("a"));
        hub.disconnected();
        assert_eq!((&mut wait.rx).await, Ok(Err(SessionEndError::Disconnected)));
        assert_eq!(hub.waiting(), 0);
        tokio::time::pause();
        let down = hub.up();
        assert_eq!(down.await, Err(SessionEndError::Disconnected));
        hub.connected();
        assert_eq!(hub.up().await, Ok(()));
    }
}
