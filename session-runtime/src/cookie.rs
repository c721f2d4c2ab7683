//! The session cookie: its settings, reading it from a request, writing it to a response.
//!
//! `Set-Cookie` comes from the `cookie` crate, rendered once per configuration into a
//! template. The request's `Cookie` header is read by [`cookie_values`], which finds the
//! pairs of one name exactly as the crate's `Cookie::split_parse` reads them (a test holds
//! the two to the same answers on generated headers) without building a `Cookie` for every
//! pair: on the per-request path that parse was the largest cost of a session read. A
//! header that starts with the session cookie is read without a scan ([`leading_token`]).
//! The header is only read when a handler loads the session.

use std::sync::OnceLock;
use std::time::Duration;

use cookie::{Cookie, CookieBuilder};
use http::HeaderMap;
use http::HeaderValue;
use http::header::COOKIE;

use crate::token::{TOKEN_LEN, Token};

/// The `SameSite` attribute of the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// Sent only on same-site requests.
    Strict,
    /// Sent on same-site requests and top-level cross-site navigations (the default).
    Lax,
    /// Sent on every request. Requires `Secure`; enables cross-site request forgery unless
    /// you check CSRF tokens.
    None,
}

/// The session cookie's attributes, as the configuration validated them, and their
/// rendering by the `cookie` crate, made on first use.
pub(crate) struct CookieSettings {
    /// The full name, prefix included.
    pub(crate) name: String,
    pub(crate) domain: Option<String>,
    pub(crate) path: String,
    pub(crate) same_site: SameSite,
    pub(crate) secure: bool,
    template: OnceLock<CookieTemplate>,
}

impl CookieSettings {
    /// Settings the configuration has validated (see `SessionConfigBuilder::build`).
    pub(crate) fn new(
        name: String,
        domain: Option<String>,
        path: String,
        same_site: SameSite,
        secure: bool,
    ) -> Self {
        Self {
            name,
            domain,
            path,
            same_site,
            secure,
            template: OnceLock::new(),
        }
    }

    /// The session cookie, rendered once.
    fn template(&self) -> &CookieTemplate {
        self.template.get_or_init(|| CookieTemplate::new(self))
    }
}

/// Finds the first well-formed session token among the request's cookies, and whether the
/// request carried a cookie with the session cookie's name at all (valid or not), in one
/// pass over the headers.
///
/// Malformed values (wrong length, not base64url) are skipped: they are never adopted and
/// never an error. Bytes that are not visible ASCII (which browsers send in other apps'
/// cookies) spoil only the pair they are in, never the session cookie beside them.
pub(crate) fn read_session_cookie(headers: &HeaderMap, name: &str) -> (Option<Token>, bool) {
    let mut present = false;
    for header in headers.get_all(COOKIE) {
        let header = header.as_bytes();
        if let Some(token) = leading_token(header, name) {
            return (Some(token), true);
        }
        for value in cookie_values(header, name) {
            present = true;
            if let Some(token) = Token::parse(value) {
                return (Some(token), true);
            }
        }
    }
    (None, present)
}

/// The token of a header that is, or starts with, `name=` and a well-formed token, with a
/// `;` or nothing after it: the session cookie as a browser sends it when it comes first.
/// For such a header this is [`cookie_values`]'s first answer (the first pair is exactly
/// that cookie, with nothing to trim); anything else is left to it. A read of the session
/// is then a prefix comparison and the token's check, without a scan of the header.
fn leading_token(header: &[u8], name: &str) -> Option<Token> {
    let rest = header.strip_prefix(name.as_bytes())?.strip_prefix(b"=")?;
    match rest.get(TOKEN_LEN) {
        None | Some(b';') => Token::parse(rest.get(..TOKEN_LEN)?),
        Some(_) => None,
    }
}

/// The values of the cookies called `name` in a `Cookie` header, in order.
///
/// The reading is that of `cookie::Cookie::split_parse`: pairs separated by `;`, the name
/// before the first `=`, name and value trimmed of whitespace, pairs without `=` ignored.
/// Nothing is decoded. `name` is never empty (the configuration refuses it), so pairs with
/// an empty name never match.
///
/// A header value holds visible ASCII, spaces, tabs and bytes above 127 (which are never
/// whitespace), so trimming ASCII whitespace is the crate's trimming.
fn cookie_values<'a>(header: &'a [u8], name: &'a str) -> impl Iterator<Item = &'a [u8]> {
    header.split(|&b| b == b';').filter_map(move |pair| {
        let eq = pair.iter().position(|&b| b == b'=')?;
        let (pair_name, value) = pair.split_at(eq);
        (pair_name.trim_ascii() == name.as_bytes()).then(|| value[1..].trim_ascii())
    })
}

/// Finds the first well-formed session token among the request's cookies.
#[cfg(test)]
pub(crate) fn read_token(headers: &HeaderMap, name: &str) -> Option<Token> {
    read_session_cookie(headers, name).0
}

/// Whether the request carried a cookie with the session cookie's name, valid or not.
#[cfg(test)]
pub(crate) fn has_cookie(headers: &HeaderMap, name: &str) -> bool {
    read_session_cookie(headers, name).1
}

fn base(config: &CookieSettings, value: String) -> CookieBuilder<'static> {
    let mut builder = Cookie::build((config.name.clone(), value))
        .http_only(true)
        .secure(config.secure)
        .path(config.path.clone())
        .same_site(match config.same_site {
            SameSite::Strict => cookie::SameSite::Strict,
            SameSite::Lax => cookie::SameSite::Lax,
            SameSite::None => cookie::SameSite::None,
        });
    if let Some(domain) = &config.domain {
        builder = builder.domain(domain.clone());
    }
    builder
}

/// The session cookie as the `cookie` crate renders it for this configuration, split around
/// the parts that change: rendered once, so that a response only writes its token and
/// `Max-Age` into it.
#[derive(Debug)]
struct CookieTemplate {
    /// `name=`, the name encoded as the crate encodes it.
    prefix: String,
    /// `; HttpOnly; SameSite=Lax; Secure; Path=/` (and `Domain`, if configured).
    attributes: String,
    /// The whole `Set-Cookie` value that removes the cookie.
    removal: HeaderValue,
}

impl CookieTemplate {
    fn new(config: &CookieSettings) -> Self {
        let rendered = base(config, String::new()).build().encoded().to_string();
        let split = rendered.find(';').unwrap_or(rendered.len());
        let (prefix, attributes) = rendered.split_at(split);
        let removal = base(config, String::new())
            .max_age(cookie::time::Duration::ZERO)
            .build();
        Self {
            prefix: prefix.to_owned(),
            attributes: attributes.to_owned(),
            removal: header(&removal),
        }
    }
}

/// `Set-Cookie` that installs `token` for `max_age`.
pub(crate) fn set_cookie(config: &CookieSettings, token: &Token, max_age: Duration) -> HeaderValue {
    const MAX_AGE: &str = "; Max-Age=";
    let template = config.template();
    let mut seconds = itoa::Buffer::new();
    let seconds = seconds.format(max_age.as_secs());
    // The exact length: a header value made from a full `String` takes its buffer over,
    // with no second allocation.
    let len = template.prefix.len()
        + TOKEN_LEN
        + template.attributes.len()
        + MAX_AGE.len()
        + seconds.len();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(template.prefix.as_bytes());
    out.extend_from_slice(token.as_bytes());
    out.extend_from_slice(template.attributes.as_bytes());
    out.extend_from_slice(MAX_AGE.as_bytes());
    out.extend_from_slice(seconds.as_bytes());
    // The template came from the crate's rendering of a validated configuration, and the
    // token is base64url: always a valid header value.
    HeaderValue::from_maybe_shared(bytes::Bytes::from(out))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the session cookie (`Max-Age=0`).
pub(crate) fn removal_cookie(config: &CookieSettings) -> HeaderValue {
    config.template().removal.clone()
}

fn header(cookie: &Cookie<'_>) -> HeaderValue {
    // Name, path and domain were validated when the configuration was built, and the value
    // is base64url or empty, so the rendered cookie is always a valid header value.
    HeaderValue::try_from(cookie.encoded().to_string())
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionConfig;

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for c in cookies {
            map.append(COOKIE, HeaderValue::from_str(c).unwrap());
        }
        map
    }

    /// The values of `name` as the `cookie` crate reads them: the reference.
    fn crate_values<'a>(header: &'a str, name: &str) -> Vec<&'a str> {
        Cookie::split_parse(header)
            .filter_map(Result::ok)
            .filter(|c| c.name() == name)
            .filter_map(|c| c.value_raw())
            .collect()
    }

    #[test]
    fn cookie_values_agree_with_the_cookie_crate_on_generated_headers() {
        use rand::{Rng as _, SeedableRng as _};
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5e55_1011);
        let token = Token::generate().unwrap().encode();
        let pieces = [
            "session",
            "sess",
            "sessionx",
            "xsession",
            "Session",
            "=",
            "==",
            ";",
            "; ",
            " ",
            "\t",
            "a",
            "b=1",
            "\"",
            "%20",
            ",",
            token.as_str(),
            "session=",
            "=session",
            "~",
        ];
        for _ in 0..20_000 {
            let len = rng.random_range(0..12);
            let header: String = (0..len)
                .map(|_| pieces[rng.random_range(0..pieces.len())])
                .collect();
            let value = HeaderValue::from_str(&header).unwrap();
            let map = headers(&[&header]);
            for name in ["session", "sess", "a"] {
                let ours: Vec<&[u8]> = cookie_values(value.as_bytes(), name).collect();
                let reference = crate_values(&header, name);
                let reference_bytes: Vec<&[u8]> = reference.iter().map(|v| v.as_bytes()).collect();
                assert_eq!(ours, reference_bytes, "{header:?} {name:?}");
                // The whole read, shortcut included: the first value that is a token.
                let expected = (
                    reference.iter().find_map(Token::parse),
                    !reference.is_empty(),
                );
                assert_eq!(
                    read_session_cookie(&map, name),
                    expected,
                    "{header:?} {name:?}"
                );
            }
        }
    }

    #[test]
    fn the_shortcut_takes_only_a_whole_leading_token() {
        let t = Token::generate().unwrap().encode();
        let read = |header: &str| read_session_cookie(&headers(&[header]), "session");
        assert!(read(&format!("session={t}")).0.is_some());
        assert!(read(&format!("session={t};a=1")).0.is_some());
        assert_eq!(
            read(&format!("session={t}A")),
            (None, true),
            "44 characters"
        );
        assert_eq!(read(&format!("session={t} x; a=1")), (None, true));
        assert_eq!(read(&format!("session={}", &t[..42])), (None, true));
        assert_eq!(read(&format!("sessionx={t}")), (None, false));
        // Trimmed, the long way round.
        assert!(read(&format!("session={t} ; a=1")).0.is_some());
    }

    #[test]
    fn bytes_beyond_ascii_spoil_only_their_own_pair() {
        let t = Token::generate().unwrap().encode();
        let read = |header: String| {
            let mut map = HeaderMap::new();
            map.append(COOKIE, HeaderValue::from_bytes(header.as_bytes()).unwrap());
            read_session_cookie(&map, "session")
        };
        assert!(read(format!("x=\u{e9}t\u{e9}; session={t}")).0.is_some());
        assert!(read(format!("session={t}; x=\u{e9}")).0.is_some());
        assert_eq!(read(format!("session={t}\u{e9}")), (None, true));
        assert_eq!(read(format!("session=\u{e9}{}", &t[1..])), (None, true));
    }

    #[test]
    fn reads_the_named_cookie_among_others() {
        let t = Token::generate().unwrap();
        let h = headers(&[&format!("a=1; session={}; b=2", t.encode())]);
        assert_eq!(read_token(&h, "session"), Some(t));
    }

    #[test]
    fn skips_malformed_and_takes_a_later_valid_one() {
        let t = Token::generate().unwrap();
        let h = headers(&["session=garbage", &format!("session={}", t.encode())]);
        assert_eq!(read_token(&h, "session"), Some(t));
        assert!(read_token(&headers(&["session=%%%; ;;=="]), "session").is_none());
        assert!(has_cookie(&headers(&["session=x"]), "session"));
        assert!(!has_cookie(&headers(&["other=x"]), "session"));
    }

    #[test]
    fn set_cookie_has_secure_defaults() {
        let config = SessionConfig::default();
        let t = Token::generate().unwrap();
        let v = set_cookie(&config.inner.cookie, &t, Duration::from_secs(90));
        let s = v.to_str().unwrap();
        assert!(s.starts_with(&format!("session={}", t.encode())));
        for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=90"] {
            assert!(s.contains(attr), "{s} lacks {attr}");
        }
        let r = removal_cookie(&config.inner.cookie);
        let r = r.to_str().unwrap();
        assert!(r.starts_with("session=;"), "{r}");
        assert!(r.contains("Max-Age=0"));
    }

    #[test]
    fn odd_cookie_headers_are_parsed_leniently() {
        let t = Token::generate().unwrap().encode();
        let found = |header: &str| {
            let mut map = HeaderMap::new();
            map.append(COOKIE, HeaderValue::from_str(header).unwrap());
            read_session_cookie(&map, "session")
        };
        assert!(!found("").1);
        assert!(!found(" ; ;=x; =; a").1);
        assert!(found(&format!("  session = {t} ; b=2")).0.is_some());
        assert!(found(&format!("a=1;session={t};session=x")).0.is_some());
        assert_eq!(found("session=; other=1"), (None, true));
    }

    #[test]
    fn configured_attributes_are_rendered() {
        let config = SessionConfig::builder()
            .cookie_name("sid")
            .domain("example.com")
            .path("/app")
            .same_site(SameSite::Strict)
            .build()
            .unwrap();
        let t = Token::generate().unwrap();
        let v = set_cookie(&config.inner.cookie, &t, Duration::from_secs(5));
        let s = v.to_str().unwrap();
        for attr in ["sid=", "Domain=example.com", "Path=/app", "SameSite=Strict"] {
            assert!(s.contains(attr), "{s} lacks {attr}");
        }
    }

    #[test]
    fn the_rendered_template_parses_back_to_every_configured_attribute() {
        let configs = [
            SessionConfig::default(),
            SessionConfig::builder()
                .cookie_name("sid")
                .domain("example.com")
                .path("/app")
                .same_site(SameSite::Strict)
                .build()
                .unwrap(),
        ];
        for config in configs {
            let c = &config.inner.cookie;
            let t = Token::generate().unwrap();
            let v = set_cookie(c, &t, Duration::from_secs(77));
            let parsed = Cookie::parse_encoded(v.to_str().unwrap().to_owned()).unwrap();
            assert_eq!(parsed.name(), c.name);
            assert_eq!(parsed.value(), t.encode());
            assert_eq!(parsed.http_only(), Some(true));
            assert_eq!(parsed.secure(), Some(c.secure));
            assert_eq!(parsed.path(), Some(c.path.as_str()));
            assert_eq!(parsed.domain(), c.domain.as_deref());
            assert_eq!(parsed.max_age(), Some(cookie::time::Duration::seconds(77)));
            let removal = removal_cookie(c);
            let removed = Cookie::parse_encoded(removal.to_str().unwrap().to_owned()).unwrap();
            assert_eq!(removed.name(), c.name);
            assert_eq!(removed.value(), "");
            assert_eq!(removed.max_age(), Some(cookie::time::Duration::ZERO));
            assert_eq!(removed.path(), parsed.path());
        }
    }
}
