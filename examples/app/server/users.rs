//! The demo users, with argon2 password hashes computed at start.

use std::fmt;
use std::sync::RwLock;

use super::passwords::{Passwords, hash, hash_with_salt};

/// A user account, without its password hash.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub is_staff: bool,
    pub is_superuser: bool,
}

/// Its `Debug` hides the password hash.
struct Account {
    user: User,
    password_hash: String,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("user", &self.user)
            .field("password_hash", &format_args!("<redacted>"))
            .finish()
    }
}

/// The user directory. Passwords can change while the app runs. Its `Debug` shows the
/// accounts without their password hashes.
pub struct Users {
    accounts: RwLock<Vec<Account>>,
    /// Verified against for unknown usernames, so a miss costs as much as a wrong password.
    decoy_hash: String,
    /// Where the hashes are computed: off the async workers, a bounded number at once.
    passwords: Passwords,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let accounts = self.accounts.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Users")
            .field("accounts", &*accounts)
            .field("decoy_hash", &format_args!("<redacted>"))
            .finish()
    }
}

/// Why a password change was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum PasswordError {
    /// The current password is wrong.
    WrongPassword,
    /// The new password is too short.
    TooShort,
    /// Hashing failed.
    Hashing,
}

/// The shortest password accepted by a password change.
pub const MIN_PASSWORD_LEN: usize = 8;

/// The demo accounts' hashes use a salt derived from the user name, so they (and the session
/// fingerprints derived from them) are the same at every start: sessions in a persistent
/// store survive a restart of the app. Real accounts get random salts, as `hash` gives.
fn demo_hash(username: &str, password: &str) -> Result<String, argon2::password_hash::Error> {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("typed-sessions demo salt:{username}"));
    hash_with_salt(password, &digest[..16])
}

impl Users {
    /// `alice`/`alice-pass` (user), `sam`/`sam-pass` (staff), `root`/`root-pass` (superuser).
    pub fn demo() -> Result<Self, argon2::password_hash::Error> {
        let account = |id, name: &str, pass: &str, is_staff, is_superuser| {
            Ok::<_, argon2::password_hash::Error>(Account {
                user: User {
                    id,
                    username: name.to_owned(),
                    is_staff,
                    is_superuser,
                },
                password_hash: demo_hash(name, pass)?,
            })
        };
        Ok(Self {
            accounts: RwLock::new(vec![
                account(1, "alice", "alice-pass", false, false)?,
                account(2, "sam", "sam-pass", true, false)?,
                account(3, "root", "root-pass", true, true)?,
            ]),
            decoy_hash: hash("decoy password that matches nothing")?,
            passwords: Passwords::default(),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Account>> {
        self.accounts
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The user with this name and password. Unknown names cost a hash check too, run off
    /// the async workers as every hash is.
    pub async fn authenticate(&self, username: &str, password: &str) -> Option<User> {
        let (user, stored) = {
            let accounts = self.read();
            match accounts.iter().find(|a| a.user.username == username) {
                Some(a) => (Some(a.user.clone()), a.password_hash.clone()),
                None => (None, self.decoy_hash.clone()),
            }
        };
        let ok = self.passwords.verify(password, &stored).await;
        user.filter(|_| ok)
    }

    /// The user with this id, if there is one.
    pub fn by_id(&self, id: i64) -> Option<User> {
        self.read()
            .iter()
            .find(|a| a.user.id == id)
            .map(|a| a.user.clone())
    }

    /// A fingerprint of the user's current password hash (SHA-256, hex), or `None` if there
    /// is no such user. Sessions store it at login; it changes with the password.
    pub fn fingerprint(&self, id: i64) -> Option<String> {
        use sha2::Digest as _;
        let accounts = self.read();
        let account = accounts.iter().find(|a| a.user.id == id)?;
        let digest = sha2::Sha256::digest(account.password_hash.as_bytes());
        Some(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Changes a user's password after checking the current one (both hashes off the async
    /// workers).
    pub async fn change_password(
        &self,
        id: i64,
        old: &str,
        new: &str,
    ) -> Result<(), PasswordError> {
        let stored = self
            .read()
            .iter()
            .find(|a| a.user.id == id)
            .map(|a| a.password_hash.clone())
            .ok_or(PasswordError::WrongPassword)?;
        if !self.passwords.verify(old, &stored).await {
            return Err(PasswordError::WrongPassword);
        }
        if new.chars().count() < MIN_PASSWORD_LEN {
            return Err(PasswordError::TooShort);
        }
        let new_hash = self
            .passwords
            .hash(new)
            .await
            .map_err(|_| PasswordError::Hashing)?;
        let mut accounts = self
            .accounts
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(account) = accounts.iter_mut().find(|a| a.user.id == id) {
            account.password_hash = new_hash;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fingerprints_survive_a_restart_and_change_with_the_password() {
        let (first, second) = (Users::demo().unwrap(), Users::demo().unwrap());
        assert_eq!(first.fingerprint(1), second.fingerprint(1));
        assert_ne!(first.fingerprint(1), first.fingerprint(2));
        first
            .change_password(1, "alice-pass", "a-new-password")
            .await
            .unwrap();
        assert_ne!(first.fingerprint(1), second.fingerprint(1));
        assert!(first.fingerprint(99).is_none());
    }
}
