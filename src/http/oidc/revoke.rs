use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::introspect::token_param;
use crate::http::AppState;
use crate::http::current_env::CurrentEnvironment;
use crate::http::error::HttpError;
use crate::http::extract::ClientForm;
use crate::http::headers::no_store;
use crate::http::request_meta::RequestOrigin;

/// `POST {issuer}/revoke`
pub async fn revoke(
    State(state): State<AppState>,
    zone: CurrentEnvironment,
    RequestOrigin(origin): RequestOrigin,
    form: ClientForm,
) -> Response {
    let token = match token_param(&form.params) {
        Ok(token) => token,
        Err(error) => return HttpError::json(error).into_response(),
    };
    let now = crate::clock::now();
    match state
        .revocation()
        .revoke(&zone, &form.client, token, &origin, now)
        .await
    {
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            no_store(&mut response);
            response
        }
        Err(error) => HttpError::json(error).into_response(),
    }
}
