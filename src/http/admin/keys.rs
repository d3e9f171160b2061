//! Signing keys of one environment.

use axum::Router;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::extract::{AdminResult, AdminZone, OptionalJson, created, ok};
use super::parse_alg;
use crate::http::AppState;
use crate::model::SigningAlg;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/keys", get(list_keys))
        .route("/keys/rotate", post(rotate_key))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    alg: Option<String>,
    publish_delay: Option<i64>,
}

/// `GET …/keys`
pub async fn list_keys(zone: AdminZone) -> AdminResult {
    let keys = zone
        .airlock
        .keys()
        .list(&zone.environment, crate::clock::now())
        .await?;
    ok(json!({ "keys": keys }))
}

/// `POST …/keys/rotate`
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
