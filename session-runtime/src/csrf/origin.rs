//! The origin half of CSRF protection: browsers say where a request comes from.

use http::HeaderMap;
use http::header::{HOST, ORIGIN};

/// Whether the browser marks the request as coming from another site.
///
/// `Sec-Fetch-Site` (sent by current browsers) wins: `same-origin` and `none` (typed in the
/// address bar, a bookmark) pass, `same-site` and `cross-site` do not. Without it, an `Origin`
/// header must name this host (`null` never does). Requests with neither, such as `curl`,
/// carry no browser's ambient authority and pass this check.
pub(crate) fn is_cross_site(headers: &HeaderMap, trusted: &[String]) -> bool {
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    if origin.is_some_and(|o| trusted.iter().any(|t| t.eq_ignore_ascii_case(o))) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match origin {
        None => false,
        Some(origin) => {
            let host = headers.get(HOST).and_then(|v| v.to_str().ok());
            let authority = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            match (authority, host) {
                (Some(authority), Some(host)) => !authority.eq_ignore_ascii_case(host),
                _ => true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(!is_cross_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            &[]
        ));
        assert!(!is_cross_site(&headers(&[("sec-fetch-site", "none")]), &[]));
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "cross-site")]),
            &[]
        ));
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "same-site")]),
            &[]
        ));
    }

    #[test]
    fn origin_must_match_the_host() {
        let h = |o| headers(&[("host", "app.example:3000"), ("origin", o)]);
        assert!(!is_cross_site(&h("http://app.example:3000"), &[]));
        assert!(!is_cross_site(&h("https://APP.example:3000"), &[]));
        assert!(is_cross_site(&h("https://evil.example"), &[]));
        assert!(is_cross_site(&h("null"), &[]));
        assert!(
            !is_cross_site(&headers(&[("host", "a")]), &[]),
            "no origin: not a browser"
        );
    }

    #[test]
    fn trusted_origins_pass() {
        let h = headers(&[
            ("host", "api.example"),
            ("origin", "https://www.example"),
            ("sec-fetch-site", "same-site"),
        ]);
        assert!(is_cross_site(&h, &[]));
        assert!(!is_cross_site(&h, &["https://www.example".to_owned()]));
    }
}
