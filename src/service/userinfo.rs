//! UserInfo (OIDC Core §5.3): a valid access token of this environment, for a live grant, with `openid`.

use serde_json::{Map, Value, json};

use super::{Airlock, Error};
use crate::crypto::jose;
use crate::model::Environment;
use crate::oidc::claims::{self, AccessTokenClaims};
use crate::oidc::scope::{self, Scope};
use crate::oidc::{ErrorCode, OAuthError};

impl Airlock {
    /// Verifies an access token minted by this environment and still in force.
    pub async fn verify_access_token(
        &self,
        environment: &Environment,
        token: &str,
        now: i64,
    ) -> Result<AccessTokenClaims, Error> {
        let parsed = jose::parse_compact(token).map_err(|_| OAuthError::invalid_token())?;
        if parsed.typ.as_deref() != Some("at+jwt") {
            return Err(OAuthError::invalid_token().with_detail("wrong typ").into());
        }
        let keys = self.keys(environment, now).await?;
        let claims: AccessTokenClaims = parsed
            .verify(&keys.verifying)
            .map_err(|e| OAuthError::invalid_token().with_detail(e.to_string()))?;
        let issuer = self.issuer(environment);
        if claims.iss != issuer.as_str() || claims.exp <= now || claims.iat > now + 60 {
            return Err(OAuthError::invalid_token()
                .with_detail("iss or lifetime")
                .into());
        }
        if let Some(grant) = &claims.grant
            && !self.env_store(environment).grant_is_active(grant).await?
        {
            return Err(OAuthError::invalid_token()
                .with_detail("grant revoked")
                .into());
        }
        Ok(claims)
    }

    pub async fn userinfo(
        &self,
        environment: &Environment,
        token: &str,
        now: i64,
    ) -> Result<Value, Error> {
        let claims = self.verify_access_token(environment, token, now).await?;
        let scope = Scope::parse_supported(Some(&claims.scope))?;
        if claims.grant.is_none() || !scope.contains(scope::OPENID) {
            return Err(OAuthError::new(
                ErrorCode::InsufficientScope,
                "the access token does not carry the openid scope",
            )
            .into());
        }
        let user = self
            .env_store(environment)
            .find_user(&claims.sub)
            .await?
            .ok_or_else(OAuthError::invalid_token)?;
        let mut body = Map::new();
        body.insert("sub".into(), json!(user.user_id));
        body.extend(claims::identity_claims(&user, &scope));
        Ok(Value::Object(body))
    }
}
