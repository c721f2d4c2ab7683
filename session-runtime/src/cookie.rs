//! The session cookie: its settings, reading it from a request, writing it to a response.
//!
//! Both directions go through the `cookie` crate: every `Cookie` header of a request is read
//! with `Cookie::split_parse`, and `Set-Cookie` is rendered by the crate once per
//! configuration into a template that a response fills with its token and `Max-Age` (none
//! for a browser-session cookie). The request's headers are only read when a handler loads
//! the session.

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
    /// Whether the cookie carries `Max-Age` (the default); without it, it is a
    /// browser-session cookie that the browser drops when it closes.
    pub(crate) persistent: bool,
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
        persistent: bool,
    ) -> Self {
        Self {
            name,
            domain,
            path,
            same_site,
            secure,
            persistent,
            template: OnceLock::new(),
        }
    }

    /// The session cookie, rendered once.
    fn template(&self) -> &CookieTemplate {
        self.template.get_or_init(|| CookieTemplate::new(self))
    }
}

/// How many well-formed session tokens a request may offer before the rest are ignored:
/// the browser's own cookie and a few planted beside it (a sibling subdomain can set a
/// cookie of the same name for the parent domain, and the browser then sends both).
pub(crate) const MAX_CANDIDATES: usize = 4;

/// Finds the `nth` (from 0) well-formed session token among the request's cookies, and
/// whether the request carried a cookie with the session cookie's name at all (valid or
/// not), in one pass over every `Cookie` header. The load path asks for the next one when a
/// token names no live session, up to [`MAX_CANDIDATES`].
///
/// Malformed values (wrong length, not base64url) are skipped: they are never adopted and
/// never an error. A pair the crate cannot parse spoils only itself, never the session
/// cookie beside it; bytes that are not UTF-8 are read as replacement characters, so they
/// never match a token either.
pub(crate) fn read_session_cookie(
    headers: &HeaderMap,
    name: &str,
    nth: usize,
) -> (Option<Token>, bool) {
    let mut present = false;
    let mut skip = nth;
    for header in headers.get_all(COOKIE) {
        let text = match std::str::from_utf8(header.as_bytes()) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(header.as_bytes()),
        };
        for cookie in Cookie::split_parse(text.as_ref()) {
            let Ok(cookie) = cookie else {
                continue;
            };
            if cookie.name() != name {
                continue;
            }
            present = true;
            if let Some(token) = Token::parse(cookie.value()) {
                if skip == 0 {
                    return (Some(token), true);
                }
                skip -= 1;
            }
        }
    }
    (None, present)
}

/// Finds the first well-formed session token among the request's cookies.
#[cfg(test)]
pub(crate) fn read_token(headers: &HeaderMap, name: &str) -> Option<Token> {
    read_session_cookie(headers, name, 0).0
}

/// Whether the request carried a cookie with the session cookie's name, valid or not.
#[cfg(test)]
pub(crate) fn has_cookie(headers: &HeaderMap, name: &str) -> bool {
    read_session_cookie(headers, name, 0).1
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

/// `Set-Cookie` that installs `token` for `max_age`, or, for a browser-session cookie, with
/// no `Max-Age` at all (the server enforces the timeouts either way).
pub(crate) fn set_cookie(config: &CookieSettings, token: &Token, max_age: Duration) -> HeaderValue {
    let template = config.template();
    let mut seconds = itoa::Buffer::new();
    let (max_age_attr, seconds) = if config.persistent {
        ("; Max-Age=", seconds.format(max_age.as_secs()))
    } else {
        ("", "")
    };
    // The exact length: a header value made from a full `String` takes its buffer over,
    // with no second allocation.
    let len = template.prefix.len()
        + TOKEN_LEN
        + template.attributes.len()
        + max_age_attr.len()
        + seconds.len();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(template.prefix.as_bytes());
    out.extend_from_slice(token.as_bytes());
    out.extend_from_slice(template.attributes.as_bytes());
    out.extend_from_slice(max_age_attr.as_bytes());
    out.extend_from_slice(seconds.as_bytes());
    // The template came from the crate's rendering of a validated configuration, and the
    // token is base64url: always a valid header value.
    HeaderValue::from_maybe_shared(bytes::Bytes::from(out))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the session cookie (`Max-Age=0`, browser-session cookie or not).
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

    #[test]
    fn bytes_beyond_ascii_spoil_only_their_own_pair() {
        let t = Token::generate().unwrap().encode();
        let read = |header: String| {
            let mut map = HeaderMap::new();
            map.append(COOKIE, HeaderValue::from_bytes(header.as_bytes()).unwrap());
            read_session_cookie(&map, "session", 0)
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
            read_session_cookie(&map, "session", 0)
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

    #[test]
    fn a_browser_session_cookie_has_no_lifetime_but_its_removal_still_expires_it() {
        let config = SessionConfig::builder()
            .browser_session_cookie()
            .build()
            .unwrap();
        let c = &config.inner.cookie;
        let t = Token::generate().unwrap();
        let v = set_cookie(c, &t, Duration::from_secs(77));
        let parsed = Cookie::parse_encoded(v.to_str().unwrap().to_owned()).unwrap();
        assert_eq!(parsed.value(), t.encode());
        assert_eq!(parsed.max_age(), None);
        assert_eq!(parsed.expires(), None);
        assert_eq!(parsed.http_only(), Some(true));
        assert_eq!(parsed.secure(), Some(true));
        assert_eq!(parsed.path(), Some("/"));
        let removal = removal_cookie(c);
        let removed = Cookie::parse_encoded(removal.to_str().unwrap().to_owned()).unwrap();
        assert_eq!(removed.max_age(), Some(cookie::time::Duration::ZERO));
    }

    #[test]
    fn the_nth_well_formed_token_is_found_across_headers_skipping_malformed_ones() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        let mut map = HeaderMap::new();
        map.append(
            COOKIE,
            format!("session=bad; other=1; session={}", a.encode())
                .parse()
                .unwrap(),
        );
        map.append(COOKIE, format!("session={}", b.encode()).parse().unwrap());
        let nth = |n| read_session_cookie(&map, "session", n);
        assert_eq!(nth(0).0.map(|t| t.encode()), Some(a.encode()));
        assert_eq!(nth(1).0.map(|t| t.encode()), Some(b.encode()));
        assert_eq!(nth(2), (None, true));
        assert_eq!(read_session_cookie(&map, "absent", 0), (None, false));
    }
}
