//! The OpenID Connect / OAuth 2.0 protocol, pure: no axum, no sqlx, no clock (`now` is a parameter).

pub mod authorize;
pub mod claims;
pub mod client_assertion;
pub mod client_auth;
pub mod discovery;
pub mod endpoints;
pub mod error;
pub mod grants;
pub mod logout;
pub mod params;
pub mod pkce;
pub mod redirect;
pub mod registration;
pub mod relying_party;
pub mod resource;
pub mod scope;
pub mod session_policy;
pub mod token_request;

pub use error::{ErrorCode, OAuthError};
