use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::current_env::CurrentEnvironment;
use crate::http::error::HttpError;
use crate::http::extract::ClientForm;
use crate::http::request_meta::{RequestOrigin, call};
use crate::http::respond::json_no_store;
use crate::oidc::token_request::TokenRequest;

/// `POST {issuer}/token`
pub async fn token(
    State(state): State<AppState>,
    zone: CurrentEnvironment,
    RequestOrigin(origin): RequestOrigin,
    form: ClientForm,
) -> Response {
    let request = match TokenRequest::parse(&form.params) {
        Ok(request) => request,
        Err(error) => return HttpError::json(error).into_response(),
    };
    let call = call(&zone, &origin);
    match state
        .token_endpoint()
        .exchange(&call, form.client, request)
        .await
    {
        Ok(tokens) => json_no_store(tokens),
        Err(error) => HttpError::json(error).into_response(),
    }
}
