//! The CSRF check's readers: the `x-csrf-token` header, the `csrf_token` field of a form
//! body, the `Content-Type` test that decides whether the body is read as a form, and the
//! origin check (`Origin`, `Host`, `Sec-Fetch-Site`, trusted origins).
//!
//! Checks: a header carries the token only if its bytes are the token's, and always when
//! they are (and are visible ASCII); a body that carries one token carries no other; a
//! `csrf_token` field put first makes any body carry its token; a form content type names
//! `application/x-www-form-urlencoded` before any parameter, and stays one whatever
//! parameters follow; a request with neither `Origin` nor `Sec-Fetch-Site` is not
//! cross-site, one that the browser marks cross-site (or whose origin is not `http(s)://`)
//! from an untrusted origin is.

#![no_main]

use arbitrary::Arbitrary;
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use session_runtime::__fuzz;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    expected: &'a str,
    header: Option<&'a [u8]>,
    content_type: &'a str,
    body: &'a [u8],
    origin: Option<&'a [u8]>,
    host: Option<&'a [u8]>,
    sec_fetch_site: Option<&'a [u8]>,
    trusted: Vec<String>,
}

fn with(name: &'static str, value: Option<&[u8]>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    add(&mut headers, name, value);
    headers
}

fn add(headers: &mut HeaderMap, name: &'static str, value: Option<&[u8]>) {
    if let Some(value) = value.and_then(|v| HeaderValue::from_bytes(v).ok()) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

fuzz_target!(|input: Input<'_>| {
    let expected = input.expected;

    // The header.
    let headers = with("x-csrf-token", input.header);
    let carries = __fuzz::csrf_header_carries(&headers, expected);
    match headers.get("x-csrf-token") {
        None => assert_eq!(carries, None),
        Some(value) => {
            if carries == Some(true) {
                assert_eq!(value.as_bytes(), expected.as_bytes());
            }
            if value.as_bytes() == expected.as_bytes() && value.to_str().is_ok() {
                assert_eq!(carries, Some(true));
            }
        }
    }

    // The form body.
    if __fuzz::csrf_form_carries(input.body, expected) {
        assert!(!__fuzz::csrf_form_carries(
            input.body,
            &format!("{expected}x")
        ));
    }
    let encoded: String = form_urlencoded::byte_serialize(expected.as_bytes()).collect();
    let mut first = format!("csrf_token={encoded}&").into_bytes();
    first.extend_from_slice(input.body);
    assert!(__fuzz::csrf_form_carries(&first, expected));

    // The content type.
    let content_type = input.content_type;
    if __fuzz::is_urlencoded_form(content_type) {
        let media = content_type.split(';').next().unwrap_or_default();
        assert_eq!(
            media.trim().to_ascii_lowercase(),
            "application/x-www-form-urlencoded"
        );
    }
    assert!(__fuzz::is_urlencoded_form(&format!(
        "Application/X-WWW-Form-URLEncoded;{content_type}"
    )));

    // The origin.
    let mut headers = HeaderMap::new();
    add(&mut headers, "origin", input.origin);
    add(&mut headers, "host", input.host);
    add(&mut headers, "sec-fetch-site", input.sec_fetch_site);
    let cross = __fuzz::is_cross_site(&headers, &input.trusted);
    let origin = headers.get("origin").and_then(|v| v.to_str().ok());
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let trusted = origin.is_some_and(|o| input.trusted.iter().any(|t| t.eq_ignore_ascii_case(o)));
    if headers.get("origin").is_none() && headers.get("sec-fetch-site").is_none() {
        assert!(!cross);
    }
    if !trusted {
        if site.is_some_and(|s| s != "same-origin" && s != "none") {
            assert!(cross);
        }
        if site.is_none()
            && headers.get("sec-fetch-site").is_none()
            && origin.is_some_and(|o| !o.starts_with("http://") && !o.starts_with("https://"))
        {
            assert!(cross);
        }
    }
});
