use serde::Serialize;

use super::{ClientId, EnvironmentId};

/// Algorithms an environment signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SigningAlg {
    RS256,
    ES256,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 2] = [SigningAlg::RS256, SigningAlg::ES256];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "RS256" => Some(SigningAlg::RS256),
            "ES256" => Some(SigningAlg::ES256),
            _ => None,
        }
    }
}

/// How a client authenticates at the token, introspection and revocation endpoints (OIDC Core
/// §9, RFC 7591 `token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    /// A shared secret, in the `Authorization` header or (`client_secret_post`) the body: either
    /// is accepted.
    ClientSecretBasic,
    ClientSecretPost,
    /// An HS256 JWT made with the client secret.
    ClientSecretJwt,
    /// A JWT signed with a key of the client's JWKS.
    PrivateKeyJwt,
    /// A public client.
    None,
}

impl TokenAuthMethod {
    pub const ALL: [TokenAuthMethod; 5] = [
        TokenAuthMethod::ClientSecretBasic,
        TokenAuthMethod::ClientSecretPost,
        TokenAuthMethod::ClientSecretJwt,
        TokenAuthMethod::PrivateKeyJwt,
        TokenAuthMethod::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenAuthMethod::ClientSecretPost => "client_secret_post",
            TokenAuthMethod::ClientSecretJwt => "client_secret_jwt",
            TokenAuthMethod::PrivateKeyJwt => "private_key_jwt",
            TokenAuthMethod::None => "none",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|method| method.as_str() == value)
    }

    /// Whether the client holds a secret of ours.
    pub fn has_secret(self) -> bool {
        matches!(
            self,
            TokenAuthMethod::ClientSecretBasic
                | TokenAuthMethod::ClientSecretPost
                | TokenAuthMethod::ClientSecretJwt
        )
    }
}

/// An initial access token of dynamic registration (RFC 7591 §3): lets whoever holds it register
/// clients in one environment, until it expires, runs out of uses or is revoked.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrationToken {
    pub token_id: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub revoked_at: Option<i64>,
}

/// A registered relying party of one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Client {
    pub env_id: EnvironmentId,
    pub client_id: ClientId,
    pub name: String,
    #[serde(skip)]
    pub secret_digest: Option<String>,
    pub public: bool,
    pub first_party: bool,
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back (exact match).
    pub post_logout_redirect_uris: Vec<String>,
    pub id_token_signed_response_alg: SigningAlg,
    pub token_endpoint_auth_method: TokenAuthMethod,
    /// `private_key_jwt`: the client's public keys, inline (a JWKS document) or by URL.
    pub jwks: Option<serde_json::Value>,
    pub jwks_uri: Option<String>,
    /// `client_secret_jwt`: the secret itself, sealed under the KEK (an HMAC key must be known,
    /// not only its digest).
    #[serde(skip)]
    pub secret_sealed: Option<String>,
    /// Registered by the client itself (RFC 7591), which manages it with its registration
    /// access token.
    pub dynamically_registered: bool,
    pub created_at: i64,
}
