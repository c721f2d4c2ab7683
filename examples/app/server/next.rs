//! The login form's `next` check, apart from the pages so that the fuzz target
//! `next_redirect` (`fuzz/`) can include this very file: it depends on nothing.

/// Where to go after login: `next` if it is a path on this site, else `/`.
///
/// Refuses absolute URLs, scheme-relative `//host`, backslash tricks (`/\host`) and control
/// characters, so the login form is no open redirect.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control() || c == '\\') =>
        {
            n
        }
        _ => "/",
    }
}
