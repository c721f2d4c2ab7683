//! The example's live connections (DESIGN §5, §7): `GET /api/events` (SSE) and `GET /ws`
//! (a WebSocket echo) end when their session ends, on this instance or another sharing the
//! store: on the memory store, and across two instances on PostgreSQL and on Redis.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use session_runtime::testing::TestClient;
use session_runtime::{ManualClock, MemoryStore, PostgresStore, RedisStore, SessionStore};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tower::ServiceExt as _;

use crate::COOKIE;
use crate::server::{self, Options};

/// How soon an end must reach a live connection.
const WITHIN: Duration = Duration::from_secs(2);

fn app_on(store: impl SessionStore) -> Router {
    server::router_with(store, crate::USERS.clone(), Options::default())
}

/// A client logged in as alice, and its session's public id.
async fn alice(app: &Router) -> (TestClient, String) {
    let mut client = TestClient::new(app.clone());
    let body = json!({"username": "alice", "password": "alice-pass"});
    assert_eq!(client.post_json("/api/login", &body).await.status(), 200);
    let listed: Vec<Value> = client.get("/api/sessions").await.json();
    let id = listed
        .iter()
        .find(|s| s["current"] == true)
        .and_then(|s| s["id"].as_str())
        .unwrap()
        .to_owned();
    (client, id)
}

/// Revokes session `id` of alice's from `app` (another of her sessions does it).
async fn revoke_from(app: &Router, id: &str) {
    let (mut other, _) = alice(app).await;
    let req = Request::delete(format!("/api/sessions/{id}"))
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    assert_eq!(other.request(req).await.status(), 204);
}

/// The event stream of `client` on `app`, read frame by frame.
struct Events(Body);

impl Events {
    async fn open(app: &Router, client: &TestClient) -> Self {
        let req = Request::get("/api/events")
            .header(
                header::COOKIE,
                format!("{COOKIE}={}", client.cookie(COOKIE).unwrap()),
            )
            .body(Body::empty())
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
        Self(res.into_body())
    }

    /// The next frame's text within `within`: `Some("")` never; `None` at the end of the
    /// stream; panics on a timeout.
    async fn next(&mut self, within: Duration) -> Option<String> {
        let frame = tokio::time::timeout(within, self.0.frame())
            .await
            .expect("a frame in time")?;
        let data = frame.unwrap().into_data().unwrap();
        Some(String::from_utf8_lossy(&data).into_owned())
    }
}

/// SSE on `a`, the session revoked on `b`: `hello` at once, `session-ended` within 2 s,
/// then the end of the stream. Gives how long the end took.
async fn events_end_across(a: &Router, b: &Router) -> Duration {
    let (client, id) = alice(a).await;
    let mut events = Events::open(a, &client).await;
    let hello = events.next(WITHIN).await.unwrap();
    assert!(hello.starts_with("event: hello\n"), "{hello:?}");
    // Nothing while the session lives.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), events.0.frame())
            .await
            .is_err()
    );
    let started = Instant::now();
    revoke_from(b, &id).await;
    let ended = events.next(WITHIN).await.unwrap();
    let took = started.elapsed();
    assert!(ended.starts_with("event: session-ended\n"), "{ended:?}");
    assert_eq!(events.next(WITHIN).await, None, "the stream ends");
    assert!(took < WITHIN, "{took:?}");
    took
}

/// Serves `app` on a free loopback port.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("127.0.0.1:{}", addr.port())
}

/// `/ws` of `client`, on the app served at `addr`.
async fn socket(
    addr: &str,
    client: &TestClient,
    origin: Option<&str>,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    tokio_tungstenite::tungstenite::Error,
> {
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    let cookie = format!("{COOKIE}={}", client.cookie(COOKIE).unwrap());
    req.headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    if let Some(origin) = origin {
        req.headers_mut()
            .insert(header::ORIGIN, origin.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

/// A WebSocket on `a` (served at `addr`) echoes text, then closes with 1008 within 2 s of
/// its session being revoked on `b`.
async fn socket_closes_across(a: &Router, addr: &str, b: &Router) -> Duration {
    let (client, id) = alice(a).await;
    let mut ws = socket(addr, &client, Some(&format!("http://{addr}")))
        .await
        .expect("the handshake");
    ws.send(Message::text("ping")).await.unwrap();
    let echo = tokio::time::timeout(WITHIN, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(echo, Message::text("ping"));
    let started = Instant::now();
    revoke_from(b, &id).await;
    let close = tokio::time::timeout(WITHIN, ws.next())
        .await
        .expect("closed in time")
        .unwrap()
        .unwrap();
    let took = started.elapsed();
    let Message::Close(Some(frame)) = close else {
        panic!("not a close frame: {close:?}");
    };
    assert_eq!(u16::from(frame.code), server::live::CLOSE_SESSION_ENDED);
    took
}

#[tokio::test]
async fn on_the_memory_store_both_end_with_their_session() {
    let app = app_on(MemoryStore::new());
    events_end_across(&app, &app).await;
    let addr = serve(app.clone()).await;
    socket_closes_across(&app, &addr, &app).await;
}

#[tokio::test]
async fn a_cross_origin_websocket_handshake_is_refused() {
    let app = app_on(MemoryStore::new());
    let addr = serve(app.clone()).await;
    let (client, _) = alice(&app).await;
    let refused = socket(&addr, &client, Some("https://evil.example")).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(res)) = refused else {
        panic!("the handshake was not refused");
    };
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn a_guest_gets_no_stream() {
    let app = app_on(MemoryStore::new());
    let req = Request::get("/api/events")
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.oneshot(req).await.unwrap().status(), 401);
}

#[tokio::test(start_paused = true)]
async fn an_idle_stream_sends_a_heartbeat_every_15_seconds() {
    let clock = ManualClock::new();
    let store = MemoryStore::new();
    let options = Options {
        clock: Arc::new(clock.clone()),
    };
    let app = server::router_with(store.clone(), crate::USERS.clone(), options);
    let config = server::session_config(Arc::new(clock.clone()));
    let mut client = TestClient::new(app.clone());
    client
        .login_as::<server::AppSession>(&store, &config, 1)
        .with(server::AppSession::AUTH_HASH, crate::USERS.fingerprint(1))
        .await
        .unwrap();
    let mut events = Events::open(&app, &client).await;
    assert!(
        events
            .next(WITHIN)
            .await
            .unwrap()
            .starts_with("event: hello")
    );
    for _ in 0..3 {
        let started = tokio::time::Instant::now();
        let beat = events.next(Duration::from_secs(20)).await.unwrap();
        assert_eq!(beat, ": heartbeat\n\n");
        assert!(
            started.elapsed() <= server::live::HEARTBEAT,
            "{:?}",
            started.elapsed()
        );
    }
}

/// A server's URL from the environment; `None` (the test is skipped) when unset, a
/// failure under `CI=true`.
fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{var} is unset under CI=true: the live tests need that server")
        }
        _ => {
            println!("skipped: set {var} to run this test");
            None
        }
    }
}

/// The two instances' stores on PostgreSQL: one table of their own.
async fn postgres_pair(url: &str) -> (PostgresStore, PostgresStore, String) {
    let table = format!("live_{:016x}", rand::random::<u64>());
    let open = || async {
        PostgresStore::builder(url)
            .table(&table)
            .connect()
            .await
            .expect("PostgreSQL is reachable")
    };
    (open().await, open().await, table)
}

#[tokio::test]
async fn across_two_instances_sharing_postgresql() {
    let Some(url) = server_url("SESSION_TEST_POSTGRES_URL") else {
        return;
    };
    let (store_a, store_b, table) = postgres_pair(&url).await;
    let (a, b) = (app_on(store_a), app_on(store_b));
    let events = events_end_across(&a, &b).await;
    let addr = serve(a.clone()).await;
    let socket = socket_closes_across(&a, &addr, &b).await;
    println!("PostgreSQL: an end took {events:?} to reach an event stream, {socket:?} a socket");
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn across_two_instances_sharing_redis() {
    let Some(url) = server_url("SESSION_TEST_REDIS_URL") else {
        return;
    };
    let prefix = format!("live-{:016x}:", rand::random::<u64>());
    let open = || async {
        RedisStore::builder(&url)
            .prefix(&prefix)
            .connect()
            .await
            .expect("Redis is reachable")
    };
    let (a, b) = (app_on(open().await), app_on(open().await));
    let events = events_end_across(&a, &b).await;
    let addr = serve(a.clone()).await;
    let socket = socket_closes_across(&a, &addr, &b).await;
    println!("Redis: an end took {events:?} to reach an event stream, {socket:?} a socket");
}
