//! Initial access tokens for dynamic client registration, per environment.

use axum::Router;
use axum::extract::Path;
use axum::routing::{delete, post};
use serde::Deserialize;
use serde_json::json;

use super::extract::{AdminJson, AdminResult, AdminZone, created, no_content, ok, uncached};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/registration-tokens", post(create_token).get(list_tokens))
        .route("/registration-tokens/{token_id}", delete(revoke_token))
}

#[derive(Deserialize)]
pub struct TokenPath {
    token_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// Seconds until it expires.
    expires_in: Option<i64>,
    max_uses: Option<i64>,
}

/// `POST …/registration-tokens`: the token is in this answer only.
pub async fn create_token(zone: AdminZone, AdminJson(body): AdminJson<TokenBody>) -> AdminResult {
    let (token, secret) = zone
        .airlock
        .registrar()
        .create_token(
            &zone.environment,
            (body.expires_in, body.max_uses),
            &zone.caller,
            zone.now,
        )
        .await?;
    uncached(created(
        json!({ "token": token, "initial_access_token": secret }),
    ))
}

/// `GET …/registration-tokens`
pub async fn list_tokens(zone: AdminZone) -> AdminResult {
    let tokens = zone
        .airlock
        .registrar()
        .list_tokens(&zone.environment)
        .await?;
    ok(json!({ "registration_tokens": tokens }))
}

/// `DELETE …/registration-tokens/{token_id}`: revokes it.
pub async fn revoke_token(zone: AdminZone, Path(path): Path<TokenPath>) -> AdminResult {
    zone.airlock
        .registrar()
        .revoke_token(&zone.environment, &path.token_id, &zone.caller, zone.now)
        .await?;
    no_content()
}
