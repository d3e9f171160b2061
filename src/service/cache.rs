//! Per-node caches bounded in time, so another node's changes are seen within the configured cache
//! bound (`AIRLOCK_CACHE_SECONDS`), and bounded in size, so hostile keys cannot grow them without end.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::{Airlock, Error};
use crate::model::{Client, Environment, Issuer, Zone};
use crate::oidc::claims::AccessTokenClaims;

const MAX_ENTRIES: usize = 20_000;

#[derive(Debug)]
pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (V, i64)>>,
    capacity: usize,
}

impl<K, V> Default for TtlCache<K, V> {
    fn default() -> Self {
        TtlCache::with_capacity(MAX_ENTRIES)
    }
}

impl<K, V> TtlCache<K, V> {
    pub fn with_capacity(capacity: usize) -> Self {
        TtlCache {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// The value stored less than `ttl` seconds before `now`.
    pub fn get<Q>(&self, key: &Q, now: i64, ttl: i64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.lock().ok()?;
        let (value, stored_at) = entries.get(key)?;
        (now - stored_at < ttl).then(|| value.clone())
    }

    pub fn put(&self, key: K, value: V, now: i64, ttl: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                entries.retain(|_, (_, stored_at)| now - *stored_at < ttl);
                if entries.len() >= self.capacity {
                    // Full of live entries: drop an eighth, an arbitrary set (the map's order is
                    // randomly seeded), so a flood of new keys mostly evicts its own kind instead
                    // of emptying the cache for everyone.
                    let mut dropped = 0;
                    let evict = self.capacity.div_ceil(8);
                    entries.retain(|_, _| {
                        dropped += 1;
                        dropped > evict
                    });
                }
            }
            entries.insert(key, (value, now));
        }
    }

    /// Drops an entry this node just changed, so it reads the new row at once.
    pub fn forget(&self, key: &K) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }
}

/// Environments by `(project, name)`.
pub type EnvironmentCache = TtlCache<(String, String), Environment>;
/// Path issuers' zones by `(project, name)`: what a request under `/{project}/{environment}` needs.
pub type PathZoneCache = TtlCache<(String, String), Zone>;
/// Serialised discovery documents by issuer (a pure function of the issuer, so never stale).
pub type DiscoveryCache = TtlCache<String, bytes::Bytes>;
/// Clients by `(environment id, client id)`.
pub type ClientCache = TtlCache<(String, String), Client>;
/// Client ids found not to exist, by `(environment id, client id)`: apart from the clients, so
/// requests naming made-up ids churn this cache and never evict real clients.
pub type UnknownClientCache = TtlCache<(String, String), ()>;
/// Access tokens whose signature this node checked, by [`verified_token_key`]. A resource server
/// presents the same token on every call it serves; the signature check is done once per node and
/// cache period, while expiry, issuer and revocation are still checked on every use.
pub type VerifiedTokenCache = TtlCache<[u8; 32], Arc<VerifiedAccessToken>>;

/// An access token whose signature verified under key `kid` of its environment.
#[derive(Debug)]
pub struct VerifiedAccessToken {
    pub kid: String,
    pub claims: AccessTokenClaims,
}

/// SHA-256 of the environment id and the token: the same token presented to another environment is
/// another key, so it is verified (and refused) there on its own.
pub fn verified_token_key(environment: &Environment, token: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(environment.id.as_bytes());
    hasher.update([0]);
    hasher.update(token.as_bytes());
    hasher.finalize().into()
}

impl Airlock {
    /// The environment `project/name`, through the node cache.
    pub async fn environment(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Option<Environment>, Error> {
        let (now, ttl) = (crate::clock::now(), self.config.cache_seconds);
        let key = (project.to_string(), name.to_string());
        if let Some(environment) = self.environments.get(&key, now, ttl) {
            return Ok(Some(environment));
        }
        let found = self.db.find_environment(project, name).await?;
        if let Some(environment) = &found {
            self.environments.put(key, environment.clone(), now, ttl);
        }
        Ok(found)
    }

    /// The zone of the path issuer `/{project}/{name}`, through the node cache; none when the
    /// environment does not exist or its path issuer is turned off.
    pub async fn path_zone(&self, project: &str, name: &str) -> Result<Option<Zone>, Error> {
        let (now, ttl) = (crate::clock::now(), self.config.cache_seconds);
        let key = (project.to_string(), name.to_string());
        if let Some(zone) = self.path_zones.get(&key, now, ttl) {
            return Ok(Some(zone));
        }
        // From the database, not through the environment cache: a cached zone is never older
        // than one cache period.
        let Some(environment) = self.db.find_environment(project, name).await? else {
            return Ok(None);
        };
        if !environment.path_issuer_enabled {
            return Ok(None);
        }
        let zone = Zone {
            issuer: Arc::new(Issuer::for_path(&self.public_url, &environment)),
            environment: Arc::new(environment),
        };
        self.path_zones.put(key, zone.clone(), now, ttl);
        Ok(Some(zone))
    }

    pub(super) fn forget_environment(&self, environment: &Environment) {
        let key = (environment.project.clone(), environment.name.clone());
        self.environments.forget(&key);
        self.path_zones.forget(&key);
    }

    /// A client of `environment`, through the node cache (unknown ids included).
    pub async fn client(
        &self,
        environment: &Environment,
        client_id: &str,
    ) -> Result<Option<Client>, Error> {
        let (now, ttl) = (crate::clock::now(), self.config.cache_seconds);
        let key = (environment.id.clone(), client_id.to_string());
        if let Some(client) = self.clients.get(&key, now, ttl) {
            return Ok(Some(client));
        }
        if self.unknown_clients.get(&key, now, ttl).is_some() {
            return Ok(None);
        }
        let found = self.env_store(environment).find_client(client_id).await?;
        match &found {
            Some(client) => self.clients.put(key, client.clone(), now, ttl),
            None => self.unknown_clients.put(key, (), now, ttl),
        }
        Ok(found)
    }

    pub(super) fn forget_client(&self, environment: &Environment, client_id: &str) {
        let key = (environment.id.clone(), client_id.to_string());
        self.clients.forget(&key);
        self.unknown_clients.forget(&key);
    }

    /// The discovery document of `issuer`, serialised once per node.
    pub fn discovery_document(&self, issuer: &Issuer) -> bytes::Bytes {
        if let Some(document) = self.discovery.get(issuer.as_str(), 0, i64::MAX) {
            return document;
        }
        let document: bytes::Bytes = crate::oidc::discovery::metadata(issuer).to_string().into();
        self.discovery
            .put(issuer.as_str().to_string(), document.clone(), 0, i64::MAX);
        document
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_cache_of_live_entries_drops_an_eighth_not_everything() {
        let cache = TtlCache::with_capacity(64);
        for key in 0..64 {
            cache.put(key, key, 100, 60);
        }
        cache.put(64, 64, 100, 60);
        let live = (0..=64).filter(|k| cache.get(k, 100, 60).is_some()).count();
        assert_eq!(live, 64 - 8 + 1);
        assert_eq!(cache.get(&64, 100, 60), Some(64));
    }

    #[test]
    fn expired_entries_go_first() {
        let cache = TtlCache::with_capacity(4);
        cache.put("old", 1, 0, 60);
        for key in ["a", "b", "c"] {
            cache.put(key, 2, 100, 60);
        }
        cache.put("d", 3, 100, 60);
        assert_eq!(cache.get(&"old", 100, 60), None);
        for key in ["a", "b", "c", "d"] {
            assert!(cache.get(&key, 100, 60).is_some(), "{key} was evicted");
        }
    }
}
