//! One environment's audit log and its chain check.

use axum::Router;
use axum::extract::{Query, rejection::QueryRejection};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::extract::{AdminError, AdminResult, AdminZone, ok};
use crate::http::AppState;
use crate::service::Error;
use crate::service::admin::audit::{AuditFilter, ZoneLabel};

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
    let entries = zone
        .airlock
        .audit_trail()
        .list(&zone.environment, filter)
        .await?;
    let mut body = json!(ZoneLabel::of(&zone.environment));
    body["entries"] = json!(entries);
    ok(body)
}

/// `GET …/audit/verify`
pub async fn verify_audit(zone: AdminZone) -> AdminResult {
    let report = zone.airlock.audit_trail().verify(&zone.environment).await?;
    ok(report)
}
