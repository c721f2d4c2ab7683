//! A minimal browser for the HTML pages: keeps the session cookie, sends `Accept: text/html`,
//! and puts the page's CSRF token into the forms it posts, as a real browser submitting a
//! rendered form would.

use axum::Router;
use axum::body::Body;

use crate::common::{Reply, request, send};

pub struct Browser<'a> {
    app: &'a Router,
    pub cookie: Option<String>,
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
            cookie: None,
            csrf: None,
        }
    }

    pub async fn send(&mut self, method: &str, uri: &str, form: Option<&str>) -> Reply {
        let mut b = request(method, uri, self.cookie.as_deref()).header("accept", "text/html");
        let body = match form {
            Some(f) => {
                b = b.header("content-type", "application/x-www-form-urlencoded");
                Body::from(f.to_owned())
            }
            None => Body::empty(),
        };
        let r = send(self.app, b.body(body).unwrap()).await;
        if r.removes_cookie() {
            self.cookie = None;
            self.csrf = None;
        } else if let Some(t) = r.token() {
            self.cookie = Some(t);
            self.csrf = None;
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
