//! The client's cookies, kept as a browser keeps them: `Set-Cookie` applies, `Max-Age=0` or an
//! `Expires` in the past removes.

use std::collections::BTreeMap;

use cookie::Cookie;
use cookie::time::{Duration, OffsetDateTime};
use http::HeaderMap;
use http::header::SET_COOKIE;

/// Cookie name → value. One cookie per name: the client talks to one site, and the tests it
/// serves do not set one name under two paths.
#[derive(Debug, Default, Clone)]
pub(crate) struct Jar(BTreeMap<String, String>);

impl Jar {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub(crate) fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    pub(crate) fn remove(&mut self, name: &str) -> bool {
        self.0.remove(name).is_some()
    }

    /// Applies every `Set-Cookie` header of a response.
    pub(crate) fn apply(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            // A header a browser cannot parse is one it ignores.
            let Some(cookie) = value.to_str().ok().and_then(|v| Cookie::parse(v).ok()) else {
                continue;
            };
            if is_removal(&cookie) {
                self.remove(cookie.name());
            } else {
                self.set(cookie.name(), cookie.value());
            }
        }
    }

    /// The `Cookie` header a browser would send, if it holds any cookie.
    pub(crate) fn header(&self) -> Option<String> {
        let pairs: Vec<String> = self.0.iter().map(|(n, v)| format!("{n}={v}")).collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }
}

/// Whether a `Set-Cookie` tells the browser to drop the cookie: `Max-Age` zero or less, or
/// (without `Max-Age`, which takes precedence) an `Expires` that has passed.
fn is_removal(cookie: &Cookie<'_>) -> bool {
    if let Some(max_age) = cookie.max_age() {
        return max_age <= Duration::ZERO;
    }
    cookie
        .expires_datetime()
        .is_some_and(|expires| expires <= OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_cookies(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(SET_COOKIE, v.parse().unwrap());
        }
        headers
    }

    #[test]
    fn set_cookie_applies_and_removal_drops() {
        let mut jar = Jar::default();
        jar.apply(&set_cookies(&[
            "session=abc; HttpOnly; Secure; Path=/; Max-Age=1800",
            "csrf=xyz; Path=/",
        ]));
        assert_eq!(jar.get("session"), Some("abc"));
        assert_eq!(jar.header().as_deref(), Some("csrf=xyz; session=abc"));
        jar.apply(&set_cookies(&["session=; Path=/; Max-Age=0"]));
        assert_eq!(jar.get("session"), None);
        jar.apply(&set_cookies(&[
            "csrf=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        ]));
        assert_eq!(jar.get("csrf"), None);
        assert_eq!(jar.header(), None);
    }

    #[test]
    fn max_age_wins_over_expires_and_garbage_is_ignored() {
        let mut jar = Jar::default();
        jar.apply(&set_cookies(&[
            "a=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            "not a cookie",
        ]));
        assert_eq!(jar.get("a"), Some("1"));
        assert_eq!(jar.header().as_deref(), Some("a=1"));
    }
}
