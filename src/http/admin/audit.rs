//! One environment's audit log and its chain check.

use axum::extract::{Query, rejection::QueryRejection};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminError, AdminResult, AdminZone, ok};
use crate::http::AppState;
use crate::service::Error;
use crate::service::admin::audit::{AuditFilter, ZoneLabel};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(verify_audit))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    since: Option<i64>,
    #[serde(rename = "type")]
    event: Option<String>,
    limit: Option<i64>,
}

/// `GET …/audit?since=&type=&limit=`
#[utoipa::path(
    get,
    path = "/audit",
    tag = "audit",
    params(AuditParams),
    responses((status = 200, description = "OK", body = Value))
)]
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
#[utoipa::path(
    get,
    path = "/audit/verify",
    tag = "audit",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn verify_audit(zone: AdminZone) -> AdminResult {
    let report = zone.airlock.audit_trail().verify(&zone.environment).await?;
    ok(report)
}
