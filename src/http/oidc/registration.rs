//! Dynamic client registration (RFC 7591) and the client's management of it (RFC 7592).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::AppState;
use crate::http::current_env::ZoneRequest;
use crate::http::error::HttpError;
use crate::http::headers::no_store;
use crate::model::{Client, ClientId};
use crate::oidc::endpoints::Endpoint;
use crate::oidc::registration;
use crate::service::registration::{RegisteredClient, RegistrationFailure};

#[derive(Deserialize)]
pub struct ClientPath {
    client_id: String,
}

/// The token of `Authorization: Bearer …`, if that is what the request carries.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// The metadata of `client` as registration answers it (RFC 7591 §3.2.1, RFC 7592 §3).
fn metadata(request: &ZoneRequest, client: &Client) -> serde_json::Map<String, Value> {
    let registration_client_uri = request.zone.issuer.endpoint(&format!(
        "{}/{}",
        Endpoint::Registration.path(),
        client.client_id
    ));
    let mut body = json!({
        "client_id": client.client_id,
        "client_id_issued_at": client.created_at,
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "token_endpoint_auth_method": client.token_endpoint_auth_method.as_str(),
        "grant_types": registration::grant_types(client.token_endpoint_auth_method),
        "response_types": ["code"],
        "id_token_signed_response_alg": client.id_token_signed_response_alg.as_str(),
        "registration_client_uri": registration_client_uri,
    });
    if let Some(jwks) = &client.jwks {
        body["jwks"] = jwks.clone();
    }
    if let Some(uri) = &client.jwks_uri {
        body["jwks_uri"] = json!(uri);
    }
    match body {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

fn failure(failure: RegistrationFailure) -> Response {
    match failure {
        RegistrationFailure::Unauthorized => {
            let body = json!({
                "error": "invalid_token",
                "error_description": "a valid token for this registration is required",
            });
            let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"airlock\", error=\"invalid_token\""),
            );
            response
        }
        RegistrationFailure::Refused(refused) => {
            let body = json!({
                "error": refused.code(),
                "error_description": refused.description,
            });
            (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
        }
        RegistrationFailure::Failed(error) => HttpError::json(error).into_response(),
    }
}

fn answered(status: StatusCode, body: serde_json::Map<String, Value>) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    no_store(&mut response);
    response
}

/// `POST {issuer}/register`, with an initial access token.
pub async fn register(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let registered = state
        .airlock
        .registrar()
        .register(&request.call(), bearer(&headers), &body)
        .await;
    match registered {
        Ok(RegisteredClient {
            client,
            client_secret,
            registration_access_token,
        }) => {
            let mut body = metadata(&request, &client);
            if let Some(secret) = client_secret {
                body.insert("client_secret".into(), json!(secret));
                body.insert("client_secret_expires_at".into(), json!(0));
            }
            if let Some(token) = registration_access_token {
                body.insert("registration_access_token".into(), json!(token));
            }
            answered(StatusCode::CREATED, body)
        }
        Err(refused) => failure(refused),
    }
}

/// `GET {issuer}/register/{client_id}`, with the registration access token.
pub async fn read(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
    Path(path): Path<ClientPath>,
) -> Response {
    let client_id = ClientId::from(path.client_id);
    let registrar = state.airlock.registrar();
    match registrar
        .read(&request.call(), &client_id, bearer(&headers))
        .await
    {
        Ok(client) => answered(StatusCode::OK, metadata(&request, &client)),
        Err(refused) => failure(refused),
    }
}

/// `PUT {issuer}/register/{client_id}`: the metadata replaced as a whole.
pub async fn update(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
    Path(path): Path<ClientPath>,
    body: Bytes,
) -> Response {
    let client_id = ClientId::from(path.client_id);
    let registrar = state.airlock.registrar();
    match registrar
        .update(&request.call(), &client_id, bearer(&headers), &body)
        .await
    {
        Ok(client) => answered(StatusCode::OK, metadata(&request, &client)),
        Err(refused) => failure(refused),
    }
}

/// `DELETE {issuer}/register/{client_id}`: the client and everything issued to it.
pub async fn delete(
    State(state): State<AppState>,
    request: ZoneRequest,
    headers: HeaderMap,
    Path(path): Path<ClientPath>,
) -> Response {
    let client_id = ClientId::from(path.client_id);
    let registrar = state.airlock.registrar();
    match registrar
        .delete(&request.call(), &client_id, bearer(&headers))
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(refused) => failure(refused),
    }
}
