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

/// A registered relying party of one environment.
#[derive(Debug, Clone, Serialize)]
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
    pub created_at: i64,
}
