//! The two origins the browser visits: the example app on one loopback port, and an
//! "attacker" site on another that posts a form to the app.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use session_runtime::{ManualClock, MemoryStore};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::server;

/// Hashing the demo passwords takes a moment: once per test binary.
static USERS: LazyLock<Arc<server::Users>> =
    LazyLock::new(|| Arc::new(server::Users::demo().expect("demo users")));

/// A router served on a free port of 127.0.0.1 until dropped.
pub struct Site {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Site {
    async fn serve(router: Router) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serve");
        });
        Self { addr, task }
    }

    /// The example app, exactly as `cargo run --example app` builds it (its own session
    /// configuration: `__Host-session`, Secure, HttpOnly), on an empty memory store.
    pub async fn app() -> Self {
        Self::serve(server::router(MemoryStore::new(), USERS.clone())).await
    }

    /// The example app on `clock`, which the test moves, on an empty memory store.
    pub async fn app_on(clock: ManualClock) -> Self {
        let options = server::Options {
            clock: Arc::new(clock),
        };
        Self::serve(server::router_with(
            MemoryStore::new(),
            USERS.clone(),
            options,
        ))
        .await
    }

    /// A site of another origin whose pages post forms to `target` as soon as they load:
    /// `/logout` (would end the session) and `/cart` (would change it).
    pub async fn attacker(target: &str) -> Self {
        let logout = attack_page(&format!("{target}/logout"), &[]);
        let cart = attack_page(&format!("{target}/cart"), &[("item", "666")]);
        let router = Router::new()
            .route("/logout", get(move || async move { Html(logout) }))
            .route("/cart", get(move || async move { Html(cart) }));
        Self::serve(router).await
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The same server named `localhost`: another site than `127.0.0.1` for the browser.
    pub fn localhost_origin(&self) -> String {
        format!("http://localhost:{}", self.addr.port())
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A page with a form to `action` that submits itself on load.
fn attack_page(action: &str, fields: &[(&str, &str)]) -> String {
    let inputs: String = fields
        .iter()
        .map(|(name, value)| format!("<input type=\"hidden\" name=\"{name}\" value=\"{value}\">"))
        .collect();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Win a prize</title></head>\
         <body><form id=\"attack\" method=\"post\" action=\"{action}\">{inputs}\
         <button>Claim</button></form>\
         <script>document.getElementById('attack').submit();</script></body></html>"
    )
}
