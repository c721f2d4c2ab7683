//! Session tokens, their at-rest hashes, and public session ids.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore as _;
use rand::rngs::OsRng;
use sha2::{Digest as _, Sha256};

/// Length of an encoded token: 32 bytes in base64url without padding.
pub(crate) const TOKEN_LEN: usize = 43;

/// The secret a client holds in its cookie: 256 bits from the OS CSPRNG, kept as the text
/// the cookie carries (43 characters of base64url without padding).
///
/// It is never stored (stores see only its [`SessionKey`], the SHA-256 of this text) and
/// never printed: its `Debug` output is redacted. Kept as text, a request's token is
/// checked and hashed as it arrives, with no decoding.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token([u8; TOKEN_LEN]);

impl Token {
    /// Draws a new token from the operating system's CSPRNG.
    pub(crate) fn generate() -> Result<Self, RngFailed> {
        let mut bytes = [0u8; 32];
        os_random(&mut bytes)?;
        let mut text = [0u8; TOKEN_LEN];
        // 32 bytes always encode to exactly 43 characters.
        let written = URL_SAFE_NO_PAD
            .encode_slice(bytes, &mut text)
            .map_err(|e| RngFailed(e.to_string()))?;
        debug_assert_eq!(written, TOKEN_LEN);
        Ok(Self(text))
    }

    /// Parses a cookie value: 43 characters of base64url that decode to 32 bytes in
    /// canonical form (the unused low bits of the last character zero, which the `base64`
    /// crate's engine checks); anything else is refused. Any bytes may come in (a header
    /// value need not be text).
    pub(crate) fn parse(value: impl AsRef<[u8]>) -> Option<Self> {
        let text: [u8; TOKEN_LEN] = value.as_ref().try_into().ok()?;
        let mut bytes = [0u8; 32];
        match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
            Ok(32) => Some(Self(text)),
            _ => None,
        }
    }

    /// The cookie value, as bytes (base64url: ASCII).
    pub(crate) fn as_bytes(&self) -> &[u8; TOKEN_LEN] {
        &self.0
    }

    /// The cookie value, as text.
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The cookie value.
    #[cfg(test)]
    pub(crate) fn encode(&self) -> String {
        String::from_utf8(self.0.to_vec()).expect("base64url is ASCII")
    }

    /// The SHA-256 of the token's text, under which stores keep the record.
    pub(crate) fn key(&self) -> SessionKey {
        SessionKey(Sha256::digest(self.0).into())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The at-rest identifier of a session: the SHA-256 of its secret token (of the token's
/// text, as the cookie carries it).
///
/// A leaked store (a backup, a `SELECT *`, a Redis `KEYS`) does not reveal usable tokens.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey([u8; 32]);

impl SessionKey {
    /// The 32 hash bytes, for a store that keys records by bytes (a `BYTEA` or `BLOB`
    /// column).
    ///
    /// ```
    /// use session_runtime::SessionKey;
    ///
    /// let key = SessionKey::from_bytes([7; 32]);
    /// let column: Vec<u8> = key.as_bytes().to_vec(); // what the store writes
    /// assert_eq!(column.len(), 32);
    /// ```
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Builds a key from 32 hash bytes, as read back from a store.
    ///
    /// ```
    /// use session_runtime::SessionKey;
    ///
    /// let column: &[u8] = &[7; 32]; // as read from the store
    /// let bytes: [u8; 32] = column.try_into().expect("a session key is 32 bytes");
    /// let key = SessionKey::from_bytes(bytes);
    /// assert_eq!(key.as_bytes(), &[7; 32]);
    /// ```
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Lower-case hex, for stores that key by text.
    ///
    /// ```
    /// use session_runtime::SessionKey;
    ///
    /// let key = SessionKey::from_bytes([0xab; 32]);
    /// let redis_key = format!("myapp:session:{}", key.to_hex());
    /// assert_eq!(redis_key.len(), "myapp:session:".len() + 64);
    /// assert!(key.to_hex().starts_with("abab"));
    /// ```
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
pub(crate) fn random_text<const N: usize>() -> Result<String, RngFailed> {
    let mut bytes = [0u8; N];
    os_random(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The operating system's random number generator failed (what it said). The runtime
/// reports it as [`StoreError::Rng`](crate::StoreError::Rng): no session can be made
/// without it.
#[derive(Debug)]
pub(crate) struct RngFailed(pub(crate) String);

/// Fills `bytes` from the OS CSPRNG.
fn os_random(bytes: &mut [u8]) -> Result<(), RngFailed> {
    OsRng
        .try_fill_bytes(bytes)
        .map_err(|e| RngFailed(e.to_string()))
}

/// The longest text kept inline in a [`PublicId`]: a generated id, 16 random bytes as
/// base64url without padding.
const INLINE_CAP: usize = 22;

/// A session's public id: random, unrelated to its token, safe to show and to put in URLs.
///
/// Used to list and revoke sessions; knowing it gives no access to the session.
///
/// Ids the library generates (22 characters) are kept inline, without a heap allocation;
/// longer ids (from a URL or a store, which can hold anything) share one allocation, so
/// cloning is always cheap. Comparison, ordering and hashing are those of the text.
#[derive(Clone)]
pub struct PublicId(Repr);

/// How a [`PublicId`] holds its text. Every text has exactly one representation: inline
/// if and only if it is at most [`INLINE_CAP`] bytes long.
#[derive(Clone)]
enum Repr {
    /// Text of at most [`INLINE_CAP`] bytes: the first `len` bytes of `buf`, always copied
    /// from a valid `&str` (or written by the base64url encoder, which writes ASCII).
    Inline {
        /// Number of bytes of `buf` in use.
        len: u8,
        /// The text, then zeros.
        buf: [u8; INLINE_CAP],
    },
    /// Text longer than [`INLINE_CAP`] bytes.
    Shared(Arc<str>),
}

impl PublicId {
    /// Draws a new 128-bit public id from the thread's CSPRNG (ChaCha, seeded from the OS).
    ///
    /// A public id is no secret (it gives no access), so it spares every login a second
    /// system call; the token, which is the secret, comes from the OS generator itself.
    pub(crate) fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        let mut buf = [0u8; INLINE_CAP];
        // 16 bytes always encode to exactly 22 characters.
        match URL_SAFE_NO_PAD.encode_slice(bytes, &mut buf) {
            Ok(INLINE_CAP) => Self(Repr::Inline {
                len: INLINE_CAP as u8,
                buf,
            }),
            _ => Self::new(URL_SAFE_NO_PAD.encode(bytes)),
        }
    }

    /// Parses a public id that came from outside (a URL, a form): `Some` only for the shape
    /// this library gives its ids, 22 characters of base64url (16 bytes, canonical form).
    /// Anything else can name no session, so it need not reach the store.
    ///
    /// ```
    /// use session_runtime::PublicId;
    ///
    /// let id = PublicId::parse("AAAAAAAAAAAAAAAAAAAAAA").expect("well formed");
    /// assert_eq!(id.as_str(), "AAAAAAAAAAAAAAAAAAAAAA");
    /// assert!(PublicId::parse("not-an-id").is_none());
    /// assert!(PublicId::parse("AAAAAAAAAAAAAAAAAAAA\0A").is_none());
    /// ```
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::is_well_formed(text).then(|| Self::from_text(text))
    }

    /// Whether `text` has the shape of the ids this library makes (see [`parse`](Self::parse)).
    fn is_well_formed(text: &str) -> bool {
        let mut bytes = [0u8; 16];
        text.len() == INLINE_CAP && matches!(URL_SAFE_NO_PAD.decode_slice(text, &mut bytes), Ok(16))
    }

    /// Whether this id has the shape of the ids this library makes: one that does not can
    /// name no session.
    pub(crate) fn can_name_a_session(&self) -> bool {
        Self::is_well_formed(self.as_str())
    }

    /// Wraps a public id read back from a store, as it is. For an id from a URL or a form,
    /// prefer [`parse`](Self::parse), which refuses what cannot be an id.
    ///
    /// ```
    /// use session_runtime::PublicId;
    ///
    /// let id = PublicId::new("any text a store holds");
    /// assert_eq!(id.to_string(), "any text a store holds");
    /// ```
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        let id = id.into();
        if id.len() <= INLINE_CAP {
            Self::from_text(&id)
        } else {
            Self(Repr::Shared(Arc::from(id)))
        }
    }

    /// Wraps a borrowed text, copying it inline when it fits (no allocation then).
    fn from_text(text: &str) -> Self {
        match u8::try_from(text.len()) {
            Ok(len) if text.len() <= INLINE_CAP => {
                let mut buf = [0u8; INLINE_CAP];
                buf[..text.len()].copy_from_slice(text.as_bytes());
                Self(Repr::Inline { len, buf })
            }
            _ => Self(Repr::Shared(Arc::from(text))),
        }
    }

    /// The id as text (base64url for the ids the library makes: safe in a URL as it is).
    ///
    /// ```
    /// use session_runtime::{PublicId, SessionSummary};
    ///
    /// fn revoke_url(session: &SessionSummary) -> String {
    ///     format!("/sessions/{}", session.id.as_str())
    /// }
    ///
    /// assert_eq!(PublicId::new("Qh3v").as_str(), "Qh3v");
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // The prefix is always valid UTF-8 (see `Repr::Inline`): the fallback is never
            // taken, it only spares a panic path.
            Repr::Inline { len, buf } => buf
                .get(..usize::from(*len))
                .and_then(|bytes| std::str::from_utf8(bytes).ok())
                .unwrap_or_default(),
            Repr::Shared(text) => text,
        }
    }
}

impl PartialEq for PublicId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for PublicId {}

impl PartialOrd for PublicId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PublicId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for PublicId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicId({})", self.as_str())
    }
}

impl serde::Serialize for PublicId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for PublicId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_string(PublicIdVisitor)
    }
}

/// Reads a [`PublicId`] from a plain string, as `String` would (UTF-8 bytes included).
struct PublicIdVisitor;

impl serde::de::Visitor<'_> for PublicIdVisitor {
    type Value = PublicId;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PublicId, E> {
        Ok(PublicId::from_text(v))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<PublicId, E> {
        Ok(PublicId::new(v))
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<PublicId, E> {
        match std::str::from_utf8(v) {
            Ok(text) => Ok(PublicId::from_text(text)),
            Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(v), &self)),
        }
    }

    fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<PublicId, E> {
        match String::from_utf8(v) {
            Ok(text) => Ok(PublicId::new(text)),
            Err(e) => Err(E::invalid_value(
                serde::de::Unexpected::Bytes(e.as_bytes()),
                &self,
            )),
        }
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
        assert!(Token::parse(format!("{good}A")).is_none());
        assert!(Token::parse(format!("{}+", &good[..42])).is_none());
        assert!(Token::parse("=".repeat(43)).is_none());
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
            assert_eq!(Token::parse(t.encode()), Some(t));
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let t = Token::generate().unwrap();
        let shown = format!("{t:?}");
        assert!(!shown.contains(&t.encode()));
    }

    #[test]
    fn key_is_sha256_of_the_token_text() {
        let t = Token::parse("A".repeat(43)).unwrap();
        // `printf 'AAA…A' (43 times) | sha256sum`
        assert_eq!(
            t.key().to_hex(),
            "0f007385b6f9d4b7eeb2748605afe1a984a0a3bfa3f014d09e2a784ce9e5cd1a"
        );
        for _ in 0..1_000 {
            let t = Token::generate().unwrap();
            assert_eq!(
                t.key().as_bytes(),
                &<[u8; 32]>::from(Sha256::digest(t.encode().as_bytes()))
            );
        }
    }

    #[test]
    fn parse_accepts_exactly_what_the_base64_crate_decodes_canonically() {
        use rand::{Rng as _, SeedableRng as _};
        let mut rng = rand::rngs::StdRng::seed_from_u64(43);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. ";
        let good = Token::generate().unwrap().encode();
        for round in 0..20_000 {
            let mut text = good.clone().into_bytes();
            if round % 2 == 0 {
                // One or two characters changed: mostly still in the alphabet.
                for _ in 0..rng.random_range(1..3) {
                    let at = rng.random_range(0..text.len());
                    text[at] = alphabet[rng.random_range(0..alphabet.len())];
                }
            } else {
                // The last character, which carries unused bits.
                text[42] = alphabet[rng.random_range(0..alphabet.len())];
            }
            let text = String::from_utf8(text).unwrap();
            let mut bytes = [0u8; 32];
            let reference = matches!(
                URL_SAFE_NO_PAD.decode_slice(text.as_bytes(), &mut bytes),
                Ok(32)
            );
            assert_eq!(Token::parse(&text).is_some(), reference, "{text:?}");
        }
    }

    /// Hashes a value with the standard hasher under fixed keys, to compare hashes of ids
    /// and of texts.
    fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        value.hash(&mut hasher);
        hasher.finish()
    }

    /// Whether an id is held inline (no heap allocation).
    fn is_inline(id: &PublicId) -> bool {
        matches!(id.0, Repr::Inline { .. })
    }

    /// Texts around the inline limit: short, exactly 22 bytes, longer, and multibyte text
    /// whose byte length falls just under, on and over the limit.
    fn boundary_texts() -> Vec<String> {
        vec![
            String::new(),
            "p".to_owned(),
            "abc".to_owned(),
            "a".repeat(21),
            "a".repeat(22),
            "a".repeat(23),
            "b".repeat(22),
            "a".repeat(100),
            format!("{}é", "a".repeat(20)),  // 22 bytes
            format!("{}é", "a".repeat(21)),  // 23 bytes
            format!("{}€", "a".repeat(19)),  // 22 bytes
            format!("{}€", "a".repeat(20)),  // 23 bytes
            "日本語のセッション".to_owned(), // 27 bytes
            "ü".repeat(11),                  // 22 bytes
            "ü".repeat(12),                  // 24 bytes
        ]
    }

    #[test]
    fn public_id_generated_is_22_url_safe_chars_inline_and_round_trips() {
        for _ in 0..200 {
            let id = PublicId::generate();
            let s = id.as_str();
            assert_eq!(s.len(), 22);
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert!(is_inline(&id));
            assert_eq!(PublicId::new(s), id);
            assert_eq!(PublicId::new(s.to_owned()).as_str(), s);
            assert_eq!(id.to_string(), s);
            assert_eq!(id.clone(), id);
        }
        assert_ne!(PublicId::generate(), PublicId::generate());
    }

    #[test]
    fn public_id_representation_depends_only_on_length() {
        for text in boundary_texts() {
            let id = PublicId::new(text.as_str());
            assert_eq!(id.as_str(), text);
            assert_eq!(is_inline(&id), text.len() <= 22, "{text:?}");
            assert_eq!(is_inline(&PublicId::from_text(&text)), text.len() <= 22);
            assert_eq!(PublicId::from_text(&text).as_str(), text);
            let clone = id.clone();
            assert_eq!(clone.as_str(), text);
            assert_eq!(is_inline(&clone), is_inline(&id));
        }
    }

    #[test]
    fn public_id_eq_ord_and_hash_agree_with_the_text() {
        let texts = boundary_texts();
        for a in &texts {
            let ia = PublicId::new(a.as_str());
            assert_eq!(hash_of(&ia), hash_of(a.as_str()), "{a:?}");
            assert_eq!(hash_of(&ia), hash_of(a), "{a:?}");
            for b in &texts {
                let ib = PublicId::new(b.clone());
                assert_eq!(ia == ib, a == b, "{a:?} == {b:?}");
                assert_eq!(ia.cmp(&ib), a.cmp(b), "{a:?} cmp {b:?}");
                assert_eq!(ia.partial_cmp(&ib), a.partial_cmp(b), "{a:?} cmp {b:?}");
                if a == b {
                    assert_eq!(hash_of(&ia), hash_of(&ib));
                }
            }
        }
        // Sorting ids sorts their texts, whatever mix of representations.
        let mut ids: Vec<PublicId> = texts.iter().map(|t| PublicId::new(t.as_str())).collect();
        let mut sorted = texts.clone();
        ids.sort();
        sorted.sort();
        let ids: Vec<&str> = ids.iter().map(PublicId::as_str).collect();
        assert_eq!(ids, sorted);
        // Ids work as set members keyed by text.
        let set: std::collections::HashSet<PublicId> =
            texts.iter().map(|t| PublicId::new(t.as_str())).collect();
        assert_eq!(set.len(), texts.len());
        assert!(set.contains(&PublicId::new("a".repeat(22))));
        assert!(set.contains(&PublicId::new("a".repeat(23))));
    }

    #[test]
    fn public_id_serde_is_a_plain_string() {
        let generated = PublicId::generate();
        for id in [
            PublicId::new("p"),
            generated,
            PublicId::new("a".repeat(22)),
            PublicId::new("a".repeat(23)),
            PublicId::new(format!("{}é", "a".repeat(21))),
            PublicId::new("x".repeat(200)),
        ] {
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, serde_json::to_string(id.as_str()).unwrap());
            let back: PublicId = serde_json::from_str(&json).unwrap();
            assert_eq!(back, id);
            assert_eq!(is_inline(&back), id.as_str().len() <= 22);
            // Through an owned `String` too (`Value` hands its string over by value).
            let value = serde_json::to_value(&id).unwrap();
            assert_eq!(value, serde_json::Value::String(id.as_str().to_owned()));
            let back: PublicId = serde_json::from_value(value).unwrap();
            assert_eq!(back, id);
        }
        let escaped: PublicId = serde_json::from_str(r#""a\"b""#).unwrap();
        assert_eq!(escaped.as_str(), "a\"b");
        assert!(serde_json::from_str::<PublicId>("42").is_err());
        assert!(serde_json::from_str::<PublicId>("null").is_err());
    }

    #[test]
    fn public_id_debug_and_display_show_the_text() {
        assert_eq!(format!("{:?}", PublicId::new("abc")), "PublicId(abc)");
        let long = "z".repeat(30);
        assert_eq!(
            format!("{:?}", PublicId::new(long.as_str())),
            format!("PublicId({long})")
        );
        assert_eq!(PublicId::new(long.as_str()).to_string(), long);
        let id = PublicId::generate();
        assert_eq!(format!("{id:?}"), format!("PublicId({})", id.as_str()));
        assert_eq!(format!("{id}"), id.as_str());
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn public_id_is_no_bigger_than_a_string() {
        assert!(std::mem::size_of::<PublicId>() <= std::mem::size_of::<String>());
    }
}
