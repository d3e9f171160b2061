//! Claim sets: the ID token (OIDC Core §2), the JWT access token (RFC 9068) and UserInfo by scope.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::scope::{self, Scope};
use crate::model::User;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub azp: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// Identity claims the requested scopes release (never empty strings or nulls).
    #[serde(flatten)]
    pub identity: Map<String, Value>,
}

/// RFC 9068 access token. `grant` ties user tokens to their grant so a code replay can revoke them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub jti: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
}

/// `at_hash`: base64url of the left half of the SHA-256 digest (RS256 and ES256 both hash with SHA-256).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Identity claims of `user` released by `scope`. Unset values are omitted, never null or "".
pub fn identity_claims(user: &User, scope: &Scope) -> Map<String, Value> {
    let mut claims = Map::new();
    if scope.contains(scope::PROFILE) {
        if let Some(name) = user.name.as_deref().filter(|n| !n.trim().is_empty()) {
            claims.insert("name".into(), json!(name));
        }
        claims.insert("preferred_username".into(), json!(user.email));
        claims.insert("updated_at".into(), json!(user.updated_at));
    }
    if scope.contains(scope::EMAIL) {
        claims.insert("email".into(), json!(user.email));
        claims.insert("email_verified".into(), json!(user.email_verified));
    }
    claims
}

/// Claims names that discovery advertises.
pub const SUPPORTED_CLAIMS: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "azp",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "name",
    "preferred_username",
    "updated_at",
    "email",
    "email_verified",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_of_known_value() {
        // OIDC Core, appendix A.3 style check: 16 bytes of SHA-256 → 22 base64url characters.
        let hash = at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y");
        assert_eq!(hash.len(), 22);
        assert_eq!(hash, at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"));
    }

    #[test]
    fn claims_follow_scope() {
        let user = User {
            env_id: "e".into(),
            user_id: "u".into(),
            email: "a@b.c".into(),
            email_verified: false,
            name: None,
            password_hash: crate::model::Secret::new(""),
            created_at: 1,
            updated_at: 2,
            fixture: false,
            disabled_at: None,
            signed_up: false,
        };
        let email_only = identity_claims(&user, &Scope::parse(Some("openid email")).unwrap());
        assert_eq!(email_only.get("email_verified"), Some(&json!(false)));
        assert!(!email_only.contains_key("name"));
        let profile = identity_claims(&user, &Scope::parse(Some("openid profile")).unwrap());
        assert!(!profile.contains_key("name"), "an unset name is omitted");
        assert_eq!(profile.get("updated_at"), Some(&json!(2)));
    }
}
