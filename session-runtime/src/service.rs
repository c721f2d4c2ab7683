//! `SessionService`: makes the request's session reachable by its extractors, and writes it
//! back when the response is ready.
//!
//! The session travels with the request's task, the way a `tracing` span does: the service
//! runs the inner service's future inside a task-local [`Slot`], and the first extractor
//! that asks for the session creates its [`Context`] there. A request whose handler ignores
//! the session costs no allocation, no clock read and no store access; one whose handler
//! reads it costs no store write and no boxed future.

use std::cell::{Cell, OnceCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, ready};

use axum_core::body::Body;
use axum_core::response::Response;
use bytes::Bytes;
use http::header::SET_COOKIE;
use http::{Request, StatusCode};
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tower_service::Service;

use crate::commit::{self, Committed, Step};
use crate::context::Context;
use crate::response::json_error;
use crate::shared::Shared;
use crate::store::StoreError;

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
            state: State::Handler {
                future: SLOT.scope(slot, self.inner.call(req)),
            },
        }
    }
}

pin_project! {
    /// The response future of [`SessionService`].
    pub struct ResponseFuture<F> {
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
                    let ctx = future.take_value().and_then(|slot| slot.ctx.into_inner());
                    let Some(ctx) = ctx else {
                        this.state.set(State::Done);
                        return Poll::Ready(Ok(res.map(Body::new)));
                    };
                    match commit::prepare(&ctx, res.status()) {
                        Step::Done(committed) => {
                            this.state.set(State::Done);
                            return Poll::Ready(Ok(finish(res, committed)));
                        }
                        Step::Save(plan) => {
                            // Only requests that write reach the store here: their future
                            // is boxed so that everyone else's stays small.
                            let future = Box::pin(async move {
                                let committed = commit::save(&ctx, plan).await;
                                finish(res, committed)
                            });
                            this.state.set(State::Saving { future });
                        }
                    }
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

/// Puts the cookie on the response; a failed save turns it into a `503`.
fn finish<B>(res: http::Response<B>, committed: Committed) -> Response
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut res = match committed.failed {
        None => res.map(Body::new),
        Some(error) => {
            tracing::error!(%error, "session store failed to save a session; answering 503");
            store_failure_response(&error)
        }
    };
    if let Some(cookie) = committed.cookie {
        res.headers_mut().append(SET_COOKIE, cookie);
    }
    res
}

fn store_failure_response(error: &StoreError) -> Response {
    match error {
        StoreError::CapacityExceeded { .. } => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "session_store_full",
            "too many sessions are open; try again later",
        ),
        _ => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "session_store_unavailable",
            "the session could not be saved; try again shortly",
        ),
    }
}
