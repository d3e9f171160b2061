use serde::Serialize;

use super::{ApiId, ClientId, EnvironmentId, SigningAlg};

/// A resource server of one environment: the audience its access tokens name (RFC 8707), and the
/// scopes it defines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Api {
    pub env_id: EnvironmentId,
    pub api_id: ApiId,
    /// The absolute URI tokens for this API carry as `aud`; unique within the environment.
    pub identifier: String,
    pub scopes: Vec<String>,
    /// Lifetime of its access tokens; `None` is the environment's.
    pub access_token_ttl: Option<i64>,
    pub signing_alg: SigningAlg,
    pub created_at: i64,
}

/// The scopes of one API a client may ask for.
#[derive(Debug, Clone, Serialize)]
pub struct ApiGrant {
    pub client_id: ClientId,
    pub api_id: ApiId,
    pub identifier: String,
    pub scopes: Vec<String>,
}

/// An API as a client may use it: the API, and the scopes granted to that client.
#[derive(Debug, Clone)]
pub struct GrantedApi {
    pub api: Api,
    pub granted: Vec<String>,
}
