use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::current_env::CurrentEnvironment;
use crate::http::error::HttpError;
use crate::http::extract::BearerToken;
use crate::http::request_meta::{RequestOrigin, call};
use crate::http::respond::json_no_store;

/// `GET|POST {issuer}/userinfo`
pub async fn userinfo(
    State(state): State<AppState>,
    zone: CurrentEnvironment,
    RequestOrigin(origin): RequestOrigin,
    BearerToken(token): BearerToken,
) -> Response {
    let call = call(&zone, &origin);
    match state.protocol().userinfo(&call, &token).await {
        Ok(claims) => json_no_store(claims),
        Err(error) => HttpError::bearer(error).into_response(),
    }
}
