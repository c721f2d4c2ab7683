//! Remember me: a device that stays logged in past its browser session, through a second
//! cookie (see [`SessionLayer::remember_me`](crate::SessionLayer::remember_me)).
//!
//! A remembered device holds a *series* id and a *token*, both 256 random bits, in one
//! cookie (`SERIES.TOKEN`). The store keeps a record of kind
//! [`Remembered`](crate::SessionKind::Remembered) under the hash of the series, holding only
//! hashes of the tokens: a database dump logs nobody in. Each use logs the device in with a
//! new session and replaces the token; a token that was replaced and comes back means the
//! cookie was copied, and every session of the user ends.
//!
//! This module holds the public settings ([`RememberMe`], [`Identity`]) and the cookie; the
//! request-side work (restoring a login, rotating the token, detecting a replay) lives in
//! `session/remember.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use cookie::Cookie;
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};

use crate::auth_hash::BoxError;
use crate::config::ConfigError;
use crate::error::SessionError;
use crate::key::{Key, SessionValue};
use crate::schema::HasUserId;
use crate::token::Token;

/// The default lifetime of a remembered device: 30 days from the password login.
pub const DEFAULT_REMEMBER_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// How long the token of a concurrent replacement stays live: two requests that read a
/// series at once both replace its token, and the browser keeps one of the two cookies.
/// The other token is removed by the first use after this.
pub(crate) const BRANCH_GRACE: Duration = Duration::from_secs(60);

/// The settings of remember me: how long a device stays remembered and the name of its
/// cookie. Give them to [`SessionLayer::remember_me`](crate::SessionLayer::remember_me).
///
/// The cookie is always `HttpOnly; Secure; SameSite=Lax; Path=/` (without `Secure` only if
/// the session configuration calls
/// [`insecure_allow_http`](crate::SessionConfigBuilder::insecure_allow_http)), with a
/// `Max-Age` of the remaining lifetime.
///
/// ```
/// use std::time::Duration;
/// use session_runtime::RememberMe;
///
/// let settings = RememberMe::default()
///     .lifetime(Duration::from_secs(14 * 24 * 60 * 60))
///     .cookie_name("remember_device")?;
/// assert_eq!(settings.cookie_name_str(), "remember_device");
/// # Ok::<(), session_runtime::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RememberMe {
    pub(crate) lifetime: Duration,
    pub(crate) cookie_name: String,
}

impl Default for RememberMe {
    /// 30 days, cookie `remember`.
    fn default() -> Self {
        Self {
            lifetime: DEFAULT_REMEMBER_FOR,
            cookie_name: "remember".to_owned(),
        }
    }
}

impl RememberMe {
    /// How long a device stays remembered after the password login that remembered it
    /// (default 30 days). Restored logins do not extend it: once it passes, the user types
    /// the password again. A zero lifetime is taken as one second.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::RememberMe;
    ///
    /// let week = RememberMe::default().lifetime(Duration::from_secs(7 * 24 * 60 * 60));
    /// # let _ = week;
    /// ```
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime.max(Duration::from_secs(1));
        self
    }

    /// The cookie's name (default `remember`): letters, digits, `-`, `_` and `.`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::CookieName`] for any other name.
    ///
    /// ```
    /// use session_runtime::RememberMe;
    ///
    /// assert!(RememberMe::default().cookie_name("__Host-remember").is_ok());
    /// assert!(RememberMe::default().cookie_name("re member").is_err());
    /// ```
    pub fn cookie_name(mut self, name: impl Into<String>) -> Result<Self, ConfigError> {
        let name = name.into();
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid {
            return Err(ConfigError::CookieName(name));
        }
        self.cookie_name = name;
        Ok(self)
    }

    /// The cookie's name.
    ///
    /// ```
    /// use session_runtime::RememberMe;
    ///
    /// assert_eq!(RememberMe::default().cookie_name_str(), "remember");
    /// ```
    #[must_use]
    pub fn cookie_name_str(&self) -> &str {
        &self.cookie_name
    }
}

/// The identity fields of a session that remember me restores: what the app's loader
/// gives for the user, set through the schema's typed keys. Every other field of the new
/// session starts at its default; nothing comes from the session that ended.
///
/// ```
/// use session_runtime::{Identity, SessionSchema};
///
/// #[derive(SessionSchema)]
/// pub struct AppSession {
///     #[session(user_id)]
///     pub user_id: Option<i64>,
///     #[session(staff)]
///     pub is_staff: bool,
///     pub username: Option<String>,
/// }
///
/// let identity = Identity::<AppSession>::new()
///     .with(AppSession::IS_STAFF, true)
///     .with(AppSession::USERNAME, Some("sam".to_owned()));
/// # let _ = identity;
/// ```
#[must_use]
pub struct Identity<S> {
    data: Result<BTreeMap<String, String>, SessionError>,
    schema: PhantomData<fn() -> S>,
}

impl<S> Default for Identity<S> {
    fn default() -> Self {
        Self {
            data: Ok(BTreeMap::new()),
            schema: PhantomData,
        }
    }
}

impl<S> fmt::Debug for Identity<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<&str> = match &self.data {
            Ok(data) => data.keys().map(String::as_str).collect(),
            Err(_) => Vec::new(),
        };
        f.debug_struct("Identity").field("fields", &fields).finish()
    }
}

impl<S> Identity<S> {
    /// No fields set: a session of the user with every other field at its default.
    ///
    /// ```
    /// use session_runtime::{Identity, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    /// }
    ///
    /// let plain = Identity::<AppSession>::new();
    /// # let _ = plain;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets one field of the restored session.
    ///
    /// ```
    /// use session_runtime::{Identity, SessionSchema};
    ///
    /// #[derive(SessionSchema)]
    /// pub struct AppSession {
    ///     #[session(user_id)]
    ///     pub user_id: Option<i64>,
    ///     #[session(superuser)]
    ///     pub is_superuser: bool,
    /// }
    ///
    /// let root = Identity::<AppSession>::new().with(AppSession::IS_SUPERUSER, true);
    /// # let _ = root;
    /// ```
    pub fn with<T: SessionValue>(mut self, key: Key<S, T>, value: T) -> Self {
        if let Ok(data) = &mut self.data {
            match key.encode(&value) {
                Ok(json) => {
                    data.insert(key.name().to_owned(), json);
                }
                Err(source) => {
                    self.data = Err(SessionError::Encode {
                        field: key.name(),
                        source,
                    });
                }
            }
        }
        self
    }
}

/// The future of a [`Restore`].
pub(crate) type RestoreFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<BTreeMap<String, String>>, BoxError>> + Send + 'a>>;

/// The app's loader with its schema erased: the identity fields (name → JSON text) of a
/// restored session of the user (canonical JSON of the id), or `None` if the user is gone.
pub(crate) trait Restore: Send + Sync + 'static {
    fn identity<'a>(&'a self, user_json: &'a str) -> RestoreFuture<'a>;
}

/// [`Restore`] for a schema `S` and the app's loader `F`.
pub(crate) struct TypedRestore<S, F> {
    pub(crate) load: F,
    pub(crate) schema: PhantomData<fn() -> S>,
}

impl<S, F, Fut, E> Restore for TypedRestore<S, F>
where
    S: HasUserId,
    F: Fn(S::UserId) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Identity<S>>, E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn identity<'a>(&'a self, user_json: &'a str) -> RestoreFuture<'a> {
        Box::pin(async move {
            let Ok(user) = serde_json::from_str::<S::UserId>(user_json) else {
                // A series of an id this schema cannot read names no user of this app.
                return Ok(None);
            };
            match (self.load)(user).await.map_err(Into::into)? {
                Some(identity) => Ok(Some(identity.data?)),
                None => Ok(None),
            }
        })
    }
}

/// What the layer knows of remember me: the settings, the loader and whether cookies are
/// `Secure`.
pub(crate) struct Remember {
    pub(crate) settings: RememberMe,
    pub(crate) restore: Box<dyn Restore>,
    pub(crate) secure: bool,
}

/// The series and token a remember cookie carries.
pub(crate) struct RememberCookie {
    pub(crate) series: Token,
    pub(crate) token: Token,
}

impl Remember {
    /// The first well-formed remember cookie of the request, and whether it carried any
    /// cookie of that name at all.
    pub(crate) fn read(&self, headers: &HeaderMap) -> (Option<RememberCookie>, bool) {
        let mut present = false;
        for header in headers.get_all(COOKIE) {
            let text = String::from_utf8_lossy(header.as_bytes());
            for cookie in Cookie::split_parse(text.as_ref()).flatten() {
                if cookie.name() != self.settings.cookie_name {
                    continue;
                }
                present = true;
                let parsed = cookie.value().split_once('.').and_then(|(s, t)| {
                    Some(RememberCookie {
                        series: Token::parse(s)?,
                        token: Token::parse(t)?,
                    })
                });
                if parsed.is_some() {
                    return (parsed, true);
                }
            }
        }
        (None, present)
    }

    fn cookie(&self, value: String) -> cookie::CookieBuilder<'static> {
        Cookie::build((self.settings.cookie_name.clone(), value))
            .http_only(true)
            .secure(self.secure)
            .same_site(cookie::SameSite::Lax)
            .path("/")
    }

    /// `Set-Cookie` for `series.token`, living `max_age`.
    pub(crate) fn set_cookie(&self, cookie: &RememberCookie, max_age: Duration) -> HeaderValue {
        let value = format!("{}.{}", cookie.series.as_str(), cookie.token.as_str());
        let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        header(
            self.cookie(value)
                .max_age(cookie::time::Duration::seconds(seconds))
                .build(),
        )
    }

    /// `Set-Cookie` that removes the remember cookie.
    pub(crate) fn removal_cookie(&self) -> HeaderValue {
        header(
            self.cookie(String::new())
                .max_age(cookie::time::Duration::ZERO)
                .build(),
        )
    }
}

fn header(cookie: Cookie<'_>) -> HeaderValue {
    // The name was validated and the value is base64url and `.`: always a valid header.
    HeaderValue::try_from(cookie.encoded().to_string())
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remember() -> Remember {
        struct Nobody;
        impl Restore for Nobody {
            fn identity<'a>(&'a self, _: &'a str) -> RestoreFuture<'a> {
                Box::pin(async { Ok(None) })
            }
        }
        Remember {
            settings: RememberMe::default(),
            restore: Box::new(Nobody),
            secure: true,
        }
    }

    fn headers(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::try_from(cookie).unwrap());
        headers
    }

    #[test]
    fn the_cookie_round_trips_with_secure_attributes() {
        let r = remember();
        let pair = RememberCookie {
            series: Token::generate().unwrap(),
            token: Token::generate().unwrap(),
        };
        let set = r.set_cookie(&pair, Duration::from_secs(60));
        let set = set.to_str().unwrap();
        for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=60"] {
            assert!(set.contains(attribute), "{set}");
        }
        let value = set.split(';').next().unwrap();
        let (read, present) = r.read(&headers(value));
        let read = read.expect("well-formed");
        assert!(present);
        assert_eq!(read.series.encode(), pair.series.encode());
        assert_eq!(read.token.encode(), pair.token.encode());
        assert!(r.removal_cookie().to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn malformed_cookies_are_present_but_never_read() {
        let r = remember();
        let token = Token::generate().unwrap().encode();
        for value in [
            "remember=".to_owned(),
            "remember=abc.def".to_owned(),
            format!("remember={token}"),
            format!("remember={token}.{token}x"),
            format!("remember=.{token}"),
        ] {
            let (read, present) = r.read(&headers(&value));
            assert!(read.is_none(), "{value}");
            assert!(present, "{value}");
        }
        let (read, present) = r.read(&headers("session=x"));
        assert!(read.is_none() && !present);
        // A malformed cookie beside a good one does not hide it.
        let good = format!("remember={token}.{token}");
        assert!(
            r.read(&headers(&format!("remember=bad; {good}")))
                .0
                .is_some()
        );
    }
}
