use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::current_env::CurrentEnvironment;
use crate::http::error::HttpError;
use crate::http::form;
use crate::http::headers::no_store;
use crate::http::request_meta::RequestOrigin;
use crate::oidc::OAuthError;
use crate::oidc::client_auth::{self, PresentedClient};
use crate::oidc::params::ParamBag;
use crate::oidc::token_request::TokenRequest;
use crate::service::Error;

/// `POST {issuer}/token`
pub async fn token(
    State(state): State<AppState>,
    current: CurrentEnvironment,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome: Result<_, Error> = async {
        let params = form::form(&headers, &body)?;
        let presented = presented_client(&headers, &params)?;
        let request = TokenRequest::parse(&params)?;
        state
            .exchange(&current, presented, request, &origin, crate::clock::now())
            .await
    }
    .await;
    match outcome {
        Ok(tokens) => json_no_store(tokens),
        Err(error) => HttpError::json(error).into_response(),
    }
}

/// The client credentials of a token, introspection or revocation request (Basic or form).
pub fn presented_client(headers: &HeaderMap, params: &ParamBag) -> Result<PresentedClient, Error> {
    let authorization = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| OAuthError::invalid_client())?),
    };
    Ok(client_auth::presented_client(authorization, params)?)
}

/// A JSON body that carries or concerns credentials.
pub fn json_no_store(value: impl serde::Serialize) -> Response {
    let mut response = Json(value).into_response();
    no_store(&mut response);
    response
}
