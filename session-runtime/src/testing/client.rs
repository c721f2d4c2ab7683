//! [`TestClient`]: requests to a `Router` in-process, as a browser on the site would send them.

use axum::Router;
use axum::body::Body;
use http::header::{ACCEPT, CONTENT_TYPE, COOKIE, HOST, ORIGIN, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower::ServiceExt as _;

use super::jar::Jar;
use crate::csrf::{CSRF_FIELD, CSRF_HEADER};

/// The site the client pretends to be on: `Secure` and `__Host-` cookies are kept, as a
/// browser keeps them on `https://localhost`.
const HOST_NAME: &str = "localhost";
const ORIGIN_URL: &str = "https://localhost";
const ACCEPT_HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

/// A client over a [`Router`] that behaves like a browser on the site: it keeps the cookies
/// the app sets, posts forms with the CSRF token of the last page it loaded, and marks its
/// unsafe requests as same-origin (`Origin`, `Sec-Fetch-Site`).
///
/// Requests go to the router in-process (no server, no socket). The client pretends to be
/// on `https://localhost`, so the default `Secure` and `__Host-` cookies work. It keeps one
/// cookie per name, whatever its path; it applies `Max-Age=0` and a past `Expires`, but does
/// not age cookies with time: the server's own expiry, on a
/// [`ManualClock`](crate::ManualClock), is what tests check. It follows no redirects: a
/// test sees the `303` and fetches the next page itself.
///
/// [`login_as`](Self::login_as) starts a logged-in session directly in the store, so a
/// guarded handler is testable without going through a login route.
///
/// ```
/// use axum::{Router, response::Html, routing::get};
/// use session_runtime::testing::TestClient;
/// use session_runtime::{CsrfLayer, CsrfToken, MemoryStore, SessionConfig, SessionLayer};
///
/// async fn form(csrf: CsrfToken) -> Html<String> {
///     Html(format!(r#"<form method="post"><input type="hidden" name="csrf_token" value="{csrf}"></form>"#))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app: Router = Router::new()
///     .route("/", get(form).post(|| async { "sent" }))
///     .layer(CsrfLayer::new())
///     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
///
/// let mut client = TestClient::new(app);
/// client.get("/").await; // the page with the form: its token is remembered
/// let res = client.post_form("/", &[]).await;
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.text(), "sent");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TestClient {
    router: Router,
    pub(super) jar: Jar,
    pub(super) csrf: Option<String>,
}

impl TestClient {
    /// A client with no cookies, over `router` (the app with its layers).
    ///
    /// ```
    /// use axum::Router;
    /// use session_runtime::testing::TestClient;
    ///
    /// let client = TestClient::new(Router::new());
    /// assert_eq!(client.cookie("session"), None);
    /// ```
    #[must_use]
    pub fn new(router: Router) -> Self {
        Self {
            router,
            jar: Jar::default(),
            csrf: None,
        }
    }

    /// The value of a cookie the client holds.
    ///
    /// ```
    /// use axum::{Router, routing::post};
    /// use session_runtime::testing::TestClient;
    /// use session_runtime::{MemoryStore, Session, SessionConfig, SessionLayer, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new()
    ///     .route("/login", post(|s: Session<AppSession>| async move { s.login(7).await }))
    ///     .route("/logout", post(|s: Session<AppSession>| async move { s.logout().await }))
    ///     .layer(SessionLayer::new(MemoryStore::new(), SessionConfig::default()));
    /// let mut client = TestClient::new(app);
    ///
    /// client.post_json("/login", &()).await;
    /// assert_eq!(client.cookie("session").map(str::len), Some(43));
    /// client.post_json("/logout", &()).await; // `Max-Age=0`: dropped
    /// assert_eq!(client.cookie("session"), None);
    /// # }
    /// ```
    #[must_use]
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.jar.get(name)
    }

    /// Sets a cookie, as if the app had set it (a token obtained elsewhere, a forged value).
    ///
    /// ```
    /// use axum::{Router, http::HeaderMap, routing::get};
    /// use session_runtime::testing::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new().route(
    ///     "/",
    ///     get(|h: HeaderMap| async move { h["cookie"].to_str().unwrap().to_owned() }),
    /// );
    /// let mut client = TestClient::new(app);
    /// client.set_cookie("theme", "dark");
    /// assert_eq!(client.get("/").await.text(), "theme=dark");
    /// # }
    /// ```
    pub fn set_cookie(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.jar.set(name, value);
    }

    /// Drops a cookie. Returns whether the client held it.
    ///
    /// ```
    /// use axum::Router;
    /// use session_runtime::testing::TestClient;
    ///
    /// let mut client = TestClient::new(Router::new());
    /// client.set_cookie("theme", "dark");
    /// assert!(client.remove_cookie("theme"));
    /// assert_eq!(client.cookie("theme"), None);
    /// ```
    pub fn remove_cookie(&mut self, name: &str) -> bool {
        self.jar.remove(name)
    }

    /// The CSRF token that [`post_form`](Self::post_form) sends: that of the last HTML page
    /// with a `csrf_token` field, or of the session [`login_as`](Self::login_as) started.
    ///
    /// ```
    /// use axum::Router;
    /// use session_runtime::testing::TestClient;
    ///
    /// let client = TestClient::new(Router::new());
    /// assert_eq!(client.csrf_token(), None); // no page loaded yet
    /// ```
    #[must_use]
    pub fn csrf_token(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    /// `GET path`, as a browser loads a page (`Accept: text/html`).
    ///
    /// # Panics
    ///
    /// If `path` is not a valid URI, or the response body fails to stream (a bug in the app
    /// under test).
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use session_runtime::testing::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut client = TestClient::new(Router::new().route("/", get(|| async { "home" })));
    /// let res = client.get("/").await;
    /// assert_eq!(res.status(), 200);
    /// assert_eq!(res.text(), "home");
    /// # }
    /// ```
    pub async fn get(&mut self, path: &str) -> TestResponse {
        let req = Request::get(path).header(ACCEPT, ACCEPT_HTML);
        self.send(req, Body::empty()).await
    }

    /// `POST path` with a JSON body, as a page's script would send it: with the CSRF token
    /// the client knows (see [`csrf_token`](Self::csrf_token)) in the `x-csrf-token` header.
    ///
    /// # Panics
    ///
    /// If `path` is not a valid URI, `body` cannot be serialized as JSON, or the response body
    /// fails to stream.
    ///
    /// ```
    /// use axum::{Json, Router, routing::post};
    /// use session_runtime::testing::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new().route("/echo", post(|Json(n): Json<u32>| async move { Json(n + 1) }));
    /// let mut client = TestClient::new(app);
    /// assert_eq!(client.post_json("/echo", &41).await.json::<u32>(), 42);
    /// # }
    /// ```
    pub async fn post_json<T: Serialize + ?Sized>(&mut self, path: &str, body: &T) -> TestResponse {
        let json = serde_json::to_vec(body)
            .unwrap_or_else(|e| panic!("TestClient::post_json: the body is not JSON: {e}"));
        let mut req = Request::post(path)
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json");
        if let Some(token) = &self.csrf {
            req = req.header(CSRF_HEADER, token);
        }
        self.send(req, Body::from(json)).await
    }

    /// `POST path` with a URL-encoded form, as a browser submits a page's form: the fields,
    /// then the `csrf_token` field with the client's token (see
    /// [`csrf_token`](Self::csrf_token)), unless `fields` has one of its own (a forged token)
    /// or the client knows none.
    ///
    /// # Panics
    ///
    /// If `path` is not a valid URI, or the response body fails to stream.
    ///
    /// ```
    /// use axum::{Form, Router, routing::post};
    /// use session_runtime::testing::TestClient;
    /// use std::collections::BTreeMap;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new().route(
    ///     "/",
    ///     post(|Form(f): Form<BTreeMap<String, String>>| async move { f["q"].clone() }),
    /// );
    /// let mut client = TestClient::new(app);
    /// assert_eq!(client.post_form("/", &[("q", "a b&c")]).await.text(), "a b&c");
    /// # }
    /// ```
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.extend_pairs(fields);
        let has_token = fields.iter().any(|(name, _)| *name == CSRF_FIELD);
        if let (false, Some(token)) = (has_token, &self.csrf) {
            form.append_pair(CSRF_FIELD, token);
        }
        let req = Request::post(path)
            .header(ACCEPT, ACCEPT_HTML)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.send(req, Body::from(form.finish())).await
    }

    /// Sends any request, with the client's cookies, and the same-origin `Origin` and
    /// `Sec-Fetch-Site` headers for unsafe methods where the request has none of its own (a
    /// cross-site request is one with `Sec-Fetch-Site: cross-site`). Cookies and CSRF token
    /// of the response are kept as for the other methods.
    ///
    /// # Panics
    ///
    /// If the response body fails to stream.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::Request, routing::delete};
    /// use session_runtime::testing::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut client = TestClient::new(Router::new().route("/item", delete(|| async { "gone" })));
    /// let res = client.request(Request::delete("/item").body(Body::empty()).unwrap()).await;
    /// assert_eq!(res.text(), "gone");
    /// # }
    /// ```
    pub async fn request(&mut self, mut req: Request<Body>) -> TestResponse {
        let headers = req.headers_mut();
        headers
            .entry(HOST)
            .or_insert(HeaderValue::from_static(HOST_NAME));
        if let Some(cookies) = self
            .jar
            .header()
            .and_then(|c| HeaderValue::try_from(c).ok())
        {
            headers.append(COOKIE, cookies);
        }
        let unsafe_method = !matches!(
            *req.method(),
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        );
        let headers = req.headers_mut();
        if unsafe_method && !headers.contains_key(ORIGIN) {
            headers.insert(ORIGIN, HeaderValue::from_static(ORIGIN_URL));
        }
        let fetch_site = HeaderName::from_static("sec-fetch-site");
        if unsafe_method && !headers.contains_key(&fetch_site) {
            headers.insert(fetch_site, HeaderValue::from_static("same-origin"));
        }

        let Ok(res) = self.router.clone().oneshot(req).await;
        let (parts, body) = res.into_parts();
        let body = body
            .collect()
            .await
            .unwrap_or_else(|e| panic!("TestClient: the response body failed: {e}"))
            .to_bytes();
        let res = TestResponse {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        self.jar.apply(&res.headers);
        if res.is_html()
            && let Some(token) = csrf_field(&res.body)
        {
            self.csrf = Some(token.to_owned());
        }
        res
    }

    async fn send(&mut self, req: http::request::Builder, body: Body) -> TestResponse {
        match req.body(body) {
            Ok(req) => self.request(req).await,
            // Only a path that is no URI gets here: a mistake in the test.
            Err(e) => panic!("TestClient: not a valid request: {e}"),
        }
    }

    /// The router, for requests that should bypass the client (no cookies, no headers).
    ///
    /// ```
    /// use axum::Router;
    /// use session_runtime::testing::TestClient;
    ///
    /// let client = TestClient::new(Router::new());
    /// let _bare: Router = client.router().clone();
    /// ```
    pub fn router(&self) -> &Router {
        &self.router
    }
}

/// The value of the first `csrf_token` field of a page: the `value` attribute of the tag
/// that has `name="csrf_token"`.
fn csrf_field(page: &str) -> Option<&str> {
    let needle = format!("name=\"{CSRF_FIELD}\"");
    let mut from = 0;
    while let Some(at) = page[from..].find(&needle).map(|i| from + i) {
        let start = page[..at].rfind('<').unwrap_or(0);
        let end = page[at..].find('>').map_or(page.len(), |i| at + i);
        let tag = &page[start..end];
        if let Some(v) = tag.find("value=\"").map(|i| i + "value=\"".len())
            && let Some(len) = tag[v..].find('"')
        {
            return Some(&tag[v..v + len]);
        }
        from = at + needle.len();
    }
    None
}

/// A response to a [`TestClient`] request, its body read whole.
///
/// ```
/// use axum::{Router, routing::get};
/// use session_runtime::testing::TestClient;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut client = TestClient::new(Router::new().route("/", get(|| async { "hi" })));
/// let res = client.get("/").await;
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.header("content-type"), Some("text/plain; charset=utf-8"));
/// assert_eq!(res.text(), "hi");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TestResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl TestResponse {
    /// The status code.
    ///
    /// ```
    /// use axum::Router;
    /// use session_runtime::testing::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let res = TestClient::new(Router::new()).get("/nowhere").await;
    /// assert_eq!(res.status(), 404);
    /// # }
    /// ```
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The first value of a header, if it is present and text.
    ///
    /// ```
    /// use axum::{Router, response::Redirect, routing::get};
    /// use session_runtime::testing::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new().route("/", get(|| async { Redirect::to("/home") }));
    /// let res = TestClient::new(app).get("/").await;
    /// assert_eq!(res.header("location"), Some("/home"));
    /// assert_eq!(res.header("x-missing"), None);
    /// # }
    /// ```
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// All the headers.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use session_runtime::testing::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let res = TestClient::new(Router::new().route("/", get(|| async { "" }))).get("/").await;
    /// assert!(res.headers().contains_key("content-type"));
    /// # }
    /// ```
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `Set-Cookie` header of the response for the cookie named `name`, attributes
    /// included (a removal is one with `Max-Age=0`).
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use session_runtime::testing::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new().route("/", get(|| async { ([("set-cookie", "a=1; Path=/")], "") }));
    /// let res = TestClient::new(app).get("/").await;
    /// assert_eq!(res.set_cookie("a"), Some("a=1; Path=/"));
    /// assert_eq!(res.set_cookie("b"), None);
    /// # }
    /// ```
    #[must_use]
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| {
                v.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('='))
            })
    }

    /// The body, as text (invalid UTF-8 replaced).
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use session_runtime::testing::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let res = TestClient::new(Router::new().route("/", get(|| async { "hi" }))).get("/").await;
    /// assert_eq!(res.text(), "hi");
    /// # }
    /// ```
    #[must_use]
    pub fn text(&self) -> &str {
        &self.body
    }

    /// The body, parsed as JSON.
    ///
    /// # Panics
    ///
    /// If the body is not JSON of type `T`; the message shows the body.
    ///
    /// ```
    /// use axum::{Json, Router, routing::get};
    /// use session_runtime::testing::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app: Router = Router::new().route("/", get(|| async { Json(vec![1, 2]) }));
    /// let res = TestClient::new(app).get("/").await;
    /// assert_eq!(res.json::<Vec<u32>>(), [1, 2]);
    /// # }
    /// ```
    #[must_use]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "TestResponse::json: the body is not JSON of the type asked for ({e}): {}",
                self.body
            )
        })
    }

    fn is_html(&self) -> bool {
        self.header(CONTENT_TYPE.as_str())
            .is_some_and(|t| t.starts_with("text/html"))
    }
}

#[cfg(test)]
mod tests {
    use super::csrf_field;

    #[test]
    fn the_csrf_field_is_found_whatever_the_attribute_order() {
        let token = "a".repeat(43);
        for page in [
            format!(r#"<input type="hidden" name="csrf_token" value="{token}">"#),
            format!(r#"<p>x</p><input value="{token}" name="csrf_token" type="hidden">"#),
            format!(r#"<meta name="csrf_token"><input name="csrf_token" value="{token}">"#),
        ] {
            assert_eq!(csrf_field(&page), Some(token.as_str()), "{page}");
        }
        assert_eq!(csrf_field("<form></form>"), None);
    }
}
