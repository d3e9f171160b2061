//! Client registrations of one environment.

use axum::extract::Path;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{
    AdminJson, AdminResult, AdminZone, created, listed, no_content, ok, present, uncached,
};
use super::parse_alg;
use crate::http::AppState;
use crate::model::{Client, ClientId, Secret, SigningAlg, TokenAuthMethod};
use crate::service::Error;
use crate::service::admin::clients::{ClientChanges, NewClient};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_client, list_clients))
        .routes(routes!(show_client, update_client, delete_client))
        .routes(routes!(rotate_secret))
}

/// The client named in the path (after its project and environment).
#[derive(Deserialize)]
pub struct ClientPath {
    client_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    name: String,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    first_party: bool,
    id_token_signed_response_alg: Option<String>,
    token_endpoint_auth_method: Option<String>,
    jwks: Option<Value>,
    jwks_uri: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    first_party: Option<bool>,
    id_token_signed_response_alg: Option<String>,
    #[serde(default, deserialize_with = "present")]
    jwks: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    jwks_uri: Option<Option<String>>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ClientResponse {
    env_id: String,
    client_id: String,
    name: String,
    public: bool,
    first_party: bool,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    #[schema(value_type = String)]
    id_token_signed_response_alg: SigningAlg,
    #[schema(value_type = String)]
    token_endpoint_auth_method: TokenAuthMethod,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks_uri: Option<String>,
    created_at: i64,
    /// Only in the answer that issued it.
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<Secret>,
}

impl From<Client> for ClientResponse {
    fn from(client: Client) -> Self {
        ClientResponse::new(client, None)
    }
}

impl ClientResponse {
    fn new(client: Client, client_secret: Option<Secret>) -> Self {
        ClientResponse {
            env_id: client.env_id.into(),
            client_id: client.client_id.into(),
            name: client.name,
            public: client.public,
            first_party: client.first_party,
            redirect_uris: client.redirect_uris,
            post_logout_redirect_uris: client.post_logout_redirect_uris,
            id_token_signed_response_alg: client.id_token_signed_response_alg,
            token_endpoint_auth_method: client.token_endpoint_auth_method,
            jwks: client.jwks,
            jwks_uri: client.jwks_uri,
            created_at: client.created_at,
            client_secret,
        }
    }
}

/// `POST …/clients`
#[utoipa::path(
    post,
    path = "/clients",
    tag = "clients",
    request_body = ClientBody,
    responses((status = 201, description = "Created", body = ClientResponse))
)]
pub async fn create_client(zone: AdminZone, AdminJson(body): AdminJson<ClientBody>) -> AdminResult {
    let alg = parse_alg(body.id_token_signed_response_alg.as_deref())?;
    let method = body
        .token_endpoint_auth_method
        .as_deref()
        .map(|method| {
            TokenAuthMethod::parse(method).ok_or_else(|| {
                Error::Invalid(
                    "token_endpoint_auth_method is client_secret_basic, client_secret_post, \
                     client_secret_jwt, private_key_jwt or none"
                        .into(),
                )
            })
        })
        .transpose()?;
    let request = NewClient {
        name: body.name,
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        public: body.public,
        first_party: body.first_party,
        id_token_signed_response_alg: alg.unwrap_or(SigningAlg::RS256),
        token_endpoint_auth_method: method,
        jwks: body.jwks,
        jwks_uri: body.jwks_uri,
    };
    let issued = zone
        .airlock
        .clients()
        .create(&zone.environment, request, &zone.caller, zone.now)
        .await?;
    uncached(created(ClientResponse::new(
        issued.client,
        issued.client_secret,
    )))
}

/// `GET …/clients`
#[utoipa::path(
    get,
    path = "/clients",
    tag = "clients",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_clients(zone: AdminZone) -> AdminResult {
    let clients = zone.airlock.clients().list(&zone.environment).await?;
    listed::<_, ClientResponse>("clients", clients)
}

/// `GET …/clients/{client_id}`
#[utoipa::path(
    get,
    path = "/clients/{client_id}",
    tag = "clients",
    responses((status = 200, description = "OK", body = ClientResponse))
)]
pub async fn show_client(zone: AdminZone, Path(path): Path<ClientPath>) -> AdminResult {
    let client_id = ClientId::from(path.client_id);
    let client = zone
        .airlock
        .clients()
        .find(&zone.environment, &client_id)
        .await?;
    ok(ClientResponse::from(client))
}

/// `PATCH …/clients/{client_id}`
#[utoipa::path(
    patch,
    path = "/clients/{client_id}",
    tag = "clients",
    request_body = ClientPatch,
    responses((status = 200, description = "OK", body = ClientResponse))
)]
pub async fn update_client(
    zone: AdminZone,
    Path(path): Path<ClientPath>,
    AdminJson(patch): AdminJson<ClientPatch>,
) -> AdminResult {
    let changes = ClientChanges {
        name: patch.name,
        redirect_uris: patch.redirect_uris,
        post_logout_redirect_uris: patch.post_logout_redirect_uris,
        first_party: patch.first_party,
        id_token_signed_response_alg: parse_alg(patch.id_token_signed_response_alg.as_deref())?,
        jwks: patch.jwks,
        jwks_uri: patch.jwks_uri,
    };
    let client = zone
        .airlock
        .clients()
        .update(
            &zone.environment,
            &ClientId::from(path.client_id),
            changes,
            &zone.caller,
            zone.now,
        )
        .await?;
    ok(ClientResponse::from(client))
}

/// `DELETE …/clients/{client_id}`
#[utoipa::path(
    delete,
    path = "/clients/{client_id}",
    tag = "clients",
    responses((status = 204, description = "Done"))
)]
pub async fn delete_client(zone: AdminZone, Path(path): Path<ClientPath>) -> AdminResult {
    zone.airlock
        .clients()
        .delete(
            &zone.environment,
            &ClientId::from(path.client_id),
            &zone.caller,
            zone.now,
        )
        .await?;
    no_content()
}

/// `POST …/clients/{client_id}/rotate-secret`
#[utoipa::path(
    post,
    path = "/clients/{client_id}/rotate-secret",
    tag = "clients",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn rotate_secret(zone: AdminZone, Path(path): Path<ClientPath>) -> AdminResult {
    let client_id = ClientId::from(path.client_id);
    let secret = zone
        .airlock
        .clients()
        .rotate_secret(&zone.environment, &client_id, &zone.caller, zone.now)
        .await?;
    uncached(ok(
        json!({ "client_id": client_id, "client_secret": secret }),
    ))
}
