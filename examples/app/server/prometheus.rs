//! `GET /metrics`: the session layer's metrics (`session-runtime`'s `metrics` feature), and
//! anything else recorded through the `metrics` facade, in Prometheus' text format.
//!
//! The recorder is `metrics-exporter-prometheus`'s, without its HTTP listener: this route
//! renders it. A real deployment serves it where only the scraper can reach it (another
//! port, or behind the proxy's allow list), not on the public site as this example does.

use std::sync::OnceLock;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The buckets of `sessions_store_call_seconds`: 50 µs (a memory store) to 5 s (a store
/// past its deadline).
const STORE_CALL_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0,
];

/// The process's recorder, installed by the first call: a process has one recorder, and
/// the tests build many routers. `None` if another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(install).as_ref()
}

fn install() -> Option<PrometheusHandle> {
    let installed = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("sessions_store_call_seconds".to_owned()),
            STORE_CALL_BUCKETS,
        )
        .and_then(PrometheusBuilder::install_recorder);
    match installed {
        Ok(handle) => {
            session_runtime::describe_metrics();
            Some(handle)
        }
        Err(error) => {
            tracing::warn!(%error, "no Prometheus recorder: GET /metrics answers 503");
            None
        }
    }
}

/// `GET /metrics`.
pub async fn metrics() -> Response {
    let Some(handle) = handle() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "metrics are not recorded").into_response();
    };
    // Drains the histograms' recent samples into what `render` reports.
    handle.run_upkeep();
    let content_type = [(header::CONTENT_TYPE, "text/plain; version=0.0.4")];
    (content_type, handle.render()).into_response()
}
