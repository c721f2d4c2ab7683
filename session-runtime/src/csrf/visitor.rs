//! The CSRF token of a visitor who has no session: a double-submit cookie of its own, so
//! that rendering a form (a login page) writes nothing to the store.
//!
//! The cookie holds the token; the form carries it back in its `csrf_token` field; the check
//! compares the two. A cross-site page can make the browser send the cookie but can read
//! neither it nor the page, so it cannot fill in the field. The `__Host-` prefix (whenever
//! the cookie is `Secure`, as it is by default) keeps a sibling subdomain from planting a
//! cookie of that name. Once the visitor has a session, the session's own token takes over,
//! and the cookie is removed by the next form that renders.

use cookie::{Cookie, SameSite};
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};

use crate::token::{RngFailed, random_text};

/// Characters of a token: 32 random bytes in base64url without padding.
const TOKEN_LEN: usize = 43;

/// The visitor cookie's name: `__Host-csrf` when `secure`, else `csrf`.
pub(crate) fn cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-csrf" } else { "csrf" }
}

/// A new visitor token, and the `Set-Cookie` value that gives it to the browser.
pub(crate) fn issue(secure: bool) -> Result<(String, HeaderValue), RngFailed> {
    let token = random_text::<32>()?;
    let cookie = render(Cookie::build((cookie_name(secure), token.clone())), secure);
    Ok((token, cookie))
}

/// The `Set-Cookie` value that removes the visitor cookie.
pub(crate) fn removal(secure: bool) -> HeaderValue {
    render(Cookie::build((cookie_name(secure), "")).removal(), secure)
}

/// The visitor's token from the request's cookies: the first well-formed one (43
/// characters of base64url), and whether any cookie of that name came at all.
pub(crate) fn read(headers: &HeaderMap, secure: bool) -> (Option<String>, bool) {
    let name = cookie_name(secure);
    let mut present = false;
    for header in headers.get_all(COOKIE) {
        let Ok(text) = header.to_str() else {
            continue;
        };
        for cookie in Cookie::split_parse(text).flatten() {
            if cookie.name() != name {
                continue;
            }
            present = true;
            if is_token(cookie.value()) {
                return (Some(cookie.value().to_owned()), true);
            }
        }
    }
    (None, present)
}

fn is_token(value: &str) -> bool {
    value.len() == TOKEN_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `HttpOnly` (pages carry the token, scripts need not read the cookie), `SameSite=Strict`
/// (only this site's own pages submit its forms), `Path=/` and no `Domain` (as `__Host-`
/// requires), `Secure` as configured; no `Max-Age`: it lasts as long as the browser runs.
fn render(cookie: cookie::CookieBuilder<'_>, secure: bool) -> HeaderValue {
    let cookie = cookie
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(secure)
        .build();
    // A fixed name, fixed attributes and a base64url (or empty) value: always a valid
    // header value.
    HeaderValue::try_from(cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_cookie_is_read_back_and_its_attributes_are_strict() {
        let (token, set_cookie) = issue(true).unwrap();
        let text = set_cookie.to_str().unwrap();
        assert!(text.starts_with(&format!("__Host-csrf={token};")), "{text}");
        for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(text.contains(attr), "{text} lacks {attr}");
        }
        assert!(!text.contains("Domain"), "{text}");
        let mut headers = HeaderMap::new();
        let pair = text.split(';').next().unwrap();
        headers.insert(COOKIE, format!("session=x; {pair}").parse().unwrap());
        assert_eq!(read(&headers, true), (Some(token), true));
        // The name follows `Secure`: a plain-HTTP app's cookie is `csrf`.
        assert_eq!(read(&headers, false), (None, false));
        assert!(removal(true).to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn malformed_values_are_not_tokens() {
        for value in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}=", "a".repeat(42)),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(COOKIE, format!("csrf={value}").parse().unwrap());
            assert_eq!(read(&headers, false), (None, true), "{value}");
        }
    }
}
