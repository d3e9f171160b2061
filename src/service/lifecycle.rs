//! Token introspection (RFC 7662) and revocation (RFC 7009). Both authenticate the client first; a
//! token of another zone is looked up only in this one, so it is simply unknown here. A
//! `token_type_hint` changes nothing: the search always covers both kinds (RFC 7009 §2.1).

use serde_json::{Value, json};

use super::{Airlock, Error, Event};
use crate::crypto::secrets;
use crate::model::audit::Origin;
use crate::model::{Client, Zone};
use crate::oidc::OAuthError;
use crate::oidc::client_auth::PresentedClient;

fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

impl Airlock {
    /// RFC 7662: `{"active": false}` and nothing else for anything not live in this zone.
    pub async fn introspect(
        &self,
        zone: &Zone,
        presented: &PresentedClient,
        token: &str,
        now: i64,
    ) -> Result<Value, Error> {
        let caller = self.authenticate_client(zone, presented).await?;
        if caller.public {
            return Err(OAuthError::invalid_client().into());
        }
        let inactive = json!({ "active": false });
        if looks_like_jwt(token) {
            return Ok(match self.verify_access_token(zone, token, now).await {
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
        let store = self.env_store(zone);
        let Some(refresh) = store.find_refresh(&secrets::digest(token)).await? else {
            return Ok(inactive);
        };
        if refresh.rotated || refresh.grant_revoked || refresh.expires_at <= now {
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

    /// RFC 7009: revokes a token the requesting client holds. Unknown tokens, and tokens of another
    /// client, are answered the same way (200, nothing done), so the endpoint is no oracle.
    pub async fn revoke(
        &self,
        zone: &Zone,
        presented: &PresentedClient,
        token: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<(), Error> {
        let client = self.authenticate_client(zone, presented).await?;
        let revoked = if looks_like_jwt(token) {
            self.revoke_access_token(zone, &client, token, now).await?
        } else {
            self.revoke_refresh_token(zone, &client, token, now).await?
        };
        if let Some(event) = revoked {
            self.record(zone, origin, event.client(client.client_id.clone()), now)
                .await?;
        }
        Ok(())
    }

    async fn revoke_access_token(
        &self,
        zone: &Zone,
        client: &Client,
        token: &str,
        now: i64,
    ) -> Result<Option<Event>, Error> {
        // Expired or already revoked tokens need nothing more; `verify_access_token` refuses them.
        let claims = match self.verify_access_token(zone, token, now).await {
            Ok(claims) => claims,
            Err(Error::OAuth(_)) => return Ok(None),
            Err(other) => return Err(other),
        };
        if claims.client_id != client.client_id {
            return Ok(None);
        }
        self.env_store(zone)
            .revoke_access_token(&claims.jti, claims.exp, now)
            .await?;
        Ok(Some(
            Event::success("token.revoked")
                .actor(claims.sub)
                .detail("token_type", "access_token")
                .detail("jti", claims.jti),
        ))
    }

    async fn revoke_refresh_token(
        &self,
        zone: &Zone,
        client: &Client,
        token: &str,
        now: i64,
    ) -> Result<Option<Event>, Error> {
        let store = self.env_store(zone);
        let Some(refresh) = store.find_refresh(&secrets::digest(token)).await? else {
            return Ok(None);
        };
        if refresh.client_id != client.client_id || refresh.grant_revoked {
            return Ok(None);
        }
        // The whole family goes, and with it the grant's access tokens.
        store.revoke_grant(&refresh.grant_id, now).await?;
        Ok(Some(
            Event::success("token.revoked")
                .actor(refresh.user_id)
                .detail("token_type", "refresh_token")
                .detail("grant", refresh.grant_id),
        ))
    }
}
