//! Checking tokens this zone issued: access tokens (signature, issuer, lifetime, then revocation)
//! and ID tokens presented back as hints.

use std::sync::Arc;

use moka::sync::Cache;
use sha2::{Digest, Sha256};

use super::clients::ClientDirectory;
use super::keyring::KeyRing;
use super::{Error, cache};
use crate::crypto::jose;
use crate::model::{ClientId, Environment, GrantId, Kid, Zone};
use crate::oidc::OAuthError;
use crate::oidc::claims::{AccessTokenClaims, IdTokenClaims};
use crate::store::{Db, EnvStore};

/// An access token whose signature verified under key `kid` of its environment.
#[derive(Debug)]
pub struct VerifiedAccessToken {
    kid: Kid,
    claims: AccessTokenClaims,
}

/// Access tokens whose signature this node checked, by [`verified_token_key`]. A resource server
/// presents the same token on every call it serves; the signature is checked once per node and
/// cache period, while expiry, issuer and revocation are still checked on every use.
pub type VerifiedTokenCache = Cache<[u8; 32], Arc<VerifiedAccessToken>>;

pub(super) fn verified_token_cache(cache_seconds: i64) -> VerifiedTokenCache {
    cache::expiring(cache_seconds)
}

/// SHA-256 of the environment id and the token: the same token presented to another environment is
/// another key, so it is verified (and refused) there on its own.
fn verified_token_key(environment: &Environment, token: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(environment.id.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(token.as_bytes());
    hasher.finalize().into()
}

/// What checking a token needs: the zone's keys, its clients, its revocations.
#[derive(Debug, Clone, Copy)]
pub struct TokenVerifier<'a> {
    pub(super) db: &'a Db,
    pub(super) keys: &'a KeyRing,
    pub(super) clients: &'a ClientDirectory,
    pub(super) verified: &'a VerifiedTokenCache,
}

impl TokenVerifier<'_> {
    /// An access token minted by this zone and still in force.
    pub async fn access_token(
        &self,
        zone: &Zone,
        token: &str,
        now: i64,
    ) -> Result<AccessTokenClaims, Error> {
        let claims = self.signed_access_token(zone, token, now).await?;
        let grant = claims.grant.as_deref().map(GrantId::from);
        if !EnvStore::new(self.db, &zone.id)
            .access_token_is_live(&claims.jti, grant.as_ref())
            .await?
        {
            return Err(OAuthError::invalid_token().with_detail("revoked").into());
        }
        // A user's token dies with its grant, which deleting the client removes; a client's own
        // token (client_credentials) has no grant, so it dies with the client itself.
        if grant.is_none()
            && self
                .clients
                .find(zone, &ClientId::from(claims.client_id.as_str()))
                .await?
                .is_none()
        {
            return Err(OAuthError::invalid_token()
                .with_detail("client deleted")
                .into());
        }
        Ok(claims)
    }

    /// The claims of an access token this zone signed and that has not expired; whether it was
    /// revoked is for the caller to check.
    pub async fn signed_access_token(
        &self,
        zone: &Zone,
        token: &str,
        now: i64,
    ) -> Result<AccessTokenClaims, Error> {
        let keys = self.keys.keys(zone, now).await?;
        let cache_key = verified_token_key(zone, token);
        // A remembered token counts only while its key is still published.
        let remembered = self.verified.get(&cache_key).filter(|known| {
            keys.verifying
                .iter()
                .any(|key| key.kid() == known.kid.as_str())
        });
        let (claims, newly_verified_by) = match remembered {
            Some(known) => (known.claims.clone(), None),
            None => {
                let parsed = jose::parse_compact(token).map_err(|_| OAuthError::invalid_token())?;
                if parsed.typ.as_deref() != Some("at+jwt") {
                    return Err(OAuthError::invalid_token().with_detail("wrong typ").into());
                }
                let claims: AccessTokenClaims = parsed
                    .verify(&keys.verifying)
                    .map_err(|e| OAuthError::invalid_token().with_detail(e.to_string()))?;
                (claims, parsed.kid)
            }
        };
        if claims.iss != zone.issuer.as_str() || claims.exp <= now || claims.iat > now + 60 {
            return Err(OAuthError::invalid_token()
                .with_detail("iss or lifetime")
                .into());
        }
        if let Some(kid) = newly_verified_by {
            let verified = VerifiedAccessToken {
                kid: Kid::new(kid),
                claims: claims.clone(),
            };
            self.verified.insert(cache_key, Arc::new(verified));
        }
        Ok(claims)
    }

    /// The claims of an ID token this zone issued, expired ones included (as a hint). `None`
    /// for anything else: another issuer, an unknown key, `alg: none`, HMAC, a broken signature.
    pub async fn id_token_hint(
        &self,
        zone: &Zone,
        hint: &str,
        now: i64,
    ) -> Result<Option<IdTokenClaims>, Error> {
        let Ok(parsed) = jose::parse_compact(hint) else {
            return Ok(None);
        };
        if parsed.typ.as_deref().is_some_and(|typ| typ != "JWT") {
            return Ok(None);
        }
        let keys = self.keys.keys(zone, now).await?;
        let Ok(claims) = parsed.verify::<IdTokenClaims>(&keys.verifying) else {
            return Ok(None);
        };
        Ok((claims.iss == zone.issuer.as_str()).then_some(claims))
    }
}
