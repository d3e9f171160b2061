//! Signing the tokens a decided grant stands for: the access token (RFC 9068) for the zone's
//! userinfo or for an API, and the ID token.

use super::Error;
use super::keyring::EnvKeys;
use super::token::TokenResponse;
use crate::crypto::secrets;
use crate::model::{Client, GrantId, GrantedApi, Secret, SigningAlg, User, Zone};
use crate::oidc::claims::{self, AccessTokenClaims, IdTokenClaims};
use crate::oidc::scope::{self, Scope};

/// A user's grant, decided: who the tokens are for and what they carry.
pub(super) struct UserTokens<'a> {
    pub client: &'a Client,
    pub user: &'a User,
    pub grant_id: &'a GrantId,
    pub scope: &'a Scope,
    pub auth_time: i64,
    pub nonce: Option<&'a str>,
    /// The API the access token is for (`None`: the zone's userinfo).
    pub api: Option<&'a GrantedApi>,
}

/// Who an access token is for, how long it lives and how it is signed: the API's settings when it
/// names one, the client and the zone's otherwise.
struct Audience {
    aud: String,
    ttl: i64,
    alg: SigningAlg,
}

fn audience(zone: &Zone, client: &Client, api: Option<&GrantedApi>) -> Audience {
    match api {
        Some(target) => Audience {
            aud: target.api.identifier.clone(),
            ttl: target
                .api
                .access_token_ttl
                .unwrap_or(zone.policy.access_token_ttl),
            alg: target.api.signing_alg,
        },
        None => Audience {
            aud: client.client_id.to_string(),
            ttl: zone.policy.access_token_ttl,
            alg: client.id_token_signed_response_alg,
        },
    }
}

/// A client's own access token (client_credentials), with its `jti` for the audit log.
pub(super) struct MachineToken {
    pub jti: String,
    pub response: TokenResponse,
}

pub(super) fn machine_token(
    zone: &Zone,
    keys: &EnvKeys,
    client: &Client,
    api: Option<&GrantedApi>,
    scope: &Scope,
    now: i64,
) -> Result<MachineToken, Error> {
    let audience = audience(zone, client, api);
    let client_id = client.client_id.to_string();
    let claims = AccessTokenClaims {
        iss: zone.issuer.as_str().to_string(),
        sub: client_id.clone(),
        aud: audience.aud,
        client_id,
        scope: scope.to_string(),
        jti: secrets::random_id(),
        exp: now + audience.ttl,
        iat: now,
        auth_time: None,
        grant: None,
    };
    let access_token = keys.signer(audience.alg)?.sign("at+jwt", &claims)?;
    Ok(MachineToken {
        jti: claims.jti,
        response: TokenResponse {
            access_token: Secret::new(access_token),
            token_type: "Bearer",
            expires_in: audience.ttl,
            scope: claims.scope,
            id_token: None,
            refresh_token: None,
        },
    })
}

pub(super) fn user_tokens(
    zone: &Zone,
    keys: &EnvKeys,
    grant: &UserTokens<'_>,
    refresh_token: Option<String>,
    now: i64,
) -> Result<TokenResponse, Error> {
    let audience = audience(zone, grant.client, grant.api);
    let client_id = grant.client.client_id.to_string();
    let claims = AccessTokenClaims {
        iss: zone.issuer.as_str().to_string(),
        sub: grant.user.user_id.to_string(),
        aud: audience.aud,
        client_id: client_id.clone(),
        scope: grant.scope.to_string(),
        jti: secrets::random_id(),
        exp: now + audience.ttl,
        iat: now,
        auth_time: Some(grant.auth_time),
        grant: Some(grant.grant_id.to_string()),
    };
    let access_token = keys.signer(audience.alg)?.sign("at+jwt", &claims)?;
    let id_token = if grant.scope.contains(scope::OPENID) {
        let id_claims = IdTokenClaims {
            iss: zone.issuer.as_str().to_string(),
            sub: grant.user.user_id.to_string(),
            aud: client_id.clone(),
            azp: client_id,
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
        expires_in: audience.ttl,
        scope: grant.scope.to_string(),
        id_token,
        refresh_token: refresh_token.map(Secret::new),
    })
}
