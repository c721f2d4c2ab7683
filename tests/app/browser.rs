//! A minimal browser for the HTML pages: keeps every cookie the app sets (the session's and
//! the CSRF cookie of a visitor without a session), sends `Accept: text/html`, and puts the
//! page's CSRF token into the forms it posts, as a real browser submitting a rendered form
//! would.

use axum::Router;
use axum::body::Body;

use crate::common::{Reply, request, send};

pub struct Browser<'a> {
    app: &'a Router,
    /// Cookie name → value, as the app set them.
    jar: Vec<(String, String)>,
    csrf: Option<String>,
}

/// The value of the first `csrf_token` hidden field of a page.
pub fn csrf_in(page: &str) -> Option<String> {
    let start = page.find("name=\"csrf_token\" value=\"")? + 25;
    let len = page[start..].find('"')?;
    Some(page[start..start + len].to_owned())
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a Router) -> Self {
        Self {
            app,
            jar: Vec::new(),
            csrf: None,
        }
    }

    /// The session token the browser holds, if any.
    pub fn session_token(&self) -> Option<String> {
        self.cookie(crate::COOKIE)
    }

    /// The value of one cookie the browser holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// Holds `token` as the session cookie (a session signed in through the JSON API).
    pub fn set_session_token(&mut self, token: String) {
        self.set(crate::COOKIE, token);
        self.csrf = None;
    }

    fn set(&mut self, name: &str, value: String) {
        self.jar.retain(|(n, _)| n != name);
        self.jar.push((name.to_owned(), value));
    }

    /// The `Cookie` header the browser sends.
    pub fn cookie_header(&self) -> Option<String> {
        let pairs: Vec<String> = self.jar.iter().map(|(n, v)| format!("{n}={v}")).collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    pub async fn send(&mut self, method: &str, uri: &str, form: Option<&str>) -> Reply {
        let mut b = request(method, uri, None).header("accept", "text/html");
        if let Some(cookies) = self.cookie_header() {
            b = b.header("cookie", cookies);
        }
        let body = match form {
            Some(f) => {
                b = b.header("content-type", "application/x-www-form-urlencoded");
                Body::from(f.to_owned())
            }
            None => Body::empty(),
        };
        let r = send(self.app, b.body(body).unwrap()).await;
        for header in r.headers.get_all(http::header::SET_COOKIE) {
            let header = header.to_str().unwrap();
            let pair = header.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if header.contains("Max-Age=0") {
                self.jar.retain(|(n, _)| n != name);
            } else {
                self.set(name, value.to_owned());
            }
            if name == crate::COOKIE {
                // A new or ended session: the page's token is the next page's business.
                self.csrf = None;
            }
        }
        if let Some(csrf) = csrf_in(&r.body) {
            self.csrf = Some(csrf);
        }
        r
    }

    pub async fn get(&mut self, uri: &str) -> Reply {
        self.send("GET", uri, None).await
    }

    /// Posts a form the way the page would: with its CSRF token.
    pub async fn post(&mut self, uri: &str, form: &str) -> Reply {
        if self.csrf.is_none() {
            self.get("/").await;
        }
        let token = self.csrf.clone().expect("the home page has forms");
        let form = if form.is_empty() {
            format!("csrf_token={token}")
        } else {
            format!("{form}&csrf_token={token}")
        };
        self.send("POST", uri, Some(&form)).await
    }
}
