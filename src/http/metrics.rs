//! The metrics listener: Prometheus text at `/metrics`, on an address of its own and nothing else.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;

use super::AppState;

#[derive(Clone)]
struct Exporter {
    state: AppState,
    handle: PrometheusHandle,
}

async fn metrics(State(exporter): State<Exporter>) -> Response {
    if let Err(error) = exporter
        .state
        .airlock
        .record_gauges(crate::clock::now())
        .await
    {
        tracing::warn!(%error, "gauges could not be read");
    }
    let mut response = exporter.handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// Serves `/metrics` on `listener` until the process stops.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener, handle: PrometheusHandle) {
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(Exporter { state, handle });
    if let Err(error) = axum::serve(listener, app).await {
        tracing::error!(%error, "the metrics listener stopped");
    }
}
