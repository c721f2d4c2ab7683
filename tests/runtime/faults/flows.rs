//! The flows under fault, and what each must still guarantee when one store call fails.
//!
//! Every flow is one request from one device of a fresh [`World`]. Run fault-free first, it
//! gives the number of store calls it makes; then each call in turn fails in each way of
//! [`Fault`], and [`check`] holds the outcome to the runtime's documented behaviour.

use http::StatusCode;

use super::store::Fault;
use super::world::{Device, Reply, Snapshot, World, changed_fingerprint};

/// One flow: a request, and what it does when it succeeds.
pub struct Flow {
    pub name: &'static str,
    /// Who sends the request.
    pub actor: Device,
    pub method: &'static str,
    /// The request's path, given the world (a revocation names a public id).
    pub uri: Uri,
    /// The documented answer when the store works.
    pub ok: StatusCode,
    /// Runs on the world before the flow (a password changed elsewhere, time passing).
    pub prepare: fn(&World),
    /// The sessions this flow ends when it succeeds.
    pub ends: &'static [Device],
    /// The actor's data once the flow succeeded, from its data before.
    pub after: fn(&mut Snapshot),
    /// The actor's data once the flow's awaited store work is done, before the response
    /// saves what the handler set afterwards (a login's new session, without the name the
    /// handler then sets): where a failed save may leave it.
    pub midway: fn(&mut Snapshot),
    /// On success the actor holds a new token (login, rotation).
    pub rotates: bool,
    /// On a store failure the sessions it would end are documented to stay as they were
    /// (a logout that answers `503` changes nothing), rather than perhaps ended.
    pub failure_keeps: bool,
    /// Ending the sessions is documented as best effort: a success may leave them.
    pub best_effort: bool,
    /// The world's per-user session cap, if any.
    pub max_sessions: Option<usize>,
}

/// How a flow's path is made.
pub enum Uri {
    Fixed(&'static str),
    /// `/sessions/{public id of this device}`.
    Revoke(Device),
}

fn unchanged(_: &mut Snapshot) {}
fn nothing(_: &World) {}

fn set(snapshot: &mut Snapshot, name: &str, json: &str) {
    snapshot.insert(name.to_owned(), json.to_owned());
}

/// A login of user 1 before the handler's name and fingerprint are saved.
fn user_1(s: &mut Snapshot) {
    set(s, "user_id", "1");
}

fn logged_in_as_1(s: &mut Snapshot) {
    set(s, "user_id", "1");
    set(s, "username", "\"user1\"");
    set(s, "auth_hash", "\"fp-1\"");
}

const fn flow(name: &'static str, actor: Device, method: &'static str, uri: &'static str) -> Flow {
    Flow {
        name,
        actor,
        method,
        uri: Uri::Fixed(uri),
        ok: StatusCode::OK,
        prepare: nothing,
        ends: &[],
        after: unchanged,
        midway: unchanged,
        rotates: false,
        failure_keeps: false,
        best_effort: false,
        max_sessions: None,
    }
}

/// Every flow of the matrix.
pub fn all() -> Vec<Flow> {
    use Device::{A, B, G, Visitor};
    vec![
        Flow {
            after: |s| set(s, "c", "[5]"),
            ..flow("a guest's first write", Visitor, "POST", "/cart/5")
        },
        Flow {
            after: |s| set(s, "note", "\"new\""),
            ..flow("write one field", A, "POST", "/note/new")
        },
        Flow {
            ends: &[G],
            failure_keeps: true,
            ..flow("an emptied session is deleted", G, "POST", "/clear-cart")
        },
        Flow {
            after: logged_in_as_1,
            midway: user_1,
            rotates: true,
            ..flow("login from no session", Visitor, "POST", "/login/1")
        },
        Flow {
            after: logged_in_as_1,
            midway: user_1,
            rotates: true,
            ..flow("login rotates a guest session", G, "POST", "/login/1")
        },
        Flow {
            rotates: true,
            ..flow("login again rotates the session", A, "POST", "/login/1")
        },
        Flow {
            after: |s| {
                s.clear();
                set(s, "user_id", "2");
                set(s, "username", "\"user2\"");
                set(s, "auth_hash", "\"fp-2\"");
            },
            midway: |s| {
                s.clear();
                set(s, "user_id", "2");
            },
            rotates: true,
            ..flow("login as another user starts empty", A, "POST", "/login/2")
        },
        Flow {
            after: logged_in_as_1,
            midway: user_1,
            rotates: true,
            ends: &[A, B],
            ..flow("exclusive login", G, "POST", "/login-exclusive/1")
        },
        Flow {
            rotates: true,
            ends: &[B],
            ..flow("exclusive login again", A, "POST", "/login-exclusive/1")
        },
        Flow {
            after: logged_in_as_1,
            midway: user_1,
            rotates: true,
            ends: &[A],
            best_effort: true,
            max_sessions: Some(2),
            ..flow("login past the per-user cap", Visitor, "POST", "/login/1")
        },
        Flow {
            rotates: true,
            ..flow("explicit rotate", A, "POST", "/rotate")
        },
        Flow {
            after: |s| set(s, "is_staff", "true"),
            rotates: true,
            ..flow("privilege change rotates", A, "POST", "/promote")
        },
        Flow {
            ok: StatusCode::NO_CONTENT,
            ends: &[A],
            failure_keeps: true,
            ..flow("logout", A, "POST", "/logout")
        },
        Flow {
            ends: &[B],
            ..flow("logout others", A, "POST", "/logout-others")
        },
        Flow {
            ends: &[A, B],
            ..flow("logout everywhere", A, "POST", "/logout-everywhere")
        },
        Flow {
            uri: Uri::Revoke(B),
            ok: StatusCode::NO_CONTENT,
            ends: &[B],
            ..flow("revoke another session", A, "DELETE", "")
        },
        Flow {
            uri: Uri::Revoke(A),
            ok: StatusCode::NO_CONTENT,
            ends: &[A],
            failure_keeps: true,
            ..flow("revoke the current session", A, "DELETE", "")
        },
        flow("list sessions", A, "GET", "/sessions"),
        Flow {
            ok: StatusCode::NO_CONTENT,
            after: |s| set(s, "auth_hash", &format!("{:?}", changed_fingerprint(1))),
            rotates: true,
            ends: &[B],
            ..flow("password change", A, "POST", "/password")
        },
        Flow {
            prepare: |w| {
                let changed = changed_fingerprint(1);
                w.fingerprints.lock().unwrap().insert(1, changed);
            },
            ends: &[A],
            failure_keeps: true,
            ..flow("auth hash mismatch ends the session", A, "GET", "/probe")
        },
        flow("auth hash match", A, "GET", "/probe"),
        Flow {
            prepare: |w| w.clock.advance(std::time::Duration::from_secs(5 * 60)),
            ..flow("rolling expiry touch", A, "GET", "/probe")
        },
        flow("RequireAuth guard", A, "GET", "/me"),
        Flow {
            ok: StatusCode::FORBIDDEN,
            ..flow("RequireStaff guard refuses", A, "GET", "/admin")
        },
    ]
}

/// The world before the flow: what each device held.
pub struct Before {
    pub sessions: Vec<Held>,
}

/// A device's cookie and the data of the session it named.
pub struct Held {
    pub device: Device,
    pub token: Option<String>,
    pub data: Option<Snapshot>,
}

impl Before {
    pub async fn of(world: &World) -> Self {
        let mut sessions = Vec::new();
        for (device, token) in &world.jar {
            let data = match token {
                Some(t) => world.snapshot(t).await,
                None => None,
            };
            sessions.push(Held {
                device: *device,
                token: token.clone(),
                data,
            });
        }
        Self { sessions }
    }
}

/// The path `flow` requests in `world`.
pub async fn uri(flow: &Flow, world: &World) -> String {
    match flow.uri {
        Uri::Fixed(uri) => uri.to_owned(),
        Uri::Revoke(device) => format!("/sessions/{}", world.public_id(device).await),
    }
}

/// Holds the outcome of `flow` (which answered `reply`, under `fault` if any) to the
/// runtime's guarantees; `world.jar` already holds the actor's cookie after the reply.
pub async fn check(
    flow: &Flow,
    fault: Option<Fault>,
    before: &Before,
    reply: &Reply,
    world: &World,
) -> Result<(), String> {
    let succeeded = reply.status == flow.ok;
    if !succeeded && (fault.is_none() || reply.status != StatusCode::SERVICE_UNAVAILABLE) {
        return Err(format!(
            "answered {} (expected {} or, under a fault, 503): {}",
            reply.status, flow.ok, reply.body
        ));
    }
    for Held {
        device,
        token,
        data: snapshot,
    } in &before.sessions
    {
        let held = world.jar[device].clone();
        let now = match &held {
            Some(t) => world.snapshot(t).await,
            None => None,
        };
        let targeted = flow.ends.contains(device);
        if *device != flow.actor {
            // The flow sends no cookie to anyone else.
            let dead = now.is_none();
            let acceptable = match (targeted, succeeded) {
                (false, _) => now == *snapshot,
                (true, true) if flow.best_effort && fault.is_some() => dead || now == *snapshot,
                (true, true) => dead,
                (true, false) if flow.failure_keeps => now == *snapshot,
                // Ending them may have happened before the store failed to answer.
                (true, false) => dead || now == *snapshot,
            };
            if !acceptable {
                return Err(format!("{device:?} was {snapshot:?}, is now {now:?}"));
            }
            continue;
        }
        check_actor(
            flow,
            succeeded,
            token.as_deref(),
            snapshot,
            &held,
            &now,
            world,
        )
        .await?;
    }
    check_no_orphans(world).await
}

/// The actor's session: nothing lost, nothing left alive that the browser no longer names.
async fn check_actor(
    flow: &Flow,
    succeeded: bool,
    old_token: Option<&str>,
    old: &Option<Snapshot>,
    held: &Option<String>,
    now: &Option<Snapshot>,
    world: &World,
) -> Result<(), String> {
    if let Some(old_token) = old_token
        && held.as_deref() != Some(old_token)
        && world.snapshot(old_token).await.is_some()
    {
        return Err("the old token still names a session the browser no longer holds".into());
    }
    let mut after = old.clone().unwrap_or_default();
    (flow.after)(&mut after);
    let mut midway = old.clone().unwrap_or_default();
    (flow.midway)(&mut midway);
    let targeted = flow.ends.contains(&flow.actor);
    match (targeted, succeeded) {
        (true, true) if held.is_some() => Err(format!("the cookie was not removed: {now:?}")),
        (true, true) => Ok(()),
        (true, false) if flow.failure_keeps && (held.as_deref() != old_token || now != old) => Err(
            format!("a failed end changed the session: {old:?} became {now:?}"),
        ),
        (true, false) => Ok(()),
        (false, true) if flow.rotates && held.as_deref() == old_token => {
            Err("a successful rotation kept the old token".into())
        }
        (false, true) if now.as_ref() != Some(&after) => {
            Err(format!("expected {after:?} after success, found {now:?}"))
        }
        (false, true) => Ok(()),
        // A failure: the session the client holds is there, as it was before, midway or
        // after (a write the store made but could not confirm); never a mix.
        (false, false) => match now {
            None if old.is_some() => Err(format!("the session was lost: it was {old:?}")),
            None => Ok(()),
            Some(now) if [old.as_ref(), Some(&midway), Some(&after)].contains(&Some(now)) => Ok(()),
            Some(now) => Err(format!(
                "after a failure the session is {now:?}: neither {old:?}, nor {midway:?}, nor {after:?}"
            )),
        },
    }
}

/// Every stored session is one some device holds: a failure left no session behind that
/// nobody can use or end (it would still be listed, and count as the user's).
async fn check_no_orphans(world: &World) -> Result<(), String> {
    let mut held = Vec::new();
    for token in world.jar.values().flatten() {
        if world.snapshot(token).await.is_some() && !held.contains(token) {
            held.push(token.clone());
        }
    }
    let stored = world.store.inner.len();
    if stored != held.len() {
        return Err(format!(
            "{stored} sessions stored, {} held by a device",
            held.len()
        ));
    }
    Ok(())
}
