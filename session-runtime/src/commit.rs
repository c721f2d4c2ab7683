//! The response phase: write what the request changed, and say what the cookie becomes.

use std::time::SystemTime;

use http::{HeaderValue, StatusCode};

use crate::context::{Context, CookieOut, State};
use crate::cookie::{removal_cookie, set_cookie};
use crate::record::Record;
use crate::store::{MemoryStore, StoreError};
use crate::token::SessionKey;

/// The outcome of the response phase.
pub(crate) struct Committed {
    /// The `Set-Cookie` value to add, if any.
    pub(crate) cookie: Option<HeaderValue>,
    /// A store failure while saving: the response becomes a `503`.
    pub(crate) failed: Option<StoreError>,
}

/// A store write the response phase must make.
pub(crate) enum Plan {
    Nothing,
    /// Boxed: a plan is returned by value on every request, and a record is large.
    Create(Box<Record>),
    Delete(SessionKey),
    Rotate,
    /// Write this request's changes; `true`: move rolling expiry too.
    Update(SessionKey, bool),
    Touch(SessionKey, SystemTime),
}

/// What the response phase does next.
pub(crate) enum Step {
    /// Nothing to write: the outcome is known now.
    Done(Committed),
    /// A store write first ([`save`]).
    Save(Plan),
}

/// Decides, without touching the store, what the response phase must do: nothing for a
/// request that never loaded its session, or changed nothing and needs no touch; otherwise
/// the store write to make. A server error saves nothing. Takes the state's lock once.
pub(crate) fn prepare(ctx: &Context, status: StatusCode) -> Step {
    let mut st = ctx.state();
    if !matches!(st.loaded, Some(Ok(()))) {
        return Step::Done(Committed {
            cookie: None,
            failed: None,
        });
    }
    let plan = if status.is_server_error() {
        Plan::Nothing
    } else {
        plan(ctx, &st)
    };
    let plan = match &ctx.shared.memory {
        Some(memory) => write_now(ctx, &mut st, memory, plan),
        None => plan,
    };
    match plan {
        Plan::Nothing => Step::Done(Committed {
            cookie: cookie(ctx, &st),
            failed: None,
        }),
        plan => Step::Save(plan),
    }
}

/// Makes the writes a [`MemoryStore`] can make without a future (updates and touches, which
/// cannot fail) at once; gives back the plans that need one.
fn write_now(ctx: &Context, st: &mut State, memory: &MemoryStore, plan: Plan) -> Plan {
    match plan {
        Plan::Update(key, refresh) => {
            let (exists, expires_at) = {
                let changes = ctx.pending_changes(st, refresh);
                (memory.update_now(&key, &changes), changes.expires_at)
            };
            after_write(ctx, st, exists, expires_at);
            Plan::Nothing
        }
        Plan::Touch(key, expires_at) => {
            let exists = memory.touch_now(&key, ctx.now, expires_at);
            after_write(ctx, st, exists, Some(expires_at));
            Plan::Nothing
        }
        plan => plan,
    }
}

/// Makes the write [`prepare`] asked for, then computes the cookie.
pub(crate) async fn save(ctx: &Context, plan: Plan) -> Committed {
    let failed = write(ctx, plan).await.err();
    Committed {
        cookie: cookie(ctx, &ctx.state()),
        failed,
    }
}

/// The `Set-Cookie` value the response needs, if any.
fn cookie(ctx: &Context, st: &State) -> Option<HeaderValue> {
    match st.cookie {
        CookieOut::Keep => None,
        CookieOut::Set => st.bound.as_ref().map(|b| {
            set_cookie(
                &ctx.shared.config.cookie,
                &b.token,
                ctx.max_age(b.expires_at),
            )
        }),
        CookieOut::Remove => Some(removal_cookie(&ctx.shared.config.cookie)),
    }
}

fn plan(ctx: &Context, st: &State) -> Plan {
    let Some(b) = &st.bound else {
        if !st.data.has_unsaved() || st.data.is_empty() {
            return Plan::Nothing;
        }
        let record = ctx.new_record(None, st.data.to_map(), st.device_label());
        return Plan::Create(Box::new(record));
    };
    let touch_due = ctx.now >= b.last_seen + ctx.shared.config.touch_interval;
    if st.data.has_unsaved() {
        if !st.has_live_data() && st.user_id.is_none() {
            Plan::Delete(b.key)
        } else if st.rotate_pending && !b.fresh {
            Plan::Rotate
        } else {
            Plan::Update(b.key, touch_due)
        }
    } else if touch_due {
        Plan::Touch(b.key, ctx.expiry(b.absolute_expires_at))
    } else {
        Plan::Nothing
    }
}

async fn write(ctx: &Context, plan: Plan) -> Result<(), StoreError> {
    match plan {
        Plan::Nothing => {}
        Plan::Create(mut record) => {
            let (token, key, snapshot) = ctx.create_record(&mut record).await?;
            ctx.bind(token, key, snapshot, true);
        }
        Plan::Delete(key) => {
            ctx.shared.store.delete(&key).await?;
            let mut st = ctx.state();
            st.reset();
            st.cookie = CookieOut::Remove;
        }
        Plan::Rotate => ctx.rotate().await?,
        Plan::Update(key, refresh) => {
            let update = ctx.pending_update(&ctx.state(), refresh);
            let exists = ctx.shared.store.update(&key, &update).await?;
            after_write(ctx, &mut ctx.state(), exists, update.expires_at);
        }
        Plan::Touch(key, expires_at) => {
            let exists = ctx.shared.store.touch(&key, ctx.now, expires_at).await?;
            after_write(ctx, &mut ctx.state(), exists, Some(expires_at));
        }
    }
    Ok(())
}

/// Records the outcome of an update or touch. A record that vanished meanwhile (logout,
/// revocation, rotation or expiry elsewhere) stays gone: the request ends anonymous.
fn after_write(ctx: &Context, st: &mut State, exists: bool, refreshed: Option<SystemTime>) {
    if !exists {
        st.reset();
        st.cookie = CookieOut::Remove;
        return;
    }
    st.data.mark_saved();
    if let (Some(expires_at), Some(b)) = (refreshed, st.bound.as_mut()) {
        b.last_seen = ctx.now;
        b.expires_at = expires_at;
        if st.cookie == CookieOut::Keep {
            st.cookie = CookieOut::Set;
        }
    }
}
