use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::current_env::ZoneRequest;
use crate::http::error::HttpError;
use crate::http::extract::TokenForm;
use crate::http::respond::json_no_store;

/// `POST {issuer}/introspect`
pub async fn introspect(
    State(state): State<AppState>,
    request: ZoneRequest,
    form: TokenForm,
) -> Response {
    match state
        .protocol()
        .introspect(&request.call(), &form.client, &form.token)
        .await
    {
        Ok(answer) => json_no_store(answer),
        Err(error) => HttpError::json(error).into_response(),
    }
}
