//! The store writes that more than one path makes: creating a record under a new token
//! (a guest's first save, a login), moving a record to a new token (rotation, whether a
//! handler asks or a privilege change does) and deleting one (logout, a login's old
//! session, an emptied or stale session).
//!
//! A write that fails with an unknown outcome ([`StoreError::outcome_unknown`]: the backend
//! may have applied it and lost the reply) is read back before the runtime decides, so
//! that a lost reply neither loses a session nor leaves one behind: a record created under
//! the new key is there, or a deleted one is gone.

use super::state::{Context, State};
use crate::record::{Record, Update};
use crate::store::StoreError;
use crate::token::{PublicId, SessionKey, Token};

impl Context {
    /// Writes a new record under a new token, retrying on the (astronomically unlikely)
    /// collision of a token hash or public id; gives back the token and its key.
    pub(crate) async fn create_record(
        &self,
        record: &mut Record,
    ) -> Result<(Token, SessionKey), StoreError> {
        let mut attempts = 0;
        loop {
            let token = Token::generate()?;
            let key = token.key();
            let store = &self.shared.store;
            let created = match store.create_now(&key, record) {
                Some(created) => created,
                None => store.create(&key, record).await,
            };
            match created {
                Ok(()) => return Ok((token, key)),
                Err(StoreError::Conflict) if attempts < 3 => {
                    attempts += 1;
                    record.public_id = PublicId::generate();
                }
                Err(e) if self.done_despite(&e, &key, Done::Stored).await => {
                    return Ok((token, key));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Takes this request's pending changes out as the update that writes them: with
    /// `refresh`, rolling expiry moves too, and fields removed from the schema since the
    /// session was written (`evolution.rs`) are removed on the way. Give it back with
    /// [`State::saved`] or [`State::unsaved`].
    pub(crate) fn pending_update(&self, st: &mut State, refresh: bool) -> Update {
        let mut update = st.take_pending();
        for (name, _) in st.stored() {
            if st.schemas.is_stale(name) && !update.remove.iter().any(|n| n == name) {
                update.remove.push(name.to_owned());
            }
        }
        if refresh && let Some(b) = &st.bound {
            update.last_seen = Some(self.now);
            update.expires_at = Some(self.expiry_of(&b.record));
        }
        update
    }

    /// Moves the session to a new token, writing this request's changes on the way.
    ///
    /// If the session was deleted meanwhile (logout or revocation elsewhere), that wins: the
    /// request becomes anonymous and the cookie is removed.
    pub(crate) async fn rotate(&self) -> Result<(), StoreError> {
        let (old, update) = {
            let mut st = self.state();
            match &st.bound {
                // An API client could not learn a new token: its session keeps its own.
                _ if st.bearer => return Ok(()),
                Some(b) if !b.fresh => {
                    let old = b.key;
                    (old, self.pending_update(&mut st, true))
                }
                // No session yet, or one created in this request whose token was never sent.
                _ => return Ok(()),
            }
        };
        let moved = match self.move_to_new_token(&old, &update).await {
            Ok(moved) => moved,
            Err(error) => {
                self.state().unsaved(update);
                return Err(error);
            }
        };
        let mut st = self.state();
        if let Some((token, key)) = moved {
            st.saved(update);
            if let Some(b) = st.bound.as_mut() {
                b.token = token;
                b.key = key;
            }
            st.rotate_pending = false;
            st.cookie = super::state::CookieOut::Set;
            crate::observe::rotated();
        } else {
            st.end();
        }
        Ok(())
    }

    /// The store's rotation to a fresh token: the token and its key if the record moved,
    /// `None` if it was gone.
    async fn move_to_new_token(
        &self,
        old: &SessionKey,
        update: &Update,
    ) -> Result<Option<(Token, SessionKey)>, StoreError> {
        let token = Token::generate()?;
        let key = token.key();
        match self.shared.store.rotate(old, &key, update).await {
            Ok(moved) => Ok(moved.then_some((token, key))),
            // The store writes the new record first: if it is there, the move happened.
            Err(e) if self.done_despite(&e, &key, Done::Stored).await => Ok(Some((token, key))),
            Err(e) => Err(e),
        }
    }

    /// Deletes the record under `key`; done once it is gone, whether or not it existed.
    /// A failure with an unknown outcome is read back: a record that is gone was deleted.
    pub(crate) async fn delete_record(&self, key: &SessionKey) -> Result<(), StoreError> {
        let Err(error) = self.shared.store.delete(key).await else {
            return Ok(());
        };
        if self.done_despite(&error, key, Done::Gone).await {
            return Ok(());
        }
        Err(error)
    }

    /// Whether a write that failed with `error` was made all the same: only for an unknown
    /// outcome, by reading `key` back (`false` if that read fails too). A write found made
    /// is logged, as the store failed to confirm it.
    async fn done_despite(&self, error: &StoreError, key: &SessionKey, done: Done) -> bool {
        if !error.outcome_unknown() {
            return false;
        }
        let found = match self.shared.store.load(key, self.now).await {
            Ok(found) => found.is_some(),
            Err(_) => return false,
        };
        let made = found == matches!(done, Done::Stored);
        if made {
            confirmed_by_reading_back(error);
        }
        made
    }
}

/// What a write leaves under its key once made.
#[derive(Clone, Copy)]
enum Done {
    /// A record (created, or moved there).
    Stored,
    /// No record (deleted).
    Gone,
}

/// Logs a write the store made but failed to confirm.
pub(crate) fn confirmed_by_reading_back(error: &StoreError) {
    tracing::warn!(%error, "the session store made a write it failed to confirm; carrying on");
}
