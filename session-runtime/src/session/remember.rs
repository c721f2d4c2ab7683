//! Remember me, inside a request: remembering this device at a login, logging a remembered
//! device in again once its session ended (from the load path), and forgetting the device.
//! The settings and the cookie are in `remember.rs`.
//!
//! A series record (kind `remembered`, under the hash of the series id) holds the hash of
//! its token as a runtime field, `__remember.live.<hash>`, whose value is the time (Unix
//! seconds) it was issued. A use replaces the token with field-wise changes, which every
//! store merges: two requests that read the same token before either replaced it both leave
//! a live token, so neither browser is later taken for a thief. The token of the browser that
//! kept the other cookie is removed by the next use after [`BRANCH_GRACE`]. A token that is
//! not live in its series was replaced (or never issued): whoever presents it copied the
//! cookie.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use super::state::Context;
use crate::error::SessionError;
use crate::record::{Record, SessionKind, Update};
use crate::remember::{BRANCH_GRACE, Remember, RememberCookie};
use crate::session::state::LoadFailed;
use crate::store::StoreError;
use crate::token::{PublicId, SessionKey, Token};

/// The runtime field of a token that logs in.
const LIVE: &str = "__remember.live.";

fn live_field(token: &Token) -> String {
    format!("{LIVE}{}", token.key().to_hex())
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// When a token field's time was, if it holds one.
fn field_time(json: &str) -> Option<SystemTime> {
    let secs: u64 = json.parse().ok()?;
    Some(UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

impl Context {
    /// Remembers this device for the logged-in user: a new series, its cookie in the
    /// response. This device's previous series, if any, ends.
    pub(crate) async fn remember_device(&self) -> Result<(), SessionError> {
        let Some(remember) = self.shared.remember.as_deref() else {
            return Err(SessionError::RememberMeNotConfigured);
        };
        if self.is_bearer() {
            return Err(SessionError::BearerSession);
        }
        let (user, authenticated_at, fingerprint, device, old) = {
            let st = self.state();
            let Some(user) = st.user_id().map(str::to_owned) else {
                return Err(SessionError::NotLoggedIn);
            };
            let fingerprint = self.shared.auth.as_ref().and_then(|check| {
                let name = check.field();
                st.value(name).map(|v| (name.to_owned(), v.to_owned()))
            });
            let authenticated_at = st.bound.as_ref().and_then(|b| b.record.authenticated_at);
            (
                user,
                authenticated_at,
                fingerprint,
                st.device_label(),
                st.remember_series,
            )
        };
        if let Some(old) = old {
            self.delete_record(&old).await?;
        }
        let token = Token::generate().map_err(StoreError::from)?;
        let mut data = BTreeMap::from([(live_field(&token), unix_secs(self.now).to_string())]);
        data.extend(fingerprint);
        let expires = self.now + remember.settings.lifetime;
        let mut record = Record {
            public_id: PublicId::generate(),
            user_id: Some(user),
            data,
            created_at: self.now,
            last_seen: self.now,
            expires_at: expires,
            absolute_expires_at: expires,
            authenticated_at,
            device,
            version: 0,
            kind: SessionKind::Remembered,
        };
        let (series, key) = self.create_record(&mut record).await?;
        let cookie = remember.set_cookie(
            &RememberCookie { series, token },
            remember.settings.lifetime,
        );
        let mut st = self.state();
        st.remember_series = Some(key);
        st.remember_cookie = Some(cookie);
        Ok(())
    }

    /// Ends this device's series, if the request named one or remembered it, and removes
    /// its cookie: a logout, or a password login (which remembers the device again only if
    /// asked).
    pub(crate) async fn forget_device(&self) -> Result<(), StoreError> {
        let series = self.state().remember_series;
        if let Some(series) = &series {
            // Boxed: only a remembered device has a series, and every login waits here.
            Box::pin(self.delete_record(series)).await?;
        }
        self.drop_remember_cookie();
        Ok(())
    }

    /// Removes this device's remember cookie from the browser, if it has one: its series
    /// ended (logout everywhere, logout of the others, a replay, a series gone).
    pub(crate) fn drop_remember_cookie(&self) {
        let Some(remember) = self.shared.remember.as_deref() else {
            return;
        };
        let mut st = self.state();
        st.remember_series = None;
        if st.remember_present || st.remember_cookie.is_some() {
            st.remember_cookie = Some(remember.removal_cookie());
        }
    }

    /// Logs a remembered device in again, from the load path: the request carried no live
    /// session but a remember `cookie`. Gives the new session's token, key and record, or
    /// `None` (the request stays anonymous, the cookie is removed) if the series is gone,
    /// expired, its user's credentials changed, or the token was replayed.
    pub(crate) async fn restore(
        &self,
        remember: &Remember,
        cookie: RememberCookie,
    ) -> Result<Option<(Token, SessionKey, Box<Record>)>, LoadFailed> {
        let series_key = cookie.series.key();
        let store = &self.shared.store;
        let series = match store.load(&series_key, self.now).await {
            Ok(found) => found.filter(|r| {
                !r.is_expired(self.now) && r.kind == SessionKind::Remembered && r.user_id.is_some()
            }),
            Err(error) => {
                tracing::error!(%error, "session store failed to load a remember-me series");
                return Err(LoadFailed);
            }
        };
        let Some(series) = series else {
            self.drop_remember_cookie();
            return Ok(None);
        };
        let user = series.user_id.clone().unwrap_or_default();
        if !series.data.contains_key(&live_field(&cookie.token)) {
            tracing::warn!(
                series = %series.public_id,
                "a replaced remember-me token was presented again (a copied cookie?); \
                 ending every session of its user"
            );
            let how = crate::observe::Revocation::RememberReplay;
            if let Err(error) = crate::observe::revoked(how, store.delete_user(&user, None).await) {
                tracing::error!(%error, "session store failed to end the sessions of a replayed remember-me token");
                return Err(LoadFailed);
            }
            self.drop_remember_cookie();
            return Ok(None);
        }
        let restored = self
            .restore_login(remember, &series_key, &series, &cookie)
            .await?;
        if restored.is_none() {
            self.drop_remember_cookie();
        }
        Ok(restored)
    }

    /// The login a live token restores: the credential check on the series, the app's
    /// identity fields, a new session, then the token replaced.
    async fn restore_login(
        &self,
        remember: &Remember,
        series_key: &SessionKey,
        series: &Record,
        cookie: &RememberCookie,
    ) -> Result<Option<(Token, SessionKey, Box<Record>)>, LoadFailed> {
        let user = series.user_id.as_deref().unwrap_or_default();
        // A password change since the device was remembered ends the series here.
        if !self.credentials_still_valid(series_key, series).await? {
            return Ok(None);
        }
        let mut data = match remember.restore.identity(user).await {
            Ok(Some(data)) => data,
            Ok(None) => {
                tracing::info!(series = %series.public_id, "ending a remember-me series whose user is gone");
                self.delete_record(series_key).await.map_err(|error| {
                    tracing::error!(%error, "session store failed to end a remember-me series");
                    LoadFailed
                })?;
                return Ok(None);
            }
            Err(error) => {
                tracing::error!(%error, "the remember-me identity loader failed; answering 503");
                return Err(LoadFailed);
            }
        };
        // The fingerprint the check just accepted is the user's current one.
        if let Some(check) = &self.shared.auth
            && let Some(value) = series.data.get(check.field())
        {
            data.entry(check.field().to_owned())
                .or_insert_with(|| value.clone());
        }
        let device = self.state().device_label();
        let mut record = self.new_record(Some(user.to_owned()), data, device);
        // A restored login proves no password: `RequireRecentLogin` refuses it.
        record.authenticated_at = None;
        let (token, key) = self.create_record(&mut record).await.map_err(|error| {
            tracing::error!(%error, "session store failed to create a restored session");
            LoadFailed
        })?;
        match self
            .replace_token(remember, series_key, series, cookie)
            .await
        {
            Ok(true) => {}
            outcome => {
                // The series ended meanwhile, or could not be written: no login.
                if let Err(error) = self.delete_record(&key).await {
                    tracing::error!(%error, "could not remove the session of a failed restore");
                }
                return match outcome {
                    Err(error) => {
                        tracing::error!(%error, "session store failed to replace a remember-me token");
                        Err(LoadFailed)
                    }
                    Ok(_) => Ok(None),
                };
            }
        }
        if let Some(max) = self.shared.config.max_sessions_per_user {
            self.enforce_session_cap(user, &record.public_id, max).await;
        }
        self.state().remember_series = Some(*series_key);
        tracing::info!(series = %series.public_id, "logged a remembered device in again");
        crate::observe::login(crate::observe::Login::Remembered);
        Ok(Some((token, key, Box::new(record))))
    }

    /// Replaces the presented token with a new one, and sends it. `false` if the series
    /// is gone.
    async fn replace_token(
        &self,
        remember: &Remember,
        series_key: &SessionKey,
        series: &Record,
        cookie: &RememberCookie,
    ) -> Result<bool, StoreError> {
        let next = Token::generate()?;
        let now = unix_secs(self.now).to_string();
        let mut update = Update {
            last_seen: Some(self.now),
            ..Update::default()
        };
        // Live tokens a concurrent replacement left to a browser that kept the other
        // cookie: done with once the grace period has passed.
        for (name, json) in &series.data {
            let old = field_time(json).is_none_or(|at| at + BRANCH_GRACE <= self.now);
            if name.starts_with(LIVE) && old {
                update.remove_field(name);
            }
        }
        update.remove_field(&live_field(&cookie.token));
        update.set_field(&live_field(&next), now);
        if !self.shared.store.update(series_key, &update).await? {
            return Ok(false);
        }
        let max_age = self.max_age(series.absolute_expires_at);
        let sent = remember.set_cookie(
            &RememberCookie {
                series: cookie.series.clone(),
                token: next,
            },
            max_age,
        );
        self.state().remember_cookie = Some(sent);
        Ok(true)
    }
}
