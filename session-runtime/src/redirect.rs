//! Redirect targets that stay on this site: the check behind a login page's `next`.
//!
//! A login page that sends the browser to `?next=...` after login is an open redirect
//! unless it checks `next`: `/login?next=//evil.example` would send a freshly logged-in user
//! to a look-alike site. [`local_path`] is that check. The guards use it for the `next` they
//! put on the login URL, and a login handler uses it for the `next` it receives.

/// `next` if it is a path on this origin, else `None`.
///
/// Use it on a login page's `next` parameter before redirecting to it, with `/` (or your
/// home page) when it answers `None`. The value it returns, used as a `Location` header or a
/// link, resolves against any `http(s)://HOST/` page to a URL on `HOST`.
///
/// The check is strict: it accepts only what a browser itself sends as a request target
/// (percent-encoded, ASCII), and refuses what some browser, proxy or framework might read as
/// another host. A value is accepted when all of these hold:
///
/// 1. It starts with `/`, and its second character (if any) is neither `/` nor `\`: no
///    scheme (`https://x`, `javascript:alert(1)`, `http:host`), no scheme-relative `//host`
///    or `/\host`, no relative path (`foo`), not empty.
/// 2. Every character is visible ASCII, `!` to `~`: no whitespace (leading or anywhere), no
///    control characters (tab, CR, LF, NUL, DEL, which URL parsers strip or choke on: `/\t/x`
///    would become `//x`), and no other Unicode (the full-width solidus `／` U+FF0F, `⁄`
///    U+2044, `∕` U+2215, `⧸` U+29F8 and the like, which some software normalises to `/`).
///    Other characters reach a URL percent-encoded (`/caf%C3%A9`).
/// 3. No backslash `\` anywhere (browsers read it as `/` in a path).
/// 4. Every `%` starts a well-formed escape: `%` and two hex digits.
/// 5. In the path (up to the first `?` or `#`), no escape stands for `/`, `\`, `%`, or a
///    control character (`%2F`, `%5C`, `%25`, `%00`–`%1F`, `%7F`, in either case): a server
///    or proxy that decodes the path once (or twice) must not find `//host` in it. The query
///    and fragment may hold any well-formed escape (`?q=a%2Fb`).
///
/// Everything else of a path is accepted as it is: `/`, `/foo`, `/foo?x=1#y`, `/a/b%20c`,
/// `/a/../b` (dot segments stay on this origin). A legitimate target refused by this
/// strictness (a path with an encoded slash) only costs the user the way back.
///
/// ```
/// use session_runtime::redirect::local_path;
///
/// assert_eq!(local_path("/cart?item=3#top"), Some("/cart?item=3#top"));
/// assert_eq!(local_path("//evil.example"), None);
/// assert_eq!(local_path("/\\evil.example"), None);
/// assert_eq!(local_path("https://evil.example"), None);
/// assert_eq!(local_path("/%2F/evil.example"), None);
///
/// // In a login handler: go back to `next`, or home.
/// # let next: Option<String> = None;
/// let target = next.as_deref().and_then(local_path).unwrap_or("/");
/// # assert_eq!(target, "/");
/// ```
#[must_use]
pub fn local_path(next: &str) -> Option<&str> {
    let bytes = next.as_bytes();
    if bytes.first() != Some(&b'/') || matches!(bytes.get(1), Some(b'/' | b'\\')) {
        return None;
    }
    let mut in_path = true;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => return None,
            b'?' | b'#' => in_path = false,
            b'%' => {
                let escaped = match (bytes.get(i + 1), bytes.get(i + 2)) {
                    (Some(&hi), Some(&lo)) => (hex(hi)? << 4) | hex(lo)?,
                    _ => return None,
                };
                let dangerous =
                    matches!(escaped, b'/' | b'\\' | b'%') || escaped.is_ascii_control();
                if in_path && dangerous {
                    return None;
                }
                i += 2;
            }
            b'!'..=b'~' => {}
            _ => return None,
        }
        i += 1;
    }
    Some(next)
}

/// The value of one hex digit, either case.
fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::local_path;

    fn refused(value: &str) {
        assert_eq!(local_path(value), None, "{value:?} should be refused");
    }

    fn accepted(value: &str) {
        assert_eq!(
            local_path(value),
            Some(value),
            "{value:?} should be accepted"
        );
    }

    #[test]
    fn the_root_is_accepted() {
        accepted("/");
    }

    #[test]
    fn a_path_is_accepted() {
        accepted("/foo");
        accepted("/foo/bar/");
    }

    #[test]
    fn a_query_and_fragment_are_accepted() {
        accepted("/foo?x=1#y");
    }

    #[test]
    fn percent_encoded_text_is_accepted() {
        accepted("/a/b%20c");
        accepted("/caf%C3%A9");
    }

    #[test]
    fn an_encoded_slash_in_the_query_is_accepted() {
        accepted("/search?q=a%2Fb%5Cc#x%2F");
    }

    #[test]
    fn dot_segments_and_colons_after_the_slash_are_accepted() {
        accepted("/a/../b");
        accepted("/time/12:30");
        accepted("/@evil.example");
    }

    #[test]
    fn the_empty_string_is_refused() {
        refused("");
    }

    #[test]
    fn scheme_relative_urls_are_refused() {
        refused("//evil.example");
        refused("//evil.example/path");
        refused("///evil.example");
    }

    #[test]
    fn a_slash_then_backslash_is_refused() {
        refused("/\\evil.example");
    }

    #[test]
    fn two_backslashes_are_refused() {
        refused("\\\\evil.example");
    }

    #[test]
    fn a_backslash_in_the_first_segment_is_refused() {
        refused("/a\\b");
        refused("/evil.example\\");
    }

    #[test]
    fn a_backslash_anywhere_is_refused() {
        refused("/a/b\\c");
        refused("/a?q=\\");
    }

    #[test]
    fn a_tab_is_refused() {
        refused("/\t/evil.example");
        refused("/a\tb");
    }

    #[test]
    fn a_carriage_return_is_refused() {
        refused("/a\rb");
    }

    #[test]
    fn a_line_feed_is_refused() {
        refused("/a\nLocation: //evil.example");
    }

    #[test]
    fn a_nul_is_refused() {
        refused("/a\0");
    }

    #[test]
    fn a_del_is_refused() {
        refused("/a\u{7f}");
    }

    #[test]
    fn a_percent_encoded_slash_is_refused() {
        refused("/%2f/evil.example");
        refused("/%2F/evil.example");
        refused("/a/%2F");
    }

    #[test]
    fn a_percent_encoded_backslash_is_refused() {
        refused("/%5cevil.example");
        refused("/%5Cevil.example");
    }

    #[test]
    fn percent_encoded_slashes_without_a_leading_slash_are_refused() {
        refused("%2F%2Fevil.example");
    }

    #[test]
    fn a_double_encoded_slash_is_refused() {
        refused("/%252F/evil.example");
    }

    #[test]
    fn a_percent_encoded_control_character_in_the_path_is_refused() {
        refused("/%09/evil.example");
        refused("/a%0d%0aSet-Cookie:x");
        refused("/%7F");
    }

    #[test]
    fn a_malformed_escape_is_refused() {
        refused("/%");
        refused("/%2");
        refused("/%zz");
        refused("/a?q=%g0");
    }

    #[test]
    fn the_full_width_solidus_is_refused() {
        refused("/\u{ff0f}evil.example");
        refused("\u{ff0f}\u{ff0f}evil.example");
    }

    #[test]
    fn the_fraction_slash_is_refused() {
        refused("/\u{2044}evil.example");
    }

    #[test]
    fn the_division_slash_is_refused() {
        refused("/\u{2215}evil.example");
    }

    #[test]
    fn the_big_solidus_is_refused() {
        refused("/\u{29f8}evil.example");
    }

    #[test]
    fn other_non_ascii_is_refused() {
        refused("/caf\u{e9}");
    }

    #[test]
    fn a_scheme_without_slashes_is_refused() {
        refused("http:evil.example");
    }

    #[test]
    fn a_javascript_url_is_refused() {
        refused("javascript:alert(1)");
    }

    #[test]
    fn an_absolute_url_is_refused() {
        refused("https://x");
        refused("https://evil.example/");
    }

    #[test]
    fn a_relative_path_is_refused() {
        refused("evil.example");
        refused("./a");
        refused("?next=/");
    }

    #[test]
    fn leading_whitespace_is_refused() {
        refused(" /foo");
        refused("\t/foo");
        refused("\n/foo");
    }

    #[test]
    fn whitespace_anywhere_is_refused() {
        refused("/a b");
        refused("/foo ");
    }

    /// Every accepted value resolves against a page of `a.example` to a URL on `a.example`,
    /// also after its path is percent-decoded once, as some servers and proxies do. Checked
    /// over every string of up to four characters from an alphabet of the characters that
    /// matter, each also behind a `/` and after the issue's off-site forms.
    #[test]
    fn every_accepted_value_stays_on_the_origin() {
        const ALPHABET: &[&str] = &[
            "/", "\\", "%", "2", "f", "F", "5", "c", "?", "#", ":", ".", "@", "a", "\t", " ",
            "\u{ff0f}", "%2F", "%5c",
        ];
        let base = url::Url::parse("http://a.example/dir/page").unwrap();
        let stays = |value: &str| {
            if let Some(ok) = local_path(value) {
                assert_eq!(ok, value);
                let resolved = base.join(value).unwrap();
                assert_eq!(resolved.host_str(), Some("a.example"), "{value:?}");
                let path = value.split(['?', '#']).next().unwrap();
                let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
                let resolved = base.join(&decoded).unwrap();
                assert_eq!(resolved.host_str(), Some("a.example"), "{value:?} decoded");
            }
        };
        let mut words = vec![String::new()];
        let mut level = words.clone();
        for _ in 0..4 {
            level = level
                .iter()
                .flat_map(|w| ALPHABET.iter().map(move |c| format!("{w}{c}")))
                .collect();
            words.extend(level.iter().cloned());
        }
        let mut accepted = 0;
        for word in &words {
            for value in [word.clone(), format!("/{word}"), format!("/x{word}")] {
                stays(&value);
                accepted += usize::from(local_path(&value).is_some());
            }
        }
        assert!(
            accepted > 1000,
            "the alphabet exercises accepted values too"
        );
    }
}
