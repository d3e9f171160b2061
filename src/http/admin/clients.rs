//! Client registrations of one environment.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::extract::{AdminJson, AdminResult, AdminZone, created};
use super::parse_alg;
use crate::http::AppState;
use crate::model::{Client, ClientId, Secret, SigningAlg};
use crate::service::admin::clients::{ClientChanges, NewClient};

/// The client named in the path (after its project and environment).
#[derive(Deserialize)]
pub struct ClientPath {
    client_id: String,
}

#[derive(Deserialize)]
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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    first_party: Option<bool>,
    id_token_signed_response_alg: Option<String>,
}

#[derive(Serialize)]
struct ClientResponse {
    client_id: String,
    name: String,
    public: bool,
    first_party: bool,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    id_token_signed_response_alg: SigningAlg,
    created_at: i64,
    /// Only in the answer that issued it.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<Secret>,
}

impl ClientResponse {
    fn new(client: Client, client_secret: Option<Secret>) -> Self {
        ClientResponse {
            client_id: client.client_id.into(),
            name: client.name,
            public: client.public,
            first_party: client.first_party,
            redirect_uris: client.redirect_uris,
            post_logout_redirect_uris: client.post_logout_redirect_uris,
            id_token_signed_response_alg: client.id_token_signed_response_alg,
            created_at: client.created_at,
            client_secret,
        }
    }
}

/// `POST …/clients`
pub async fn create_client(
    State(state): State<AppState>,
    zone: AdminZone,
    AdminJson(body): AdminJson<ClientBody>,
) -> AdminResult {
    let alg = parse_alg(body.id_token_signed_response_alg.as_deref())?;
    let request = NewClient {
        name: body.name,
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        public: body.public,
        first_party: body.first_party,
        id_token_signed_response_alg: alg.unwrap_or(SigningAlg::RS256),
    };
    let now = crate::clock::now();
    let issued = state
        .clients()
        .create(&zone.environment, request, &zone.caller, now)
        .await?;
    Ok(created(ClientResponse::new(
        issued.client,
        issued.client_secret,
    )))
}

/// `GET …/clients`
pub async fn list_clients(State(state): State<AppState>, zone: AdminZone) -> AdminResult {
    let clients: Vec<ClientResponse> = state
        .clients()
        .list(&zone.environment)
        .await?
        .into_iter()
        .map(|client| ClientResponse::new(client, None))
        .collect();
    Ok(Json(json!({ "clients": clients })).into_response())
}

/// `GET …/clients/{client_id}`
pub async fn show_client(
    State(state): State<AppState>,
    zone: AdminZone,
    Path(path): Path<ClientPath>,
) -> AdminResult {
    let client_id = ClientId::from(path.client_id);
    let client = state.clients().find(&zone.environment, &client_id).await?;
    Ok(Json(ClientResponse::new(client, None)).into_response())
}

/// `PATCH …/clients/{client_id}`
pub async fn update_client(
    State(state): State<AppState>,
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
    };
    let now = crate::clock::now();
    let client = state
        .clients()
        .update(
            &zone.environment,
            &ClientId::from(path.client_id),
            changes,
            &zone.caller,
            now,
        )
        .await?;
    Ok(Json(ClientResponse::new(client, None)).into_response())
}

/// `DELETE …/clients/{client_id}`
pub async fn delete_client(
    State(state): State<AppState>,
    zone: AdminZone,
    Path(path): Path<ClientPath>,
) -> AdminResult {
    let now = crate::clock::now();
    state
        .clients()
        .delete(
            &zone.environment,
            &ClientId::from(path.client_id),
            &zone.caller,
            now,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST …/clients/{client_id}/rotate-secret`
pub async fn rotate_secret(
    State(state): State<AppState>,
    zone: AdminZone,
    Path(path): Path<ClientPath>,
) -> AdminResult {
    let client_id = ClientId::from(path.client_id);
    let now = crate::clock::now();
    let secret = state
        .clients()
        .rotate_secret(&zone.environment, &client_id, &zone.caller, now)
        .await?;
    Ok(Json(json!({ "client_id": client_id, "client_secret": secret })).into_response())
}
