//! Signing keys of one environment.

use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminResult, AdminZone, OptionalJson, created, ok};
use super::parse_alg;
use crate::http::AppState;
use crate::model::SigningAlg;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_keys))
        .routes(routes!(rotate_key))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    alg: Option<String>,
    publish_delay: Option<i64>,
}

/// `GET …/keys`
#[utoipa::path(
    get,
    path = "/keys",
    tag = "keys",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_keys(zone: AdminZone) -> AdminResult {
    let keys = zone
        .airlock
        .keys()
        .list(&zone.environment, crate::clock::now())
        .await?;
    ok(json!({ "keys": keys }))
}

/// `POST …/keys/rotate`
#[utoipa::path(
    post,
    path = "/keys/rotate",
    tag = "keys",
    request_body = RotateBody,
    responses((status = 201, description = "Created", body = Value))
)]
pub async fn rotate_key(
    zone: AdminZone,
    OptionalJson(body): OptionalJson<RotateBody>,
) -> AdminResult {
    let alg = parse_alg(body.alg.as_deref())?.unwrap_or(SigningAlg::RS256);
    let key = zone
        .airlock
        .keys()
        .rotate(
            &zone.environment,
            alg,
            body.publish_delay,
            &zone.caller,
            zone.now,
        )
        .await?;
    created(key)
}
