use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::current_env::CurrentEnvironment;
use crate::http::error::HttpError;
use crate::http::extract::ClientForm;
use crate::http::respond::json_no_store;
use crate::oidc::OAuthError;
use crate::oidc::params::ParamBag;

/// The `token` parameter that introspection and revocation require (RFC 7662 §2.1, RFC 7009 §2.1);
/// `token_type_hint` must not repeat but is otherwise only a hint.
pub fn token_param(params: &ParamBag) -> Result<&str, OAuthError> {
    params.get("token_type_hint")?;
    params
        .get("token")?
        .ok_or_else(|| OAuthError::invalid_request("the token parameter is required"))
}

/// `POST {issuer}/introspect`
pub async fn introspect(
    State(state): State<AppState>,
    zone: CurrentEnvironment,
    form: ClientForm,
) -> Response {
    let token = match token_param(&form.params) {
        Ok(token) => token,
        Err(error) => return HttpError::json(error).into_response(),
    };
    let now = crate::clock::now();
    match state
        .introspection()
        .introspect(&zone, &form.client, token, now)
        .await
    {
        Ok(answer) => json_no_store(answer),
        Err(error) => HttpError::json(error).into_response(),
    }
}
