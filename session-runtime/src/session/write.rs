//! The store writes that more than one path makes: creating a record under a new token
//! (a guest's first save, a login) and moving a record to a new token (rotation, whether a
//! handler asks or a privilege change does).

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
            update.expires_at = Some(self.expiry(b.record.absolute_expires_at));
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
        let moved = self.shared.store.rotate(old, &key, update).await?;
        Ok(moved.then_some((token, key)))
    }
}
