//! UserInfo (OIDC Core §5.3): a valid access token of this zone, for a live grant, with `openid`.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::cache::{VerifiedAccessToken, verified_token_key};
use super::{Airlock, Error};
use crate::crypto::jose;
use crate::model::Zone;
use crate::oidc::claims::{self, AccessTokenClaims, IdTokenClaims};
use crate::oidc::scope::{self, Scope};
use crate::oidc::{ErrorCode, OAuthError};

impl Airlock {
    /// Verifies an access token minted by this zone and still in force.
    pub async fn verify_access_token(
        &self,
        zone: &Zone,
        token: &str,
        now: i64,
    ) -> Result<AccessTokenClaims, Error> {
        let claims = self.signed_access_token(zone, token, now).await?;
        if !self
            .env_store(zone)
            .access_token_is_live(&claims.jti, claims.grant.as_deref())
            .await?
        {
            return Err(OAuthError::invalid_token().with_detail("revoked").into());
        }
        // A user's token dies with its grant, which deleting the client removes; a client's own
        // token (client_credentials) has no grant, so it dies with the client itself.
        if claims.grant.is_none()
            && self
                .client(&zone.environment, &claims.client_id)
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
    async fn signed_access_token(
        &self,
        zone: &Zone,
        token: &str,
        now: i64,
    ) -> Result<AccessTokenClaims, Error> {
        let keys = self.keys(zone, now).await?;
        let cache_key = verified_token_key(zone, token);
        let ttl = self.config.cache_seconds;
        // A remembered token counts only while its key is still published.
        let remembered = self
            .verified_tokens
            .get(&cache_key, now, ttl)
            .filter(|known| keys.verifying.iter().any(|key| key.kid() == known.kid));
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
        let issuer = &zone.issuer;
        if claims.iss != issuer.as_str() || claims.exp <= now || claims.iat > now + 60 {
            return Err(OAuthError::invalid_token()
                .with_detail("iss or lifetime")
                .into());
        }
        if let Some(kid) = newly_verified_by {
            let verified = VerifiedAccessToken {
                kid,
                claims: claims.clone(),
            };
            self.verified_tokens
                .put(cache_key, Arc::new(verified), now, ttl);
        }
        Ok(claims)
    }

    /// The claims of an ID token this zone issued, expired ones included (as a hint). `None`
    /// for anything else: another issuer, an unknown key, `alg: none`, HMAC, a broken signature.
    pub async fn verified_id_token_hint(
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
        let keys = self.keys(zone, now).await?;
        let Ok(claims) = parsed.verify::<IdTokenClaims>(&keys.verifying) else {
            return Ok(None);
        };
        let issuer = &zone.issuer;
        Ok((claims.iss == issuer.as_str()).then_some(claims))
    }

    pub async fn userinfo(&self, zone: &Zone, token: &str, now: i64) -> Result<Value, Error> {
        let claims = self.signed_access_token(zone, token, now).await?;
        let scope = Scope::parse_supported(Some(&claims.scope))?;
        let Some(grant_id) = claims
            .grant
            .as_deref()
            .filter(|_| scope.contains(scope::OPENID))
        else {
            return Err(OAuthError::new(
                ErrorCode::InsufficientScope,
                "the access token does not carry the openid scope",
            )
            .into());
        };
        // One query: the user, if the token was neither revoked nor outlived its grant.
        let user = self
            .env_store(zone)
            .user_of_live_token(&claims.sub, &claims.jti, grant_id)
            .await?
            .ok_or_else(|| OAuthError::invalid_token().with_detail("revoked"))?;
        let mut body = Map::new();
        body.insert("sub".into(), json!(user.user_id));
        body.extend(claims::identity_claims(&user, &scope));
        Ok(Value::Object(body))
    }
}
