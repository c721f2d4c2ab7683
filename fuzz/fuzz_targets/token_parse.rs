//! Token and public-id parsing: `Token::parse` (a cookie's value, any bytes),
//! `PublicId::parse` (an id from a URL or a form) and a `PublicId` read from JSON.
//!
//! Checks: a token parses exactly when the `base64` crate decodes the 43 bytes to 32 in
//! canonical form, and a parsed token re-encodes to the very input; the same for public ids
//! (22 characters, 16 bytes); any text wraps and reads back as itself; a public id read
//! from JSON is that JSON string, and writes back to JSON and reads to an equal id.

#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use session_runtime::{__fuzz, PublicId};

fuzz_target!(|data: &[u8]| {
    let mut bytes = [0u8; 32];
    let canonical =
        data.len() == 43 && matches!(URL_SAFE_NO_PAD.decode_slice(data, &mut bytes), Ok(32));
    let token = __fuzz::parse_token(data);
    assert_eq!(token.is_some(), canonical);
    if let Some(token) = token {
        assert_eq!(token, data);
        assert_eq!(URL_SAFE_NO_PAD.encode(bytes).as_bytes(), data);
    }

    if let Ok(text) = std::str::from_utf8(data) {
        let mut bytes = [0u8; 16];
        let canonical =
            text.len() == 22 && matches!(URL_SAFE_NO_PAD.decode_slice(text, &mut bytes), Ok(16));
        let id = PublicId::parse(text);
        assert_eq!(id.is_some(), canonical);
        if let Some(id) = id {
            assert_eq!(id.as_str(), text);
            assert_eq!(URL_SAFE_NO_PAD.encode(bytes), text);
        }
        assert_eq!(PublicId::new(text).as_str(), text);
        assert_eq!(PublicId::new(text.to_owned()), PublicId::new(text));
    }

    if let Ok(id) = serde_json::from_slice::<PublicId>(data) {
        let text: String = serde_json::from_slice(data).expect("the same JSON string");
        assert_eq!(id.as_str(), text);
        let json = serde_json::to_string(&id).expect("an id writes to JSON");
        let back: PublicId = serde_json::from_str(&json).expect("and reads back");
        assert_eq!(back, id);
    }
});
