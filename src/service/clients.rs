//! Client records through the node cache, and client authentication (shared secrets, JWT
//! assertions): the one door every endpoint that takes client credentials goes through.

use std::collections::BTreeSet;
use std::sync::Arc;

use moka::sync::Cache;

use super::changes::{self, Change};
use super::client_keys::ClientKeys;
use super::webhooks::Sender;
use super::{Call, Error, cache};
use crate::crypto::kek::Kek;
use crate::crypto::{jose, secrets};
use crate::model::{
    Client, ClientId, EnvKind, Environment, EnvironmentId, Secret, TokenAuthMethod,
};
use crate::oidc::client_assertion::{self, AssertionClaims};
use crate::oidc::client_auth::{AuthMethod, PresentedClient};
use crate::oidc::endpoints::Endpoint;
use crate::oidc::{OAuthError, redirect};
use crate::store::{Db, EnvStore};

type ClientKey = (EnvironmentId, ClientId);

#[derive(Debug)]
pub struct ClientDirectory {
    db: Db,
    known: Cache<ClientKey, Arc<Client>>,
    /// Client ids found not to exist, apart from the clients: requests naming made-up ids churn
    /// this cache and never evict real clients.
    unknown: Cache<ClientKey, ()>,
    /// Per environment, the web origins of its public clients' redirect URIs.
    web_origins: Cache<EnvironmentId, Arc<BTreeSet<String>>>,
    /// Opens `client_secret_jwt` secrets.
    kek: Kek,
    client_keys: ClientKeys,
}

impl ClientDirectory {
    pub(super) fn new(db: Db, cache_seconds: i64, kek: Kek, sender: Sender) -> Self {
        ClientDirectory {
            db,
            kek,
            client_keys: ClientKeys::new(sender, cache_seconds),
            known: cache::expiring(cache_seconds),
            unknown: cache::expiring(cache_seconds),
            web_origins: cache::expiring(cache_seconds),
        }
    }

    /// The origins (`https://app.example:8443`) of the redirect URIs of `environment`'s public
    /// clients: the browser apps that call the token, userinfo and revocation endpoints themselves.
    pub async fn web_origins(
        &self,
        environment: &Environment,
    ) -> Result<Arc<BTreeSet<String>>, Error> {
        if let Some(origins) = self.web_origins.get(&environment.id) {
            return Ok(origins);
        }
        let clients = EnvStore::new(&self.db, &environment.id)
            .list_clients()
            .await?;
        let origins: BTreeSet<String> = clients
            .iter()
            .filter(|client| client.public)
            .flat_map(|client| client.redirect_uris.iter())
            .filter_map(|uri| redirect::web_origin(uri))
            .collect();
        let origins = Arc::new(origins);
        self.web_origins
            .insert(environment.id.clone(), origins.clone());
        Ok(origins)
    }

    /// A client of `environment` (unknown ids included in the cache).
    pub async fn find(
        &self,
        environment: &Environment,
        client_id: &ClientId,
    ) -> Result<Option<Arc<Client>>, Error> {
        let key = (environment.id.clone(), client_id.clone());
        if let Some(client) = self.known.get(&key) {
            crate::telemetry::cache_lookup("clients", Some(environment), true);
            return Ok(Some(client));
        }
        if self.unknown.contains_key(&key) {
            crate::telemetry::cache_lookup("clients", Some(environment), true);
            return Ok(None);
        }
        crate::telemetry::cache_lookup("clients", Some(environment), false);
        let found = EnvStore::new(&self.db, &environment.id)
            .find_client(client_id)
            .await?
            .map(Arc::new);
        match &found {
            Some(client) => self.known.insert(key, client.clone()),
            None => self.unknown.insert(key, ()),
        }
        Ok(found)
    }

    /// Drops a client this node just changed, so it reads the new row at once, and tells the
    /// other nodes to do the same.
    pub(super) async fn forget(&self, environment: &Environment, client_id: &ClientId) {
        self.forget_here(&environment.id, client_id);
        let change = Change::Client(environment.id.clone(), client_id.clone());
        changes::announce(&self.db, change).await;
    }

    /// Drops a client another node changed.
    pub(super) fn forget_here(&self, env_id: &EnvironmentId, client_id: &ClientId) {
        self.client_keys.forget(env_id, client_id);
        let key = (env_id.clone(), client_id.clone());
        self.known.invalidate(&key);
        self.unknown.invalidate(&key);
        self.web_origins.invalidate(env_id);
    }

    /// Drops every client (announcements may have been missed).
    pub(super) fn forget_all_here(&self) {
        self.client_keys.forget_all();
        self.known.invalidate_all();
        self.unknown.invalidate_all();
        self.web_origins.invalidate_all();
    }

    /// The client behind presented credentials. A missing client, a wrong secret or signature,
    /// a replayed assertion and a client of another zone all end here the same way:
    /// `invalid_client` (after the same digest work, where a secret was offered).
    pub async fn authenticate(
        &self,
        call: &Call<'_>,
        presented: &PresentedClient,
    ) -> Result<Arc<Client>, Error> {
        let zone = call.zone;
        let client = self
            .find(zone, &ClientId::from(presented.client_id.as_str()))
            .await?;
        let authenticated = match presented.method {
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => {
                let shared_secret = client.as_ref().filter(|c| {
                    matches!(
                        c.token_endpoint_auth_method,
                        TokenAuthMethod::ClientSecretBasic | TokenAuthMethod::ClientSecretPost
                    )
                });
                let digest = shared_secret.and_then(|c| c.secret_digest.as_deref());
                let secret = presented.secret.as_deref().unwrap_or_default();
                let matches = match digest {
                    Some(digest) => secrets::matches_digest(secret, digest),
                    None => {
                        // Same work as a real comparison, so timing does not tell the cases apart.
                        secrets::matches_digest(secret, &secrets::digest(""));
                        false
                    }
                };
                client.filter(|_| matches)
            }
            AuthMethod::None => client.filter(|c| c.public),
            AuthMethod::ClientAssertion => match client {
                Some(client) => match self.check_assertion(call, &client, presented).await? {
                    Ok(()) => Some(client),
                    Err(why) => {
                        tracing::info!(why, "client assertion refused");
                        None
                    }
                },
                None => None,
            },
        };
        let Some(authenticated) = authenticated else {
            return Err(OAuthError::invalid_client().into());
        };
        // Named in the request's log lines (the access log among them).
        tracing::Span::current().record("client_id", authenticated.client_id.as_str());
        Ok(authenticated)
    }

    /// Checks a JWT client assertion against the client's registered method: its signature
    /// (the client's keys, or its secret), its claims, and that its `jti` was not used before.
    async fn check_assertion(
        &self,
        call: &Call<'_>,
        client: &Client,
        presented: &PresentedClient,
    ) -> Result<Result<(), &'static str>, Error> {
        let assertion = presented.assertion.as_deref().unwrap_or_default();
        let Ok(parsed) = jose::parse_compact(assertion) else {
            return Ok(Err("malformed"));
        };
        let verified: Result<AssertionClaims, jose::JoseError> =
            match client.token_endpoint_auth_method {
                TokenAuthMethod::PrivateKeyJwt => {
                    let kind = call.zone.kind;
                    let keys = match self.client_keys.of(kind, client, false).await {
                        Ok(keys) => keys,
                        Err(why) => {
                            tracing::warn!(error = %why, "client keys unavailable");
                            return Ok(Err("client keys unavailable"));
                        }
                    };
                    match parsed.verify_with_jwks(&keys) {
                        // A key the set lacks: the client may have rotated; look once more.
                        Err(jose::JoseError::UntrustedKey) if client.jwks_uri.is_some() => {
                            match self.client_keys.of(kind, client, true).await {
                                Ok(keys) => parsed.verify_with_jwks(&keys),
                                Err(_) => Err(jose::JoseError::UntrustedKey),
                            }
                        }
                        verified => verified,
                    }
                }
                TokenAuthMethod::ClientSecretJwt => {
                    let Some(secret) = self.client_secret(client) else {
                        return Ok(Err("no secret on record"));
                    };
                    parsed.verify_hs256(&secret)
                }
                _ => return Ok(Err("the client does not authenticate with JWTs")),
            };
        let claims = match verified {
            Ok(claims) => claims,
            Err(jose::JoseError::UntrustedKey) => return Ok(Err("algorithm or key not accepted")),
            Err(jose::JoseError::BadSignature) => return Ok(Err("bad signature")),
            Err(_) => return Ok(Err("malformed claims")),
        };
        let issuer = call.zone.issuer.as_str();
        let accepted: Vec<String> = std::iter::once(issuer.to_string())
            .chain(
                [
                    Endpoint::Token,
                    Endpoint::Introspection,
                    Endpoint::Revocation,
                ]
                .iter()
                .map(|endpoint| format!("{issuer}{}", endpoint.path())),
            )
            .collect();
        if let Err(why) =
            client_assertion::check_claims(&claims, client.client_id.as_str(), &accepted, call.now)
        {
            return Ok(Err(why));
        }
        let fresh = EnvStore::new(&self.db, &call.zone.id)
            .use_client_assertion(
                &client.client_id,
                &claims.jti,
                client_assertion::remember_until(&claims),
            )
            .await?;
        Ok(if fresh { Ok(()) } else { Err("jti replayed") })
    }

    /// `secret` sealed for `client` (kept for `client_secret_jwt`, whose HMAC key it is).
    pub(super) fn seal_secret(&self, client: &Client, secret: &Secret) -> String {
        self.kek
            .seal(secret.expose().as_bytes(), &secret_seal_context(client))
    }

    /// Why `uri` cannot serve a client's keys in a zone of `kind`, if it cannot.
    pub(super) fn check_jwks_uri(&self, kind: EnvKind, uri: &str) -> Result<(), String> {
        self.client_keys.check_uri(kind, uri)
    }

    /// A `client_secret_jwt` client's secret, opened from its seal.
    fn client_secret(&self, client: &Client) -> Option<Vec<u8>> {
        let sealed = client.secret_sealed.as_deref()?;
        self.kek.open(sealed, &secret_seal_context(client)).ok()
    }
}

/// What a client's sealed secret is bound to: it opens for that client of that zone only.
fn secret_seal_context(client: &Client) -> String {
    format!("client-secret:{}:{}", client.env_id, client.client_id)
}
