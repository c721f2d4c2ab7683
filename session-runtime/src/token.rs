//! Session tokens, their at-rest hashes, and public session ids.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore as _;
use rand::rngs::OsRng;
use sha2::{Digest as _, Sha256};

use crate::store::StoreError;

/// Length of an encoded token: 32 bytes in base64url without padding.
pub(crate) const TOKEN_LEN: usize = 43;

/// The secret a client holds in its cookie: 256 bits from the OS CSPRNG.
///
/// It is never stored (stores see only its [`SessionKey`]) and never printed: its
/// `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token([u8; 32]);

impl Token {
    /// Draws a new token from the operating system's CSPRNG.
    pub(crate) fn generate() -> Result<Self, StoreError> {
        let mut bytes = [0u8; 32];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| StoreError::Rng(e.to_string()))?;
        Ok(Self(bytes))
    }

    /// Parses a cookie value; anything but 43 base64url characters in canonical form (the
    /// unused low bits of the last character zero) is refused.
    pub(crate) fn parse(value: &str) -> Option<Self> {
        if value.len() != TOKEN_LEN {
            return None;
        }
        let mut bytes = [0u8; 32];
        match URL_SAFE_NO_PAD.decode_slice(value.as_bytes(), &mut bytes) {
            Ok(32) => Some(Self(bytes)),
            _ => None,
        }
    }

    /// The cookie value.
    pub(crate) fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// The SHA-256 of the token, under which stores keep the record.
    pub(crate) fn key(&self) -> SessionKey {
        SessionKey(Sha256::digest(self.0).into())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The at-rest identifier of a session: the SHA-256 of its secret token.
///
/// A leaked store (a backup, a `SELECT *`, a Redis `KEYS`) does not reveal usable tokens.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey([u8; 32]);

impl SessionKey {
    /// The 32 hash bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Builds a key from 32 hash bytes, as read back from a store.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Lower-case hex, for stores that key by text.
    #[must_use]
    pub fn to_hex(&self) -> String {
        use fmt::Write as _;
        let mut s = String::with_capacity(64);
        for b in self.0 {
            let _ = write!(s, "{b:02x}");
        }
        s
    }
}

impl fmt::Debug for SessionKey {
    // The hash is not a secret, but a short prefix is all a log reader needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionKey({}…)", &self.to_hex()[..8])
    }
}

/// `N` bytes from the OS CSPRNG, as base64url without padding.
pub(crate) fn random_text<const N: usize>() -> Result<String, StoreError> {
    let mut bytes = [0u8; N];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| StoreError::Rng(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A session's public id: random, unrelated to its token, safe to show and to put in URLs.
///
/// Used to list and revoke sessions; knowing it gives no access to the session.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PublicId(String);

impl PublicId {
    /// Draws a new 128-bit public id from the thread's CSPRNG (ChaCha, seeded from the OS).
    ///
    /// A public id is no secret (it gives no access), so it spares every login a second
    /// system call; the token, which is the secret, comes from the OS generator itself.
    pub(crate) fn generate() -> Result<Self, StoreError> {
        let mut bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Wraps a public id read back from a store or a URL.
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_43_url_safe_chars_and_round_trips() {
        let t = Token::generate().unwrap();
        let s = t.encode();
        assert_eq!(s.len(), TOKEN_LEN);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(Token::parse(&s), Some(t));
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(Token::generate().unwrap(), Token::generate().unwrap());
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = Token::generate().unwrap().encode();
        assert!(Token::parse("").is_none());
        assert!(Token::parse(&good[..42]).is_none());
        assert!(Token::parse(&format!("{good}A")).is_none());
        assert!(Token::parse(&format!("{}+", &good[..42])).is_none());
        assert!(Token::parse(&"=".repeat(43)).is_none());
    }

    #[test]
    fn only_canonical_tokens_parse() {
        let good = Token::generate().unwrap().encode();
        // The last character carries two unused bits: only the form with them zero parses.
        let canonical = good[..42].to_owned() + "A";
        let loose = good[..42].to_owned() + "B";
        assert!(Token::parse(&canonical).is_some());
        assert!(Token::parse(&loose).is_none());
        for _ in 0..200 {
            let t = Token::generate().unwrap();
            assert_eq!(Token::parse(&t.encode()), Some(t));
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let t = Token::generate().unwrap();
        let shown = format!("{t:?}");
        assert!(!shown.contains(&t.encode()));
    }

    #[test]
    fn key_is_sha256_of_raw_bytes() {
        let t = Token([0u8; 32]);
        assert_eq!(
            t.key().to_hex(),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
    }
}
