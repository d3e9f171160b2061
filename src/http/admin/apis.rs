//! Resource servers (APIs) of one environment, and the scopes of them granted to clients.

use axum::extract::Path;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminJson, AdminResult, AdminZone, created, listed, no_content, ok, present};
use super::parse_alg;
use crate::http::AppState;
use crate::model::{Api, ClientId, SigningAlg};
use crate::service::admin::apis::{ApiChanges, NewApi};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_api, list_apis))
        .routes(routes!(show_api, update_api, delete_api))
        .routes(routes!(list_grants, grant))
        .routes(routes!(revoke))
}

/// The API named in the path: its id (`api_…`) or its identifier, percent-encoded.
#[derive(Deserialize)]
pub struct ApiPath {
    api: String,
}

#[derive(Deserialize)]
pub struct ClientPath {
    client_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiBody {
    identifier: String,
    #[serde(default)]
    scopes: Vec<String>,
    access_token_ttl: Option<i64>,
    signing_alg: Option<String>,
}

/// `null` for `access_token_ttl` goes back to the environment's lifetime; absent keeps it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiPatch {
    scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    access_token_ttl: Option<Option<i64>>,
    signing_alg: Option<String>,
}

/// Scopes of an API to grant or take back; none named: all of them.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    api: String,
    #[serde(default)]
    scopes: Vec<String>,
}

/// `POST …/apis`
#[utoipa::path(
    post,
    path = "/apis",
    tag = "apis",
    request_body = ApiBody,
    responses((status = 201, description = "Created", body = Value))
)]
pub async fn create_api(zone: AdminZone, AdminJson(body): AdminJson<ApiBody>) -> AdminResult {
    let request = NewApi {
        identifier: body.identifier,
        scopes: body.scopes,
        access_token_ttl: body.access_token_ttl,
        signing_alg: parse_alg(body.signing_alg.as_deref())?.unwrap_or(SigningAlg::RS256),
    };
    let api = zone
        .airlock
        .apis()
        .create(&zone.environment, request, &zone.caller, zone.now)
        .await?;
    created(api)
}

/// `GET …/apis`
#[utoipa::path(
    get,
    path = "/apis",
    tag = "apis",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_apis(zone: AdminZone) -> AdminResult {
    let apis = zone.airlock.apis().list(&zone.environment).await?;
    listed::<_, Api>("apis", apis)
}

/// `GET …/apis/{api}`
#[utoipa::path(
    get,
    path = "/apis/{api}",
    tag = "apis",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn show_api(zone: AdminZone, Path(path): Path<ApiPath>) -> AdminResult {
    ok(zone
        .airlock
        .apis()
        .find(&zone.environment, &path.api)
        .await?)
}

/// `PATCH …/apis/{api}`
#[utoipa::path(
    patch,
    path = "/apis/{api}",
    tag = "apis",
    request_body = ApiPatch,
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn update_api(
    zone: AdminZone,
    Path(path): Path<ApiPath>,
    AdminJson(patch): AdminJson<ApiPatch>,
) -> AdminResult {
    let changes = ApiChanges {
        scopes: patch.scopes,
        access_token_ttl: patch.access_token_ttl,
        signing_alg: parse_alg(patch.signing_alg.as_deref())?,
    };
    let api = zone
        .airlock
        .apis()
        .update(
            &zone.environment,
            &path.api,
            changes,
            &zone.caller,
            zone.now,
        )
        .await?;
    ok(api)
}

/// `DELETE …/apis/{api}`
#[utoipa::path(
    delete,
    path = "/apis/{api}",
    tag = "apis",
    responses((status = 204, description = "Done"))
)]
pub async fn delete_api(zone: AdminZone, Path(path): Path<ApiPath>) -> AdminResult {
    zone.airlock
        .apis()
        .delete(&zone.environment, &path.api, &zone.caller, zone.now)
        .await?;
    no_content()
}

/// `GET …/clients/{client_id}/api-grants`
#[utoipa::path(
    get,
    path = "/clients/{client_id}/api-grants",
    tag = "apis",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_grants(zone: AdminZone, Path(path): Path<ClientPath>) -> AdminResult {
    let client_id = ClientId::from(path.client_id);
    let grants = zone
        .airlock
        .apis()
        .grants_of(&zone.environment, &client_id)
        .await?;
    ok(serde_json::json!({ "api_grants": grants }))
}

/// `POST …/clients/{client_id}/api-grants`
#[utoipa::path(
    post,
    path = "/clients/{client_id}/api-grants",
    tag = "apis",
    request_body = GrantBody,
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn grant(
    zone: AdminZone,
    Path(path): Path<ClientPath>,
    AdminJson(body): AdminJson<GrantBody>,
) -> AdminResult {
    let client_id = ClientId::from(path.client_id);
    let held = zone
        .airlock
        .apis()
        .grant(
            &zone.environment,
            &client_id,
            (&body.api, body.scopes),
            &zone.caller,
            zone.now,
        )
        .await?;
    ok(held)
}

/// `POST …/clients/{client_id}/api-grants/revoke`
#[utoipa::path(
    post,
    path = "/clients/{client_id}/api-grants/revoke",
    tag = "apis",
    request_body = GrantBody,
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn revoke(
    zone: AdminZone,
    Path(path): Path<ClientPath>,
    AdminJson(body): AdminJson<GrantBody>,
) -> AdminResult {
    let client_id = ClientId::from(path.client_id);
    let held = zone
        .airlock
        .apis()
        .revoke(
            &zone.environment,
            &client_id,
            (&body.api, body.scopes),
            &zone.caller,
            zone.now,
        )
        .await?;
    ok(held)
}
