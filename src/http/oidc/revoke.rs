use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::cors::Origin;
use crate::http::current_env::ZoneRequest;
use crate::http::error::HttpError;
use crate::http::extract::TokenForm;
use crate::http::headers::no_store;

/// `POST {issuer}/revoke`: 200 whether or not there was anything to revoke.
pub async fn revoke(
    State(state): State<AppState>,
    request: ZoneRequest,
    origin: Origin,
    form: TokenForm,
) -> Response {
    let mut response = match state
        .protocol()
        .revoke(&request.call(), &form.client, &form.token)
        .await
    {
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            no_store(&mut response);
            response
        }
        Err(error) => HttpError::json(error).into_response(),
    };
    origin.grant(&state, &request.zone, &mut response).await;
    response
}
