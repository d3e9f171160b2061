//! The token endpoint: authenticate the client, decide through `oidc::grants`, persist atomically,
//! then mint.

use std::sync::Arc;

use serde::Serialize;

use super::audit_log::AuditLog;
use super::clients::ClientDirectory;
use super::keyring::KeyRing;
use super::limits::{Budget, Limited, RateLimiter};
use super::minting::{self, UserTokens};
use super::{Call, Error};
use crate::audit::{AuditEvent, IssuedToken, Recorded};
use crate::crypto::secrets;
use crate::model::{AuthorizationCode, Client, GrantId, GrantedApi, RefreshToken, Secret, UserId};
use crate::oidc::client_auth::PresentedClient;
use crate::oidc::grants::{self, CodeCheck, RefreshCheck};
use crate::oidc::resource;
use crate::oidc::scope::{self, Scope};
use crate::oidc::token_request::{GrantRequest, TokenRequest};
use crate::oidc::{ErrorCode, OAuthError};
use crate::store::{Db, EnvStore};
use crate::telemetry;

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

pub struct TokenEndpoint<'a> {
    pub(super) usage: &'a super::usage::UsageMeter,
    pub(super) db: &'a Db,
    pub(super) clients: &'a ClientDirectory,
    pub(super) keys: &'a KeyRing,
    pub(super) audit: &'a AuditLog,
    pub(super) limiter: &'a RateLimiter,
}

/// A user's grant about to be minted: what the code or refresh token stood for.
struct UserGrant<'a> {
    user_id: &'a UserId,
    grant_id: &'a GrantId,
    scope: Scope,
    auth_time: i64,
    nonce: Option<&'a str>,
    refresh_token: Option<String>,
    api: Option<&'a GrantedApi>,
}

impl TokenEndpoint<'_> {
    pub async fn exchange(
        &self,
        call: &Call<'_>,
        presented: PresentedClient,
        request: TokenRequest,
    ) -> Result<TokenResponse, Error> {
        let client = self.authenticate(call, &presented).await?;
        let grant = request.grant_type();
        let resource = request.resource.as_deref();
        let issued = match request.grant {
            GrantRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                let presented = (redirect_uri.as_deref(), code_verifier.as_deref(), resource);
                self.redeem_code(call, &client, &code, presented).await
            }
            GrantRequest::RefreshToken {
                refresh_token,
                scope,
            } => {
                let requested = (scope.as_deref(), resource);
                self.refresh(call, &client, &refresh_token, requested).await
            }
            GrantRequest::ClientCredentials { scope } => {
                self.client_credentials(call, &client, (scope.as_deref(), resource))
                    .await
            }
        }?;
        let alg = client.id_token_signed_response_alg.as_str();
        let labels = [("grant_type", grant), ("alg", alg)];
        telemetry::count("airlock_tokens_issued_total", call.zone, &labels);
        let metric = match grant {
            "authorization_code" => "tokens.authorization_code",
            "refresh_token" => "tokens.refresh_token",
            _ => "tokens.client_credentials",
        };
        self.usage.count(&call.zone.id, call.now, metric);
        Ok(issued)
    }

    /// The client, charged one request of its budget. The budget is charged only once the client
    /// has proven who it is, so naming someone else's client id spends nothing of theirs; failed
    /// authentications are charged to the caller's address instead, and an address out of budget is
    /// refused before its credentials are checked.
    async fn authenticate(
        &self,
        call: &Call<'_>,
        presented: &PresentedClient,
    ) -> Result<Arc<Client>, Error> {
        let zone = call.zone;
        let per_minute = zone.limits.token_requests_per_minute;
        let address = Budget {
            env_id: zone.id.as_str(),
            what: Limited::TokenAuthFailures,
            subject: call.origin.ip.as_deref().unwrap_or_default(),
            per_minute,
        };
        // Spent before the credentials are checked, so parallel requests cannot all pass first;
        // given back once the client has authenticated.
        self.limiter
            .take(address)
            .map_err(|retry| rate_limited(call, retry))?;
        let client = self.clients.authenticate(call, presented).await?;
        self.limiter.refund(address);
        let own = Budget {
            env_id: zone.id.as_str(),
            what: Limited::TokenRequests,
            subject: client.client_id.as_str(),
            per_minute,
        };
        self.limiter
            .take(own)
            .map_err(|retry| rate_limited(call, retry))?;
        Ok(client)
    }

    fn store<'s>(&'s self, call: &'s Call<'_>) -> EnvStore<'s> {
        EnvStore::new(self.db, &call.zone.id)
    }

    /// Writes the `token.issued` event where an endpoint of the zone subscribes to it (nothing,
    /// and no query, otherwise).
    async fn publish_issued(&self, call: &Call<'_>, issued: &Recorded) -> Result<(), Error> {
        let events = self.audit.outbox_of_call(call, issued).await?;
        self.store(call).emitting(&events).write_events().await?;
        Ok(())
    }

    /// The API a grant's tokens are for (`resource`), as the client may still use it; `missing`
    /// when the API is gone or no longer granted to the client.
    async fn api_of_grant(
        &self,
        call: &Call<'_>,
        client: &Client,
        resource: Option<&str>,
        missing: impl Fn() -> OAuthError,
    ) -> Result<Option<GrantedApi>, Error> {
        let Some(identifier) = resource else {
            return Ok(None);
        };
        let found = self
            .store(call)
            .find_granted_api(identifier, &client.client_id)
            .await?;
        match found {
            Some(api) => Ok(Some(api)),
            None => Err(missing()
                .with_detail("its API is gone or no longer granted")
                .into()),
        }
    }

    /// `presented` is the request's `redirect_uri`, `code_verifier` and `resource`.
    async fn redeem_code(
        &self,
        call: &Call<'_>,
        client: &Client,
        code: &str,
        (redirect_uri, code_verifier, resource): (Option<&str>, Option<&str>, Option<&str>),
    ) -> Result<TokenResponse, Error> {
        let (store, now) = (self.store(call), call.now);
        let digest = secrets::digest(code);
        let invalid = || OAuthError::invalid_grant("the authorization code is invalid or expired");
        let record = store.find_code(&digest).await?.ok_or_else(invalid)?;
        let issuer = call.zone.issuer.as_str();
        let check = grants::check_code(
            &record,
            (&client.client_id, issuer),
            redirect_uri,
            code_verifier,
            now,
        )?;
        // A replay revokes what the code produced, whatever else the request says.
        if check != CodeCheck::Redeemable {
            return Err(self.code_replayed(call, client, &record).await?.into());
        }
        resource::check_token_resource(resource, record.resource.as_deref())?;
        let api = self
            .api_of_grant(call, client, record.resource.as_deref(), invalid)
            .await?;
        let scope = resource::still_granted(&Scope::parse(Some(&record.scope))?, api.as_ref());
        let policy = &call.zone.policy;
        let family_expires_at = now + policy.refresh_family_ttl;
        let refresh = scope.contains(scope::OFFLINE_ACCESS).then(|| {
            let row = RefreshToken {
                grant_id: record.grant_id.clone(),
                client_id: client.client_id.clone(),
                user_id: record.user_id.clone(),
                scope: record.scope.clone(),
                auth_time: record.auth_time,
                expires_at: (now + policy.refresh_token_ttl).min(family_expires_at),
                rotated: false,
                grant_revoked: false,
                issuer: record.issuer.clone(),
                family_expires_at,
                resource: record.resource.clone(),
            };
            let token = secrets::random_token();
            (secrets::digest(&token), token, row)
        });
        let first_refresh = refresh
            .as_ref()
            .map(|(digest, _, row)| (digest.as_str(), row));
        let grant = record.grant_id.to_string();
        let (user, client_id) = (record.user_id.as_str(), client.client_id.as_str());
        // Reported by the redemption's own transaction: the tokens minted next follow from it.
        let issued = AuditEvent::TokenIssued(IssuedToken::AuthorizationCode {
            grant: grant.clone(),
            scope: scope.to_string(),
            refresh_token: refresh.is_some(),
        })
        .actor(user)
        .client(client_id);
        let events = self.audit.outbox_of_call(call, &issued).await?;
        let won = store
            .emitting(&events)
            .redeem_code(&digest, &record, (first_refresh, family_expires_at), now)
            .await?;
        if !won {
            // A lost race with a concurrent redemption: that is a replay too.
            return Err(self.code_replayed(call, client, &record).await?.into());
        }
        // Whichever way they signed in (a form, a kept session, a new account), the user was active.
        self.usage.active(&call.zone.id, now, user);
        let event = AuditEvent::CodeRedeemed {
            grant: grant.clone(),
        };
        let event = event.actor(user).client(client_id);
        self.audit.record_call(call, event).await?;
        let decided = UserGrant {
            user_id: &record.user_id,
            grant_id: &record.grant_id,
            scope,
            auth_time: record.auth_time,
            nonce: record.nonce.as_deref(),
            refresh_token: refresh.map(|(_, token, _)| token),
            api: api.as_ref(),
        };
        let tokens = self.mint_for_user(call, client, decided, invalid).await?;
        self.audit.record_call(call, issued).await?;
        Ok(tokens)
    }

    /// A code presented again: revokes the grant it opened (and every token of it), audits it,
    /// and answers what to refuse with.
    async fn code_replayed(
        &self,
        call: &Call<'_>,
        client: &Client,
        record: &AuthorizationCode,
    ) -> Result<OAuthError, Error> {
        self.store(call)
            .revoke_grant(&record.grant_id, call.now)
            .await?;
        let event = AuditEvent::CodeReplayed {
            grant: record.grant_id.to_string(),
            grant_revoked: true,
        };
        let event = event
            .actor(record.user_id.as_str())
            .client(client.client_id.as_str());
        self.audit.record_call(call, event).await?;
        Ok(
            OAuthError::invalid_grant("the authorization code is invalid or expired")
                .with_detail("authorization code replayed"),
        )
    }

    async fn refresh(
        &self,
        call: &Call<'_>,
        client: &Client,
        presented: &str,
        (requested_scope, resource): (Option<&str>, Option<&str>),
    ) -> Result<TokenResponse, Error> {
        let (store, now) = (self.store(call), call.now);
        let digest = secrets::digest(presented);
        let invalid =
            || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        let record = store.find_refresh(&digest).await?.ok_or_else(invalid)?;
        let reused = || {
            let event = AuditEvent::RefreshReuseDetected {
                grant: record.grant_id.to_string(),
                grant_revoked: true,
            };
            event
                .actor(record.user_id.as_str())
                .client(record.client_id.as_str())
        };
        let presented_at = (&client.client_id, call.zone.issuer.as_str());
        let scope = match grants::check_refresh(&record, presented_at, requested_scope, now)? {
            RefreshCheck::Rotate(scope) => scope,
            RefreshCheck::Reused => {
                let event = reused();
                let events = self.audit.outbox_of_call(call, &event).await?;
                let store = store.emitting(&events);
                store.revoke_grant(&record.grant_id, now).await?;
                self.audit.record_call(call, event).await?;
                return Err(invalid().with_detail("rotated refresh token reused").into());
            }
        };
        resource::check_token_resource(resource, record.resource.as_deref())?;
        let api = self
            .api_of_grant(call, client, record.resource.as_deref(), invalid)
            .await?;
        let scope = resource::still_granted(&scope, api.as_ref());
        let successor_token = secrets::random_token();
        let successor = RefreshToken {
            expires_at: (now + call.zone.policy.refresh_token_ttl).min(record.family_expires_at),
            rotated: false,
            ..record.clone()
        };
        let successor_digest = secrets::digest(&successor_token);
        if !store
            .rotate_refresh(&digest, &successor_digest, &successor, now)
            .await?
        {
            // Someone else rotated it first: that is reuse of a rotated token.
            let event = reused();
            let events = self.audit.outbox_of_call(call, &event).await?;
            let store = store.emitting(&events);
            store.revoke_grant(&record.grant_id, now).await?;
            self.audit.record_call(call, event).await?;
            return Err(invalid().with_detail("concurrent refresh").into());
        }
        let decided = UserGrant {
            user_id: &record.user_id,
            grant_id: &record.grant_id,
            scope,
            auth_time: record.auth_time,
            nonce: None,
            refresh_token: Some(successor_token),
            api: api.as_ref(),
        };
        let tokens = self.mint_for_user(call, client, decided, invalid).await?;
        // A refresh is activity of the user's, like a sign-in.
        self.usage
            .active(&call.zone.id, now, record.user_id.as_str());
        let event = AuditEvent::TokenRefreshed {
            grant: record.grant_id.to_string(),
            scope: tokens.scope.clone(),
        };
        let event = event
            .actor(record.user_id.as_str())
            .client(client.client_id.as_str());
        self.audit.record_call(call, event).await?;
        Ok(tokens)
    }

    async fn client_credentials(
        &self,
        call: &Call<'_>,
        client: &Client,
        (requested_scope, resource): (Option<&str>, Option<&str>),
    ) -> Result<TokenResponse, Error> {
        if client.public {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "public clients cannot use client_credentials",
            )
            .into());
        }
        let requested = requested_scope
            .map(|raw| Scope::parse(Some(raw)))
            .transpose()?;
        let api = match resource {
            None => None,
            Some(identifier) => Some(
                self.store(call)
                    .find_granted_api(identifier, &client.client_id)
                    .await?
                    .ok_or_else(resource::unknown_resource)?,
            ),
        };
        let scope = match &api {
            Some(api) => resource::machine_scope(requested.as_ref(), api)?,
            // Without an API, machine tokens act for no user: no scope can be granted.
            None if requested.as_ref().is_some_and(|s| !s.is_empty()) => {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "client_credentials tokens carry no user scopes; name an API with resource",
                )
                .into());
            }
            None => Scope::default(),
        };
        let keys = self.keys.keys(call.zone, call.now).await?;
        let minted =
            minting::machine_token(call.zone, &keys, client, api.as_ref(), &scope, call.now)?;
        let event = AuditEvent::TokenIssued(IssuedToken::ClientCredentials {
            jti: minted.jti.clone(),
        });
        let client_id = client.client_id.as_str();
        let event = event.actor(client_id).client(client_id);
        self.publish_issued(call, &event).await?;
        self.audit.record_call(call, event).await?;
        Ok(minted.response)
    }

    /// The tokens of a user's grant; the user must still exist (`missing` otherwise).
    async fn mint_for_user(
        &self,
        call: &Call<'_>,
        client: &Client,
        decided: UserGrant<'_>,
        missing: impl Fn() -> OAuthError,
    ) -> Result<TokenResponse, Error> {
        let user = self
            .store(call)
            .find_user(decided.user_id)
            .await?
            .ok_or_else(missing)?;
        let grant = UserTokens {
            client,
            user: &user,
            grant_id: decided.grant_id,
            scope: &decided.scope,
            auth_time: decided.auth_time,
            nonce: decided.nonce,
            api: decided.api,
        };
        let keys = self.keys.keys(call.zone, call.now).await?;
        minting::user_tokens(call.zone, &keys, &grant, decided.refresh_token, call.now)
    }
}

/// A refusal for a spent budget, counted.
fn rate_limited(call: &Call<'_>, retry_after: u64) -> Error {
    telemetry::count(
        "airlock_rate_limited_total",
        call.zone,
        &[("what", "token")],
    );
    Error::RateLimited(retry_after)
}
