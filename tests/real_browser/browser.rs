//! One headless Chromium session over WebDriver, with explicit waits and a screenshot when a
//! step fails.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// What a step returns: `Err` says what went wrong.
pub type Result<T = ()> = std::result::Result<T, String>;

/// How long one wait (a page, an element, a URL) may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// Adds what was being done to a WebDriver error.
pub trait Context<T> {
    fn ctx(self, what: &str) -> Result<T>;
}

impl<T, E: std::fmt::Display> Context<T> for std::result::Result<T, E> {
    fn ctx(self, what: &str) -> Result<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

/// A fresh browser: its own profile directory (no cookies, no cache), removed on close.
pub struct Browser {
    client: Client,
    profile: PathBuf,
}

impl Browser {
    /// Opens a new headless Chromium through the chromedriver at `driver`.
    pub async fn open(driver: &str, chromium: &Path, profile: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&profile).ctx("create the profile directory")?;
        let args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--user-data-dir={}", profile.display()),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            "--password-store=basic".to_owned(),
            "--window-size=1024,768".to_owned(),
        ];
        // A page that never loads, or a script that never returns, fails the step in
        // seconds rather than chromedriver's default five minutes.
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
            "timeouts": { "pageLoad": 20_000, "script": 10_000, "implicit": 0 },
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(driver)
            .await
            .ctx("start a Chromium session")?;
        Ok(Self { client, profile })
    }

    /// Ends the session and removes its profile.
    pub async fn close(self) {
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }

    /// Saves a PNG of the page into `path` (best effort: the step's own error matters more).
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let png = self.client.screenshot().await.ctx("take a screenshot")?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).ctx("create the screenshot directory")?;
        }
        std::fs::write(path, png).ctx("write the screenshot")
    }

    /// Loads `url` (WebDriver waits for its load event).
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client.goto(url).await.ctx(&format!("load {url}"))
    }

    /// Resizes the browser's window (the page's viewport follows).
    pub async fn resize(&self, width: u32, height: u32) -> Result<()> {
        self.client
            .set_window_size(width, height)
            .await
            .ctx(&format!("resize the window to {width}x{height}"))
    }

    /// The page's URL now.
    pub async fn url(&self) -> Result<String> {
        Ok(self
            .client
            .current_url()
            .await
            .ctx("read the URL")?
            .to_string())
    }

    /// Waits until the page's URL is `expected`, exactly.
    pub async fn wait_for_url(&self, expected: &str) -> Result<()> {
        wait_until(&format!("the URL to be {expected}"), move || async move {
            let url = self.url().await?;
            Ok((url == expected, url))
        })
        .await
    }

    /// Waits until the page's title is `expected`, and returns the body's text.
    pub async fn wait_for_title(&self, expected: &str) -> Result<String> {
        wait_until(
            &format!("the title to be {expected:?}"),
            move || async move {
                let title = self.client.title().await.ctx("read the title")?;
                Ok((title == expected, format!("title {title:?}")))
            },
        )
        .await?;
        self.body_text().await
    }

    /// Waits until the body's text contains `text`.
    pub async fn wait_for_text(&self, text: &str) -> Result<()> {
        wait_until(&format!("the page to show {text:?}"), move || async move {
            let body = self.body_text().await.unwrap_or_default();
            Ok((body.contains(text), format!("page text {body:?}")))
        })
        .await
    }

    /// The text of the page's body.
    pub async fn body_text(&self) -> Result<String> {
        self.client
            .find(Locator::Css("body"))
            .await
            .ctx("find the body")?
            .text()
            .await
            .ctx("read the body's text")
    }

    /// Types `value` into the field `css`, once it is there.
    pub async fn fill(&self, css: &str, value: &str) -> Result<()> {
        let field = self.find(css).await?;
        field.clear().await.ctx(&format!("clear {css}"))?;
        field
            .send_keys(value)
            .await
            .ctx(&format!("type into {css}"))
    }

    /// Clicks the element `css`, once it is there.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.find(css)
            .await?
            .click()
            .await
            .ctx(&format!("click {css}"))
    }

    /// Waits for the element `css`.
    pub async fn find(&self, css: &str) -> Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .ctx(&format!("find {css}"))
    }

    /// Runs `script` in the page and returns what it returns.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.client
            .execute(script, args)
            .await
            .ctx(&format!("run {script:?}"))
    }

    /// The cookie `name` of the current page's site, as the browser holds it (WebDriver sees
    /// HttpOnly cookies too), or `None`.
    pub async fn cookie(&self, name: &str) -> Result<Option<fantoccini::cookies::Cookie<'static>>> {
        let all = self
            .client
            .get_all_cookies()
            .await
            .ctx("read the cookies")?;
        Ok(all.into_iter().find(|c| c.name() == name))
    }

    /// Forgets one cookie of the current page's site, as a browser does with a session
    /// cookie when it closes.
    pub async fn delete_cookie(&self, name: &str) -> Result<()> {
        self.client.delete_cookie(name).await.ctx("delete a cookie")
    }

    /// Forgets every cookie of the current page's site.
    pub async fn delete_cookies(&self) -> Result<()> {
        self.client
            .delete_all_cookies()
            .await
            .ctx("delete the cookies")
    }
}

/// Polls `probe` every 50 ms until it says yes, for at most [`WAIT`]. `probe` gives its
/// answer and what it saw, for the error.
pub async fn wait_until<F, Fut>(what: &str, mut probe: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(bool, String)>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        let (done, seen) = probe().await?;
        if done {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "timed out after {WAIT:?} waiting for {what}; last seen: {seen}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
