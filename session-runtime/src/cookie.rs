//! Reading the session cookie from a request and writing it to a response.

//!
//! Both run on every request or every response that carries a session, so neither
//! allocates more than the header value itself: the `Cookie` header is scanned in place
//! (no per-cookie parse objects), and `Set-Cookie` is rendered into one buffer.

use std::fmt::Write as _;
use std::time::Duration;

use http::HeaderMap;
use http::HeaderValue;
use http::header::COOKIE;

use crate::config::{ConfigInner, SameSite};
use crate::token::Token;

/// The `name=value` pairs of the request's `Cookie` headers, as browsers send them: pairs
/// separated by `;`, whitespace around names and values ignored, pieces without `=` or with
/// an empty name skipped.
fn cookie_pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let name = name.trim();
            (!name.is_empty()).then(|| (name, value.trim()))
        })
}

/// Finds the first well-formed session token among the request's cookies, and whether the
/// request carried a cookie with the session cookie's name at all (valid or not), in one
/// pass over the headers.
///
/// Malformed values (wrong length, not base64url) are skipped: they are never adopted and
/// never an error.
pub(crate) fn read_session_cookie(headers: &HeaderMap, name: &str) -> (Option<Token>, bool) {
    let mut present = false;
    for (_, value) in cookie_pairs(headers).filter(|(n, _)| *n == name) {
        present = true;
        if let Some(token) = Token::parse(value) {
            return (Some(token), true);
        }
    }
    (None, present)
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

/// `Set-Cookie` that installs `token` for `max_age`.
pub(crate) fn set_cookie(config: &ConfigInner, token: &Token, max_age: Duration) -> HeaderValue {
    let secs = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    render(config, &token.encode(), secs)
}

/// `Set-Cookie` that removes the session cookie (`Max-Age=0`).
pub(crate) fn removal_cookie(config: &ConfigInner) -> HeaderValue {
    render(config, "", 0)
}

/// Renders the cookie with its attributes in the order of the `cookie` crate (so the bytes
/// on the wire are the same): `HttpOnly`, `SameSite`, `Secure`, `Path`, `Domain`, `Max-Age`.
fn render(config: &ConfigInner, value: &str, max_age_secs: i64) -> HeaderValue {
    let domain = config.domain.as_deref();
    let mut out = String::with_capacity(
        config.cookie_name.len()
            + value.len()
            + config.path.len()
            + domain.map_or(0, |d| d.len() + 9)
            + 72,
    );
    out.push_str(&config.cookie_name);
    out.push('=');
    out.push_str(value);
    out.push_str("; HttpOnly; SameSite=");
    out.push_str(match config.same_site {
        SameSite::Strict => "Strict",
        SameSite::Lax => "Lax",
        SameSite::None => "None",
    });
    if config.secure {
        out.push_str("; Secure");
    }
    out.push_str("; Path=");
    out.push_str(&config.path);
    if let Some(domain) = domain {
        out.push_str("; Domain=");
        out.push_str(domain);
    }
    let _ = write!(out, "; Max-Age={max_age_secs}");
    // Name, path and domain were validated when the configuration was built, and the value
    // is base64url or empty, so the rendered cookie is always a valid header value.
    HeaderValue::try_from(out).unwrap_or_else(|_| HeaderValue::from_static(""))
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
        let v = set_cookie(&config.inner, &t, Duration::from_secs(90));
        let s = v.to_str().unwrap();
        assert!(s.starts_with(&format!("session={}", t.encode())));
        for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=90"] {
            assert!(s.contains(attr), "{s} lacks {attr}");
        }
        let r = removal_cookie(&config.inner);
        let r = r.to_str().unwrap();
        assert!(r.starts_with("session=;"), "{r}");
        assert!(r.contains("Max-Age=0"));
    }

    /// The old implementation, through the `cookie` crate: the fast paths must agree with it.
    fn reference_pairs(header: &str) -> Vec<(String, String)> {
        cookie::Cookie::split_parse(header)
            .filter_map(Result::ok)
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .collect()
    }

    #[test]
    fn cookie_scan_agrees_with_the_cookie_crate() {
        let t = Token::generate().unwrap().encode();
        for header in [
            String::new(),
            ";;".into(),
            " ; ;=x; =; a".into(),
            format!("session={t}"),
            format!("  session = {t} ; b=2"),
            format!("a=1;session={t};session=x"),
            format!("session=\"{t}\"; x=y=z"),
            "session=; other=1".into(),
            "a=%20; b=d#$%^&*()_".into(),
        ] {
            let mut map = HeaderMap::new();
            map.append(COOKIE, HeaderValue::from_str(&header).unwrap());
            let fast: Vec<(String, String)> = cookie_pairs(&map)
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect();
            assert_eq!(fast, reference_pairs(&header), "{header:?}");
        }
    }

    #[test]
    fn rendering_matches_the_cookie_crate() {
        let configs = [
            SessionConfig::default(),
            SessionConfig::builder()
                .cookie_name("sid")
                .domain("example.com")
                .path("/app")
                .same_site(SameSite::Strict)
                .build()
                .unwrap(),
            SessionConfig::builder()
                .insecure_allow_http()
                .build()
                .unwrap(),
            SessionConfig::builder()
                .same_site(SameSite::None)
                .host_prefix()
                .build()
                .unwrap(),
        ];
        let t = Token::generate().unwrap();
        for config in &configs {
            let c = &config.inner;
            let reference = |value: String, secs: i64| {
                let mut builder = cookie::Cookie::build((c.cookie_name.clone(), value))
                    .http_only(true)
                    .secure(c.secure)
                    .path(c.path.clone())
                    .same_site(match c.same_site {
                        SameSite::Strict => cookie::SameSite::Strict,
                        SameSite::Lax => cookie::SameSite::Lax,
                        SameSite::None => cookie::SameSite::None,
                    })
                    .max_age(cookie::time::Duration::seconds(secs));
                if let Some(domain) = &c.domain {
                    builder = builder.domain(domain.clone());
                }
                builder.build().encoded().to_string()
            };
            let set = set_cookie(c, &t, Duration::from_secs(1800));
            assert_eq!(set.to_str().unwrap(), reference(t.encode(), 1800));
            let removal = removal_cookie(c);
            assert_eq!(removal.to_str().unwrap(), reference(String::new(), 0));
        }
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
        let v = set_cookie(&config.inner, &t, Duration::from_secs(5));
        let s = v.to_str().unwrap();
        for attr in ["sid=", "Domain=example.com", "Path=/app", "SameSite=Strict"] {
            assert!(s.contains(attr), "{s} lacks {attr}");
        }
    }
}
