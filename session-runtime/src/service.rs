//! `SessionService`: makes the request's session reachable by its extractors, and writes it
//! back when the response is ready.
//!
//! The session travels with the request's task, the way a `tracing` span does: the service
//! runs the inner service's future inside a task-local [`Slot`], and the first extractor
//! that asks for the session creates its [`Context`] there. A request whose handler ignores
//! the session costs no allocation, no clock read and no store access. When the response is
//! ready, the context's commit path (`session/commit.rs`) writes what changed; a rejection
//! of this crate becomes an HTML page for a browser (`rejection.rs`).

use std::cell::{Cell, OnceCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, ready};

use axum_core::body::Body;
use axum_core::response::{IntoResponse as _, Response};
use bytes::Bytes;
use http::header::Entry;
use http::header::{ACCEPT, CACHE_CONTROL, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Request};
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tower_service::Service;

use crate::error::SessionError;
use crate::rejection::accepts_html;
use crate::session::commit::Committed;
use crate::session::{Context, Shared};

tokio::task_local! {
    /// The session slot of the request whose future is being polled.
    static SLOT: Slot;
}

/// One request's place for its session context, created by the first extractor that asks.
pub(crate) struct Slot {
    /// The layer's shared state, until the context takes it over.
    shared: Cell<Option<Arc<Shared>>>,
    ctx: OnceCell<Arc<Context>>,
}

/// The session context of the request being served, created on first use; `None` outside
/// a [`SessionLayer`](crate::SessionLayer)'s task.
pub(crate) fn current_context() -> Option<Arc<Context>> {
    SLOT.try_with(|slot| {
        if let Some(ctx) = slot.ctx.get() {
            return Some(ctx.clone());
        }
        let ctx = Arc::new(Context::new(slot.shared.take()?));
        Some(slot.ctx.get_or_init(|| ctx).clone())
    })
    .ok()
    .flatten()
}

/// The service that [`SessionLayer`](crate::SessionLayer) wraps around an inner service.
pub struct SessionService<I> {
    inner: I,
    shared: Arc<Shared>,
}

impl<I: Clone> Clone for SessionService<I> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<I> SessionService<I> {
    pub(crate) fn new(inner: I, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }
}

impl<I: fmt::Debug> fmt::Debug for SessionService<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<I, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<I>
where
    I: Service<Request<ReqBody>, Response = http::Response<ResBody>>,
    I::Future: Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response;
    type Error = I::Error;
    type Future = ResponseFuture<I::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let slot = Slot {
            shared: Cell::new(Some(self.shared.clone())),
            ctx: OnceCell::new(),
        };
        ResponseFuture {
            html: req.headers().get(ACCEPT).is_some_and(accepts_html),
            state: State::Handler {
                future: SLOT.scope(slot, self.inner.call(req)),
            },
        }
    }
}

pin_project! {
    /// The response future of [`SessionService`].
    pub struct ResponseFuture<F> {
        // The request accepts `text/html`: a rejection answers with its page.
        html: bool,
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        /// The inner service runs, with the session slot in scope.
        Handler { #[pin] future: TaskLocalFuture<Slot, F> },
        /// The store saves what the handler changed.
        Saving { future: Pin<Box<dyn Future<Output = Response> + Send>> },
        Done,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Handler { mut future } => {
                    let res = match ready!(future.as_mut().poll(cx)) {
                        Ok(res) => res,
                        Err(error) => {
                            this.state.set(State::Done);
                            return Poll::Ready(Err(error));
                        }
                    };
                    let html = *this.html;
                    let Some(slot) = future.take_value() else {
                        this.state.set(State::Done);
                        return Poll::Ready(Ok(res.map(Body::new)));
                    };
                    let res = res.map(Body::new);
                    let Some(ctx) = slot.ctx.into_inner() else {
                        this.state.set(State::Done);
                        let shared = slot.shared.into_inner();
                        return Poll::Ready(Ok(finish(res, None, html, shared.as_deref())));
                    };
                    let Some(plan) = ctx.plan(res.status()) else {
                        let committed = ctx.commit_nothing();
                        this.state.set(State::Done);
                        return Poll::Ready(Ok(finish(
                            res,
                            Some(committed),
                            html,
                            Some(&ctx.shared),
                        )));
                    };
                    let plan = match ctx.commit_now(plan) {
                        Ok(committed) => {
                            this.state.set(State::Done);
                            let res = finish(res, Some(committed), html, Some(&ctx.shared));
                            return Poll::Ready(Ok(res));
                        }
                        Err(plan) => plan,
                    };
                    // Only requests whose store must be waited for get here: their
                    // future is boxed so that everyone else's stays small.
                    let future = Box::pin(async move {
                        let committed = ctx.commit(plan).await;
                        finish(res, Some(committed), html, Some(&ctx.shared))
                    });
                    this.state.set(State::Saving { future });
                }
                StateProj::Saving { future } => {
                    let res = ready!(future.as_mut().poll(cx));
                    this.state.set(State::Done);
                    return Poll::Ready(Ok(res));
                }
                StateProj::Done => {
                    panic!("SessionService's response future polled after it completed")
                }
            }
        }
    }
}

/// Puts the cookie on the response (a failed save turns it into a `503`), gives a browser
/// the page of a rejection, and keeps shared caches from serving one visitor's session to
/// another: `Vary: Cookie` on every response whose request read its session (`committed`
/// is there), `Cache-Control: no-store` on every response that sets or removes a cookie of
/// this crate.
fn finish(
    res: Response,
    committed: Option<Committed>,
    html: bool,
    shared: Option<&Shared>,
) -> Response {
    let read = committed.is_some();
    let (cookie, others, failed) = match committed {
        Some(c) => (c.cookie, c.other_cookies, c.failed),
        None => (None, Vec::new(), None),
    };
    let mut res = match failed {
        None => res,
        Some(error) => {
            tracing::error!("the session could not be saved after the handler ran");
            SessionError::Store(error).into_response()
        }
    };
    if html && let Some(shared) = shared {
        res = shared.config.pages.for_browser(res);
    }
    if read {
        vary_on_cookie(res.headers_mut());
    }
    let mut cookies = cookie.into_iter().chain(others).peekable();
    if cookies.peek().is_some() {
        let headers = res.headers_mut();
        for cookie in cookies {
            headers.append(SET_COOKIE, cookie);
        }
        // Replaces any caching the handler allowed: a stored copy would hand these cookies
        // to whoever the cache serves next.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Adds `Cookie` to the response's `Vary`, merged into one header with what the handler set
/// (`Vary: *` already covers it, and a `Cookie` there is kept as it is).
fn vary_on_cookie(headers: &mut HeaderMap) {
    // One lookup of `Vary` (an entry), not one to read it and another to write it.
    let mut entry = match headers.entry(VARY) {
        Entry::Vacant(vacant) => {
            vacant.insert(HeaderValue::from_static("Cookie"));
            return;
        }
        Entry::Occupied(occupied) => occupied,
    };
    let mut named: Vec<&str> = Vec::new();
    for value in entry.iter() {
        // A value that is not text is kept as a whole, as an opaque list item.
        let Ok(text) = value.to_str() else {
            return;
        };
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "*" || name.eq_ignore_ascii_case("cookie") {
                return;
            }
            named.push(name);
        }
    }
    let value = if named.is_empty() {
        HeaderValue::from_static("Cookie")
    } else {
        named.push("Cookie");
        match HeaderValue::from_str(&named.join(", ")) {
            Ok(value) => value,
            // The names came from valid header values; joining them keeps them valid.
            Err(_) => return,
        }
    };
    entry.insert(value);
}
