//! Token revocation (RFC 7009): a client revokes a token it holds. Unknown tokens, and tokens of
//! another client, are answered the same way (200, nothing done), so the endpoint is no oracle.

use super::flow::Protocol;
use super::introspect::looks_like_jwt;
use super::{Call, Error};
use crate::audit::{AuditEvent, Recorded, RevokedToken};
use crate::crypto::secrets;
use crate::model::Client;
use crate::oidc::client_auth::PresentedClient;

impl Protocol<'_> {
    pub async fn revoke(
        &self,
        call: &Call<'_>,
        presented: &PresentedClient,
        token: &str,
    ) -> Result<(), Error> {
        let client = self.clients.authenticate(call, presented).await?;
        let revoked = if looks_like_jwt(token) {
            self.revoke_access_token(call, &client, token).await?
        } else {
            self.revoke_refresh_token(call, &client, token).await?
        };
        if let Some(event) = revoked {
            self.audit.record_call(call, event).await?;
        }
        Ok(())
    }

    async fn revoke_access_token(
        &self,
        call: &Call<'_>,
        client: &Client,
        token: &str,
    ) -> Result<Option<Recorded>, Error> {
        // Expired or already revoked tokens need nothing more; the verifier refuses them.
        let claims = match self.tokens.access_token(call.zone, token, call.now).await {
            Ok(claims) if client.client_id == *claims.client_id.as_str() => claims,
            Ok(_) | Err(Error::OAuth(_)) => return Ok(None),
            Err(other) => return Err(other),
        };
        let jti = claims.jti.clone();
        let event = AuditEvent::TokenRevoked(RevokedToken::AccessToken { jti: claims.jti })
            .actor(claims.sub)
            .client(client.client_id.as_str());
        let events = self.audit.outbox_of_call(call, &event).await?;
        self.store(call.zone)
            .emitting(&events)
            .revoke_access_token(&jti, claims.exp, call.now)
            .await?;
        Ok(Some(event))
    }

    async fn revoke_refresh_token(
        &self,
        call: &Call<'_>,
        client: &Client,
        token: &str,
    ) -> Result<Option<Recorded>, Error> {
        let store = self.store(call.zone);
        let refresh = match store.find_refresh(&secrets::digest(token)).await? {
            Some(refresh) if refresh.client_id == client.client_id && !refresh.grant_revoked => {
                refresh
            }
            _ => return Ok(None),
        };
        let event = AuditEvent::TokenRevoked(RevokedToken::RefreshToken {
            grant: refresh.grant_id.to_string(),
        })
        .actor(refresh.user_id.as_str())
        .client(client.client_id.as_str());
        let events = self.audit.outbox_of_call(call, &event).await?;
        // The whole family goes, and with it the grant's access tokens.
        store
            .emitting(&events)
            .revoke_grant(&refresh.grant_id, call.now)
            .await?;
        Ok(Some(event))
    }
}
