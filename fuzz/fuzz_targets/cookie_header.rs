//! The `Cookie` header readers: the session cookie (`read_session_cookie`, the `nth`
//! well-formed token among every `Cookie` header) and the visitor's CSRF cookie.
//!
//! Input: one byte choosing the cookie name, then the `Cookie` headers, one per line.
//! Checks: a token read is 43 characters of base64url (never `;` or whitespace), parses as
//! a token to itself, and is there in the raw headers; whether the cookie was present does
//! not depend on `nth`, and is false if the name is nowhere in the headers; tokens come
//! first, then none (no token after the candidates run out).

#![no_main]

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use session_runtime::__fuzz;

const NAMES: [&str; 4] = ["session", "__Host-session", "id", "csrf"];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn is_token_text(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(selector) % NAMES.len()];
    let mut headers = HeaderMap::new();
    for line in rest.split(|&b| b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(COOKIE, value);
        }
    }

    // Up to the candidates the load path tries, and one past the first miss, which must
    // miss too.
    let mut first_present = None;
    let mut ran_out = false;
    for nth in 0..=__fuzz::MAX_CANDIDATES + 1 {
        let (token, present) = __fuzz::read_session_cookie(&headers, name, nth);
        assert_eq!(*first_present.get_or_insert(present), present, "nth {nth}");
        match token {
            Some(token) => {
                assert!(!ran_out, "a token after none");
                assert!(present);
                assert!(!token.contains(';') && !token.chars().any(char::is_whitespace));
                assert!(is_token_text(&token), "{token:?}");
                assert_eq!(
                    __fuzz::parse_token(token.as_bytes()).as_deref(),
                    Some(token.as_bytes())
                );
                assert!(contains(rest, token.as_bytes()));
            }
            None if ran_out => break,
            None => ran_out = true,
        }
    }
    if !contains(rest, name.as_bytes()) {
        assert_eq!(first_present, Some(false));
    }

    for secure in [true, false] {
        let (token, present) = __fuzz::read_visitor_cookie(&headers, secure);
        if let Some(token) = token {
            assert!(present);
            assert!(is_token_text(&token), "{token:?}");
            assert!(contains(rest, token.as_bytes()));
        }
        let name = if secure { "__Host-csrf" } else { "csrf" };
        if !contains(rest, name.as_bytes()) {
            assert!(!present);
        }
    }
});
