//! What a session layer costs per request: this project against bare axum and its peers.
//!
//! How to run it, how to read it, and the current figures: `BENCHMARKS.md` at the
//! workspace root.
//!
//! ```sh
//! cargo bench -p session-benches --bench peers              # the full run (a minute or two)
//! cargo bench -p session-benches --bench peers -- --smoke   # a few requests of each kind
//! cargo bench -p session-benches --bench peers -- --rounds 21 --iters 3000
//! cargo bench -p session-benches --bench peers -- --profile ours-around read 20000   # for perf
//! ```
//!
//! Variants: bare axum (the floor), bare axum whose handlers take one trivial extractor
//! (what axum charges any handler that takes one, as every session handler does), bare axum
//! behind a pass-through layer (what any layer costs in axum: the floor for a session
//! layer), this project with `MemoryStore`,
//! `tower-sessions` with its `MemoryStore`, `axum_session` in memory mode (null pool). Every
//! variant serves the same routes with the same handler bodies, all on axum 0.8, driven
//! in-process with `tower::ServiceExt::oneshot` (no network). Each router is finished with
//! `with_state(())`, as `axum::serve` does, so that layers are applied once and not on every
//! request.
//!
//! Each session layer is measured in both of axum's mounts: added with `Router::layer`, as
//! the peers' documentation shows, and around the finished router (`layer.layer(router)`).
//! axum boxes the layered service of every route it layers, per request; around the router
//! nothing is boxed, and a pass-through layer there costs nothing measurable (callgrind:
//! the same instruction count as bare axum), so bare axum is that mount's floor.
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
//! After each round's logins the run also times the one system call a login cannot avoid,
//! the draw of a new token's 256 bits from the OS CSPRNG, and reports it against the logins
//! of the same round.
//!
//! The run is interleaved: every round measures every workload on every variant, in an
//! order that rotates from round to round, so machine drift hits all variants alike. Ratios
//! are taken pair by pair within a round, then summarised (median, min, max) over rounds.
//! Rounds are many and short (101 of 3,000 requests a variant): on a shared machine the
//! noise comes in bursts, and the shorter the round, the more surely both sides of a pair
//! see the same machine.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use axum::routing::{MethodRouter, get, post};
use tower::{Layer as _, Service, ServiceExt as _};

/// A fresh value for every write, so that no variant can skip the write as unchanged.
static COUNTER: AtomicU64 = AtomicU64::new(1);

fn next_value() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

async fn untouched() -> &'static str {
    "ok"
}

/// The benchmark's four routes, with each variant's handlers for the three that differ.
fn routes(me: MethodRouter, write: MethodRouter, login: MethodRouter) -> Router {
    Router::new()
        .route("/untouched", get(untouched))
        .route("/me", me)
        .route("/write", write)
        .route("/login", login)
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

    pub(crate) fn app() -> Box<dyn App> {
        served(routes(get(me), post(write), post(login)).with_state(()))
    }
}

/// Bare axum whose handlers take one trivial extractor (the request's method), as every
/// session handler takes one: axum then boxes a future that carries the request's parts
/// (about 600 bytes) where a handler without extractors boxes a few bytes. The floor for
/// the workloads whose handlers read the session.
mod extractor {
    use super::*;
    use axum::http::Method;

    async fn me(method: Method) -> String {
        std::hint::black_box(method);
        bare::me().await
    }

    async fn write(method: Method) -> &'static str {
        std::hint::black_box(method);
        bare::write().await
    }

    async fn login(method: Method) -> &'static str {
        std::hint::black_box(method);
        bare::login().await
    }

    pub(crate) fn app() -> Box<dyn App> {
        served(routes(get(me), post(write), post(login)).with_state(()))
    }
}

/// Bare axum behind a layer that does nothing: what axum charges for any layer (a boxed
/// clone of the layered service and a wrapped future per request).
mod layer {
    use super::*;

    pub(crate) fn app() -> Box<dyn App> {
        served(
            routes(get(bare::me), post(bare::write), post(bare::login))
                .layer(tower::util::MapRequestLayer::new(|req: Request<Body>| req))
                .with_state(()),
        )
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

    pub(crate) fn app(mount: Mount) -> Box<dyn App> {
        let store = MemoryStore::builder().max_records(10_000_000).build();
        let layer = SessionLayer::new(store, SessionConfig::default());
        let router = routes(get(me), post(write), post(login));
        match mount {
            Mount::Route => served(router.layer(layer).with_state(())),
            Mount::Around => served(layer.layer(router.with_state(()))),
        }
    }
}

/// `tower-sessions` 0.15 with its `MemoryStore`.
#[cfg(feature = "peers")]
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

    pub(crate) fn app(mount: Mount) -> Box<dyn App> {
        let layer = SessionManagerLayer::new(MemoryStore::default());
        let router = routes(get(me), post(write), post(login));
        match mount {
            Mount::Route => served(router.layer(layer).with_state(())),
            Mount::Around => served(layer.layer(router.with_state(()))),
        }
    }
}

/// `axum_session` 0.22 in memory mode (no database: the null pool).
#[cfg(feature = "peers")]
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

    pub(crate) async fn app(mount: Mount) -> Box<dyn App> {
        let store = SessionStore::<SessionNullPool>::new(None, SessionConfig::default())
            .await
            .expect("axum_session memory store");
        let layer = SessionLayer::new(store);
        let router = routes(get(me), post(write), post(login));
        match mount {
            Mount::Route => served(router.layer(layer).with_state(())),
            Mount::Around => served(layer.layer(router.with_state(()))),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Variant {
    Bare,
    Extractor,
    Layer,
    Ours,
    TowerSessions,
    AxumSession,
}

/// Where a session layer sits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mount {
    /// `Router::layer`: what the peers' documentation shows. axum wraps every route in the
    /// layer and boxes the layered service, so a clone of it and its future are boxed on
    /// every request (the pass-through layer's cost).
    Route,
    /// Around the finished `Router` (`layer.layer(router)`): no boxing, the layer sees every
    /// request before routing. A pass-through layer costs nothing there.
    Around,
}

/// Every variant measured, in the order of the tables.
const SUBJECTS: [(Variant, Mount); 9] = [
    (Variant::Bare, Mount::Route),
    (Variant::Extractor, Mount::Route),
    (Variant::Layer, Mount::Route),
    (Variant::Ours, Mount::Route),
    (Variant::TowerSessions, Mount::Route),
    (Variant::AxumSession, Mount::Route),
    (Variant::Ours, Mount::Around),
    (Variant::TowerSessions, Mount::Around),
    (Variant::AxumSession, Mount::Around),
];

impl Variant {
    fn slug(self) -> &'static str {
        match self {
            Variant::Bare => "bare",
            Variant::Extractor => "bare-extractor",
            Variant::Layer => "layer",
            Variant::Ours => "ours",
            Variant::TowerSessions => "tower-sessions",
            Variant::AxumSession => "axum_session",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Variant::Bare => "bare axum",
            Variant::Extractor => "bare axum, one extractor",
            Variant::Layer => "pass-through layer",
            Variant::Ours => "typed-sessions",
            Variant::TowerSessions => "tower-sessions",
            Variant::AxumSession => "axum_session",
        }
    }
}

impl Mount {
    fn slug(self) -> &'static str {
        match self {
            Mount::Route => "",
            Mount::Around => "-around",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Mount::Route => "layers added with `Router::layer`",
            Mount::Around => "layers around the `Router`",
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

/// One variant, ready to serve: its app and the cookies of logged-in sessions.
struct Subject {
    variant: Variant,
    app: Box<dyn App>,
    /// The `Cookie` header of one logged-in session, for the sequential workloads.
    cookie: String,
    /// The `Cookie` headers of the contended workload's sessions.
    sessions: Arc<Vec<String>>,
}

fn request(method: &str, path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::empty()).expect("valid request")
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A variant's service, whatever its type. The request loops are generic over the service
/// (nothing is boxed per request); only a whole batch goes through this trait object.
trait App {
    /// One request, for setup: its status and headers.
    fn call(&self, req: Request<Body>) -> BoxFuture<'_, Response<()>>;
    /// `n` requests one after the other, each `(method, path, cookie)`; ns per request.
    fn sequential<'a>(
        &'a self,
        what: &'static str,
        request: (&'static str, &'static str, Option<&'a str>),
        n: usize,
    ) -> BoxFuture<'a, f64>;
    /// `n` requests spread over many tasks on `rt`; wall-clock ns per request.
    fn contended(
        &self,
        what: &'static str,
        rt: &tokio::runtime::Runtime,
        sessions: Arc<Vec<String>>,
        n: usize,
    ) -> f64;
}

struct Served<S>(S);

fn served<S>(service: S) -> Box<dyn App>
where
    Served<S>: App + 'static,
{
    Box::new(Served(service))
}

impl<S, B> App for Served<S>
where
    S: Service<Request<Body>, Response = Response<B>, Error = Infallible>,
    S: Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    fn call(&self, req: Request<Body>) -> BoxFuture<'_, Response<()>> {
        let service = self.0.clone();
        Box::pin(async move {
            let res = service.oneshot(req).await.expect("infallible");
            res.map(|_| ())
        })
    }

    fn sequential<'a>(
        &'a self,
        what: &'static str,
        (method, path, cookie): (&'static str, &'static str, Option<&'a str>),
        n: usize,
    ) -> BoxFuture<'a, f64> {
        Box::pin(async move {
            let start = Instant::now();
            for _ in 0..n {
                let res = self.0.clone().oneshot(request(method, path, cookie)).await;
                let status = res.expect("infallible").status();
                if status != StatusCode::OK {
                    panic!("{what} answered {status} to {method} {path}");
                }
            }
            start.elapsed().as_nanos() as f64 / n as f64
        })
    }

    fn contended(
        &self,
        what: &'static str,
        rt: &tokio::runtime::Runtime,
        sessions: Arc<Vec<String>>,
        n: usize,
    ) -> f64 {
        let per_task = n.div_ceil(CONTENDED_TASKS);
        let start = Instant::now();
        rt.block_on(async {
            let mut tasks = Vec::with_capacity(CONTENDED_TASKS);
            for t in 0..CONTENDED_TASKS {
                let service = self.0.clone();
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
                        let res = service.clone().oneshot(req).await;
                        let status = res.expect("infallible").status();
                        if status != StatusCode::OK {
                            panic!("{what} answered {status} (contended)");
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

fn expect_ok(res: &Response<()>, what: &str, variant: Variant) {
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{what} failed for {}",
        variant.name()
    );
}

/// Logs in and returns the `Cookie` header that carries the new session.
async fn login_cookie(variant: Variant, app: &dyn App) -> String {
    if matches!(variant, Variant::Bare | Variant::Extractor | Variant::Layer) {
        // Same size as a real session cookie, so that parsing costs the floor too.
        return format!("session={}", "A".repeat(43));
    }
    let res = app.call(request("POST", "/login", None)).await;
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
    async fn new((variant, mount): (Variant, Mount), sessions: usize) -> Self {
        let app = match variant {
            Variant::Bare => bare::app(),
            Variant::Extractor => extractor::app(),
            Variant::Layer => layer::app(),
            Variant::Ours => ours::app(mount),
            #[cfg(feature = "peers")]
            Variant::TowerSessions => tower_sessions_variant::app(mount),
            #[cfg(feature = "peers")]
            Variant::AxumSession => axum_session_variant::app(mount).await,
            // The callgrind gate builds without the peers, for a shorter build.
            #[cfg(not(feature = "peers"))]
            Variant::TowerSessions | Variant::AxumSession => panic!(
                "{} is not built in: it needs the bench's `peers` feature (a default one)",
                variant.name()
            ),
        };
        let cookie = login_cookie(variant, app.as_ref()).await;
        let mut all = Vec::with_capacity(sessions);
        for _ in 0..sessions {
            all.push(login_cookie(variant, app.as_ref()).await);
        }
        let subject = Self {
            variant,
            app,
            cookie,
            sessions: Arc::new(all),
        };
        // The session is really there: the read answers 200, not 401.
        let res = subject
            .app
            .call(request("GET", "/me", Some(&subject.cookie)))
            .await;
        expect_ok(&res, "read after login", variant);
        subject
    }

    /// Runs `n` requests of a sequential workload; returns ns per request.
    async fn run_sequential(&self, workload: Workload, n: usize) -> f64 {
        let cookie = Some(self.cookie.as_str());
        let request = match workload {
            Workload::Untouched => ("GET", "/untouched", cookie),
            Workload::Read => ("GET", "/me", cookie),
            Workload::Write => ("POST", "/write", cookie),
            Workload::Login => ("POST", "/login", None),
            Workload::Contended => unreachable!("contended runs on its own runtime"),
        };
        self.app.sequential(self.variant.name(), request, n).await
    }

    /// Runs `n` requests spread over many tasks on `rt`; returns wall-clock ns per request.
    fn run_contended(&self, rt: &tokio::runtime::Runtime, n: usize) -> f64 {
        self.app
            .contended(self.variant.name(), rt, self.sessions.clone(), n)
    }
}

struct Options {
    /// `--profile VARIANT WORKLOAD N`: run only that, with no report (for callgrind or perf).
    /// `VARIANT`: `bare`, `layer`, `ours`, `tower-sessions` or `axum_session`, and the last
    /// three with `-around` (mounted around the router).
    profile: Option<((Variant, Mount), Workload, usize)>,
    rounds: usize,
    iters: usize,
    login_iters: usize,
    contended_iters: usize,
}

impl Options {
    fn from_args() -> Self {
        let mut options = Options {
            profile: None,
            rounds: 101,
            iters: 3_000,
            login_iters: 750,
            contended_iters: 4_800,
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
                    let variant = SUBJECTS
                        .into_iter()
                        .find(|(v, m)| format!("{}{}", v.slug(), m.slug()) == variant)
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
        let (variant, mount) = variant;
        println!(
            "{}{} {}: {ns:.0} ns/request",
            variant.name(),
            mount.slug(),
            workload.name()
        );
        // Exit without tearing the store down, so that a profile shows only the requests.
        std::mem::forget(subject);
        return;
    }

    let contended = if options.iters < 1_000 {
        50
    } else {
        CONTENDED_SESSIONS
    };
    let subjects: Vec<Subject> = seq.block_on(async {
        let mut subjects = Vec::new();
        for variant in SUBJECTS {
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

    let mut samples: Samples = vec![vec![Vec::new(); SUBJECTS.len()]; WORKLOADS.len()];
    let mut draws = Vec::with_capacity(options.rounds);
    let started = Instant::now();
    for round in 0..options.rounds {
        for (w, workload) in WORKLOADS.into_iter().enumerate() {
            for offset in 0..SUBJECTS.len() {
                let v = (round + offset) % SUBJECTS.len();
                let subject = &subjects[v];
                let n = options.iters(workload);
                let ns = if workload == Workload::Contended {
                    subject.run_contended(&multi, n)
                } else {
                    seq.block_on(subject.run_sequential(workload, n))
                };
                samples[w][v].push(ns);
            }
            if workload == Workload::Login {
                draws.push(os_draws(options.login_iters));
            }
        }
        eprint!("\rround {}/{}", round + 1, options.rounds);
    }
    eprintln!(" in {:.1?}", started.elapsed());

    report(&options, &samples, &draws);
}

/// `n` draws of a new token's 256 bits from the OS CSPRNG, the one system call the
/// runtime makes for every session it creates (`getrandom` on Linux); ns per draw.
fn os_draws(n: usize) -> f64 {
    use rand::TryRngCore as _;
    let start = Instant::now();
    for _ in 0..n {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .expect("the OS CSPRNG");
        std::hint::black_box(bytes);
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

/// The processor's model name, where the OS tells it (`/proc/cpuinfo` on Linux).
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_owned())
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

/// `draws[round]`: ns per OS CSPRNG draw, measured after each round's logins.
fn report(options: &Options, samples: &Samples, draws: &[f64]) {
    println!();
    if options.rounds <= 2 {
        println!("(a smoke run: too short for its numbers to mean anything)");
    }
    println!(
        "{} rounds; per round and variant: {} requests ({} for login, {} for contended)",
        options.rounds, options.iters, options.login_iters, options.contended_iters
    );
    println!("ratios are per-round pairs: median [min–max] over rounds");
    // The ratios depend on the processor (an atomic operation, SHA-NI and a system call
    // cost different shares of a request on different ones), so a run names its own.
    println!(
        "cpu: {} ({} threads available)",
        cpu_model().unwrap_or_else(|| std::env::consts::ARCH.to_owned()),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let at = |variant: Variant, mount: Mount| {
        SUBJECTS
            .iter()
            .position(|s| *s == (variant, mount))
            .expect("measured")
    };
    let bare = at(Variant::Bare, Mount::Route);
    // How far the machine's load moved the floor: under load every variant pays the same
    // extra time, so the ratios shrink toward 1. A quiet run is the one to quote.
    let noise = WORKLOADS
        .iter()
        .enumerate()
        .filter(|(_, w)| **w != Workload::Contended)
        .map(|(w, _)| {
            let (median, min, _) = summary(&samples[w][bare]);
            median / min - 1.0
        })
        .fold(0.0, f64::max);
    println!(
        "machine noise: bare axum's median round is up to {:.0}% slower than its fastest ({})",
        noise * 100.0,
        if noise <= 0.10 {
            "a quiet run"
        } else {
            "a busy machine: the ratios below understate the differences"
        }
    );
    for (w, workload) in WORKLOADS.into_iter().enumerate() {
        for mount in [Mount::Route, Mount::Around] {
            // The floors (bare axum, with and without an extractor) are in every table; the
            // layered variants are those of this mount.
            let rows: Vec<usize> = (0..SUBJECTS.len())
                .filter(|&i| {
                    let floor = matches!(SUBJECTS[i].0, Variant::Bare | Variant::Extractor);
                    floor || SUBJECTS[i].1 == mount
                })
                .collect();
            println!();
            println!("### {}, {}", workload.name(), mount.title());
            println!();
            print!("| variant | ns/request median [min–max] |");
            for &o in &rows {
                print!(" × {} |", SUBJECTS[o].0.name());
            }
            println!();
            println!("|---|---|{}", "---|".repeat(rows.len()));
            for &v in &rows {
                let (med, min, max) = summary(&samples[w][v]);
                print!(
                    "| {} | {med:.0} [{min:.0}–{max:.0}] |",
                    SUBJECTS[v].0.name()
                );
                for &o in &rows {
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
    }

    println!();
    println!("### Targets (typed-sessions)");
    println!();
    println!(
        "| workload | mount | × bare axum | target | × pass-through layer | × one extractor | tower-sessions ÷ ours | target |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let layer = at(Variant::Layer, Mount::Route);
    let extractor = at(Variant::Extractor, Mount::Route);
    for (w, workload) in WORKLOADS.into_iter().enumerate() {
        for mount in [Mount::Route, Mount::Around] {
            let ours = at(Variant::Ours, mount);
            let tower = at(Variant::TowerSessions, mount);
            let (vs_bare, _, _) = ratio(&samples[w], ours, bare);
            // Around the router, a pass-through layer costs nothing: bare axum is its floor.
            let floor = if mount == Mount::Route { layer } else { bare };
            let (vs_floor, _, _) = ratio(&samples[w], ours, floor);
            let (vs_extractor, _, _) = ratio(&samples[w], ours, extractor);
            let (speedup, _, _) = ratio(&samples[w], tower, ours);
            let (shown_vs_bare, bare_target) = match workload.target_vs_bare() {
                Some(t) => (near(vs_bare, t), format!("≤ {t:.2} {}", mark(vs_bare <= t))),
                None => (format!("{vs_bare:.2}"), "–".to_owned()),
            };
            let shown_speedup = near(speedup, SPEEDUP_TARGET);
            let mount = match mount {
                Mount::Route => "`Router::layer`",
                Mount::Around => "around",
            };
            println!(
                "| {} | {mount} | {shown_vs_bare} | {bare_target} | {vs_floor:.2} | {vs_extractor:.2} | {shown_speedup} | ≥ {SPEEDUP_TARGET:.2} {} |",
                workload.name(),
                mark(speedup >= SPEEDUP_TARGET)
            );
        }
    }
    let login = WORKLOADS
        .iter()
        .position(|w| *w == Workload::Login)
        .expect("measured");
    report_draws(
        samples,
        draws,
        login,
        bare,
        at(Variant::Ours, Mount::Around),
    );
}

/// What the contract fixes in a login: its draw from the OS CSPRNG, against this
/// project's login and against bare axum's, pair by pair within each round. The draw is
/// timed in a loop of its own, which gives a lower bound of what it costs inside a request.
fn report_draws(samples: &Samples, draws: &[f64], login: usize, bare: usize, ours: usize) {
    let per_round =
        |f: &dyn Fn(usize) -> f64| summary(&(0..draws.len()).map(f).collect::<Vec<_>>());
    let (ns, min, max) = summary(draws);
    let (share, _, _) = per_round(&|r| draws[r] / samples[login][ours][r]);
    let (floor, _, _) = per_round(&|r| 1.0 + draws[r] / samples[login][bare][r]);
    println!();
    println!(
        "login: a new token's 256 bits from the OS CSPRNG (one system call per new session), \
         timed alone, cost {ns:.0} ns [{min:.0}–{max:.0}], {:.0}% of our login around the \
         router; bare axum plus that draw alone is {floor:.2}× bare axum. Timed alone is a \
         lower bound: inside a request the system call also costs the caches it disturbs",
        share * 100.0
    );
}

/// How many times faster than tower-sessions this project should be, on every workload.
const SPEEDUP_TARGET: f64 = 2.0;

fn mark(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// A ratio next to its target: two decimals, or three where two would round it onto the
/// target and hide which side of it the ratio fell (1.996 is not 2.00).
fn near(ratio: f64, target: f64) -> String {
    let shown = format!("{ratio:.2}");
    if shown == format!("{target:.2}") && ratio != target {
        format!("{ratio:.3}")
    } else {
        shown
    }
}
