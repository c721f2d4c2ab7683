//! The steps: each runs in a fresh browser against the example app, and returns what went
//! wrong rather than panicking, so that the runner can save a screenshot of the page.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use session_runtime::ManualClock;

use crate::browser::{Browser, Context as _, Result};
use crate::sites::Site;

/// The session cookie of the example app.
const COOKIE: &str = "__Host-session";
/// The remember-me cookie of the example app.
const REMEMBER_COOKIE: &str = "remember";
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
    /// Where screenshots go (`target/real-browser-screenshots`).
    pub shots: PathBuf,
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
    Pages,
    RememberMe,
}

impl Step {
    pub const ALL: [Step; 10] = [
        Step::LoginForm,
        Step::SessionCookieIsHttpOnly,
        Step::NextRoundTrip,
        Step::OffSiteNextIsRefused,
        Step::ForbiddenPage,
        Step::Logout,
        Step::CrossSiteFormPostIsRefused,
        Step::FlashShowsOnce,
        Step::Pages,
        Step::RememberMe,
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
            Step::Pages => "pages",
            Step::RememberMe => "remember_me",
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
            Step::Pages => pages(env, b).await,
            Step::RememberMe => remember_me(env, b).await,
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

/// The login form's "Remember me" box: the browser gets an HttpOnly `remember` cookie, and
/// once the session cookie is gone (the browser closed) the next page is signed in again,
/// under a new session cookie and a replaced remember token.
async fn remember_me(env: &Env, b: &Browser) -> Result {
    b.goto(&format!("{}/login", env.app)).await?;
    b.wait_for_title("Log in").await?;
    b.fill("input[name=username]", "sam").await?;
    b.fill("input[name=password]", "sam-pass").await?;
    b.click("input[name=remember]").await?;
    b.click("form[action='/login'] button").await?;
    b.wait_for_text("Signed in as sam").await?;
    let remember = b
        .cookie(REMEMBER_COOKIE)
        .await?
        .ok_or("the remember box set no remember cookie")?;
    ensure(remember.http_only() == Some(true), || {
        format!("the remember cookie is not HttpOnly: {remember}")
    })?;
    let old_session = session_cookie(b).await?;
    b.delete_cookie(COOKIE).await?;
    b.goto(&format!("{}/sessions", env.app)).await?;
    b.wait_for_text("Signed in as sam").await?;
    b.wait_for_text("(remembered)").await?;
    let new_session = session_cookie(b).await?;
    ensure(new_session != old_session, || {
        "the session cookie was not replaced".to_owned()
    })?;
    let replaced = b
        .cookie(REMEMBER_COOKIE)
        .await?
        .ok_or("the remember cookie is gone after a restore")?;
    ensure(replaced.value() != remember.value(), || {
        "the remember token was not replaced on use".to_owned()
    })?;
    // Logging out forgets the device: without the session cookie, the next page is a guest's.
    b.click("nav form button").await?;
    b.wait_for_text("Log in").await?;
    ensure(b.cookie(REMEMBER_COOKIE).await?.is_none(), || {
        "logout left the remember cookie".to_owned()
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

/// A Firefox on Linux, for the session the pages step starts outside the browser.
const FIREFOX_ON_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// Logs in through `POST /api/login` outside the browser, as the client `agent`.
async fn api_login(origin: &str, username: &str, password: &str, agent: &str) -> Result {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let client = Client::builder(TokioExecutor::new())
        .build_http::<http_body_util::Full<axum::body::Bytes>>();
    let body = json!({"username": username, "password": password}).to_string();
    let request = http::Request::post(format!("{origin}/api/login"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::USER_AGENT, agent)
        .body(http_body_util::Full::new(body.into()))
        .ctx("build a request")?;
    let response = client.request(request).await.ctx("POST /api/login")?;
    ensure(response.status() == 200, || {
        format!("POST /api/login answered {}", response.status())
    })
}

/// Saves a screenshot of the page as `pages/NAME.png`, for people to look at.
async fn shoot(env: &Env, b: &Browser, name: &str) -> Result {
    b.screenshot(&env.shots.join("pages").join(format!("{name}.png")))
        .await
}

/// The texts of the elements `css`.
async fn texts(b: &Browser, css: &str) -> Result<Vec<String>> {
    let v = b
        .js(
            "return Array.from(document.querySelectorAll(arguments[0]), e => e.textContent.trim());",
            vec![json!(css)],
        )
        .await?;
    serde_json::from_value(v.clone()).map_err(|e| format!("texts of {css} {v}: {e}"))
}

/// The text of the navigation bar.
async fn nav_text(b: &Browser) -> Result<String> {
    Ok(texts(b, "nav").await?.concat())
}

/// Every `<time>` on the page: its text, its tooltip, and whether it sits on one line (one
/// client rectangle, no taller than a line).
async fn times_on_one_line(b: &Browser) -> Result<Vec<(String, String)>> {
    let v = b
        .js(
            "return Array.from(document.querySelectorAll('time'), t => {\
               const rects = t.getClientRects();\
               const line = parseFloat(getComputedStyle(t).lineHeight);\
               const height = t.getBoundingClientRect().height;\
               return [t.textContent, t.title, rects.length, height, line];\
             });",
            vec![],
        )
        .await?;
    let rows: Vec<(String, String, u64, f64, f64)> =
        serde_json::from_value(v.clone()).map_err(|e| format!("times {v}: {e}"))?;
    let mut out = Vec::new();
    for (text, title, rects, height, line) in rows {
        ensure(rects == 1 && height <= line + 1.0, || {
            format!(
                "the time {text:?} wraps: {rects} line boxes, {height}px high for a {line}px line"
            )
        })?;
        out.push((text, title));
    }
    Ok(out)
}

/// The example's pages as a visitor sees them, on a clock the test moves: the navigation
/// bar (a guest's login link, the user's name and logout button), the cart as a list, the
/// styled CSRF page, the login page's reason, the styled `403` page, and the sessions page's device names and
/// "5 minutes ago" times, on one line even in a narrow window. Every page is saved under
/// `pages/`.
async fn pages(env: &Env, b: &Browser) -> Result {
    let clock = ManualClock::new();
    let site = Site::app_on(clock.clone()).await;
    let app = site.origin();
    // A session from another device, five minutes before the browser's.
    api_login(&app, "alice", "alice-pass", FIREFOX_ON_LINUX).await?;
    clock.advance(Duration::from_secs(5 * 60 + 5));

    // A guest: the login link, an empty cart, then two items.
    b.goto(&format!("{app}/")).await?;
    b.wait_for_text("You are browsing as a guest").await?;
    b.find("nav a[href='/login']").await?;
    ensure(b.body_text().await?.contains("Your cart is empty."), || {
        "the guest's cart is not empty".to_owned()
    })?;
    shoot(env, b, "home-guest").await?;
    for item in ["3", "7"] {
        b.fill("input[name=item]", item).await?;
        b.click("form[action='/cart'] button").await?;
        b.wait_for_text(&format!("Item #{item}")).await?;
    }
    let cart = texts(b, "ul.cart li").await?;
    ensure(cart == ["Item #3", "Item #7"], || {
        format!("the cart list shows {cart:?}")
    })?;
    shoot(env, b, "cart-guest").await?;

    // A form with a token that is not the session's: the styled CSRF page, and no change.
    b.js(
        "document.querySelector('form[action=\"/cart\"] input[name=csrf_token]').value = 'forged'; \
         return null;",
        vec![],
    )
    .await?;
    b.fill("input[name=item]", "9").await?;
    b.click("form[action='/cart'] button").await?;
    b.wait_for_url(&format!("{app}/cart")).await?;
    let text = b.wait_for_title("Request refused").await?;
    let code = status(b).await?;
    ensure(code == 403 && text.contains("Error 403"), || {
        format!("the forged form answered {code}: {text:?}")
    })?;
    shoot(env, b, "csrf").await?;

    // A guarded page sends the guest to the login page, which says why.
    b.goto(&format!("{app}/admin")).await?;
    b.wait_for_url(&format!("{app}/login?next=/admin")).await?;
    b.wait_for_title("Log in").await?;
    let reason = texts(b, ".reason").await?;
    ensure(reason == ["Please log in to see /admin."], || {
        format!("the login page's reason is {reason:?}")
    })?;
    shoot(env, b, "login-next").await?;

    // Alice is no staff: the styled 403 page, with the app's navigation bar.
    submit_login(b, "alice", "alice-pass").await?;
    b.wait_for_url(&format!("{app}/admin")).await?;
    let text = b.wait_for_title("Forbidden").await?;
    let code = status(b).await?;
    ensure(code == 403, || format!("the page answered {code}, not 403"))?;
    ensure(
        text.contains("Error 403") && text.contains("Your sessions"),
        || format!("the 403 page is not the app's: {text:?}"),
    )?;
    shoot(env, b, "forbidden").await?;

    // Signed in: the name and the logout button in the nav bar, the cart kept.
    b.goto(&format!("{app}/")).await?;
    b.wait_for_text("Signed in as alice").await?;
    let nav = nav_text(b).await?;
    ensure(
        nav.contains("Signed in as alice") && nav.contains("Log out"),
        || format!("the nav bar shows {nav:?}"),
    )?;
    b.find("nav form[action='/logout'] button").await?;
    let cart = texts(b, "ul.cart li").await?;
    ensure(cart == ["Item #3", "Item #7"], || {
        format!("after login the cart shows {cart:?}")
    })?;
    shoot(env, b, "home").await?;

    // The sessions: devices named for people, the raw User-Agent as their tooltip, and
    // times as "5 minutes ago" that do not wrap, in a wide window and a narrow one.
    b.goto(&format!("{app}/sessions")).await?;
    b.wait_for_title("Your sessions").await?;
    let nav = nav_text(b).await?;
    ensure(nav.contains("Signed in as alice"), || {
        format!("the sessions page's nav bar shows {nav:?}")
    })?;
    let devices = texts(b, ".device").await?;
    ensure(devices == ["Chrome on Linux", "Firefox on Linux"], || {
        format!("the devices are {devices:?}")
    })?;
    let title = b
        .js(
            "return document.querySelectorAll('.device')[1].title;",
            vec![],
        )
        .await?;
    ensure(title == FIREFOX_ON_LINUX, || {
        format!("the Firefox session's tooltip is {title}")
    })?;
    for (width, height, shot) in [(1024, 768, "sessions"), (380, 700, "sessions-narrow")] {
        b.resize(width, height).await?;
        let times = times_on_one_line(b).await?;
        let said: Vec<&str> = times.iter().map(|(text, _)| text.as_str()).collect();
        ensure(
            said.contains(&"5 minutes ago") && said.contains(&"just now"),
            || format!("at {width}px the times say {said:?}"),
        )?;
        ensure(
            times.iter().all(|(_, title)| title.ends_with(" UTC")),
            || format!("the times' tooltips are {times:?}"),
        )?;
        shoot(env, b, shot).await?;
    }
    b.resize(1024, 768).await?;

    // The nav bar's logout button.
    b.click("nav form[action='/logout'] button").await?;
    b.wait_for_url(&format!("{app}/")).await?;
    b.wait_for_text("You are browsing as a guest").await
}
