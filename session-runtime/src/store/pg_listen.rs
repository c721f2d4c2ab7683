//! `PostgresStore`'s live revocation: every delete notifies the table's channel with the
//! public ids it deleted (`pg_notify` in the same statement, so a notice goes out exactly
//! when the delete commits), and one `LISTEN` connection per store, opened on the first
//! wait, tells the process's [`SessionEnds`] hub.

use std::sync::{Arc, Weak};

use sha2::{Digest as _, Sha256};
use sqlx::PgPool;
use sqlx::postgres::PgListener;

use crate::ends::{SessionEnds, Subscription, keep_subscribed};

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

/// Listens on `channel` for as long as the hub exists (see [`keep_subscribed`]).
async fn listen(pool: PgPool, channel: String, hub: Weak<SessionEnds>) {
    keep_subscribed(hub, |_attempt| async {
        if pool.is_closed() {
            return Err(None);
        }
        let mut listener = PgListener::connect_with(&pool)
            .await
            .map_err(|e| Some(e.to_string()))?;
        // A lost connection is `keep_subscribed`'s to handle: the waits it may have missed
        // end with an error, and then it subscribes again.
        listener.eager_reconnect(false);
        listener
            .listen(&channel)
            .await
            .map_err(|e| Some(e.to_string()))?;
        Ok(Notices(listener))
    })
    .await;
}

/// A `LISTEN` connection.
struct Notices(PgListener);

impl Subscription for Notices {
    async fn next_end(&mut self) -> Option<String> {
        // `Ok(None)`: the connection was lost; an error is as good as lost.
        let notice = self.0.try_recv().await.ok()??;
        Some(notice.payload().to_owned())
    }
}
