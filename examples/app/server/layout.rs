//! The page shell every HTML page of the app shares: a navigation bar, one small inline
//! stylesheet, the page's title and its body.
//!
//! The navigation bar ([`Nav`]) shows a signed-in user's name and a logout button (a `POST`
//! form carrying the CSRF token, as every form of the app does), or a "Log in" link for
//! guests. The error pages ([`super::error_pages`]) use the same shell.
//!
//! ```text
//! let nav = Nav::of(&session, &csrf);
//! layout::page("Your sessions", &nav, "<p>...</p>")
//! ```

use axum::response::Html;
use session_runtime::CsrfToken;

use super::AppSessionHandle;

/// The stylesheet of every page, inline (the app serves no files). `time` never wraps, so a
/// date stays on one line in narrow table cells.
const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328;background:#f6f8fa}\
nav{display:flex;flex-wrap:wrap;align-items:center;gap:.25rem 1rem;min-height:3.25rem;\
padding:.5rem 1rem;background:#24292f;color:#f6f8fa}\
nav a{color:#f6f8fa;text-decoration:none}nav a:hover{text-decoration:underline}\
nav .brand{font-weight:600}\
nav .who{margin-left:auto;display:flex;align-items:center;gap:.75rem}\
nav form{margin:0}\
main{max-width:48rem;margin:1.5rem auto;padding:1rem 1.5rem;background:#fff;\
border:1px solid #d0d7de;border-radius:8px}\
@media(max-width:50rem){main{margin:1rem .5rem;padding:.75rem}}\
h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:1.25rem 0 .5rem}\
form{margin:1rem 0}label{display:block;margin:.5rem 0}input,button{font:inherit}\
label input{display:block;margin-top:.25rem;padding:.25rem .5rem;border:1px solid #8c959f;\
border-radius:6px}\
label.check input{display:inline;margin:0 .25rem 0 0}\
button{padding:.25rem .75rem;border:1px solid #8c959f;border-radius:6px;background:#f6f8fa;\
cursor:pointer}button:hover{background:#eaeef2}\
nav button{border-color:#57606a;background:#32383f;color:#f6f8fa}\
nav button:hover{background:#424a53}\
td form{margin:0}\
div.table{overflow-x:auto}table{width:100%;border-collapse:collapse}\
th,td{padding:.4rem .5rem;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:middle}\
time{white-space:nowrap}\
ul.cart{padding-left:1.25rem}\
[role=status],[role=alert],.reason{padding:.5rem .75rem;border-radius:6px}\
[role=status]{background:#dafbe1;border:1px solid #4ac26b}\
[role=alert]{background:#ffebe9;border:1px solid #ff8182}\
.reason{background:#ddf4ff;border:1px solid #54aeff}\
.error .status{color:#cf222e;font-weight:600;margin:0}\
.detail{color:#57606a;font-size:.9rem}";

/// Who the navigation bar is for.
#[derive(Debug)]
pub enum Nav<'a> {
    /// A signed-in user: their name and a logout button.
    User {
        /// The user's name, as stored in the session.
        name: String,
        /// The token the logout form carries.
        csrf: &'a CsrfToken,
    },
    /// A guest: a "Log in" link.
    Guest,
    /// A visitor the page knows nothing about: the links only. The error pages are rendered
    /// from the refusal alone ([`session_runtime::RejectionInfo`]), without the session.
    Unknown,
}

impl<'a> Nav<'a> {
    /// The bar for this session: the user's, or a guest's.
    pub fn of(session: &AppSessionHandle, csrf: &'a CsrfToken) -> Self {
        match (session.user_id(), session.username()) {
            (Some(_), Some(name)) => Nav::User { name, csrf },
            _ => Nav::Guest,
        }
    }

    fn render(&self) -> String {
        let links = "<a class=\"brand\" href=\"/\">Typed sessions demo</a>\
                     <a href=\"/sessions\">Your sessions</a><a href=\"/admin\">Admin</a>";
        let who = match self {
            Nav::User { name, csrf } => format!(
                "<span class=\"who\"><span>Signed in as <strong>{}</strong></span>\
                 <form method=\"post\" action=\"/logout\">{}<button>Log out</button></form></span>",
                esc(name),
                csrf_field(csrf)
            ),
            Nav::Guest => "<span class=\"who\"><a href=\"/login\">Log in</a></span>".to_owned(),
            Nav::Unknown => String::new(),
        };
        format!("<nav>{links}{who}</nav>")
    }
}

/// A whole page: the shell around `body` (HTML, escaped by the caller), titled `title`.
pub fn page(title: &str, nav: &Nav<'_>, body: &str) -> Html<String> {
    Html(document(title, nav, body))
}

/// The HTML text of [`page`], for the error pages, which return a `String`.
pub fn document(title: &str, nav: &Nav<'_>, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body>{nav}<main><h1>{title}</h1>\n{body}\n</main></body></html>",
        title = esc(title),
        nav = nav.render(),
    )
}

/// Escapes text for HTML, in element content and in quoted attribute values alike.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The hidden field that carries the CSRF token in every form.
pub fn csrf_field(csrf: &CsrfToken) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">",
        esc(csrf.as_str())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_escapes_what_html_gives_a_meaning() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(esc("Firefox on Linux"), "Firefox on Linux");
    }

    #[test]
    fn a_guest_gets_a_login_link_and_no_logout_form() {
        let html = document("Home", &Nav::Guest, "<p>hi</p>");
        assert!(html.contains("<a href=\"/login\">Log in</a>"), "{html}");
        assert!(!html.contains("action=\"/logout\""), "{html}");
        assert!(html.contains("<title>Home</title>") && html.contains("<h1>Home</h1>"));
    }

    #[test]
    fn an_unknown_visitor_gets_the_links_only() {
        let html = document("Forbidden", &Nav::Unknown, "");
        assert!(html.contains("href=\"/sessions\""), "{html}");
        assert!(
            !html.contains("Log in") && !html.contains("/logout"),
            "{html}"
        );
    }

    #[test]
    fn the_title_is_escaped() {
        let html = document("<b>x</b>", &Nav::Unknown, "");
        assert!(
            html.contains("<title>&lt;b&gt;x&lt;/b&gt;</title>"),
            "{html}"
        );
    }
}
