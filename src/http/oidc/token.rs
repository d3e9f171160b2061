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
use crate::oidc::OAuthError;
use crate::oidc::client_auth;
use crate::oidc::token_request::TokenRequest;
use crate::service::Error;

/// `POST {issuer}/token`
pub async fn token(
    State(state): State<AppState>,
    current: CurrentEnvironment,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome: Result<_, Error> = async {
        let params = form::form(&headers, &body)?;
        let authorization = match headers.get(header::AUTHORIZATION) {
            None => None,
            Some(value) => Some(value.to_str().map_err(|_| OAuthError::invalid_client())?),
        };
        let presented = client_auth::presented_client(authorization, &params)?;
        let request = TokenRequest::parse(&params)?;
        state
            .exchange(
                &current.environment,
                presented,
                request,
                crate::clock::now(),
            )
            .await
    }
    .await;
    match outcome {
        Ok(tokens) => {
            let mut response = Json(tokens).into_response();
            no_store(&mut response);
            response
        }
        Err(error) => HttpError::json(error).into_response(),
    }
}
