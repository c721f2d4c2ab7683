//! `RedisStore`'s live revocation: the scripts that delete a session publish its public id
//! on the prefix's channel (`PUBLISH` inside the script, so the notice goes out with the
//! delete), and one pub/sub connection per store, opened on the first wait, tells the
//! process's [`SessionEnds`] hub. On a Redis Cluster a publish reaches every node, so
//! subscribing on one is enough.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt as _;

use crate::ends::SessionEnds;
use crate::token::PublicId;

/// How long a (re)subscription may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the listener waits after a failed subscription before it tries again.
const RETRY_AFTER: Duration = Duration::from_millis(500);
/// How often an idle listener checks that its store still exists.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// The channel of a prefix's ended sessions (the scripts publish on `prefix .. 'ended'`).
pub(super) fn channel(prefix: &str) -> String {
    format!("{prefix}ended")
}

/// The hub of a store whose scripts publish on `channel` of the server `client` names.
pub(super) fn hub(client: redis::Client, channel: String) -> Arc<SessionEnds> {
    SessionEnds::through_server(move |hub| {
        tokio::spawn(listen(client, channel, Arc::downgrade(&hub)));
    })
}

/// Subscribes to `channel` for as long as the hub exists: tells it of every message, and
/// of every lost connection (then subscribes again).
async fn listen(client: redis::Client, channel: String, hub: Weak<SessionEnds>) {
    loop {
        let subscribed = tokio::time::timeout(CONNECT_TIMEOUT, async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        let pubsub = match subscribed {
            Ok(Ok(pubsub)) => pubsub,
            failed => {
                if hub.strong_count() == 0 {
                    return;
                }
                let error = match failed {
                    Ok(Err(error)) => error.to_string(),
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
        let mut messages = pubsub.into_on_message();
        loop {
            match tokio::time::timeout(IDLE_CHECK, messages.next()).await {
                Ok(Some(message)) => {
                    let Some(hub) = hub.upgrade() else { return };
                    if let Ok(id) = message.get_payload::<String>() {
                        hub.ended(&PublicId::new(id));
                    }
                }
                // The connection was lost: every wait ends with an error, and the next
                // subscription starts over.
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
