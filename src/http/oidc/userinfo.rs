use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::cors::Origin;
use crate::http::current_env::ZoneRequest;
use crate::http::error::HttpError;
use crate::http::extract::BearerToken;
use crate::http::respond::json_no_store;

/// `GET|POST {issuer}/userinfo`
pub async fn userinfo(
    State(state): State<AppState>,
    request: ZoneRequest,
    origin: Origin,
    BearerToken(token): BearerToken,
) -> Response {
    let mut response = match state.protocol().userinfo(&request.call(), &token).await {
        Ok(claims) => json_no_store(claims),
        Err(error) => HttpError::bearer(error).into_response(),
    };
    origin.grant(&state, &request.zone, &mut response).await;
    response
}
