//! `PostgresStore`'s live revocation: every delete notifies the table's channel with the
//! public ids it deleted (`pg_notify` in the same statement, so a notice goes out exactly
//! when the delete commits), and one `LISTEN` connection per store, opened on the first
//! wait, tells the process's [`SessionEnds`] hub.

use std::sync::{Arc, Weak};
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use sqlx::PgPool;
use sqlx::postgres::PgListener;

use crate::ends::SessionEnds;
use crate::token::PublicId;

/// How long a (re)connection of the listener may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the listener waits after a failed connection before it tries again.
const RETRY_AFTER: Duration = Duration::from_millis(500);
/// How often an idle listener checks that its store still exists.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// The channel of a table's ended sessions: a name of its own per table (an identifier
/// Postgres keeps whole, whatever the table's name).
pub(super) fn channel(table: &str) -> String {
    let digest = Sha256::digest(table.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("session_ends_{hex}")
}

/// The hub of a store on `pool`, whose deletes notify `channel`.
pub(super) fn hub(pool: PgPool, channel: String) -> Arc<SessionEnds> {
    SessionEnds::through_server(move |hub| {
        tokio::spawn(listen(pool, channel, Arc::downgrade(&hub)));
    })
}

/// Listens on `channel` for as long as the hub exists: tells it of every notice, and of
/// every lost connection (then subscribes again).
async fn listen(pool: PgPool, channel: String, hub: Weak<SessionEnds>) {
    loop {
        let mut listener = match subscribe(&pool, &channel).await {
            Ok(listener) => listener,
            Err(error) => {
                if hub.strong_count() == 0 || pool.is_closed() {
                    return;
                }
                tracing::warn!(%error, "could not listen for ended sessions; retrying");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        };
        match hub.upgrade() {
            Some(hub) => hub.connected(),
            None => return,
        }
        loop {
            match tokio::time::timeout(IDLE_CHECK, listener.try_recv()).await {
                Ok(Ok(Some(notice))) => match hub.upgrade() {
                    Some(hub) => hub.ended(&PublicId::new(notice.payload())),
                    None => return,
                },
                // The connection was lost (`None`) or failed: every wait ends with an error,
                // and the next subscription starts over.
                Ok(Ok(None) | Err(_)) => {
                    tracing::warn!("lost the connection that listens for ended sessions");
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

async fn subscribe(pool: &PgPool, channel: &str) -> Result<PgListener, sqlx::Error> {
    let connect = async {
        let mut listener = PgListener::connect_with(pool).await?;
        // A lost connection is this module's to handle: the waits it may have missed end
        // with an error, and then it subscribes again.
        listener.eager_reconnect(false);
        listener.listen(channel).await?;
        Ok(listener)
    };
    tokio::time::timeout(CONNECT_TIMEOUT, connect)
        .await
        .unwrap_or(Err(sqlx::Error::PoolTimedOut))
}
