//! Long-lived connections that end with their session (DESIGN §7): `GET /api/events`
//! (Server-Sent Events) and `GET /ws` (a WebSocket that echoes text). Each awaits
//! [`Session::ended`](session_runtime::Session::ended): a logout, a revocation or an expiry
//! anywhere (on another instance too) closes it within moments.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt as _, stream};
use session_runtime::{RequireAuth, SessionEndError};

use super::AppSession;

/// How often an idle event stream sends a comment, so that proxies keep it open.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// The close code of a WebSocket whose session ended: 1008, "policy violation".
pub const CLOSE_SESSION_ENDED: u16 = 1008;
/// The close code when the end of the session can no longer be watched (the store's
/// notices were lost): 1013, "try again later". The client reconnects and is checked anew.
pub const CLOSE_TRY_AGAIN: u16 = 1013;

/// `GET /api/events`: `event: hello` at once, a `: heartbeat` comment every 15 s, and
/// `event: session-ended` then the end of the stream when the session ends. If the end can
/// no longer be watched, the stream just ends (`EventSource` reconnects by itself).
pub async fn events(
    user: RequireAuth<AppSession>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let ended = user.session().ended();
    let hello = stream::once(async { Event::default().event("hello").data("") });
    let end = stream::once(async move {
        match ended.await {
            Ok(()) => Some(Event::default().event("session-ended").data("")),
            Err(error) => {
                tracing::warn!(%error, "an event stream stops: its session cannot be watched");
                None
            }
        }
    })
    .filter_map(std::future::ready);
    Sse::new(hello.chain(end).map(Ok))
        .keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
}

/// `GET /ws`: a WebSocket that echoes text, closed with 1008 when the session ends. A
/// handshake from another origin is refused (`403`): a page elsewhere must not ride the
/// visitor's cookie into a socket.
pub async fn ws(
    user: RequireAuth<AppSession>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin WebSocket refused").into_response();
    }
    let ended = user.session().ended();
    upgrade.on_upgrade(move |socket| echo_until_ended(socket, ended))
}

/// Whether the handshake's `Origin` (if any: non-browser clients send none) names this
/// host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

async fn echo_until_ended(
    mut socket: WebSocket,
    ended: impl Future<Output = Result<(), SessionEndError>> + Send,
) {
    let mut ended = std::pin::pin!(ended);
    loop {
        tokio::select! {
            outcome = &mut ended => {
                let (code, reason) = match outcome {
                    Ok(()) => (CLOSE_SESSION_ENDED, "session ended"),
                    Err(_) => (CLOSE_TRY_AGAIN, "reconnect"),
                };
                let close = CloseFrame { code, reason: reason.into() };
                let _ = socket.send(Message::Close(Some(close))).await;
                return;
            }
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    if socket.send(Message::Text(text)).await.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                // Pings are answered by axum; binary messages are not echoed.
                Some(Ok(_)) => {}
            }
        }
    }
}
