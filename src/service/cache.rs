//! Per-node caches bounded in time, so another node's changes are seen within the configured cache
//! bound (`AIRLOCK_CACHE_SECONDS`), and bounded in size, so hostile keys cannot grow them without end.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::{Airlock, Error};
use crate::model::{Client, Environment, Issuer};
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
    pub fn get(&self, key: &K, now: i64, ttl: i64) -> Option<V> {
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
pub type VerifiedTokenCache = TtlCache<[u8; 32], std::sync::Arc<VerifiedAccessToken>>;

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

    pub(super) fn forget_environment(&self, environment: &Environment) {
        self.environments
            .forget(&(environment.project.clone(), environment.name.clone()));
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
        let key = issuer.as_str().to_string();
        if let Some(document) = self.discovery.get(&key, 0, i64::MAX) {
            return document;
        }
        let document: bytes::Bytes = crate::oidc::discovery::metadata(issuer).to_string().into();
        self.discovery.put(key, document.clone(), 0, i64::MAX);
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
