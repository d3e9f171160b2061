use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::token::{json_no_store, presented_client};
use crate::http::AppState;
use crate::http::current_env::CurrentEnvironment;
use crate::http::error::HttpError;
use crate::http::form;
use crate::http::headers::no_store;
use crate::http::request_meta::RequestOrigin;
use crate::oidc::OAuthError;
use crate::oidc::params::ParamBag;
use crate::service::Error;

/// The `token` parameter both endpoints require (RFC 7662 §2.1, RFC 7009 §2.1); `token_type_hint`
/// must not repeat but is otherwise only a hint.
fn token_param(params: &ParamBag) -> Result<String, Error> {
    params.get("token_type_hint")?;
    Ok(params
        .get("token")?
        .ok_or_else(|| OAuthError::invalid_request("the token parameter is required"))?
        .to_string())
}

/// `POST {issuer}/introspect`
pub async fn introspect(
    State(state): State<AppState>,
    current: CurrentEnvironment,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome: Result<_, Error> = async {
        let params = form::form(&headers, &body)?;
        let presented = presented_client(&headers, &params)?;
        let token = token_param(&params)?;
        state
            .introspect(&current, &presented, &token, crate::clock::now())
            .await
    }
    .await;
    match outcome {
        Ok(answer) => json_no_store(answer),
        Err(error) => HttpError::json(error).into_response(),
    }
}

/// `POST {issuer}/revoke`
pub async fn revoke(
    State(state): State<AppState>,
    current: CurrentEnvironment,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome: Result<_, Error> = async {
        let params = form::form(&headers, &body)?;
        let presented = presented_client(&headers, &params)?;
        let token = token_param(&params)?;
        state
            .revoke(&current, &presented, &token, &origin, crate::clock::now())
            .await
    }
    .await;
    match outcome {
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            no_store(&mut response);
            response
        }
        Err(error) => HttpError::json(error).into_response(),
    }
}
