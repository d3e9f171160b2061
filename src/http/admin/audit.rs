//! One environment's audit log and its chain check.

use axum::Json;
use axum::Router;
use axum::extract::{Query, rejection::QueryRejection};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::extract::{AdminError, AdminResult, AdminZone, ok};
use crate::http::AppState;
use crate::service::Error;
use crate::service::admin::audit::{AuditFilter, zone_label};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(list_audit))
        .route("/audit/verify", get(verify_audit))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    since: Option<i64>,
    #[serde(rename = "type")]
    event: Option<String>,
    limit: Option<i64>,
}

/// `GET …/audit?since=&type=&limit=`
pub async fn list_audit(
    zone: AdminZone,
    query: Result<Query<AuditParams>, QueryRejection>,
) -> AdminResult {
    let Query(params) =
        query.map_err(|rejection| AdminError::from(Error::Invalid(rejection.body_text())))?;
    let filter = AuditFilter {
        since: params.since,
        event: params.event,
        limit: params.limit,
    };
    let environment = zone.environment;
    let entries = zone
        .airlock
        .audit_trail()
        .list(&environment, filter)
        .await?;
    Ok(Json(json!({
        "project": environment.project,
        "environment": environment.name,
        "kind": environment.kind,
        "label": zone_label(environment.kind),
        "entries": entries,
    }))
    .into_response())
}

/// `GET …/audit/verify`
pub async fn verify_audit(zone: AdminZone) -> AdminResult {
    let report = zone.airlock.audit_trail().verify(&zone.environment).await?;
    ok(report)
}
