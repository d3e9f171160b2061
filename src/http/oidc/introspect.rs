use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::current_env::CurrentEnvironment;
use crate::http::error::HttpError;
use crate::http::extract::TokenForm;
use crate::http::request_meta::{RequestOrigin, call};
use crate::http::respond::json_no_store;

/// `POST {issuer}/introspect`
pub async fn introspect(
    State(state): State<AppState>,
    zone: CurrentEnvironment,
    RequestOrigin(origin): RequestOrigin,
    form: TokenForm,
) -> Response {
    let call = call(&zone, &origin);
    match state
        .protocol()
        .introspect(&call, &form.client, &form.token)
        .await
    {
        Ok(answer) => json_no_store(answer),
        Err(error) => HttpError::json(error).into_response(),
    }
}
