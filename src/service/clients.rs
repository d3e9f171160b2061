//! Client records through the node cache, and client authentication: the one door every endpoint
//! that takes client credentials goes through.

use std::collections::BTreeSet;
use std::sync::Arc;

use moka::sync::Cache;

use super::{Error, cache};
use crate::crypto::secrets;
use crate::model::{Client, ClientId, Environment, EnvironmentId};
use crate::oidc::client_auth::{AuthMethod, PresentedClient};
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
}

impl ClientDirectory {
    pub(super) fn new(db: Db, cache_seconds: i64) -> Self {
        ClientDirectory {
            db,
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
            return Ok(Some(client));
        }
        if self.unknown.contains_key(&key) {
            return Ok(None);
        }
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

    /// Drops a client this node just changed, so it reads the new row at once.
    pub(super) fn forget(&self, environment: &Environment, client_id: &ClientId) {
        let key = (environment.id.clone(), client_id.clone());
        self.known.invalidate(&key);
        self.unknown.invalidate(&key);
        self.web_origins.invalidate(&environment.id);
    }

    /// The client behind presented credentials. A missing client, a wrong secret and a client of
    /// another zone all end here the same way: `invalid_client`, after the same digest work.
    pub async fn authenticate(
        &self,
        environment: &Environment,
        presented: &PresentedClient,
    ) -> Result<Arc<Client>, Error> {
        let client = self
            .find(environment, &ClientId::from(presented.client_id.as_str()))
            .await?;
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
        let authenticated = match client {
            Some(client) if client.public && presented.method == AuthMethod::None => client,
            Some(client) if !client.public && secret_ok => client,
            _ => return Err(OAuthError::invalid_client().into()),
        };
        // Named in the request's log lines (the access log among them).
        tracing::Span::current().record("client_id", authenticated.client_id.as_str());
        Ok(authenticated)
    }
}
