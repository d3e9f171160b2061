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
    /// Entries at or after this time (seconds since the epoch).
    since: Option<i64>,
    /// Entries at or before this time (seconds since the epoch).
    until: Option<i64>,
    #[serde(rename = "type")]
    event: Option<String>,
    /// `success` or `failure`.
    outcome: Option<String>,
    client_id: Option<String>,
    /// Who acted: a user id, an admin token id, `cli`.
    actor: Option<String>,
    limit: Option<i64>,
}

/// `GET …/audit?since=&until=&type=&outcome=&client_id=&actor=&limit=`
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
        until: params.until,
        event: params.event,
        outcome: params.outcome,
        client_id: params.client_id,
        actor: params.actor,
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
