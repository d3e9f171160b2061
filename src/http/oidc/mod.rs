//! The per-environment protocol endpoints, one file each. Paths come from `oidc::endpoints`, the same
//! source discovery uses.

mod accounts;
mod authorize;
mod discovery;
mod introspect;
mod logout;
mod registration;
mod revoke;
mod token;
mod userinfo;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde_json::json;

use super::AppState;
use super::cors;
use super::current_env::CurrentEnvironment;
use crate::oidc::endpoints::Endpoint;

fn handlers() -> [(Endpoint, MethodRouter<AppState>); 17] {
    [
        (
            Endpoint::Discovery,
            get(discovery::discovery).options(cors::preflight_for_anyone),
        ),
        (
            Endpoint::Jwks,
            get(discovery::jwks).options(cors::preflight_for_anyone),
        ),
        (
            Endpoint::Authorization,
            get(authorize::authorize).post(authorize::authorize),
        ),
        (Endpoint::Login, post(authorize::login)),
        (Endpoint::Consent, post(authorize::consent)),
        (
            Endpoint::Token,
            post(token::token).options(cors::preflight_for_clients),
        ),
        (
            Endpoint::UserInfo,
            get(userinfo::userinfo)
                .post(userinfo::userinfo)
                .options(cors::preflight_for_clients),
        ),
        (Endpoint::Introspection, post(introspect::introspect)),
        (
            Endpoint::Revocation,
            post(revoke::revoke).options(cors::preflight_for_clients),
        ),
        (
            Endpoint::EndSession,
            get(logout::logout).post(logout::logout),
        ),
        (
            Endpoint::PasswordForgot,
            get(accounts::forgot_form).post(accounts::forgot),
        ),
        (
            Endpoint::PasswordReset,
            get(accounts::reset_form).post(accounts::reset),
        ),
        (
            Endpoint::VerifyEmail,
            get(accounts::verify_form).post(accounts::verify),
        ),
        (Endpoint::ResendVerification, post(accounts::resend)),
        (
            Endpoint::Signup,
            get(accounts::signup_form).post(accounts::signup),
        ),
        (Endpoint::Registration, post(registration::register)),
        (
            Endpoint::ClientConfiguration,
            get(registration::read)
                .put(registration::update)
                .delete(registration::delete),
        ),
    ]
}

/// Every endpoint twice, in one flat table: under `/{project}/{environment}` (path issuers on the
/// public host) and at the root (custom domains). The `Zone` extractor tells which applies.
pub fn routes() -> Router<AppState> {
    let prefix = format!(
        "/{{{}}}/{{{}}}",
        super::current_env::PROJECT,
        super::current_env::ENVIRONMENT
    );
    handlers()
        .into_iter()
        .fold(Router::new(), |router, (endpoint, handler)| {
            let handler = handler.fallback(method_not_allowed);
            router
                .route(&format!("{prefix}{}", endpoint.path()), handler.clone())
                .route(endpoint.path(), handler)
        })
}

/// A method the endpoint does not take: 405, but only once the zone is known, so an unknown zone is
/// 404 whatever the method.
async fn method_not_allowed(_zone: CurrentEnvironment) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({ "error": "method_not_allowed" })),
    )
        .into_response()
}
