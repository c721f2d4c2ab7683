//! The `next` redirect: `redirect::local_path`, the check behind a login page's `next` (the
//! example app's login and the guards use it), and the login URL a guard builds with
//! `next` set to the path asked for (`with_next`).
//!
//! Checks: `local_path` gives back its input or nothing; what it accepts is a valid header
//! value (`Redirect::to` panics on any other), and a URL parser (the `url` crate, the
//! WHATWG rules browsers follow) resolves it against `http://a.example/` and
//! `https://a.example:8443/dir/page?q#f` to the same scheme, host and port, with no user;
//! its path, percent-decoded once or twice, neither starts with `//` nor holds `\`. The
//! login URL stays on the site, its `next` decodes to exactly the path asked for (once),
//! which `local_path` accepts again, and its other parameters and fragment are kept.

#![no_main]

use arbitrary::Arbitrary;
use http::HeaderValue;
use http::uri::PathAndQuery;
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use session_runtime::__fuzz;
use session_runtime::redirect::local_path;
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
    let other = Url::parse("https://a.example:8443/dir/page?q#f").expect("a base URL");

    let local = local_path(input.next);
    if let Some(path) = local {
        assert_eq!(path, input.next);
        assert!(HeaderValue::from_str(path).is_ok(), "{path:?}");
        for base in [&base, &other] {
            let resolved = base.join(path).expect("a path resolves");
            stays_on_site(base, &resolved);
        }
        let path_part = path.split(['?', '#']).next().unwrap_or_default();
        let once = percent_decode_str(path_part)
            .decode_utf8_lossy()
            .into_owned();
        let twice = percent_decode_str(&once).decode_utf8_lossy().into_owned();
        for decoded in [&once, &twice] {
            assert!(
                !decoded.starts_with("//") && !decoded.contains('\\'),
                "{path:?}"
            );
        }
    }

    let Ok(asked) = PathAndQuery::try_from(input.path_and_query) else {
        return;
    };
    // As the guard does: the request target if it is a local path, else `/`.
    let asked = local_path(asked.as_str()).unwrap_or("/");
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
    assert_eq!(local_path(asked), Some(asked));
});
