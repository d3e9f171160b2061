//! The per-environment protocol endpoints, one file each. Paths come from `oidc::endpoints`, the same
//! source discovery uses.

mod authorize;
mod discovery;
mod introspect;
mod logout;
mod revoke;
mod token;
mod userinfo;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde_json::json;

use super::AppState;
use super::cors;
use super::current_env::CurrentEnvironment;
use crate::oidc::endpoints::Endpoint;

fn handlers() -> [(Endpoint, MethodRouter<AppState>); 10] {
    [
        (Endpoint::Discovery, get(discovery::discovery)),
        (Endpoint::Jwks, get(discovery::jwks)),
        (
            Endpoint::Authorization,
            get(authorize::authorize).post(authorize::authorize),
        ),
        (Endpoint::Login, post(authorize::login)),
        (Endpoint::Consent, post(authorize::consent)),
        (Endpoint::Token, post(token::token)),
        (
            Endpoint::UserInfo,
            get(userinfo::userinfo).post(userinfo::userinfo),
        ),
        (Endpoint::Introspection, post(introspect::introspect)),
        (Endpoint::Revocation, post(revoke::revoke)),
        (
            Endpoint::EndSession,
            get(logout::logout).post(logout::logout),
        ),
    ]
}

/// Who may call an endpoint from a browser app on another origin.
fn with_cors(
    endpoint: Endpoint,
    handler: MethodRouter<AppState>,
    state: &AppState,
) -> MethodRouter<AppState> {
    match endpoint {
        Endpoint::Discovery | Endpoint::Jwks => {
            handler.layer(middleware::from_fn(cors::for_anyone))
        }
        Endpoint::Token | Endpoint::UserInfo | Endpoint::Revocation => handler.layer(
            middleware::from_fn_with_state(state.clone(), cors::for_client_origins),
        ),
        _ => handler,
    }
}

/// Every endpoint twice, in one flat table: under `/{project}/{environment}` (path issuers on the
/// public host) and at the root (custom domains). The `Zone` extractor tells which applies.
pub fn routes(state: &AppState) -> Router<AppState> {
    let prefix = format!(
        "/{{{}}}/{{{}}}",
        super::current_env::PROJECT,
        super::current_env::ENVIRONMENT
    );
    handlers()
        .into_iter()
        .fold(Router::new(), |router, (endpoint, handler)| {
            let handler = with_cors(endpoint, handler.fallback(method_not_allowed), state);
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
