//! A TCP forwarder that counts round trips on the wire: what a store's requests cost in
//! exchanges with its server, whatever the client library says about itself.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The protocol a [`Counter`] decodes from the client's side.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Wire {
    /// PostgreSQL: every `Sync` and every simple `Query` ends one exchange the client waits
    /// for. A `Sync` with no other message before it is a connection check (sqlx pings
    /// every connection given back to its pool), counted apart.
    Postgres,
    /// Redis (RESP): every command (an array) is one exchange (nothing here pipelines).
    Redis,
}

/// What clients sent through a [`Counter`].
#[derive(Default)]
pub struct Counts {
    /// Exchanges that carried a statement or a command.
    pub statements: AtomicU64,
    /// PostgreSQL only: lone `Sync`s, the pool's check of a connection given back.
    pub pings: AtomicU64,
}

/// A forwarder on 127.0.0.1 to `target`, counting round trips ([`Counts`]).
pub struct Counter {
    pub addr: SocketAddr,
    pub counts: Arc<Counts>,
}

impl Counter {
    pub async fn new(target: SocketAddr, wire: Wire) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let counts = Arc::<Counts>::default();
        let (addr, shared) = (listener.local_addr().expect("addr"), counts.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let counts = shared.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(target).await {
                        forward(client, server, wire, counts).await;
                    }
                });
            }
        });
        Self { addr, counts }
    }

    /// (statements, pings) since the last call.
    pub fn take(&self) -> (u64, u64) {
        (
            self.counts.statements.swap(0, Ordering::SeqCst),
            self.counts.pings.swap(0, Ordering::SeqCst),
        )
    }
}

async fn forward(client: TcpStream, server: TcpStream, wire: Wire, counts: Arc<Counts>) {
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let upstream = async {
        let mut decoder = Decoder {
            wire,
            buf: Vec::new(),
            startup: true,
            since_sync: 0,
        };
        let mut chunk = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = client_rx.read(&mut chunk).await {
            decoder.feed(&chunk[..n], &counts);
            if server_tx.write_all(&chunk[..n]).await.is_err() {
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

struct Decoder {
    wire: Wire,
    buf: Vec<u8>,
    /// PostgreSQL: still in the untyped startup messages.
    startup: bool,
    /// PostgreSQL: messages since the last `Sync`.
    since_sync: usize,
}

impl Decoder {
    fn feed(&mut self, bytes: &[u8], counts: &Counts) {
        self.buf.extend_from_slice(bytes);
        loop {
            let used = match self.wire {
                Wire::Postgres => self.postgres(counts),
                Wire::Redis => self.redis(counts),
            };
            match used {
                Some(used) => drop(self.buf.drain(..used)),
                None => return,
            }
        }
    }

    fn postgres(&mut self, counts: &Counts) -> Option<usize> {
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if self.startup {
            if self.buf.len() < 8 {
                return None;
            }
            let len = be32(&self.buf);
            if self.buf.len() < len {
                return None;
            }
            // SSLRequest and GSSENCRequest are followed by another untyped message.
            let code = be32(&self.buf[4..]);
            self.startup = code == 80_877_103 || code == 80_877_104;
            return Some(len);
        }
        if self.buf.len() < 5 {
            return None;
        }
        let len = 1 + be32(&self.buf[1..]);
        if self.buf.len() < len {
            return None;
        }
        match self.buf[0] {
            b'S' if self.since_sync == 0 => {
                counts.pings.fetch_add(1, Ordering::Relaxed);
            }
            b'S' | b'Q' => {
                counts.statements.fetch_add(1, Ordering::Relaxed);
                self.since_sync = 0;
            }
            _ => self.since_sync += 1,
        }
        Some(len)
    }

    fn redis(&mut self, counts: &Counts) -> Option<usize> {
        let line_end = |from: usize, buf: &[u8]| -> Option<usize> {
            Some(buf.get(from..)?.windows(2).position(|w| w == b"\r\n")? + from)
        };
        let end = line_end(0, &self.buf)?;
        let Some(count) = self.buf[..end].strip_prefix(b"*") else {
            // An inline command: the line is the command.
            counts.statements.fetch_add(1, Ordering::Relaxed);
            return Some(end + 2);
        };
        let count: usize = std::str::from_utf8(count).ok()?.parse().ok()?;
        let mut at = end + 2;
        for _ in 0..count {
            let end = line_end(at, &self.buf)?;
            let len: usize = std::str::from_utf8(self.buf[at..end].strip_prefix(b"$")?)
                .ok()?
                .parse()
                .ok()?;
            at = end + 2 + len + 2;
            if self.buf.len() < at {
                return None;
            }
        }
        counts.statements.fetch_add(1, Ordering::Relaxed);
        Some(at)
    }
}
