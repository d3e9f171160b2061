//! The per-environment protocol endpoints, one file each. Paths come from `oidc::endpoints`, the same
//! source discovery uses.

mod authorize;
mod discovery;
mod lifecycle;
mod logout;
mod token;
mod userinfo;

use axum::Router;
use axum::routing::{get, post};

use super::AppState;
use crate::oidc::endpoints::Endpoint;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(Endpoint::Discovery.path(), get(discovery::discovery))
        .route(Endpoint::Jwks.path(), get(discovery::jwks))
        .route(
            Endpoint::Authorization.path(),
            get(authorize::authorize).post(authorize::authorize),
        )
        .route(Endpoint::Login.path(), post(authorize::login))
        .route(Endpoint::Consent.path(), post(authorize::consent))
        .route(Endpoint::Token.path(), post(token::token))
        .route(
            Endpoint::UserInfo.path(),
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(Endpoint::Introspection.path(), post(lifecycle::introspect))
        .route(Endpoint::Revocation.path(), post(lifecycle::revoke))
        .route(
            Endpoint::EndSession.path(),
            get(logout::logout).post(logout::logout),
        )
}
