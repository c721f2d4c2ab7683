//! The steps: each runs in a fresh browser against the example app, and returns what went
//! wrong rather than panicking, so that the runner can save a screenshot of the page.

use serde_json::{Value, json};

use crate::browser::{Browser, Context as _, Result};

/// The session cookie of the example app.
const COOKIE: &str = "__Host-session";
/// The CSRF cookie of a visitor without a session (the login form's).
const CSRF_COOKIE: &str = "__Host-csrf";

/// Where the sites are.
pub struct Env {
    /// The example app: `http://127.0.0.1:PORT`.
    pub app: String,
    /// The attacker on another port of the same host: another origin of the same site, so
    /// the browser sends the app's cookies with its post (`SameSite` does not apply).
    pub attacker_same_site: String,
    /// The attacker named `localhost`: another site.
    pub attacker_cross_site: String,
}

/// Every step, in the order they run.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    LoginForm,
    SessionCookieIsHttpOnly,
    NextRoundTrip,
    OffSiteNextIsRefused,
    ForbiddenPage,
    Logout,
    CrossSiteFormPostIsRefused,
    FlashShowsOnce,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::LoginForm,
        Step::SessionCookieIsHttpOnly,
        Step::NextRoundTrip,
        Step::OffSiteNextIsRefused,
        Step::ForbiddenPage,
        Step::Logout,
        Step::CrossSiteFormPostIsRefused,
        Step::FlashShowsOnce,
    ];

    /// The step's name, for the report and its screenshot's file.
    pub fn name(self) -> &'static str {
        match self {
            Step::LoginForm => "login_form",
            Step::SessionCookieIsHttpOnly => "session_cookie_is_http_only",
            Step::NextRoundTrip => "next_round_trip",
            Step::OffSiteNextIsRefused => "off_site_next_is_refused",
            Step::ForbiddenPage => "forbidden_page",
            Step::Logout => "logout",
            Step::CrossSiteFormPostIsRefused => "cross_site_form_post_is_refused",
            Step::FlashShowsOnce => "flash_shows_once",
        }
    }

    pub async fn run(self, env: &Env, b: &Browser) -> Result {
        match self {
            Step::LoginForm => login_form(env, b).await,
            Step::SessionCookieIsHttpOnly => session_cookie_is_http_only(env, b).await,
            Step::NextRoundTrip => next_round_trip(env, b).await,
            Step::OffSiteNextIsRefused => off_site_next_is_refused(env, b).await,
            Step::ForbiddenPage => forbidden_page(env, b).await,
            Step::Logout => logout(env, b).await,
            Step::CrossSiteFormPostIsRefused => cross_site_form_post_is_refused(env, b).await,
            Step::FlashShowsOnce => flash_shows_once(env, b).await,
        }
    }
}

fn ensure(condition: bool, what: impl FnOnce() -> String) -> Result {
    if condition { Ok(()) } else { Err(what()) }
}

/// Fills the login form on the page and submits it with its button.
async fn submit_login(b: &Browser, username: &str, password: &str) -> Result {
    b.fill("input[name=username]", username).await?;
    b.fill("input[name=password]", password).await?;
    b.click("form[action='/login'] button").await
}

/// Logs in through the login page and waits for the home page.
async fn log_in(env: &Env, b: &Browser, username: &str, password: &str) -> Result {
    b.goto(&format!("{}/login", env.app)).await?;
    b.wait_for_title("Log in").await?;
    submit_login(b, username, password).await?;
    b.wait_for_url(&format!("{}/", env.app)).await?;
    b.wait_for_text(&format!("Signed in as {username}")).await
}

/// The value of the session cookie the browser holds, which must be there.
async fn session_cookie(b: &Browser) -> Result<String> {
    let cookie = b
        .cookie(COOKIE)
        .await?
        .ok_or_else(|| format!("the browser holds no {COOKIE} cookie"))?;
    Ok(cookie.value().to_owned())
}

/// The HTTP status of the page's own response (Navigation Timing's `responseStatus`).
async fn status(b: &Browser) -> Result<u64> {
    let v = b
        .js(
            "const n = performance.getEntriesByType('navigation')[0]; \
             return n ? n.responseStatus : null;",
            vec![],
        )
        .await?;
    v.as_u64()
        .ok_or_else(|| format!("no status for the page: {v}"))
}

/// The login form, filled in and submitted, leads to the signed-in home page, and the
/// browser keeps the app's `__Host-` cookie (Secure, HttpOnly) on plain `http://127.0.0.1`.
async fn login_form(env: &Env, b: &Browser) -> Result {
    b.goto(&format!("{}/", env.app)).await?;
    b.wait_for_text("You are browsing as a guest").await?;
    b.click("a[href='/login']").await?;
    b.wait_for_url(&format!("{}/login", env.app)).await?;
    b.wait_for_title("Log in").await?;
    submit_login(b, "alice", "wrong-pass").await?;
    b.wait_for_text("Wrong username or password.").await?;
    ensure(b.cookie(COOKIE).await?.is_none(), || {
        "a failed login left a session cookie".to_owned()
    })?;
    submit_login(b, "alice", "alice-pass").await?;
    b.wait_for_url(&format!("{}/", env.app)).await?;
    b.wait_for_text("Signed in as alice").await?;
    let cookie = b
        .cookie(COOKIE)
        .await?
        .ok_or_else(|| format!("signed in, but the browser holds no {COOKIE} cookie"))?;
    ensure(cookie.secure() == Some(true), || {
        format!("the session cookie is not Secure: {cookie}")
    })?;
    ensure(cookie.path() == Some("/"), || {
        format!("the session cookie's path is not /: {cookie}")
    })?;
    // The session lives on: another page load is still signed in.
    b.goto(&format!("{}/", env.app)).await?;
    b.wait_for_text("Signed in as alice").await
}

/// The texts of the page's notices (the example's flash messages, `<p role="status">`).
async fn notices(b: &Browser) -> Result<Vec<String>> {
    let v = b
        .js(
            "return Array.from(document.querySelectorAll('p[role=status]'), p => p.textContent);",
            vec![],
        )
        .await?;
    serde_json::from_value(v.clone()).map_err(|e| format!("notices {v}: {e}"))
}

/// A flash message shows once: the welcome after the login form is on the page the login
/// leads to, and gone when that page loads again.
async fn flash_shows_once(env: &Env, b: &Browser) -> Result {
    log_in(env, b, "alice", "alice-pass").await?;
    let first = notices(b).await?;
    ensure(first == ["Welcome, alice"], || {
        format!("after login the notices are {first:?}, not the welcome")
    })?;
    b.goto(&format!("{}/", env.app)).await?;
    b.wait_for_text("Signed in as alice").await?;
    let again = notices(b).await?;
    ensure(again.is_empty(), || {
        format!("the welcome showed a second time: {again:?}")
    })
}

/// Page scripts cannot read the session cookie, nor replace it; nor, before login, the
/// login form's CSRF cookie.
async fn session_cookie_is_http_only(env: &Env, b: &Browser) -> Result {
    b.goto(&format!("{}/login", env.app)).await?;
    b.wait_for_title("Log in").await?;
    let visitor = b
        .cookie(CSRF_COOKIE)
        .await?
        .ok_or_else(|| format!("the login form set no {CSRF_COOKIE} cookie"))?;
    ensure(visitor.http_only() == Some(true), || {
        format!("the visitor's CSRF cookie is not HttpOnly: {visitor}")
    })?;
    let seen = b.js("return document.cookie;", vec![]).await?;
    ensure(
        !seen.as_str().unwrap_or_default().contains(CSRF_COOKIE),
        || format!("document.cookie shows the CSRF cookie: {seen}"),
    )?;
    submit_login(b, "alice", "alice-pass").await?;
    b.wait_for_url(&format!("{}/", env.app)).await?;
    b.wait_for_text("Signed in as alice").await?;
    let cookie = b.cookie(COOKIE).await?.ok_or("no session cookie")?;
    ensure(cookie.http_only() == Some(true), || {
        format!("the session cookie is not HttpOnly: {cookie}")
    })?;
    let seen = b.js("return document.cookie;", vec![]).await?;
    let seen = seen.as_str().unwrap_or_default();
    ensure(
        !seen.contains(COOKIE) && !seen.contains(cookie.value()),
        || format!("document.cookie shows the session cookie: {seen:?}"),
    )?;
    // A script's cookie of the same name does not replace an HttpOnly one.
    b.js(
        "document.cookie = arguments[0] + '=forged; Path=/; Secure'; return null;",
        vec![json!(COOKIE)],
    )
    .await?;
    let after = session_cookie(b).await?;
    ensure(after == cookie.value(), || {
        format!("a script replaced the session cookie: {after:?}")
    })?;
    b.goto(&format!("{}/", env.app)).await?;
    b.wait_for_text("Signed in as alice").await
}

/// An anonymous visit to a guarded page goes to the login page with `next`, and the login
/// goes back to that page.
async fn next_round_trip(env: &Env, b: &Browser) -> Result {
    b.goto(&format!("{}/admin", env.app)).await?;
    b.wait_for_url(&format!("{}/login?next=/admin", env.app))
        .await?;
    b.wait_for_title("Log in").await?;
    let next = b.find("input[name=next]").await?;
    let value = next.prop("value").await.ctx("read the next field")?;
    ensure(value.as_deref() == Some("/admin"), || {
        format!("the login form's next is {value:?}, not /admin")
    })?;
    submit_login(b, "sam", "sam-pass").await?;
    b.wait_for_url(&format!("{}/admin", env.app)).await?;
    let text = b.wait_for_title("Admin").await?;
    ensure(text.contains("Welcome, sam"), || {
        format!("the admin page does not greet sam: {text:?}")
    })?;
    // The same for a page that wants any signed-in user, in a browser signed out again.
    b.delete_cookies().await?;
    b.goto(&format!("{}/sessions", env.app)).await?;
    b.wait_for_url(&format!("{}/login?next=/sessions", env.app))
        .await?;
    submit_login(b, "alice", "alice-pass").await?;
    b.wait_for_url(&format!("{}/sessions", env.app)).await?;
    let text = b.wait_for_title("Your sessions").await?;
    ensure(text.contains("this browser"), || {
        format!("the sessions page does not list this browser: {text:?}")
    })
}

/// A `next` off the site, given to the login page or put into its form, lands on the app's
/// home page after login.
async fn off_site_next_is_refused(env: &Env, b: &Browser) -> Result {
    for evil in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "http:evil.example",
    ] {
        b.delete_cookies().await?;
        let query: String = evil.bytes().map(|c| format!("%{c:02X}")).collect();
        b.goto(&format!("{}/login?next={query}", env.app)).await?;
        b.wait_for_title("Log in").await?;
        let value = b
            .find("input[name=next]")
            .await?
            .prop("value")
            .await
            .ctx("read the next field")?;
        ensure(value.as_deref() == Some("/"), || {
            format!("for next={evil:?} the login form's next is {value:?}, not /")
        })?;
        // A forged form (the field set by hand) is refused by the login itself.
        b.js(
            "document.querySelector('input[name=next]').value = arguments[0]; return null;",
            vec![Value::from(evil)],
        )
        .await?;
        submit_login(b, "alice", "alice-pass").await?;
        b.wait_for_url(&format!("{}/", env.app))
            .await
            .map_err(|e| format!("next={evil:?}: {e}"))?;
        b.wait_for_text("Signed in as alice").await?;
    }
    Ok(())
}

/// A signed-in user without the staff role gets the 403 page on a staff page, not the login
/// page.
async fn forbidden_page(env: &Env, b: &Browser) -> Result {
    log_in(env, b, "alice", "alice-pass").await?;
    b.goto(&format!("{}/admin", env.app)).await?;
    b.wait_for_url(&format!("{}/admin", env.app)).await?;
    let text = b.wait_for_title("Forbidden").await?;
    let code = status(b).await?;
    ensure(code == 403, || format!("the page answered {code}, not 403"))?;
    ensure(!text.contains("Welcome"), || {
        format!("the 403 page shows the admin page: {text:?}")
    })?;
    // Still signed in.
    b.goto(&format!("{}/", env.app)).await?;
    b.wait_for_text("Signed in as alice").await
}

/// The logout button ends the session: the cookie is gone, and the old cookie, replayed,
/// opens nothing.
async fn logout(env: &Env, b: &Browser) -> Result {
    log_in(env, b, "sam", "sam-pass").await?;
    let old = session_cookie(b).await?;
    b.click("form[action='/logout'] button").await?;
    b.wait_for_url(&format!("{}/", env.app)).await?;
    b.wait_for_text("You are browsing as a guest").await?;
    ensure(b.cookie(COOKIE).await?.is_none(), || {
        "the session cookie survived the logout".to_owned()
    })?;
    b.goto(&format!("{}/admin", env.app)).await?;
    b.wait_for_url(&format!("{}/login?next=/admin", env.app))
        .await?;
    // The server ended the session too: its old cookie, replayed, is anonymous.
    let replayed = api_status(&format!("{}/api/me", env.app), &old).await?;
    ensure(replayed == 401, || {
        format!("the logged-out cookie, replayed, still answers {replayed} on /api/me")
    })
}

/// The status of `GET url` sent outside the browser with the session cookie `value`.
async fn api_status(url: &str, value: &str) -> Result<u16> {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let client = Client::builder(TokioExecutor::new())
        .build_http::<http_body_util::Empty<axum::body::Bytes>>();
    let request = http::Request::get(url)
        .header(http::header::COOKIE, format!("{COOKIE}={value}"))
        .body(http_body_util::Empty::new())
        .ctx("build a request")?;
    let response = client.request(request).await.ctx(&format!("GET {url}"))?;
    Ok(response.status().as_u16())
}

/// Forms that another origin posts to the app (`/logout`, `/cart`) are refused with the CSRF
/// page, and the session is unchanged.
async fn cross_site_form_post_is_refused(env: &Env, b: &Browser) -> Result {
    log_in(env, b, "alice", "alice-pass").await?;
    let before = session_cookie(b).await?;
    for attacker in [&env.attacker_same_site, &env.attacker_cross_site] {
        for target in ["/logout", "/cart"] {
            b.goto(&format!("{attacker}{target}")).await?;
            // The page submits itself: the browser ends on the app's answer.
            b.wait_for_url(&format!("{}{target}", env.app))
                .await
                .map_err(|e| format!("from {attacker}{target}: {e}"))?;
            b.wait_for_title("Request refused")
                .await
                .map_err(|e| format!("from {attacker}{target}: {e}"))?;
            let code = status(b).await?;
            ensure(code == 403, || {
                format!("the post from {attacker}{target} answered {code}, not 403")
            })?;
        }
    }
    b.goto(&format!("{}/", env.app)).await?;
    b.wait_for_text("Signed in as alice").await?;
    b.wait_for_text("Your cart is empty.").await?;
    let after = session_cookie(b).await?;
    ensure(after == before, || {
        "the session cookie changed after the refused posts".to_owned()
    })
}
