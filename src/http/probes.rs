//! Probes for load balancers: `/healthz` (the process answers) and `/readyz` (the database answers and
//! its schema is current).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;

pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.is_ready().await {
        Ok(true) => Json(json!({ "status": "ready" })).into_response(),
        Ok(false) => not_ready("migrations pending"),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            not_ready("database unreachable")
        }
    }
}

fn not_ready(reason: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "reason": reason })),
    )
        .into_response()
}
