//! UserInfo (OIDC Core §5.3): a valid access token of this zone, for a live grant, with `openid`.

use serde_json::{Map, Value, json};

use super::flow::Protocol;
use super::{Call, Error};
use crate::model::{GrantId, UserId};
use crate::oidc::claims;
use crate::oidc::scope::{self, Scope};
use crate::oidc::{ErrorCode, OAuthError};

impl Protocol<'_> {
    pub async fn userinfo(&self, call: &Call<'_>, token: &str) -> Result<Value, Error> {
        let zone = call.zone;
        let claims = self
            .tokens
            .signed_access_token(zone, token, call.now)
            .await?;
        // A token for an API (its audience) is that API's, not userinfo's.
        if claims.aud != claims.client_id {
            return Err(OAuthError::invalid_token()
                .with_detail("access token for an API")
                .into());
        }
        let scope = Scope::parse(Some(&claims.scope))?;
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
            .store(zone)
            .user_of_live_token(
                &UserId::from(claims.sub.as_str()),
                &claims.jti,
                &GrantId::from(grant_id),
            )
            .await?
            .ok_or_else(|| OAuthError::invalid_token().with_detail("revoked"))?;
        let mut body = Map::new();
        body.insert("sub".into(), json!(user.user_id));
        body.extend(claims::identity_claims(&user, &scope));
        Ok(Value::Object(body))
    }
}
