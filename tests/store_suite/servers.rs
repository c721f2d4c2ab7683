//! Real servers for the store tests: where they are, and a TCP forwarder that the tests can
//! stop, restart and listen to.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The URL in `var`, or `None` (the test prints that it skipped). Under `CI=true` a missing
/// URL is a failure: CI must run every store.
pub fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{var} is not set, and CI=true requires the tests on real servers to run")
        }
        _ => {
            eprintln!("skipped: {var} is not set");
            None
        }
    }
}

/// A name no other test uses: `{prefix}_{random hex}`.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{:016x}", rand::random::<u64>())
}

/// The wire protocol a [`Proxy`] decodes from the client's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// PostgreSQL: logs `sync` and `query`, each one round trip the client waits for.
    Postgres,
    /// Redis (RESP): logs each command's name.
    Redis,
}

/// A TCP forwarder on 127.0.0.1 in front of a real server. [`stop`](Self::stop) closes the
/// port and cuts every connection, like a server that went away; [`start`](Self::start)
/// brings it back on the same port. It logs what clients ask for (see [`Wire`]).
pub struct Proxy {
    addr: SocketAddr,
    target: SocketAddr,
    wire: Wire,
    log: Arc<Mutex<Vec<String>>>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// A forwarder to `target` (`host:port`) on a free port.
    pub async fn new(target: &str, wire: Wire) -> Self {
        let target = tokio::net::lookup_host(target)
            .await
            .expect("target resolves")
            .next()
            .expect("one address");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            addr: listener.local_addr().unwrap(),
            target,
            wire,
            log: Arc::default(),
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    /// The forwarder's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Takes what clients asked for since the last call.
    pub fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    /// Closes the port and cuts every open connection.
    pub fn stop(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn start(&self) {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let (target, wire, log, tasks) = (
            self.target,
            self.wire,
            self.log.clone(),
            Arc::downgrade(&self.tasks),
        );
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let log = log.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(target).await {
                        forward(client, server, wire, log).await;
                    }
                });
                match tasks.upgrade() {
                    Some(tasks) => tasks.lock().unwrap().push(conn),
                    None => conn.abort(),
                }
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn forward(client: TcpStream, server: TcpStream, wire: Wire, log: Arc<Mutex<Vec<String>>>) {
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let upstream = async {
        let mut decoder = Decoder::new(wire);
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_rx.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            for event in decoder.feed(&buf[..n]) {
                log.lock().unwrap().push(event);
            }
            if server_tx.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_tx.shutdown().await;
    };
    let downstream = async {
        let _ = tokio::io::copy(&mut server_rx, &mut client_tx).await;
        let _ = client_tx.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}

/// Splits the client's byte stream into requests.
struct Decoder {
    wire: Wire,
    buf: Vec<u8>,
    /// PostgreSQL: still in the untyped startup messages.
    startup: bool,
}

impl Decoder {
    fn new(wire: Wire) -> Self {
        Self {
            wire,
            buf: Vec::new(),
            startup: true,
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        loop {
            let step = match self.wire {
                Wire::Postgres => self.next_postgres(),
                Wire::Redis => self.next_redis(),
            };
            match step {
                Some((used, event)) => {
                    self.buf.drain(..used);
                    events.extend(event);
                }
                None => return events,
            }
        }
    }

    fn next_postgres(&mut self) -> Option<(usize, Option<String>)> {
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if self.startup {
            if self.buf.len() < 8 {
                return None;
            }
            let len = be32(&self.buf);
            if self.buf.len() < len {
                return None;
            }
            let code = be32(&self.buf[4..]);
            // SSLRequest and GSSENCRequest are followed by another untyped message.
            if code != 80_877_103 && code != 80_877_104 {
                self.startup = false;
            }
            return Some((len, None));
        }
        if self.buf.len() < 5 {
            return None;
        }
        let len = 1 + be32(&self.buf[1..]);
        if self.buf.len() < len {
            return None;
        }
        let event = match self.buf[0] {
            b'S' => Some("sync".to_owned()),
            b'Q' => Some("query".to_owned()),
            _ => None,
        };
        Some((len, event))
    }

    fn next_redis(&mut self) -> Option<(usize, Option<String>)> {
        let line = |from: usize, buf: &[u8]| -> Option<(usize, String)> {
            let end = buf[from..].windows(2).position(|w| w == b"\r\n")? + from;
            Some((
                end + 2,
                String::from_utf8_lossy(&buf[from..end]).into_owned(),
            ))
        };
        let (mut at, head) = line(0, &self.buf)?;
        let Some(count) = head.strip_prefix('*') else {
            // An inline command: the line is the command.
            let name = head.split_whitespace().next().unwrap_or("").to_uppercase();
            return Some((at, Some(name)));
        };
        let count: usize = count.parse().ok()?;
        let mut name = None;
        for _ in 0..count {
            let (next, len) = line(at, &self.buf)?;
            let len: usize = len.strip_prefix('$')?.parse().ok()?;
            if self.buf.len() < next + len + 2 {
                return None;
            }
            if name.is_none() {
                name = Some(String::from_utf8_lossy(&self.buf[next..next + len]).to_uppercase());
            }
            at = next + len + 2;
        }
        Some((at, name))
    }
}
