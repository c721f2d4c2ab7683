//! The `next` redirect: the example app's check of where to go after login (`safe_next`,
//! included from `examples/app/server/next.rs` as it is), and the login URL a guard builds
//! with `next` set to the path asked for (`with_next`).
//!
//! Checks: `safe_next` gives back its input or `/`, a valid header value (`Redirect::to`
//! panics on any other), and never anything that a URL parser (the `url` crate, the
//! WHATWG rules browsers follow) resolves against `http://a.example/` to another scheme,
//! host, port or user; the login URL stays on the site, its `next` parameter decodes to the
//! very path asked for, once, and its other parameters and its fragment are kept.

#![no_main]

#[path = "../../examples/app/server/next.rs"]
mod next;

use arbitrary::Arbitrary;
use http::HeaderValue;
use http::uri::PathAndQuery;
use libfuzzer_sys::fuzz_target;
use session_runtime::__fuzz;
use url::Url;

const LOGIN_URLS: [&str; 5] = [
    "/login",
    "/login?",
    "/login?next=/old&a=1",
    "/auth/login?x=1&y&next#top",
    "/sign-in#",
];

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    next: &'a str,
    login_url: u8,
    path_and_query: &'a [u8],
}

fn stays_on_site(base: &Url, resolved: &Url) {
    assert_eq!(resolved.scheme(), base.scheme());
    assert_eq!(resolved.host_str(), base.host_str());
    assert_eq!(resolved.port(), base.port());
    assert_eq!(resolved.username(), "");
    assert_eq!(resolved.password(), None);
}

fuzz_target!(|input: Input<'_>| {
    let base = Url::parse("http://a.example/").expect("a base URL");

    let chosen = next::safe_next(Some(input.next));
    assert!(chosen == "/" || chosen == input.next);
    assert!(HeaderValue::from_str(chosen).is_ok(), "{chosen:?}");
    let resolved = base.join(chosen).expect("a path resolves");
    stays_on_site(&base, &resolved);

    let Ok(asked) = PathAndQuery::try_from(input.path_and_query) else {
        return;
    };
    let asked = asked.as_str();
    let login_url = LOGIN_URLS[usize::from(input.login_url) % LOGIN_URLS.len()];
    let redirect = __fuzz::with_next(login_url, asked);
    assert!(HeaderValue::from_str(&redirect).is_ok(), "{redirect:?}");
    let resolved = base.join(&redirect).expect("the login URL resolves");
    stays_on_site(&base, &resolved);
    let login = base.join(login_url).expect("a login URL");
    assert_eq!(resolved.path(), login.path());
    assert_eq!(resolved.fragment(), login.fragment());
    let mut kept: Vec<(String, String)> = login
        .query_pairs()
        .filter(|(name, _)| name != "next")
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    kept.push(("next".to_owned(), asked.to_owned()));
    let got: Vec<(String, String)> = resolved
        .query_pairs()
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(got, kept);
});
