//! Token revocation (RFC 7009): a client revokes a token it holds. Unknown tokens, and tokens of
//! another client, are answered the same way (200, nothing done), so the endpoint is no oracle.

use super::Error;
use super::audit_log::AuditLog;
use super::clients::ClientDirectory;
use super::introspect::looks_like_jwt;
use super::tokens::TokenVerifier;
use crate::audit::{AuditEvent, Recorded, RevokedToken};
use crate::crypto::secrets;
use crate::model::audit::Origin;
use crate::model::{Client, Zone};
use crate::oidc::client_auth::PresentedClient;
use crate::store::{Db, EnvStore};

pub struct Revocation<'a> {
    pub(super) db: &'a Db,
    pub(super) clients: &'a ClientDirectory,
    pub(super) tokens: TokenVerifier<'a>,
    pub(super) audit: &'a AuditLog,
}

impl Revocation<'_> {
    pub async fn revoke(
        &self,
        zone: &Zone,
        presented: &PresentedClient,
        token: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<(), Error> {
        let client = self.clients.authenticate(zone, presented).await?;
        let revoked = if looks_like_jwt(token) {
            self.revoke_access_token(zone, &client, token, now).await?
        } else {
            self.revoke_refresh_token(zone, &client, token, now).await?
        };
        if let Some(event) = revoked {
            let event = event.client(client.client_id.as_str());
            self.audit.record(zone, origin, event, now).await?;
        }
        Ok(())
    }

    async fn revoke_access_token(
        &self,
        zone: &Zone,
        client: &Client,
        token: &str,
        now: i64,
    ) -> Result<Option<Recorded>, Error> {
        // Expired or already revoked tokens need nothing more; the verifier refuses them.
        let claims = match self.tokens.access_token(zone, token, now).await {
            Ok(claims) => claims,
            Err(Error::OAuth(_)) => return Ok(None),
            Err(other) => return Err(other),
        };
        if client.client_id != *claims.client_id.as_str() {
            return Ok(None);
        }
        EnvStore::new(self.db, &zone.id)
            .revoke_access_token(&claims.jti, claims.exp, now)
            .await?;
        let event = AuditEvent::TokenRevoked(RevokedToken::AccessToken { jti: claims.jti });
        Ok(Some(event.actor(claims.sub)))
    }

    async fn revoke_refresh_token(
        &self,
        zone: &Zone,
        client: &Client,
        token: &str,
        now: i64,
    ) -> Result<Option<Recorded>, Error> {
        let store = EnvStore::new(self.db, &zone.id);
        let Some(refresh) = store.find_refresh(&secrets::digest(token)).await? else {
            return Ok(None);
        };
        if refresh.client_id != client.client_id || refresh.grant_revoked {
            return Ok(None);
        }
        // The whole family goes, and with it the grant's access tokens.
        store.revoke_grant(&refresh.grant_id, now).await?;
        let event = AuditEvent::TokenRevoked(RevokedToken::RefreshToken {
            grant: refresh.grant_id.to_string(),
        });
        Ok(Some(event.actor(refresh.user_id.as_str())))
    }
}
