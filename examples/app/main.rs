//! The example web app: login, logout, guards, a guest cart that survives login, and HTML
//! pages, on the typed-session toolkit.
//!
//! ```text
//! cargo run --example app
//! PORT=8080 SESSION_STORE=memory cargo run --example app
//! SESSION_STORE=sqlite://sessions.db cargo run --example app
//! SESSION_STORE=postgres://postgres@127.0.0.1/app cargo run --example app
//! SESSION_STORE=redis://127.0.0.1:6379 cargo run --example app
//! ```

mod server;

use std::process::ExitCode;

use server::{Settings, build_app};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let settings = match Settings::from_env(|name| std::env::var(name).ok()) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let app = match build_app(&settings).await {
        Ok(app) => app,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], settings.port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    println!("listening on http://{addr}");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("error: server failed: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
