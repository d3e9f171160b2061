//! The token endpoint: authenticate the client, decide through `oidc::grants`, persist atomically,
//! then mint.

use serde::Serialize;

use super::Error;
use super::audit_log::AuditLog;
use super::clients::ClientDirectory;
use super::keyring::{EnvKeys, KeyRing};
use super::limits::{Limited, RateLimiter};
use crate::audit::{AuditEvent, IssuedToken};
use crate::crypto::secrets;
use crate::model::audit::Origin;
use crate::model::{Client, GrantId, RefreshToken, Secret, User, Zone};
use crate::oidc::claims::{self, AccessTokenClaims, IdTokenClaims};
use crate::oidc::client_auth::PresentedClient;
use crate::oidc::grants::{self, CodeCheck, RefreshCheck};
use crate::oidc::scope::{self, Scope};
use crate::oidc::token_request::TokenRequest;
use crate::oidc::{ErrorCode, OAuthError};
use crate::store::{Db, EnvStore};

/// RFC 6749 §5.1 success response. Its tokens are `Secret`s: a `Debug` print shows none of them.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: Secret,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
}

/// Who the tokens are for, once a grant has been decided.
struct Grant<'a> {
    client: &'a Client,
    user: &'a User,
    grant_id: &'a GrantId,
    scope: &'a Scope,
    auth_time: i64,
    nonce: Option<&'a str>,
}

pub struct TokenEndpoint<'a> {
    pub(super) db: &'a Db,
    pub(super) clients: &'a ClientDirectory,
    pub(super) keys: &'a KeyRing,
    pub(super) audit: &'a AuditLog,
    pub(super) limiter: &'a RateLimiter,
}

/// One redemption's context: the zone, the authenticated client, who asked and when.
struct Exchange<'z> {
    zone: &'z Zone,
    client: &'z Client,
    origin: &'z Origin,
    now: i64,
}

impl TokenEndpoint<'_> {
    pub async fn exchange(
        &self,
        zone: &Zone,
        presented: PresentedClient,
        request: TokenRequest,
        origin: &Origin,
        now: i64,
    ) -> Result<TokenResponse, Error> {
        self.limiter
            .take(
                zone.id.as_str(),
                Limited::TokenRequests,
                &presented.client_id,
                zone.limits.token_requests_per_minute,
            )
            .map_err(Error::RateLimited)?;
        let client = self.clients.authenticate(zone, &presented).await?;
        let exchange = Exchange {
            zone,
            client: &client,
            origin,
            now,
        };
        match request {
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                self.redeem_code(
                    &exchange,
                    &code,
                    redirect_uri.as_deref(),
                    code_verifier.as_deref(),
                )
                .await
            }
            TokenRequest::RefreshToken {
                refresh_token,
                scope,
            } => {
                self.refresh(&exchange, &refresh_token, scope.as_deref())
                    .await
            }
            TokenRequest::ClientCredentials { scope } => {
                self.client_credentials(&exchange, scope.as_deref()).await
            }
        }
    }

    async fn redeem_code(
        &self,
        exchange: &Exchange<'_>,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<TokenResponse, Error> {
        let Exchange {
            zone,
            client,
            origin,
            now,
        } = *exchange;
        let store = EnvStore::new(self.db, &zone.id);
        let digest = secrets::digest(code);
        let invalid = || OAuthError::invalid_grant("the authorization code is invalid or expired");
        let record = store.find_code(&digest).await?.ok_or_else(invalid)?;
        let check =
            grants::check_code(&record, &client.client_id, redirect_uri, code_verifier, now)?;
        let scope = Scope::parse_supported(Some(&record.scope))?;
        let refresh = scope.contains(scope::OFFLINE_ACCESS).then(|| {
            let token = secrets::random_token();
            let row = RefreshToken {
                grant_id: record.grant_id.clone(),
                client_id: client.client_id.clone(),
                user_id: record.user_id.clone(),
                scope: record.scope.clone(),
                auth_time: record.auth_time,
                expires_at: now + zone.policy.refresh_token_ttl,
                rotated: false,
                grant_revoked: false,
            };
            (secrets::digest(&token), token, row)
        });
        let won = check == CodeCheck::Redeemable
            && store
                .redeem_code(
                    &digest,
                    &record,
                    refresh
                        .as_ref()
                        .map(|(digest, _, row)| (digest.as_str(), row)),
                    now,
                )
                .await?;
        let grant = record.grant_id.to_string();
        if !won {
            // A replay, or a lost race with a concurrent redemption: revoke what the code produced.
            store.revoke_grant(&record.grant_id, now).await?;
            let event = AuditEvent::CodeReplayed {
                grant,
                grant_revoked: true,
            }
            .actor(record.user_id.as_str())
            .client(client.client_id.as_str());
            self.audit.record(zone, origin, event, now).await?;
            return Err(invalid().with_detail("authorization code replayed").into());
        }
        let event = AuditEvent::CodeRedeemed {
            grant: grant.clone(),
        }
        .actor(record.user_id.as_str())
        .client(client.client_id.as_str());
        self.audit.record(zone, origin, event, now).await?;
        let user = store
            .find_user(&record.user_id)
            .await?
            .ok_or_else(invalid)?;
        let decided = Grant {
            client,
            user: &user,
            grant_id: &record.grant_id,
            scope: &scope,
            auth_time: record.auth_time,
            nonce: record.nonce.as_deref(),
        };
        let tokens = self
            .mint(zone, &decided, refresh.map(|(_, token, _)| token), now)
            .await?;
        let event = AuditEvent::TokenIssued(IssuedToken::AuthorizationCode {
            grant,
            scope: tokens.scope.clone(),
            refresh_token: tokens.refresh_token.is_some(),
        })
        .actor(record.user_id.as_str())
        .client(client.client_id.as_str());
        self.audit.record(zone, origin, event, now).await?;
        Ok(tokens)
    }

    async fn refresh(
        &self,
        exchange: &Exchange<'_>,
        presented: &str,
        requested_scope: Option<&str>,
    ) -> Result<TokenResponse, Error> {
        let Exchange {
            zone,
            client,
            origin,
            now,
        } = *exchange;
        let store = EnvStore::new(self.db, &zone.id);
        let digest = secrets::digest(presented);
        let invalid =
            || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        let record = store.find_refresh(&digest).await?.ok_or_else(invalid)?;
        let reused = || {
            AuditEvent::RefreshReuseDetected {
                grant: record.grant_id.to_string(),
                grant_revoked: true,
            }
            .actor(record.user_id.as_str())
            .client(record.client_id.as_str())
        };
        let scope = match grants::check_refresh(&record, &client.client_id, requested_scope, now)? {
            RefreshCheck::Rotate(scope) => scope,
            RefreshCheck::Reused => {
                store.revoke_grant(&record.grant_id, now).await?;
                self.audit.record(zone, origin, reused(), now).await?;
                return Err(invalid().with_detail("rotated refresh token reused").into());
            }
        };
        let successor_token = secrets::random_token();
        let successor = RefreshToken {
            expires_at: now + zone.policy.refresh_token_ttl,
            rotated: false,
            ..record.clone()
        };
        let rotated = store
            .rotate_refresh(&digest, &secrets::digest(&successor_token), &successor, now)
            .await?;
        if !rotated {
            // Someone else rotated it first: that is reuse of a rotated token.
            store.revoke_grant(&record.grant_id, now).await?;
            self.audit.record(zone, origin, reused(), now).await?;
            return Err(invalid().with_detail("concurrent refresh").into());
        }
        let user = store
            .find_user(&record.user_id)
            .await?
            .ok_or_else(invalid)?;
        let decided = Grant {
            client,
            user: &user,
            grant_id: &record.grant_id,
            scope: &scope,
            auth_time: record.auth_time,
            nonce: None,
        };
        let tokens = self
            .mint(zone, &decided, Some(successor_token), now)
            .await?;
        let event = AuditEvent::TokenRefreshed {
            grant: record.grant_id.to_string(),
            scope: tokens.scope.clone(),
        }
        .actor(record.user_id.as_str())
        .client(client.client_id.as_str());
        self.audit.record(zone, origin, event, now).await?;
        Ok(tokens)
    }

    async fn client_credentials(
        &self,
        exchange: &Exchange<'_>,
        requested_scope: Option<&str>,
    ) -> Result<TokenResponse, Error> {
        let Exchange {
            zone,
            client,
            origin,
            now,
        } = *exchange;
        if client.public {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "public clients cannot use client_credentials",
            )
            .into());
        }
        // Machine tokens act for no user: the user-facing scopes cannot be granted here.
        if requested_scope.is_some_and(|s| !s.trim().is_empty()) {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "client_credentials tokens carry no user scopes",
            )
            .into());
        }
        let keys = self.keys.keys(zone, now).await?;
        let claims = AccessTokenClaims {
            iss: zone.issuer.as_str().to_string(),
            sub: client.client_id.to_string(),
            aud: client.client_id.to_string(),
            client_id: client.client_id.to_string(),
            scope: String::new(),
            jti: secrets::random_id(),
            exp: now + zone.policy.access_token_ttl,
            iat: now,
            auth_time: None,
            grant: None,
        };
        let signer = keys.signer(client.id_token_signed_response_alg)?;
        let access_token = signer.sign("at+jwt", &claims)?;
        let event = AuditEvent::TokenIssued(IssuedToken::ClientCredentials {
            jti: claims.jti.clone(),
        })
        .actor(client.client_id.as_str())
        .client(client.client_id.as_str());
        self.audit.record(zone, origin, event, now).await?;
        Ok(TokenResponse {
            access_token: Secret::new(access_token),
            token_type: "Bearer",
            expires_in: zone.policy.access_token_ttl,
            scope: String::new(),
            id_token: None,
            refresh_token: None,
        })
    }

    async fn mint(
        &self,
        zone: &Zone,
        grant: &Grant<'_>,
        refresh_token: Option<String>,
        now: i64,
    ) -> Result<TokenResponse, Error> {
        let keys = self.keys.keys(zone, now).await?;
        let access_token = sign_access_token(zone, &keys, grant, now)?;
        let id_token = if grant.scope.contains(scope::OPENID) {
            let id_claims = IdTokenClaims {
                iss: zone.issuer.as_str().to_string(),
                sub: grant.user.user_id.to_string(),
                aud: grant.client.client_id.to_string(),
                azp: grant.client.client_id.to_string(),
                exp: now + zone.policy.id_token_ttl,
                iat: now,
                auth_time: grant.auth_time,
                nonce: grant.nonce.map(str::to_string),
                at_hash: Some(claims::at_hash(&access_token)),
                identity: claims::identity_claims(grant.user, grant.scope),
            };
            let signer = keys.signer(grant.client.id_token_signed_response_alg)?;
            Some(Secret::new(signer.sign("JWT", &id_claims)?))
        } else {
            None
        };
        Ok(TokenResponse {
            access_token: Secret::new(access_token),
            token_type: "Bearer",
            expires_in: zone.policy.access_token_ttl,
            scope: grant.scope.to_string(),
            id_token,
            refresh_token: refresh_token.map(Secret::new),
        })
    }
}

fn sign_access_token(
    zone: &Zone,
    keys: &EnvKeys,
    grant: &Grant<'_>,
    now: i64,
) -> Result<String, Error> {
    let claims = AccessTokenClaims {
        iss: zone.issuer.as_str().to_string(),
        sub: grant.user.user_id.to_string(),
        aud: grant.client.client_id.to_string(),
        client_id: grant.client.client_id.to_string(),
        scope: grant.scope.to_string(),
        jti: secrets::random_id(),
        exp: now + zone.policy.access_token_ttl,
        iat: now,
        auth_time: Some(grant.auth_time),
        grant: Some(grant.grant_id.to_string()),
    };
    let signer = keys.signer(grant.client.id_token_signed_response_alg)?;
    Ok(signer.sign("at+jwt", &claims)?)
}
