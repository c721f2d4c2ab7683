//! Fault injection (issue 17): every store call of every session flow fails in turn, in
//! each way a backend fails (an error, a timeout, a hang past the deadline before or after
//! the write, a reply lost after the write), and the runtime must not panic, must answer
//! as documented (the flow's status, or `503`), must lose no session and resurrect none,
//! and must log the failure but no token.
//!
//! - [`store`]: the wrapper store that counts calls and fails the armed one.
//! - [`world`]: the app and the devices whose sessions each case starts from.
//! - [`flows`]: the flows, and the checks of their outcome.

mod flows;
mod store;
mod world;

use std::io::Write;
use std::sync::{Arc, Mutex};

use flows::{Before, Flow};
use store::Fault;
use world::World;

/// The log lines of the test, at every level.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures this thread's logs (the test's runtime is single-threaded) until the guard
    /// drops.
    fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || sink.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// Empties the buffer, giving its text.
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).expect("UTF-8 logs")
    }
}

/// Runs `flow` once in a fresh world, with `fault` at call `nth` if given; the store calls
/// it made, or why it broke a guarantee.
async fn run(flow: &Flow, fault: Option<(usize, Fault)>, logs: &Logs) -> Result<usize, String> {
    let mut world = World::new(flow.max_sessions).await;
    (flow.prepare)(&world);
    let before = Before::of(&world).await;
    let uri = flows::uri(flow, &world).await;
    world.store.arm(fault);
    let reply = world.try_send(flow.actor, flow.method, &uri).await;
    let calls = world.store.disarm().len();
    let reply = reply?;
    if let Some((nth, _)) = fault
        && calls < nth
    {
        return Err(format!(
            "the fault at call {nth} never fired ({calls} calls)"
        ));
    }
    world.keep_cookie(flow.actor, &reply);
    flows::check(flow, fault.map(|(_, f)| f), &before, &reply, &world).await?;
    let mut tokens: Vec<String> = before
        .sessions
        .iter()
        .filter_map(|s| s.token.clone())
        .collect();
    tokens.extend(reply.session_cookie().flatten());
    tokens.extend(world.jar.values().flatten().cloned());
    let logged = logs.take();
    if tokens.iter().any(|t| logged.contains(t.as_str())) {
        return Err("a session token reached the logs".into());
    }
    if fault.is_some() && !logged.contains("session store") {
        return Err("the store's failure was not logged".into());
    }
    Ok(calls)
}

/// Runs `flow` fault-free, then with each of its store calls failing in each way; panics
/// with every case that broke a guarantee.
async fn matrix(flow: &Flow) {
    let (logs, _guard) = Logs::capture();
    let calls = run(flow, None, &logs)
        .await
        .unwrap_or_else(|e| panic!("{}, fault-free: {e}", flow.name));
    assert!(calls > 0, "{} makes no store call", flow.name);
    let mut broken = Vec::new();
    for nth in 1..=calls {
        for fault in Fault::ALL {
            if let Err(e) = run(flow, Some((nth, fault)), &logs).await {
                broken.push(format!("{}, call {nth}, {fault:?}: {e}", flow.name));
            }
        }
    }
    let cases = calls * Fault::ALL.len();
    println!(
        "fault matrix: {}: {calls} call points x {} kinds = {cases} cases",
        flow.name,
        Fault::ALL.len()
    );
    assert!(
        broken.is_empty(),
        "{} broken:\n{}",
        broken.len(),
        broken.join("\n")
    );
}

/// The flow named `name`.
fn named(name: &str) -> Flow {
    flows::all()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no flow {name}"))
}

macro_rules! fault_matrix {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[tokio::test(start_paused = true)]
            async fn $test() {
                matrix(&named($name)).await;
            }
        )*

        /// Every flow has its test above; prints the whole matrix's size.
        #[tokio::test(start_paused = true)]
        async fn the_matrix_covers_every_flow() {
            let tested = [$($name),*];
            let all = flows::all();
            let (logs, _guard) = Logs::capture();
            let mut points = 0;
            for flow in &all {
                assert!(tested.contains(&flow.name), "no test runs {}", flow.name);
                points += run(flow, None, &logs).await.expect("fault-free run");
            }
            println!(
                "fault matrix: {} flows, {points} call points x {} kinds = {} cases",
                all.len(),
                Fault::ALL.len(),
                points * Fault::ALL.len()
            );
        }
    };
}

fault_matrix! {
    guest_first_write => "a guest's first write",
    write_one_field => "write one field",
    emptied_session => "an emptied session is deleted",
    login_without_session => "login from no session",
    login_from_guest => "login rotates a guest session",
    login_again => "login again rotates the session",
    login_as_another_user => "login as another user starts empty",
    exclusive_login => "exclusive login",
    exclusive_login_again => "exclusive login again",
    login_past_the_cap => "login past the per-user cap",
    explicit_rotate => "explicit rotate",
    privilege_change => "privilege change rotates",
    logout => "logout",
    logout_others => "logout others",
    logout_everywhere => "logout everywhere",
    revoke_other => "revoke another session",
    revoke_current => "revoke the current session",
    list_sessions => "list sessions",
    password_change => "password change",
    auth_hash_mismatch => "auth hash mismatch ends the session",
    auth_hash_match => "auth hash match",
    rolling_touch => "rolling expiry touch",
    require_auth => "RequireAuth guard",
    require_staff => "RequireStaff guard refuses",
}
