//! What a session layer costs per request: this project against bare axum and its peers.
//!
//! ```sh
//! cargo bench --bench peers                  # the full run (a few minutes)
//! cargo bench --bench peers -- --smoke       # a few requests of each kind, to prove it runs
//! cargo bench --bench peers -- --rounds 5 --iters 5000
//! ```
//!
//! Variants: bare axum (the floor), bare axum behind a pass-through layer (what any layer
//! costs in axum: the floor for a session layer), this project with `MemoryStore`,
//! `tower-sessions` with its `MemoryStore`, `axum_session` in memory mode (null pool). Every variant serves the same
//! routes with the same handler bodies, all on axum 0.8, driven in-process with
//! `tower::ServiceExt::oneshot` (no network). Each router is finished with `with_state(())`,
//! as `axum::serve` does, so that layers are applied once and not on every request.
//!
//! Workloads:
//! - `untouched`: the layer is there, the handler ignores the session; the request carries a
//!   logged-in session's cookie (a browser fetching a page that needs no session);
//! - `read`: the logged-in user's id, through `RequireAuth` (peers: read the `user_id` key);
//! - `write`: one field of a logged-in session set to a new value;
//! - `login`: no cookie in, a new logged-in session (user id and user name) out;
//! - `contended`: 32 tasks on a 2-thread runtime over the same 1,000 logged-in sessions,
//!   nine reads to one write.
//!
//! The run is interleaved: every round measures every workload on every variant, in an
//! order that rotates from round to round, so machine drift hits all variants alike. Ratios
//! are taken pair by pair within a round, then summarised (median, min, max) over rounds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use axum::routing::{get, post};
use tower::ServiceExt as _;

/// A fresh value for every write, so that no variant can skip the write as unchanged.
static COUNTER: AtomicU64 = AtomicU64::new(1);

fn next_value() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

async fn untouched() -> &'static str {
    "ok"
}

/// Bare axum: the same routes with no session at all.
mod bare {
    use super::*;

    pub(crate) async fn me() -> String {
        std::hint::black_box(42_i64).to_string()
    }

    pub(crate) async fn write() -> &'static str {
        std::hint::black_box(next_value());
        "ok"
    }

    pub(crate) async fn login() -> &'static str {
        "ok"
    }

    pub(crate) fn router() -> Router {
        Router::new()
            .route("/untouched", get(untouched))
            .route("/me", get(me))
            .route("/write", post(write))
            .route("/login", post(login))
            .with_state(())
    }
}

/// Bare axum behind a layer that does nothing: what axum charges for any layer (a boxed
/// clone of the layered service and a wrapped future per request).
mod layer {
    use super::*;

    pub(crate) fn router() -> Router {
        Router::new()
            .route("/untouched", get(untouched))
            .route("/me", get(bare::me))
            .route("/write", post(bare::write))
            .route("/login", post(bare::login))
            .layer(tower::util::MapRequestLayer::new(|req: Request<Body>| req))
            .with_state(())
    }
}

/// This project, with its `MemoryStore`.
mod ours {
    use super::*;
    use session_runtime::{
        MemoryStore, RequireAuth, Session, SessionConfig, SessionError, SessionLayer, SessionSchema,
    };

    /// The session of every benchmark route.
    #[derive(SessionSchema)]
    pub struct BenchSession {
        #[session(user_id)]
        pub user_id: Option<i64>,
        pub username: Option<String>,
        pub counter: u64,
    }

    async fn me(user: RequireAuth<BenchSession>) -> String {
        user.user_id().to_string()
    }

    async fn write(session: Session<BenchSession>) -> Result<&'static str, SessionError> {
        session.set_counter(next_value())?;
        Ok("ok")
    }

    async fn login(session: Session<BenchSession>) -> Result<&'static str, SessionError> {
        session.login(42).await?;
        session.set_username(Some("alice".to_owned()))?;
        Ok("ok")
    }

    pub(crate) fn router() -> Router {
        let store = MemoryStore::builder().max_records(10_000_000).build();
        Router::new()
            .route("/untouched", get(untouched))
            .route("/me", get(me))
            .route("/write", post(write))
            .route("/login", post(login))
            .layer(SessionLayer::new(store, SessionConfig::default()))
            .with_state(())
    }
}

/// `tower-sessions` 0.15 with its `MemoryStore`.
mod tower_sessions_variant {
    use super::*;
    use tower_sessions::{MemoryStore, Session, SessionManagerLayer};

    async fn me(session: Session) -> Result<String, StatusCode> {
        match session.get::<i64>("user_id").await {
            Ok(Some(id)) => Ok(id.to_string()),
            Ok(None) => Err(StatusCode::UNAUTHORIZED),
            Err(_) => Err(StatusCode::SERVICE_UNAVAILABLE),
        }
    }

    async fn write(session: Session) -> Result<&'static str, StatusCode> {
        session
            .insert("counter", next_value())
            .await
            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
        Ok("ok")
    }

    async fn login(session: Session) -> Result<&'static str, StatusCode> {
        let failed = |_| StatusCode::SERVICE_UNAVAILABLE;
        session.cycle_id().await.map_err(failed)?;
        session.insert("user_id", 42_i64).await.map_err(failed)?;
        session.insert("username", "alice").await.map_err(failed)?;
        Ok("ok")
    }

    pub(crate) fn router() -> Router {
        Router::new()
            .route("/untouched", get(untouched))
            .route("/me", get(me))
            .route("/write", post(write))
            .route("/login", post(login))
            .layer(SessionManagerLayer::new(MemoryStore::default()))
            .with_state(())
    }
}

/// `axum_session` 0.22 in memory mode (no database: the null pool).
mod axum_session_variant {
    use super::*;
    use axum_session::{
        SessionConfig, SessionLayer, SessionNullPool, SessionNullSession, SessionStore,
    };

    async fn me(session: SessionNullSession) -> Result<String, StatusCode> {
        match session.get::<i64>("user_id") {
            Some(id) => Ok(id.to_string()),
            None => Err(StatusCode::UNAUTHORIZED),
        }
    }

    async fn write(session: SessionNullSession) -> &'static str {
        session.set("counter", next_value());
        "ok"
    }

    async fn login(session: SessionNullSession) -> &'static str {
        session.renew();
        session.set("user_id", 42_i64);
        session.set("username", "alice");
        "ok"
    }

    pub(crate) async fn router() -> Router {
        let store = SessionStore::<SessionNullPool>::new(None, SessionConfig::default())
            .await
            .expect("axum_session memory store");
        Router::new()
            .route("/untouched", get(untouched))
            .route("/me", get(me))
            .route("/write", post(write))
            .route("/login", post(login))
            .layer(SessionLayer::new(store))
            .with_state(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Variant {
    Bare,
    Layer,
    Ours,
    TowerSessions,
    AxumSession,
}

const VARIANTS: [Variant; 5] = [
    Variant::Bare,
    Variant::Layer,
    Variant::Ours,
    Variant::TowerSessions,
    Variant::AxumSession,
];

impl Variant {
    fn slug(self) -> &'static str {
        match self {
            Variant::Bare => "bare",
            Variant::Layer => "layer",
            Variant::Ours => "ours",
            Variant::TowerSessions => "tower-sessions",
            Variant::AxumSession => "axum_session",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Variant::Bare => "bare axum",
            Variant::Layer => "pass-through layer",
            Variant::Ours => "typed-sessions",
            Variant::TowerSessions => "tower-sessions",
            Variant::AxumSession => "axum_session",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Workload {
    Untouched,
    Read,
    Write,
    Login,
    Contended,
}

const WORKLOADS: [Workload; 5] = [
    Workload::Untouched,
    Workload::Read,
    Workload::Write,
    Workload::Login,
    Workload::Contended,
];

impl Workload {
    fn slug(self) -> &'static str {
        match self {
            Workload::Untouched => "untouched",
            Workload::Read => "read",
            Workload::Write => "write",
            Workload::Login => "login",
            Workload::Contended => "contended",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Workload::Untouched => "untouched",
            Workload::Read => "authenticated read",
            Workload::Write => "write one field",
            Workload::Login => "login",
            Workload::Contended => "contended (2 threads)",
        }
    }

    /// The target ratio to bare axum for this project, if the issue sets one.
    fn target_vs_bare(self) -> Option<f64> {
        match self {
            Workload::Untouched => Some(1.10),
            Workload::Read => Some(1.6),
            Workload::Write => Some(2.0),
            Workload::Login => Some(2.5),
            Workload::Contended => None,
        }
    }
}

/// Sessions in the contended workload.
const CONTENDED_SESSIONS: usize = 1_000;
/// Concurrent tasks in the contended workload.
const CONTENDED_TASKS: usize = 32;

/// One variant, ready to serve: its router and the cookies of logged-in sessions.
struct Subject {
    variant: Variant,
    router: Router,
    /// The `Cookie` header of one logged-in session, for the sequential workloads.
    cookie: String,
    /// The `Cookie` headers of the contended workload's sessions.
    sessions: Vec<String>,
}

fn request(method: &str, path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::empty()).expect("valid request")
}

async fn call(router: &Router, req: Request<Body>) -> Response<Body> {
    router.clone().oneshot(req).await.expect("infallible")
}

fn expect_ok(res: &Response<Body>, what: &str, variant: Variant) {
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{what} failed for {}",
        variant.name()
    );
}

/// Logs in and returns the `Cookie` header that carries the new session.
async fn login_cookie(variant: Variant, router: &Router) -> String {
    if matches!(variant, Variant::Bare | Variant::Layer) {
        // Same size as a real session cookie, so that parsing costs the floor too.
        return format!("session={}", "A".repeat(43));
    }
    let res = call(router, request("POST", "/login", None)).await;
    expect_ok(&res, "login", variant);
    let cookies: Vec<&str> = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::trim)
        .collect();
    assert!(!cookies.is_empty(), "{} set no cookie", variant.name());
    cookies.join("; ")
}

impl Subject {
    async fn new(variant: Variant, sessions: usize) -> Self {
        let router = match variant {
            Variant::Bare => bare::router(),
            Variant::Layer => layer::router(),
            Variant::Ours => ours::router(),
            Variant::TowerSessions => tower_sessions_variant::router(),
            Variant::AxumSession => axum_session_variant::router().await,
        };
        let cookie = login_cookie(variant, &router).await;
        let mut all = Vec::with_capacity(sessions);
        for _ in 0..sessions {
            all.push(login_cookie(variant, &router).await);
        }
        let subject = Self {
            variant,
            router,
            cookie,
            sessions: all,
        };
        // The session is really there: the read answers 200, not 401.
        let res = call(&subject.router, subject.read()).await;
        expect_ok(&res, "read after login", variant);
        subject
    }

    fn read(&self) -> Request<Body> {
        request("GET", "/me", Some(&self.cookie))
    }

    /// Runs `n` requests of a sequential workload; returns ns per request.
    async fn run_sequential(&self, workload: Workload, n: usize) -> f64 {
        let start = Instant::now();
        for _ in 0..n {
            let req = match workload {
                Workload::Untouched => request("GET", "/untouched", Some(&self.cookie)),
                Workload::Read => self.read(),
                Workload::Write => request("POST", "/write", Some(&self.cookie)),
                Workload::Login => request("POST", "/login", None),
                Workload::Contended => unreachable!("contended runs on its own runtime"),
            };
            let res = call(&self.router, req).await;
            debug_assert_eq!(res.status(), StatusCode::OK);
            if res.status() != StatusCode::OK {
                panic!(
                    "{} answered {} to {:?}",
                    self.variant.name(),
                    res.status(),
                    workload
                );
            }
        }
        start.elapsed().as_nanos() as f64 / n as f64
    }

    /// Runs `n` requests spread over many tasks on `rt`; returns wall-clock ns per request.
    fn run_contended(&self, rt: &tokio::runtime::Runtime, n: usize) -> f64 {
        let per_task = n.div_ceil(CONTENDED_TASKS);
        let sessions: std::sync::Arc<Vec<String>> = std::sync::Arc::new(self.sessions.clone());
        let variant = self.variant;
        let start = Instant::now();
        rt.block_on(async {
            let mut tasks = Vec::with_capacity(CONTENDED_TASKS);
            for t in 0..CONTENDED_TASKS {
                let router = self.router.clone();
                let sessions = sessions.clone();
                tasks.push(tokio::spawn(async move {
                    for i in 0..per_task {
                        let k = (t * 7919 + i * 31) % sessions.len();
                        let cookie = Some(sessions[k].as_str());
                        let req = if i % 10 == 0 {
                            request("POST", "/write", cookie)
                        } else {
                            request("GET", "/me", cookie)
                        };
                        let res = call(&router, req).await;
                        if res.status() != StatusCode::OK {
                            panic!("{} answered {} (contended)", variant.name(), res.status());
                        }
                    }
                }));
            }
            for task in tasks {
                task.await.expect("contended task");
            }
        });
        start.elapsed().as_nanos() as f64 / (per_task * CONTENDED_TASKS) as f64
    }
}

struct Options {
    /// `--profile VARIANT WORKLOAD N`: run only that, with no report (for callgrind or perf).
    profile: Option<(Variant, Workload, usize)>,
    rounds: usize,
    iters: usize,
    login_iters: usize,
    contended_iters: usize,
}

impl Options {
    fn from_args() -> Self {
        let mut options = Options {
            profile: None,
            rounds: 15,
            iters: 20_000,
            login_iters: 5_000,
            contended_iters: 32_000,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            fn number(args: &mut impl Iterator<Item = String>, name: &str) -> usize {
                args.next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("{name} needs a number"))
            }
            match arg.as_str() {
                "--smoke" => {
                    options = Options {
                        profile: options.profile,
                        rounds: 2,
                        iters: 50,
                        login_iters: 20,
                        contended_iters: 64,
                    };
                }
                "--rounds" => options.rounds = number(&mut args, "--rounds").max(1),
                "--iters" => {
                    let n = number(&mut args, "--iters").max(1);
                    options.iters = n;
                    options.login_iters = (n / 4).max(1);
                    options.contended_iters = (n * 8 / 5).max(CONTENDED_TASKS);
                }
                "--profile" => {
                    let variant = args.next().unwrap_or_default();
                    let workload = args.next().unwrap_or_default();
                    let variant = VARIANTS
                        .into_iter()
                        .find(|v| v.slug() == variant)
                        .unwrap_or_else(|| panic!("--profile: unknown variant {variant:?}"));
                    let workload = WORKLOADS
                        .into_iter()
                        .find(|w| w.slug() == workload)
                        .unwrap_or_else(|| panic!("--profile: unknown workload {workload:?}"));
                    options.profile = Some((variant, workload, number(&mut args, "--profile")));
                }
                // `cargo bench` passes `--bench`; filters and other flags are not used.
                _ => {}
            }
        }
        options
    }

    fn iters(&self, workload: Workload) -> usize {
        match workload {
            Workload::Login => self.login_iters,
            Workload::Contended => self.contended_iters,
            _ => self.iters,
        }
    }
}

/// `samples[workload][variant][round]`: ns per request.
type Samples = Vec<Vec<Vec<f64>>>;

fn main() {
    let options = Options::from_args();
    let seq = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    if let Some((variant, workload, n)) = options.profile {
        let sessions = if workload == Workload::Contended {
            CONTENDED_SESSIONS
        } else {
            0
        };
        let subject = seq.block_on(Subject::new(variant, sessions));
        let ns = if workload == Workload::Contended {
            subject.run_contended(&multi, n)
        } else {
            seq.block_on(subject.run_sequential(workload, n))
        };
        println!("{} {}: {ns:.0} ns/request", variant.name(), workload.name());
        return;
    }

    let contended = if options.iters < 1_000 {
        50
    } else {
        CONTENDED_SESSIONS
    };
    let subjects: Vec<Subject> = seq.block_on(async {
        let mut subjects = Vec::new();
        for variant in VARIANTS {
            subjects.push(Subject::new(variant, contended).await);
        }
        subjects
    });

    // Warm up: caches, allocator pools, lazily started tasks.
    for subject in &subjects {
        for workload in WORKLOADS {
            let n = (options.iters(workload) / 10).max(1);
            if workload == Workload::Contended {
                subject.run_contended(&multi, n.max(CONTENDED_TASKS));
            } else {
                seq.block_on(subject.run_sequential(workload, n));
            }
        }
    }

    let mut samples: Samples = vec![vec![Vec::new(); VARIANTS.len()]; WORKLOADS.len()];
    let started = Instant::now();
    for round in 0..options.rounds {
        for (w, workload) in WORKLOADS.into_iter().enumerate() {
            for offset in 0..VARIANTS.len() {
                let v = (round + offset) % VARIANTS.len();
                let subject = &subjects[v];
                let n = options.iters(workload);
                let ns = if workload == Workload::Contended {
                    subject.run_contended(&multi, n)
                } else {
                    seq.block_on(subject.run_sequential(workload, n))
                };
                samples[w][v].push(ns);
            }
        }
        eprint!("\rround {}/{}", round + 1, options.rounds);
    }
    eprintln!(" in {:.1?}", started.elapsed());

    report(&options, &samples);
}

/// Median, min and max.
fn summary(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    (median, sorted[0], sorted[n - 1])
}

/// Per-round ratios of variant `a` to variant `b`, summarised.
fn ratio(samples: &[Vec<f64>], a: usize, b: usize) -> (f64, f64, f64) {
    let ratios: Vec<f64> = samples[a]
        .iter()
        .zip(&samples[b])
        .map(|(a, b)| a / b)
        .collect();
    summary(&ratios)
}

fn report(options: &Options, samples: &Samples) {
    println!();
    if options.rounds <= 2 {
        println!("(a smoke run: too short for its numbers to mean anything)");
    }
    println!(
        "{} rounds; per round and variant: {} requests ({} for login, {} for contended)",
        options.rounds, options.iters, options.login_iters, options.contended_iters
    );
    println!("ratios are per-round pairs: median [min–max] over rounds");
    for (w, workload) in WORKLOADS.into_iter().enumerate() {
        println!();
        println!("### {}", workload.name());
        println!();
        print!("| variant | ns/request median [min–max] |");
        for other in VARIANTS {
            print!(" × {} |", other.name());
        }
        println!();
        println!("|---|---|{}", "---|".repeat(VARIANTS.len()));
        for (v, variant) in VARIANTS.into_iter().enumerate() {
            let (med, min, max) = summary(&samples[w][v]);
            print!(
                "| {} | {:.0} [{:.0}–{:.0}] |",
                variant.name(),
                med,
                min,
                max
            );
            for o in 0..VARIANTS.len() {
                if o == v {
                    print!(" – |");
                } else {
                    let (med, min, max) = ratio(&samples[w], v, o);
                    print!(" {med:.2} [{min:.2}–{max:.2}] |");
                }
            }
            println!();
        }
    }

    println!();
    println!("### Targets (typed-sessions)");
    println!();
    let ours = VARIANTS
        .iter()
        .position(|v| *v == Variant::Ours)
        .unwrap_or(1);
    let bare = VARIANTS
        .iter()
        .position(|v| *v == Variant::Bare)
        .unwrap_or(0);
    let tower = VARIANTS
        .iter()
        .position(|v| *v == Variant::TowerSessions)
        .unwrap_or(2);
    let layer = VARIANTS
        .iter()
        .position(|v| *v == Variant::Layer)
        .unwrap_or(1);
    println!(
        "| workload | × bare axum | target | × pass-through layer | tower-sessions ÷ ours | target |"
    );
    println!("|---|---|---|---|---|---|");
    for (w, workload) in WORKLOADS.into_iter().enumerate() {
        let (vs_bare, _, _) = ratio(&samples[w], ours, bare);
        let (vs_layer, _, _) = ratio(&samples[w], ours, layer);
        let (speedup, _, _) = ratio(&samples[w], tower, ours);
        let bare_target = match workload.target_vs_bare() {
            Some(t) => format!("≤ {t:.2} {}", mark(vs_bare <= t)),
            None => "–".to_owned(),
        };
        println!(
            "| {} | {vs_bare:.2} | {bare_target} | {vs_layer:.2} | {speedup:.2} | ≥ 2.00 {} |",
            workload.name(),
            mark(speedup >= 2.0)
        );
    }
}

fn mark(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}
