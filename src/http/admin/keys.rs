//! Signing keys of one environment.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;

use super::extract::{AdminResult, AdminZone, OptionalJson, created};
use super::parse_alg;
use crate::http::AppState;
use crate::model::SigningAlg;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    alg: Option<String>,
    publish_delay: Option<i64>,
}

/// `GET …/keys`
pub async fn list_keys(State(state): State<AppState>, zone: AdminZone) -> AdminResult {
    let keys = state
        .keys()
        .list(&zone.environment, crate::clock::now())
        .await?;
    Ok(Json(json!({ "keys": keys })).into_response())
}

/// `POST …/keys/rotate`
pub async fn rotate_key(
    State(state): State<AppState>,
    zone: AdminZone,
    OptionalJson(body): OptionalJson<RotateBody>,
) -> AdminResult {
    let alg = parse_alg(body.alg.as_deref())?.unwrap_or(SigningAlg::RS256);
    let now = crate::clock::now();
    let key = state
        .keys()
        .rotate(
            &zone.environment,
            alg,
            body.publish_delay,
            &zone.caller,
            now,
        )
        .await?;
    Ok(created(key))
}
