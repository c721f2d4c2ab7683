//! The local Redis Cluster of the cluster store's tests (`.ci/redis-cluster`), reached through
//! `SESSION_TEST_REDIS_CLUSTER_URL` (comma-separated seed node URLs): stores on it, and the
//! nodes seen one by one (which node is a master, its keys, killing and restarting it).
#![allow(dead_code)]

use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use session_runtime::RedisClusterStore;

use crate::store_suite::servers::{server_url, unique_name};

pub const URL_VAR: &str = "SESSION_TEST_REDIS_CLUSTER_URL";

/// The seed nodes and a prefix no other test uses; `None` (printed) when the variable is unset.
pub fn cluster() -> Option<(Vec<String>, String)> {
    let urls = server_url(URL_VAR)?;
    let seeds = urls.split(',').map(|s| s.trim().to_owned()).collect();
    Some((seeds, format!("{}:", unique_name("session-test"))))
}

pub async fn store(seeds: &[String], prefix: &str) -> RedisClusterStore {
    RedisClusterStore::builder(seeds)
        .prefix(prefix)
        .no_background_sweep()
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{URL_VAR} is set but the cluster is unreachable: {e}"))
}

/// A store that gives up on an operation quickly, for the tests that stop nodes.
pub async fn quick_store(seeds: &[String], prefix: &str) -> RedisClusterStore {
    RedisClusterStore::builder(seeds)
        .prefix(prefix)
        .connect_timeout(Duration::from_millis(500))
        .command_timeout(Duration::from_millis(1000))
        .no_background_sweep()
        .connect()
        .await
        .unwrap()
}

/// One node, as `CLUSTER NODES` lists it.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    /// `host:port`.
    pub addr: String,
    pub master: bool,
    /// Slot ranges it serves (masters), inclusive.
    pub slots: Vec<(u16, u16)>,
}

impl Node {
    pub fn port(&self) -> u16 {
        self.addr.rsplit(':').next().unwrap().parse().unwrap()
    }

    pub fn serves(&self, slot: u16) -> bool {
        self.slots.iter().any(|&(a, b)| a <= slot && slot <= b)
    }
}

pub async fn conn(addr: &str) -> MultiplexedConnection {
    redis::Client::open(format!("redis://{addr}"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("node {addr}: {e}"))
}

fn addr_of(seed: &str) -> String {
    seed.split("://")
        .nth(1)
        .unwrap_or(seed)
        .trim_end_matches('/')
        .to_owned()
}

/// The cluster's nodes that are up and not failed, as a live seed sees them.
pub async fn nodes(seeds: &[String]) -> Vec<Node> {
    for seed in seeds {
        let Ok(client) = redis::Client::open(format!("redis://{}", addr_of(seed))) else {
            continue;
        };
        let Ok(mut c) = client.get_multiplexed_async_connection().await else {
            continue;
        };
        let Ok(text) = redis::cmd("CLUSTER")
            .arg("NODES")
            .query_async::<String>(&mut c)
            .await
        else {
            continue;
        };
        return text
            .lines()
            .filter(|l| !l.contains("fail") && !l.contains("disconnected"))
            .map(|line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                let addr = f[1].split('@').next().unwrap().to_owned();
                let slots = f[8..]
                    .iter()
                    .filter(|s| !s.starts_with('['))
                    .map(|s| match s.split_once('-') {
                        Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
                        None => (s.parse().unwrap(), s.parse().unwrap()),
                    })
                    .collect();
                Node {
                    id: f[0].to_owned(),
                    addr,
                    master: f[2].contains("master"),
                    slots,
                }
            })
            .collect();
    }
    panic!("no seed node of {seeds:?} answers");
}

pub async fn masters(seeds: &[String]) -> Vec<Node> {
    nodes(seeds)
        .await
        .into_iter()
        .filter(|n| n.master)
        .collect()
}

/// The keys under `prefix` on one node.
pub async fn node_keys(addr: &str, prefix: &str) -> Vec<String> {
    let mut c = conn(addr).await;
    redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut c)
        .await
        .unwrap()
}

/// Deletes every key under `prefix`, master by master.
pub async fn remove_prefix(seeds: &[String], prefix: &str) {
    for node in masters(seeds).await {
        let mut c = conn(&node.addr).await;
        for key in node_keys(&node.addr, prefix).await {
            // A key whose slot moved meanwhile answers MOVED: the next master has it.
            let _: Result<i64, _> = redis::cmd("DEL").arg(&key).query_async(&mut c).await;
        }
    }
}

pub async fn slot_of(seeds: &[String], key: &str) -> u16 {
    let mut c = conn(&addr_of(&seeds[0])).await;
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(&mut c)
        .await
        .unwrap()
}

/// Waits until each master's replicas have every write it acknowledged (so that killing it
/// loses nothing: replication is asynchronous, see the store's docs).
pub async fn wait_for_replicas(seeds: &[String]) {
    for node in masters(seeds).await {
        let mut c = conn(&node.addr).await;
        let started = Instant::now();
        loop {
            let info: String = redis::cmd("INFO")
                .arg("replication")
                .query_async(&mut c)
                .await
                .unwrap();
            let field = |name: &str| {
                info.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(str::trim)
                    .map(str::to_owned)
            };
            let offset = field("master_repl_offset:").unwrap_or_default();
            let caught_up = info
                .lines()
                .filter(|l| l.starts_with("slave") && l.contains("offset="))
                .any(|l| l.contains(&format!("offset={offset},")));
            if caught_up {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{}: replicas never caught up: {info}",
                node.addr
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A node stopped by [`shut_down`]: [`Stopped::restart`] starts it again, and so does
/// dropping it (a test that fails midway leaves the cluster whole for the next).
pub struct Stopped {
    addr: String,
    config: Option<String>,
}

/// Stops a node at once (`SHUTDOWN NOSAVE NOW`: no wait for its replicas).
pub async fn shut_down(addr: &str) -> Stopped {
    let mut c = conn(addr).await;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut c)
        .await
        .unwrap();
    let config = info
        .lines()
        .find_map(|l| l.strip_prefix("config_file:"))
        .map(|s| s.trim().to_owned())
        .expect("the node was started from a config file");
    let _: Result<(), _> = redis::cmd("SHUTDOWN")
        .arg("NOSAVE")
        .arg("NOW")
        .query_async(&mut c)
        .await;
    Stopped {
        addr: addr.to_owned(),
        config: Some(config),
    }
}

fn start_node(config: &str) {
    let status = std::process::Command::new("redis-server")
        .arg(config)
        .status()
        .expect("redis-server runs");
    assert!(status.success(), "redis-server {config}: {status}");
}

impl Stopped {
    /// Starts the node again from its config file (`daemonize yes`) and waits for it to
    /// answer.
    pub async fn restart(mut self) {
        start_node(&self.config.take().unwrap());
        for _ in 0..100 {
            if let Ok(client) = redis::Client::open(format!("redis://{}", self.addr))
                && let Ok(mut c) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} did not come back", self.addr);
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if let Some(config) = self.config.take() {
            start_node(&config);
        }
    }
}

/// Waits until every node says `cluster_state:ok` and there are `masters` masters.
pub async fn wait_for_ok(seeds: &[String], want_masters: usize) {
    let started = Instant::now();
    loop {
        let ms = masters(seeds).await;
        let mut ok = ms.len() == want_masters;
        for node in nodes(seeds).await {
            if !ok {
                break;
            }
            let mut c = conn(&node.addr).await;
            let info: String = redis::cmd("CLUSTER")
                .arg("INFO")
                .query_async(&mut c)
                .await
                .unwrap_or_default();
            ok = info.contains("cluster_state:ok");
        }
        if ok {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the cluster did not settle"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A cluster connection of the tests' own, to look at and change keys behind the store.
pub async fn raw(seeds: &[String]) -> redis::cluster_async::ClusterConnection {
    redis::cluster::ClusterClient::new(seeds.to_vec())
        .unwrap()
        .get_async_connection()
        .await
        .unwrap()
}

/// The node a client is subscribed to `channel` on (`PUBSUB NUMSUB`, node by node).
pub async fn subscribed_node(seeds: &[String], channel: &str) -> String {
    let started = Instant::now();
    loop {
        for node in nodes(seeds).await {
            let mut c = conn(&node.addr).await;
            let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(channel)
                .query_async(&mut c)
                .await
                .unwrap();
            if counts.iter().any(|(_, n)| *n > 0) {
                return node.addr;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no node has a subscriber of {channel}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
