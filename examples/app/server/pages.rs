//! The browser pages: home (with the cart), login form, logout, the user's sessions, and a
//! staff-only admin page, each in the shared shell ([`layout`]) with the navigation bar. A
//! page that a form redirects to shows the session's flash notices once ([`notices`]).

use std::fmt;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use session_runtime::redirect::local_path;
use session_runtime::{
    CsrfToken, PublicId, RequireAuth, RequireStaff, Session, SessionError, SessionKind,
};

use super::api::{authenticate, sign_in};
use super::layout::{self, Nav, csrf_field, esc};
use super::throttle::RetryAfter;
use super::{AppSession, AppSessionHandle, AppState, devices, times};

/// The session's flash notices, taken: shown on this page, gone on the next.
fn notices(session: &AppSessionHandle) -> String {
    session
        .take_notices()
        .iter()
        .map(|notice| format!("<p role=\"status\">{}</p>", esc(notice)))
        .collect()
}

/// Queues a notice for the next page.
fn flash(session: &AppSessionHandle, notice: String) -> Result<(), SessionError> {
    session.update_notices(|notices| notices.push(notice))
}

/// Where to go after login: `next` if it is a path on this site, else `/`, so the login
/// form is no open redirect (see [`local_path`] for exactly what it accepts).
pub fn safe_next(next: Option<&str>) -> &str {
    next.and_then(local_path).unwrap_or("/")
}

/// The cart: a heading with the count and a list, `<ul class="cart">` with one
/// `<li>Item #N</li>` per item, or "Your cart is empty.".
pub fn cart_list(cart: &[u64]) -> String {
    if cart.is_empty() {
        return "<h2>Your cart</h2><p>Your cart is empty.</p>".to_owned();
    }
    let items: String = cart
        .iter()
        .map(|item| format!("<li>Item #{item}</li>"))
        .collect();
    let count = match cart.len() {
        1 => "1 item".to_owned(),
        n => format!("{n} items"),
    };
    format!("<h2>Your cart ({count})</h2><ul class=\"cart\">{items}</ul>")
}

pub async fn home(session: Session<AppSession>, csrf: CsrfToken) -> Html<String> {
    let notices = notices(&session);
    let nav = Nav::of(&session, &csrf);
    let guest = match nav {
        Nav::User { .. } => "",
        _ => {
            "<p>You are browsing as a guest. <a href=\"/login\">Log in</a> to keep your \
              cart and see your sessions.</p>"
        }
    };
    layout::page(
        "Shop",
        &nav,
        &format!(
            "{notices}{guest}{cart}\
             <form method=\"post\" action=\"/cart\">{csrf}<label>Item number \
             <input name=\"item\" type=\"number\" min=\"0\" required></label>\
             <button>Add to cart</button></form>",
            cart = cart_list(&session.cart()),
            csrf = csrf_field(&csrf),
        ),
    )
}

/// Query of `GET /login`.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Why the visitor is on the login page: "Please log in to see /admin." when `next` is a
/// local path other than the home page, else nothing (an off-site `next` is not repeated).
pub fn login_reason(next: &str) -> Option<String> {
    let path = local_path(next).filter(|path| *path != "/")?;
    Some(format!(
        "<p class=\"reason\">Please log in to see {}.</p>",
        esc(path)
    ))
}

fn login_page(csrf: &CsrfToken, next: &str, error: Option<&str>) -> Html<String> {
    let reason = login_reason(next).unwrap_or_default();
    let csrf = csrf_field(csrf);
    let error = error.map_or(String::new(), |e| {
        format!("<p role=\"alert\">{}</p>", esc(e))
    });
    layout::page(
        "Log in",
        &Nav::Guest,
        &format!(
            "{reason}{error}<form method=\"post\" action=\"/login\">{csrf}\
             <input type=\"hidden\" name=\"next\" value=\"{next}\">\
             <label>Username <input name=\"username\" autocomplete=\"username\" required></label>\
             <label>Password <input name=\"password\" type=\"password\" \
             autocomplete=\"current-password\" required></label>\
             <label class=\"check\"><input type=\"checkbox\" name=\"remember\"> \
             Remember me on this device for 30 days</label>\
             <button>Log in</button></form>\
             <p>Demo users: alice / alice-pass, sam / sam-pass (staff), root / root-pass (superuser).</p>",
            next = esc(next)
        ),
    )
}

pub async fn login_form(csrf: CsrfToken, Query(q): Query<NextQuery>) -> Html<String> {
    login_page(&csrf, safe_next(q.next.as_deref()), None)
}

/// `POST /login` form. Its `Debug` hides the password.
#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
    /// The "Remember me" checkbox: present when ticked.
    remember: Option<String>,
}

impl fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginForm")
            .field("username", &self.username)
            .field("password", &format_args!("<redacted>"))
            .field("next", &self.next)
            .field("remember", &self.remember.is_some())
            .finish()
    }
}

/// `POST /login`: to `next` when signed in; the form again with `401` on bad credentials,
/// or with `429` and `Retry-After` after too many failures for this username.
pub async fn login(
    State(state): State<AppState>,
    session: Session<AppSession>,
    csrf: CsrfToken,
    Form(form): Form<LoginForm>,
) -> Result<Response, SessionError> {
    let next = safe_next(form.next.as_deref());
    let users = &state.users;
    let user = match authenticate(users, &state.logins, &form.username, &form.password).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            let page = login_page(&csrf, next, Some("Wrong username or password."));
            return Ok((StatusCode::UNAUTHORIZED, page).into_response());
        }
        Err(RetryAfter(secs)) => {
            let minutes = secs.div_ceil(60);
            let message = format!(
                "Too many failed attempts for this user. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            );
            let page = login_page(&csrf, next, Some(&message));
            let retry = [(axum::http::header::RETRY_AFTER, secs.to_string())];
            return Ok((StatusCode::TOO_MANY_REQUESTS, retry, page).into_response());
        }
    };
    sign_in(&session, users, &user, form.remember.is_some()).await?;
    flash(&session, format!("Welcome, {}", user.username))?;
    Ok(Redirect::to(next).into_response())
}

pub async fn logout(session: Session<AppSession>) -> Result<Redirect, SessionError> {
    session.logout().await?;
    Ok(Redirect::to("/"))
}

/// `POST /cart` form.
#[derive(Debug, Deserialize)]
pub struct CartForm {
    item: u64,
}

pub async fn add_to_cart(
    session: Session<AppSession>,
    Form(form): Form<CartForm>,
) -> Result<Redirect, SessionError> {
    session.update_cart(|cart| cart.push(form.item))?;
    Ok(Redirect::to("/"))
}

pub async fn admin(staff: RequireStaff<AppSession>, csrf: CsrfToken) -> Html<String> {
    let name = staff.username().unwrap_or_default();
    layout::page(
        "Admin",
        &Nav::of(&staff, &csrf),
        &format!(
            "{}<p>Welcome, {} (user {}). Only staff and superusers see this page.</p>",
            notices(&staff),
            esc(&name),
            staff.user_id()
        ),
    )
}

/// `GET /sessions`: the signed-in user's sessions, each with its device ("Firefox on Linux",
/// [`devices`]), when it signed in and was last seen ("5 minutes ago" on the app's clock,
/// [`times`]), and a revoke button.
pub async fn sessions(
    State(state): State<AppState>,
    user: RequireAuth<AppSession>,
    csrf_token: CsrfToken,
) -> Result<Html<String>, SessionError> {
    let csrf = csrf_field(&csrf_token);
    let list = user.session().list_sessions().await?;
    let notices = notices(&user);
    let now = state.clock.now();
    let mut rows = String::new();
    for s in &list {
        let action = if s.current {
            "<em>this browser</em>".to_owned()
        } else {
            format!(
                "<form method=\"post\" action=\"/sessions/{id}/revoke\">{csrf}\
                 <button>Revoke</button></form>",
                id = esc(s.id.as_str())
            )
        };
        let kind = match s.kind {
            SessionKind::Remembered => " <small>(remembered)</small>",
            SessionKind::Api => " <small>(API token)</small>",
            _ => "",
        };
        rows.push_str(&format!(
            "<tr><td>{device}{kind}</td><td>{created}</td><td>{seen}</td><td>{action}</td></tr>",
            device = devices::element(s.device.as_deref()),
            created = times::element(s.created_at, now),
            seen = times::element(s.last_seen, now),
        ));
    }
    Ok(layout::page(
        "Your sessions",
        &Nav::of(&user, &csrf_token),
        &format!(
            "{notices}<div class=\"table\"><table><thead><tr><th>Device</th>\
             <th>Signed in</th><th>Last seen</th><th></th></tr></thead>\
             <tbody>{rows}</tbody></table></div>\
             <form method=\"post\" action=\"/logout-others\">{csrf}\
             <button>Log out all other sessions</button></form>"
        ),
    ))
}

/// `POST /sessions/{id}/revoke`: ends one session, back to the list, which then says so once.
pub async fn revoke_session(
    user: RequireAuth<AppSession>,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> Result<Response, SessionError> {
    // An id that is not well formed names no session: the store need not see it.
    let revoked = match PublicId::parse(&id) {
        Some(id) => user.session().revoke_session(&id).await?,
        None => false,
    };
    if revoked {
        flash(&user, "Session ended".to_owned())?;
        Ok(Redirect::to("/sessions").into_response())
    } else {
        let body = layout::page(
            "Not found",
            &Nav::of(&user, &csrf),
            "<p>No such session. <a href=\"/sessions\">Back</a></p>",
        );
        Ok((StatusCode::NOT_FOUND, body).into_response())
    }
}

/// `POST /logout-others`: ends every other session, back to the list.
pub async fn logout_others(user: RequireAuth<AppSession>) -> Result<Redirect, SessionError> {
    user.session().logout_others().await?;
    Ok(Redirect::to("/sessions"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cart_counts_its_items() {
        assert_eq!(
            cart_list(&[]),
            "<h2>Your cart</h2><p>Your cart is empty.</p>"
        );
        assert_eq!(
            cart_list(&[4]),
            "<h2>Your cart (1 item)</h2><ul class=\"cart\"><li>Item #4</li></ul>"
        );
        assert!(cart_list(&[4, 4, 9]).starts_with("<h2>Your cart (3 items)</h2>"));
    }

    #[test]
    fn the_login_reason_is_for_local_paths_only_and_escaped() {
        assert_eq!(
            login_reason("/admin").as_deref(),
            Some("<p class=\"reason\">Please log in to see /admin.</p>")
        );
        assert_eq!(
            login_reason("/a?b=<i>").as_deref(),
            Some("<p class=\"reason\">Please log in to see /a?b=&lt;i&gt;.</p>")
        );
        for no_reason in ["/", "", "//evil.example", "https://evil.example", "/\\evil"] {
            assert_eq!(login_reason(no_reason), None, "{no_reason:?}");
        }
    }
}
