//! The commit path, when the response is ready: what to write to the store, and what the
//! cookie becomes.

use std::time::SystemTime;

use http::{HeaderValue, StatusCode};

use super::state::{Context, CookieOut, State};
use crate::cookie::{removal_cookie, set_cookie};
use crate::record::{Record, Update};
use crate::store::StoreError;
use crate::token::SessionKey;

/// The outcome of the response phase.
pub(crate) struct Committed {
    /// The session cookie's `Set-Cookie` value to add, if any.
    pub(crate) cookie: Option<HeaderValue>,
    /// The other cookies of this crate to set or remove (see `State::other_cookies`).
    pub(crate) other_cookies: Vec<HeaderValue>,
    /// A store failure while saving: the response becomes a `503`.
    pub(crate) failed: Option<StoreError>,
}

/// A store write the response phase must make.
#[derive(Debug)]
pub(crate) enum Plan {
    /// A guest's first save: a new record.
    Create(Box<Record>),
    /// The handler emptied the session: delete it.
    Delete(SessionKey),
    /// A privilege field changed: move to a new token, writing the changes.
    Rotate,
    /// Write this request's changes (taken out of the state: see
    /// [`Context::pending_update`]); `true`: rolling expiry moves too.
    Update(SessionKey, Update, bool),
    /// Nothing changed, but rolling expiry is due: move it to this time.
    Touch(SessionKey, SystemTime),
}

impl Context {
    /// Decides, without touching the store, what the response phase must write: nothing for
    /// a request that never loaded its session, whose response is a server error, or that
    /// changed nothing and needs no touch.
    pub(crate) fn plan(&self, status: StatusCode) -> Option<Plan> {
        let mut st = self.state();
        if !matches!(st.loaded, Some(Ok(()))) || status.is_server_error() {
            return None;
        }
        let changed = !st.pending.changes_no_field();
        let Some(b) = &st.bound else {
            if !changed || st.fields().next().is_none() {
                return None;
            }
            let record = self.new_record(None, st.data(), st.device_label());
            return Some(Plan::Create(Box::new(record)));
        };
        let touch_due = self.now >= b.record.last_seen + self.shared.config.touch_interval;
        if changed {
            let live = st.schemas.any_live(st.fields().map(|(name, _)| name));
            if !live && st.user_id().is_none() {
                Some(Plan::Delete(b.key))
            } else if st.rotate_pending && !b.fresh && !st.bearer {
                // (An API client could not learn a new token: its session is not rotated.)
                Some(Plan::Rotate)
            } else {
                let key = b.key;
                let update = self.pending_update(&mut st, touch_due);
                Some(Plan::Update(key, update, touch_due))
            }
        } else if touch_due {
            Some(Plan::Touch(b.key, self.expiry_of(&b.record)))
        } else {
            None
        }
    }

    /// Makes the write [`plan`](Self::plan) asked for at once, if the store can answer
    /// without waiting (see `SessionStore::update_now`); gives the plan back if it must wait.
    pub(crate) fn commit_now(&self, plan: Plan) -> Result<Committed, Plan> {
        let store = &self.shared.store;
        let failed = match plan {
            Plan::Update(key, update, refresh) => match store.update_now(&key, &update) {
                Some(result) => self.updated(result, update, refresh).err(),
                None => return Err(Plan::Update(key, update, refresh)),
            },
            Plan::Touch(key, expires_at) => match store.touch_now(&key, self.now, expires_at) {
                Some(result) => self.touched(result, expires_at).err(),
                None => return Err(Plan::Touch(key, expires_at)),
            },
            plan => return Err(plan),
        };
        Ok(self.committed(failed))
    }

    /// Makes the write [`plan`](Self::plan) asked for, then computes the cookie.
    pub(crate) async fn commit(&self, plan: Plan) -> Committed {
        let failed = self.write(plan).await.err();
        self.committed(failed)
    }

    /// The outcome when [`plan`](Self::plan) found nothing to write.
    pub(crate) fn commit_nothing(&self) -> Committed {
        self.committed(None)
    }

    async fn write(&self, plan: Plan) -> Result<(), StoreError> {
        match plan {
            Plan::Create(mut record) => {
                let (token, key) = self.create_record(&mut record).await?;
                self.state().bind(token, key, record, true);
            }
            Plan::Delete(key) => {
                self.delete_record(&key).await?;
                self.state().end();
            }
            Plan::Rotate => self.rotate().await?,
            Plan::Update(key, update, refresh) => {
                let result = self.shared.store.update(&key, &update).await;
                self.updated(result, update, refresh)?;
            }
            Plan::Touch(key, expires_at) => {
                let result = self.shared.store.touch(&key, self.now, expires_at).await;
                self.touched(result, expires_at)?;
            }
        }
        Ok(())
    }

    /// Records the outcome of an update.
    fn updated(
        &self,
        result: Result<bool, StoreError>,
        update: Update,
        refresh: bool,
    ) -> Result<(), StoreError> {
        let exists = result?;
        let mut st = self.state();
        if exists {
            st.saved(update);
            if refresh {
                st.refreshed(self.shared.config.cookie.persistent);
            }
        } else {
            // Gone meanwhile (logout, revocation, rotation or expiry elsewhere): it stays
            // gone, and the request ends anonymous.
            st.end();
        }
        Ok(())
    }

    /// Records the outcome of a touch.
    fn touched(
        &self,
        result: Result<bool, StoreError>,
        expires_at: SystemTime,
    ) -> Result<(), StoreError> {
        let exists = result?;
        let mut st = self.state();
        match st.bound.as_mut() {
            Some(b) if exists => {
                b.record.last_seen = self.now;
                b.record.expires_at = expires_at;
                st.refreshed(self.shared.config.cookie.persistent);
            }
            _ => st.end(),
        }
        Ok(())
    }

    /// The `Set-Cookie` value the response needs, if any.
    /// The response phase's outcome, once the store writes are done (`failed`: how they
    /// failed): the cookies the response sets or removes.
    fn committed(&self, failed: Option<StoreError>) -> Committed {
        let mut st = self.state();
        let mut other_cookies = std::mem::take(&mut st.other_cookies);
        other_cookies.extend(st.remember_cookie.take());
        if st.bearer {
            // No response to an API client sets a cookie.
            other_cookies.clear();
        }
        Committed {
            cookie: self.cookie(&st),
            other_cookies,
            failed,
        }
    }

    fn cookie(&self, st: &State) -> Option<HeaderValue> {
        let config = &self.shared.config.cookie;
        if st.bearer {
            return None;
        }
        match st.cookie {
            CookieOut::Keep => None,
            CookieOut::Set => st
                .bound
                .as_ref()
                .map(|b| set_cookie(config, &b.token, self.max_age(b.record.expires_at))),
            CookieOut::Remove => Some(removal_cookie(config)),
        }
    }
}

impl State {
    /// Rolling expiry moved: a `persistent` cookie's `Max-Age` must follow. A
    /// browser-session cookie has no `Max-Age`, so it is not sent again.
    fn refreshed(&mut self, persistent: bool) {
        if persistent && self.cookie == CookieOut::Keep {
            self.cookie = CookieOut::Set;
        }
    }
}
