use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::current_env::ZoneRequest;
use crate::http::error::HttpError;
use crate::http::extract::ClientForm;
use crate::http::respond::json_no_store;
use crate::oidc::token_request::TokenRequest;

/// `POST {issuer}/token`
pub async fn token(
    State(state): State<AppState>,
    inbound: ZoneRequest,
    form: ClientForm,
) -> Response {
    let grant = match TokenRequest::parse(&form.params) {
        Ok(grant) => grant,
        Err(error) => return HttpError::json(error).into_response(),
    };
    match state
        .token_endpoint()
        .exchange(&inbound.call(), form.client, grant)
        .await
    {
        Ok(tokens) => json_no_store(tokens),
        Err(error) => HttpError::json(error).into_response(),
    }
}
