//! `SessionService`: puts the request's session context in place, and writes it back.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use axum_core::body::Body;
use axum_core::response::Response;
use bytes::Bytes;
use http::header::SET_COOKIE;
use http::{Request, StatusCode};
use tower_service::Service;

use crate::auth_hash::AuthCheck;
use crate::commit::commit;
use crate::config::ConfigInner;
use crate::context::Context;
use crate::response::json_error;
use crate::store::{DynStore, StoreError};

/// The service that [`SessionLayer`](crate::SessionLayer) wraps around an inner service.
#[derive(Clone)]
pub struct SessionService<I> {
    inner: I,
    store: Arc<dyn DynStore>,
    config: Arc<ConfigInner>,
    auth: Option<Arc<dyn AuthCheck>>,
}

impl<I> SessionService<I> {
    pub(crate) fn new(
        inner: I,
        store: Arc<dyn DynStore>,
        config: Arc<ConfigInner>,
        auth: Option<Arc<dyn AuthCheck>>,
    ) -> Self {
        Self {
            inner,
            store,
            config,
            auth,
        }
    }
}

impl<I: fmt::Debug> fmt::Debug for SessionService<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// The response future of [`SessionService`].
pub type ResponseFuture<E> = Pin<Box<dyn Future<Output = Result<Response, E>> + Send + 'static>>;

impl<I, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<I>
where
    I: Service<Request<ReqBody>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    I::Future: Send + 'static,
    I::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response;
    type Error = I::Error;
    type Future = ResponseFuture<I::Error>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // Nothing is parsed here: the cookie is read when an extractor loads the session, so
        // a request whose handler ignores the session costs one small allocation.
        let ctx = Arc::new(Context::new(
            self.store.clone(),
            self.config.clone(),
            self.auth.clone(),
        ));
        req.extensions_mut().insert(ctx.clone());

        // `poll_ready` was called on `self.inner`: call it now, rather than moving a clone of
        // the service into the future.
        let response = self.inner.call(req);
        Box::pin(async move {
            let res = response.await?;
            Ok(finish(&ctx, res).await)
        })
    }
}

/// Writes the session back and puts the cookie on the response; a failed save turns the
/// response into a `503`.
async fn finish<B>(ctx: &Context, res: http::Response<B>) -> Response
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let committed = commit(ctx, res.status()).await;
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
