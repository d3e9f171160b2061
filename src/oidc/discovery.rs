//! The provider metadata document (OIDC Discovery 1.0 §3, RFC 8414 §2).

use serde_json::{Value, json};

use super::claims::SUPPORTED_CLAIMS;
use super::endpoints::Endpoint;
use super::scope;
use crate::model::{Issuer, SigningAlg};

/// Algorithms of client assertions: the client's keys (`private_key_jwt`) or its secret
/// (`client_secret_jwt`, HS256).
const ASSERTION_ALGS: [&str; 3] = ["RS256", "ES256", "HS256"];

pub fn metadata(issuer: &Issuer) -> Value {
    let algs: Vec<&str> = SigningAlg::ALL.iter().map(|alg| alg.as_str()).collect();
    json!({
        "issuer": issuer.as_str(),
        "authorization_endpoint": issuer.endpoint(Endpoint::Authorization.path()),
        "token_endpoint": issuer.endpoint(Endpoint::Token.path()),
        "userinfo_endpoint": issuer.endpoint(Endpoint::UserInfo.path()),
        "jwks_uri": issuer.endpoint(Endpoint::Jwks.path()),
        "introspection_endpoint": issuer.endpoint(Endpoint::Introspection.path()),
        "revocation_endpoint": issuer.endpoint(Endpoint::Revocation.path()),
        "end_session_endpoint": issuer.endpoint(Endpoint::EndSession.path()),
        "registration_endpoint": issuer.endpoint(Endpoint::Registration.path()),
        "scopes_supported": scope::SUPPORTED,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"
        ],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"
        ],
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"
        ],
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": SUPPORTED_CLAIMS,
        "prompt_values_supported": ["none", "login", "consent", "create"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    })
}
