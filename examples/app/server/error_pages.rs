//! The pages a browser is shown when the session layer refuses a request (`401`, `403`, the
//! CSRF check, `503`), in the app's own look, configured with
//! [`SessionConfigBuilder::error_page`](session_runtime::SessionConfigBuilder::error_page).
//!
//! The runtime keeps the status and still answers JSON to clients that do not accept
//! `text/html`; the API's answers are unchanged. A page is rendered from the refusal alone
//! ([`RejectionInfo`]), so its navigation bar has the links but not the user's name.
//!
//! The app sets a login URL, so its guards send a browser to `/login?next=...` rather than
//! show it the `401` page; that page is styled for a configuration without one.

use session_runtime::{ErrorPage, RejectionInfo, SessionConfigBuilder};

use super::layout::{self, Nav, esc};

/// The pages this module renders.
pub const STYLED: [ErrorPage; 4] = [
    ErrorPage::Unauthenticated,
    ErrorPage::Forbidden,
    ErrorPage::Csrf,
    ErrorPage::Unavailable,
];

/// `builder` with every page of [`STYLED`] rendered by [`render`].
pub fn styled(mut builder: SessionConfigBuilder) -> SessionConfigBuilder {
    for page in STYLED {
        builder = builder.error_page(page, render);
    }
    builder
}

/// The page for one refusal: a title, a sentence for people, the runtime's own message as
/// the detail, and a way on.
pub fn render(info: &RejectionInfo) -> String {
    let (title, nav, lead, next) = match info.page {
        ErrorPage::Unauthenticated => (
            "Login required",
            Nav::Guest,
            "Please log in to see this page.",
            "<a href=\"/login\">Log in</a>",
        ),
        ErrorPage::Forbidden => (
            "Forbidden",
            Nav::Unknown,
            "You are signed in, but your account may not open this page.",
            "<a href=\"/\">Back to the home page</a>",
        ),
        ErrorPage::Csrf => (
            "Request refused",
            Nav::Unknown,
            "The form was not accepted: it was sent from another site, or the page was \
             open for too long.",
            "Go back, reload the page and send the form again, or \
             <a href=\"/\">go to the home page</a>.",
        ),
        ErrorPage::Unavailable => (
            "Service unavailable",
            Nav::Unknown,
            "The site cannot reach its session store right now. Try again in a moment.",
            "<a href=\"/\">Try the home page</a>",
        ),
        _ => (
            "Something went wrong",
            Nav::Unknown,
            "The request could not be completed.",
            "<a href=\"/\">Back to the home page</a>",
        ),
    };
    let body = format!(
        "<div class=\"error\"><p class=\"status\">Error {status}</p><p>{lead}</p>\
         <p>{next}</p><p class=\"detail\">{detail}</p></div>",
        status = info.status.as_u16(),
        detail = esc(&info.message),
    );
    layout::document(title, &nav, &body)
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;
    use session_runtime::{CsrfRejection, SessionRejection};

    use super::*;

    fn info(res: impl IntoResponse) -> RejectionInfo {
        let res = res.into_response();
        res.extensions()
            .get::<RejectionInfo>()
            .expect("a rejection's info")
            .clone()
    }

    #[test]
    fn each_page_has_its_title_and_status() {
        let html = render(&info(SessionRejection::StoreUnavailable));
        assert!(
            html.contains("<title>Service unavailable</title>"),
            "{html}"
        );
        assert!(html.contains("Error 503"), "{html}");
        let html = render(&info(CsrfRejection::CrossSite));
        assert!(html.contains("<title>Request refused</title>"), "{html}");
        assert!(html.contains("Error 403"), "{html}");
    }

    #[test]
    fn the_message_is_escaped() {
        let mut refused = info(SessionRejection::StoreUnavailable);
        refused.message = "<script>alert(1)</script>".to_owned();
        let html = render(&refused);
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
    }
}
