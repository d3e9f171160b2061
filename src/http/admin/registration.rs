//! Initial access tokens for dynamic client registration, per environment.

use axum::extract::Path;
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminJson, AdminResult, AdminZone, created, no_content, ok, uncached};
use crate::http::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
}

#[derive(Deserialize)]
pub struct TokenPath {
    token_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// Seconds until it expires.
    expires_in: Option<i64>,
    max_uses: Option<i64>,
}

/// `POST …/registration-tokens`: the token is in this answer only.
#[utoipa::path(
    post,
    path = "/registration-tokens",
    tag = "registration",
    request_body = TokenBody,
    responses((status = 201, description = "Created", body = Value))
)]
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
#[utoipa::path(
    get,
    path = "/registration-tokens",
    tag = "registration",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_tokens(zone: AdminZone) -> AdminResult {
    let tokens = zone
        .airlock
        .registrar()
        .list_tokens(&zone.environment)
        .await?;
    ok(json!({ "registration_tokens": tokens }))
}

/// `DELETE …/registration-tokens/{token_id}`: revokes it.
#[utoipa::path(
    delete,
    path = "/registration-tokens/{token_id}",
    tag = "registration",
    responses((status = 204, description = "Done"))
)]
pub async fn revoke_token(zone: AdminZone, Path(path): Path<TokenPath>) -> AdminResult {
    zone.airlock
        .registrar()
        .revoke_token(&zone.environment, &path.token_id, &zone.caller, zone.now)
        .await?;
    no_content()
}
