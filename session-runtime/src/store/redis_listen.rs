//! `RedisStore`'s live revocation: the scripts that delete a session publish its public id
//! on the prefix's channel (`PUBLISH` inside the script, so the notice goes out with the
//! delete), and one pub/sub connection per store, opened on the first wait, tells the
//! process's [`SessionEnds`] hub. On a Redis Cluster a publish reaches every node, so
//! subscribing on one is enough: `RedisClusterStore` gives its seed nodes, and a listener
//! that loses its node subscribes on the next.

use std::sync::{Arc, Weak};

use futures_util::StreamExt as _;

use crate::ends::{SessionEnds, Subscription, keep_subscribed};

/// The channel of a prefix's ended sessions (the scripts publish on `prefix .. 'ended'`).
pub(super) fn channel(prefix: &str) -> String {
    format!("{prefix}ended")
}

/// The hub of a store whose scripts publish on `channel` of the servers `clients` name (one
/// server, or any nodes of one cluster; at least one).
pub(super) fn hub(clients: Vec<redis::Client>, channel: String) -> Arc<SessionEnds> {
    SessionEnds::through_server(move |hub| {
        tokio::spawn(listen(clients, channel, Arc::downgrade(&hub)));
    })
}

/// Subscribes to `channel` for as long as the hub exists, each time on the next of
/// `clients` (see [`keep_subscribed`]).
async fn listen(clients: Vec<redis::Client>, channel: String, hub: Weak<SessionEnds>) {
    keep_subscribed(hub, |attempt| {
        let client = &clients[attempt % clients.len()];
        let channel = &channel;
        async move {
            let mut pubsub = client
                .get_async_pubsub()
                .await
                .map_err(|e| Some(e.to_string()))?;
            pubsub
                .subscribe(channel)
                .await
                .map_err(|e| Some(e.to_string()))?;
            Ok(Messages(pubsub.into_on_message()))
        }
    })
    .await;
}

/// A pub/sub connection's messages.
struct Messages(redis::aio::PubSubStream);

impl Subscription for Messages {
    async fn next_end(&mut self) -> Option<String> {
        loop {
            // `None`: the connection was lost. A payload that is not text is no public id.
            if let Ok(id) = self.0.next().await?.get_payload::<String>() {
                return Some(id);
            }
        }
    }
}
