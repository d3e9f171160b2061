use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::cors::Origin;
use crate::http::current_env::ZoneRequest;
use crate::http::error::HttpError;
use crate::http::extract::ClientForm;
use crate::http::respond::json_no_store;
use crate::oidc::token_request::TokenRequest;

/// `POST {issuer}/token`
pub async fn token(
    State(state): State<AppState>,
    inbound: ZoneRequest,
    origin: Origin,
    form: ClientForm,
) -> Response {
    let mut response = match TokenRequest::parse(&form.params) {
        Ok(grant) => match state
            .token_endpoint()
            .exchange(&inbound.call(), form.client, grant)
            .await
        {
            Ok(tokens) => json_no_store(tokens),
            Err(error) => HttpError::json(error).into_response(),
        },
        Err(error) => HttpError::json(error).into_response(),
    };
    origin.grant(&state, &inbound.zone, &mut response).await;
    response
}
