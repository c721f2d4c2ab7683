//! Memory per session in `MemoryStore`, with a 64-byte payload.
//!
//! How to run it, how to read it, and the current figures: `BENCHMARKS.md` at the
//! workspace root.
//!
//! ```sh
//! cargo bench -p session-benches --bench memory             # 100k and 1M sessions, both kinds
//! cargo bench -p session-benches --bench memory -- --smoke  # 1,000 sessions, to prove it runs
//! ```
//!
//! Each session holds one field whose stored JSON value is 64 bytes. A counting global
//! allocator gives the bytes the store keeps live per session (what the program asked for);
//! the growth of the resident set gives what the process pays, allocator overhead included.
//! "Beyond the payload" is the per-session figure less the 64 payload bytes.

use std::alloc::System;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use session_runtime::{MemoryStore, PublicId, Record, SessionKey, SessionStore};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes of the stored value of the one field (JSON text, quotes included).
const PAYLOAD: usize = 64;

/// A deterministic, well-spread 64-bit sequence (splitmix64), for keys and ids.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn key(i: u64) -> SessionKey {
    let mut bytes = [0u8; 32];
    for (j, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&mix(i * 4 + j as u64).to_le_bytes());
    }
    SessionKey::from_bytes(bytes)
}

fn record(i: u64, logged_in: bool, now: SystemTime) -> Record {
    // 22 characters, like the runtime's public ids (128 bits in base64url).
    let public_id = PublicId::new(format!("{:011x}{:011x}", mix(i) >> 20, i));
    let value = format!("\"{:0>width$}\"", i, width = PAYLOAD - 2);
    debug_assert_eq!(value.len(), PAYLOAD);
    Record {
        public_id,
        // One session per user: the per-user index at its most expensive.
        user_id: logged_in.then(|| i.to_string()),
        data: BTreeMap::from([("d".to_owned(), value)]),
        created_at: now,
        last_seen: now,
        expires_at: now + Duration::from_secs(1800),
        absolute_expires_at: now + Duration::from_secs(12 * 3600),
        authenticated_at: logged_in.then_some(now),
        device: None,
        version: 0,
        kind: session_runtime::SessionKind::Browser,
    }
}

/// Resident set size of this process, in bytes.
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

struct Measured {
    counted: f64,
    resident: f64,
}

fn measure(rt: &tokio::runtime::Runtime, n: u64, logged_in: bool) -> Measured {
    let now = SystemTime::now();
    let store = MemoryStore::builder()
        .max_records(usize::MAX)
        .no_background_sweep()
        .build();
    let rss_before = rss();
    let region = Region::new(GLOBAL);
    rt.block_on(async {
        for i in 0..n {
            // The caller's copy is dropped again: what stays allocated is the store's.
            let record = record(i, logged_in, now);
            store.create(&key(i), &record).await.expect("create");
        }
    });
    let stats = region.change();
    let rss_after = rss();
    let live = stats.bytes_allocated as f64 - stats.bytes_deallocated as f64
        + stats.bytes_reallocated as f64;
    // Every session is there and readable.
    rt.block_on(async {
        for i in [0, n / 2, n - 1] {
            let got = store.load(&key(i), now).await.expect("load");
            assert_eq!(got.map(|r| r.data["d"].len()), Some(PAYLOAD));
        }
    });
    assert_eq!(store.len() as u64, n);
    drop(store);
    Measured {
        counted: live / n as f64,
        resident: rss_after.saturating_sub(rss_before) as f64 / n as f64,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    // `--one N guest|user`: one measurement, in a process of its own so that the resident
    // set's growth is not hidden by memory an earlier measurement freed.
    if let Some(i) = args.iter().position(|a| a == "--one") {
        let n: u64 = args[i + 1].parse().expect("--one N KIND");
        let logged_in = args[i + 2] == "user";
        let m = measure(&rt, n, logged_in);
        println!(
            "| {n} | {} | {:.0} | {:.0} | {:.0} | {:.0} |",
            if logged_in { "logged in" } else { "guest" },
            m.counted,
            m.counted - PAYLOAD as f64,
            m.resident,
            m.resident - PAYLOAD as f64,
        );
        return;
    }
    let smoke = args.iter().any(|a| a == "--smoke");
    let sizes: &[u64] = if smoke {
        &[1_000]
    } else {
        &[100_000, 1_000_000]
    };
    println!(
        "| sessions | kind | bytes/session (allocator) | beyond payload | bytes/session (RSS growth) | beyond payload |"
    );
    println!("|---|---|---|---|---|---|");
    let exe = std::env::current_exe().expect("own path");
    for &n in sizes {
        for kind in ["guest", "user"] {
            let status = std::process::Command::new(&exe)
                .args(["--one", &n.to_string(), kind])
                .status()
                .expect("run a measurement");
            assert!(status.success(), "measurement {n} {kind} failed");
        }
    }
    println!();
    println!("payload: one field of {PAYLOAD} bytes of stored JSON; target: ≤ 400 bytes beyond it");
}
