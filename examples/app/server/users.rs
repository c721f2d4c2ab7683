//! The demo users, with argon2 password hashes computed at start.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// A user account.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub is_staff: bool,
    pub is_superuser: bool,
    password_hash: String,
}

/// The user directory.
#[derive(Debug)]
pub struct Users {
    users: Vec<User>,
    /// Verified against for unknown usernames, so a miss costs as much as a wrong password.
    decoy_hash: String,
}

fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut bytes = [0u8; 16];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    let salt = SaltString::encode_b64(&bytes)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

impl Users {
    /// `alice`/`alice-pass` (user), `sam`/`sam-pass` (staff), `root`/`root-pass` (superuser).
    pub fn demo() -> Result<Self, argon2::password_hash::Error> {
        let user = |id,
                    name: &str,
                    pass: &str,
                    is_staff,
                    is_superuser|
         -> Result<User, argon2::password_hash::Error> {
            Ok(User {
                id,
                username: name.to_owned(),
                is_staff,
                is_superuser,
                password_hash: hash(pass)?,
            })
        };
        Ok(Self {
            users: vec![
                user(1, "alice", "alice-pass", false, false)?,
                user(2, "sam", "sam-pass", true, false)?,
                user(3, "root", "root-pass", true, true)?,
            ],
            decoy_hash: hash("decoy password that matches nothing")?,
        })
    }

    /// The user with this name and password, checked in constant time per hash.
    pub fn authenticate(&self, username: &str, password: &str) -> Option<&User> {
        let user = self.users.iter().find(|u| u.username == username);
        let stored = user.map_or(self.decoy_hash.as_str(), |u| u.password_hash.as_str());
        let parsed = PasswordHash::new(stored).ok()?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        if ok { user } else { None }
    }
}
