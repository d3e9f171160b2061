//! The token endpoint: authenticate the client, decide through `oidc::grants`, persist atomically,
//! then mint.

use serde::Serialize;

use super::{Airlock, EnvKeys, Error, Event, Limited};
use crate::crypto::secrets;
use crate::model::audit::Origin;
use crate::model::{Client, RefreshToken, User, Zone};
use crate::oidc::claims::{self, AccessTokenClaims, IdTokenClaims};
use crate::oidc::client_auth::{AuthMethod, PresentedClient};
use crate::oidc::grants::{self, CodeCheck, RefreshCheck};
use crate::oidc::scope::{self, Scope};
use crate::oidc::token_request::TokenRequest;
use crate::oidc::{ErrorCode, OAuthError};

/// RFC 6749 §5.1 success response.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Who the tokens are for, once a grant has been decided.
struct Grant<'a> {
    client: &'a Client,
    user: &'a User,
    grant_id: &'a str,
    scope: &'a Scope,
    auth_time: i64,
    nonce: Option<&'a str>,
}

impl Airlock {
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
                &zone.id,
                Limited::TokenRequests,
                &presented.client_id,
                zone.limits.token_requests_per_minute,
            )
            .map_err(Error::RateLimited)?;
        let client = self.authenticate_client(zone, &presented).await?;
        match request {
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                self.redeem_code(
                    zone,
                    &client,
                    &code,
                    redirect_uri.as_deref(),
                    code_verifier.as_deref(),
                    origin,
                    now,
                )
                .await
            }
            TokenRequest::RefreshToken {
                refresh_token,
                scope,
            } => {
                self.refresh(zone, &client, &refresh_token, scope.as_deref(), origin, now)
                    .await
            }
            TokenRequest::ClientCredentials { scope } => {
                self.client_credentials(zone, &client, scope.as_deref(), origin, now)
                    .await
            }
        }
    }

    /// A missing client, a wrong secret and a client of another zone all end here the same way.
    pub(super) async fn authenticate_client(
        &self,
        zone: &Zone,
        presented: &PresentedClient,
    ) -> Result<Client, Error> {
        let client = self.client(zone, &presented.client_id).await?;
        let secret_ok = match (
            &presented.secret,
            client.as_ref().and_then(|c| c.secret_digest.as_deref()),
        ) {
            (Some(secret), Some(digest)) => secrets::matches_digest(secret, digest),
            (Some(secret), None) => {
                // Same work as a real comparison, so timing does not tell the cases apart.
                secrets::matches_digest(secret, &secrets::digest(""));
                false
            }
            (None, _) => false,
        };
        match client {
            Some(client) if client.public && presented.method == AuthMethod::None => Ok(client),
            Some(client) if !client.public && secret_ok => Ok(client),
            _ => Err(OAuthError::invalid_client().into()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn redeem_code(
        &self,
        zone: &Zone,
        client: &Client,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        origin: &Origin,
        now: i64,
    ) -> Result<TokenResponse, Error> {
        let store = self.env_store(zone);
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
            (token, row)
        });
        let refresh_digest = refresh.as_ref().map(|(token, _)| secrets::digest(token));
        let won = check == CodeCheck::Redeemable
            && store
                .redeem_code(
                    &digest,
                    &record,
                    refresh_digest
                        .as_deref()
                        .zip(refresh.as_ref().map(|(_, row)| row)),
                    now,
                )
                .await?;
        if !won {
            // A replay, or a lost race with a concurrent redemption: revoke what the code produced.
            store.revoke_grant(&record.grant_id, now).await?;
            let event = Event::failure("code.replayed")
                .actor(record.user_id.clone())
                .client(client.client_id.clone())
                .detail("grant", record.grant_id.clone())
                .detail("grant_revoked", true);
            self.record(zone, origin, event, now).await?;
            return Err(invalid().with_detail("authorization code replayed").into());
        }
        let event = Event::success("code.redeemed")
            .actor(record.user_id.clone())
            .client(client.client_id.clone())
            .detail("grant", record.grant_id.clone());
        self.record(zone, origin, event, now).await?;
        let user = store
            .find_user(&record.user_id)
            .await?
            .ok_or_else(invalid)?;
        let grant = Grant {
            client,
            user: &user,
            grant_id: &record.grant_id,
            scope: &scope,
            auth_time: record.auth_time,
            nonce: record.nonce.as_deref(),
        };
        let tokens = self
            .mint(zone, &grant, refresh.map(|(token, _)| token), now)
            .await?;
        let event = Event::success("token.issued")
            .actor(record.user_id.clone())
            .client(client.client_id.clone())
            .detail("grant_type", "authorization_code")
            .detail("grant", record.grant_id.clone())
            .detail("scope", tokens.scope.clone())
            .detail("refresh_token", tokens.refresh_token.is_some());
        self.record(zone, origin, event, now).await?;
        Ok(tokens)
    }

    async fn refresh(
        &self,
        zone: &Zone,
        client: &Client,
        presented: &str,
        requested_scope: Option<&str>,
        origin: &Origin,
        now: i64,
    ) -> Result<TokenResponse, Error> {
        let store = self.env_store(zone);
        let digest = secrets::digest(presented);
        let invalid =
            || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        let record = store.find_refresh(&digest).await?.ok_or_else(invalid)?;
        let scope = match grants::check_refresh(&record, &client.client_id, requested_scope, now)? {
            RefreshCheck::Rotate(scope) => scope,
            RefreshCheck::Reused => {
                store.revoke_grant(&record.grant_id, now).await?;
                self.record(zone, origin, reuse_event(&record), now).await?;
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
            self.record(zone, origin, reuse_event(&record), now).await?;
            return Err(invalid().with_detail("concurrent refresh").into());
        }
        let user = store
            .find_user(&record.user_id)
            .await?
            .ok_or_else(invalid)?;
        let grant = Grant {
            client,
            user: &user,
            grant_id: &record.grant_id,
            scope: &scope,
            auth_time: record.auth_time,
            nonce: None,
        };
        let tokens = self.mint(zone, &grant, Some(successor_token), now).await?;
        let event = Event::success("token.refreshed")
            .actor(record.user_id.clone())
            .client(client.client_id.clone())
            .detail("grant", record.grant_id.clone())
            .detail("scope", tokens.scope.clone());
        self.record(zone, origin, event, now).await?;
        Ok(tokens)
    }

    async fn client_credentials(
        &self,
        zone: &Zone,
        client: &Client,
        requested_scope: Option<&str>,
        origin: &Origin,
        now: i64,
    ) -> Result<TokenResponse, Error> {
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
        let keys = self.keys(zone, now).await?;
        let issuer = &zone.issuer;
        let claims = AccessTokenClaims {
            iss: issuer.as_str().to_string(),
            sub: client.client_id.clone(),
            aud: client.client_id.clone(),
            client_id: client.client_id.clone(),
            scope: String::new(),
            jti: secrets::random_id(),
            exp: now + zone.policy.access_token_ttl,
            iat: now,
            auth_time: None,
            grant: None,
        };
        let signer = keys.signer(client.id_token_signed_response_alg)?;
        let access_token = signer.sign("at+jwt", &claims)?;
        let event = Event::success("token.issued")
            .actor(client.client_id.clone())
            .client(client.client_id.clone())
            .detail("grant_type", "client_credentials")
            .detail("jti", claims.jti.clone());
        self.record(zone, origin, event, now).await?;
        Ok(TokenResponse {
            access_token,
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
        let keys = self.keys(zone, now).await?;
        let access_token = self.sign_access_token(zone, &keys, grant, now)?;
        let id_token = if grant.scope.contains(scope::OPENID) {
            let issuer = &zone.issuer;
            let id_claims = IdTokenClaims {
                iss: issuer.as_str().to_string(),
                sub: grant.user.user_id.clone(),
                aud: grant.client.client_id.clone(),
                azp: grant.client.client_id.clone(),
                exp: now + zone.policy.id_token_ttl,
                iat: now,
                auth_time: grant.auth_time,
                nonce: grant.nonce.map(str::to_string),
                at_hash: Some(claims::at_hash(&access_token)),
                identity: claims::identity_claims(grant.user, grant.scope),
            };
            let signer = keys.signer(grant.client.id_token_signed_response_alg)?;
            Some(signer.sign("JWT", &id_claims)?)
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: zone.policy.access_token_ttl,
            scope: grant.scope.to_string(),
            id_token,
            refresh_token,
        })
    }

    fn sign_access_token(
        &self,
        zone: &Zone,
        keys: &EnvKeys,
        grant: &Grant<'_>,
        now: i64,
    ) -> Result<String, Error> {
        let claims = AccessTokenClaims {
            iss: zone.issuer.as_str().to_string(),
            sub: grant.user.user_id.clone(),
            aud: grant.client.client_id.clone(),
            client_id: grant.client.client_id.clone(),
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
}

fn reuse_event(record: &RefreshToken) -> Event {
    Event::failure("refresh.reuse_detected")
        .actor(record.user_id.clone())
        .client(record.client_id.clone())
        .detail("grant", record.grant_id.clone())
        .detail("grant_revoked", true)
}
