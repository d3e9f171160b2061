//! Token introspection (RFC 7662) for confidential clients. A token of another zone is looked up
//! only in this one, so it is simply unknown here; a `token_type_hint` changes nothing. A client
//! learns only about its own tokens: another client's is as inactive as an unknown one (RFC 7662
//! §4 lets the server decide who may introspect what).

use serde_json::{Value, json};

use super::flow::Protocol;
use super::{Call, Error};
use crate::crypto::secrets;
use crate::oidc::OAuthError;
use crate::oidc::client_auth::PresentedClient;

/// JWTs are access tokens; anything else may be a refresh token.
pub(super) fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

impl Protocol<'_> {
    /// `{"active": false}` and nothing else for anything not live in this zone.
    pub async fn introspect(
        &self,
        call: &Call<'_>,
        presented: &PresentedClient,
        token: &str,
    ) -> Result<Value, Error> {
        let (zone, now) = (call.zone, call.now);
        let caller = self.clients.authenticate(call, presented).await?;
        if caller.public {
            return Err(OAuthError::invalid_client().into());
        }
        let inactive = json!({ "active": false });
        if looks_like_jwt(token) {
            return Ok(match self.tokens.access_token(zone, token, now).await {
                Ok(claims) if claims.client_id != caller.client_id.as_str() => inactive,
                Ok(claims) => json!({
                    "active": true,
                    "token_type": "Bearer",
                    "iss": claims.iss,
                    "sub": claims.sub,
                    "aud": claims.aud,
                    "client_id": claims.client_id,
                    "scope": claims.scope,
                    "jti": claims.jti,
                    "exp": claims.exp,
                    "iat": claims.iat,
                }),
                Err(Error::OAuth(_)) => inactive,
                Err(other) => return Err(other),
            });
        }
        let store = self.store(zone);
        let Some(refresh) = store.find_refresh(&secrets::digest(token)).await? else {
            return Ok(inactive);
        };
        if refresh.rotated
            || refresh.grant_revoked
            || refresh.expires_at.min(refresh.family_expires_at) <= now
            || refresh.client_id != caller.client_id
        {
            return Ok(inactive);
        }
        Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "iss": zone.issuer.as_str(),
            "sub": refresh.user_id,
            "client_id": refresh.client_id,
            "scope": refresh.scope,
            "exp": refresh.expires_at,
        }))
    }
}
