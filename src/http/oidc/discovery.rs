use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::current_env::CurrentEnvironment;
use crate::http::error::HttpError;

fn public_json(body: Bytes, max_age: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(max_age));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// `GET {issuer}/.well-known/openid-configuration`
pub async fn discovery(State(state): State<AppState>, current: CurrentEnvironment) -> Response {
    public_json(
        state.zones().discovery_document(&current.issuer),
        "public, max-age=300",
    )
}

/// `GET {issuer}/jwks`: this environment's public keys, and only them.
pub async fn jwks(State(state): State<AppState>, current: CurrentEnvironment) -> Response {
    match state.jwks(&current, crate::clock::now()).await {
        Ok(jwks) => public_json(jwks, "public, max-age=60"),
        Err(error) => HttpError::json(error).into_response(),
    }
}
