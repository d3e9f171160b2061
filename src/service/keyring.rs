//! Signing keys per environment: generated and sealed at creation or rotation, decrypted once per
//! node and cached until the sooner of the cache bound and the next scheduled key transition (never
//! per request).

use std::collections::HashMap;
use std::sync::Arc;

use moka::sync::Cache;

use super::changes::{self, Change};
use super::{Error, cache};
use crate::crypto::jose::{self, SigningKey, VerifyingKey};
use crate::crypto::kek::Kek;
use crate::crypto::secrets;
use crate::model::{Environment, EnvironmentId, KeySchedule, KeyState, Kid, SigningAlg};
use crate::store::{Db, EnvStore, StoredKey};

/// One environment's keys, ready to use.
#[derive(Debug)]
pub struct EnvKeys {
    signing: HashMap<SigningAlg, SigningKey>,
    pub verifying: Vec<VerifyingKey>,
    /// The JWKS document, serialised once.
    pub jwks: bytes::Bytes,
    /// When this view must be re-read (a scheduled transition or the cache bound).
    valid_until: i64,
}

impl EnvKeys {
    pub fn signer(&self, alg: SigningAlg) -> Result<&SigningKey, Error> {
        self.signing
            .get(&alg)
            .ok_or_else(|| Error::Internal(format!("no active {} key", alg.as_str())))
    }
}

#[derive(Debug)]
pub struct KeyRing {
    db: Db,
    kek: Kek,
    cache: Cache<EnvironmentId, Arc<EnvKeys>>,
    cache_seconds: i64,
}

/// A key that signs from `now` on.
pub fn immediate(now: i64) -> KeySchedule {
    KeySchedule {
        activates_at: now,
        retires_at: None,
        unpublish_at: None,
    }
}

impl KeyRing {
    pub(super) fn new(db: Db, kek: Kek, cache_seconds: i64) -> Self {
        KeyRing {
            db,
            kek,
            cache: cache::expiring(cache_seconds),
            cache_seconds,
        }
    }

    /// The environment's keys, from the node cache while that view is valid at `now`.
    pub async fn keys(&self, environment: &Environment, now: i64) -> Result<Arc<EnvKeys>, Error> {
        if let Some(keys) = self.cache.get(&environment.id)
            && now < keys.valid_until
        {
            crate::telemetry::cache_lookup("keys", Some(environment), true);
            return Ok(keys);
        }
        crate::telemetry::cache_lookup("keys", Some(environment), false);
        let stored = EnvStore::new(&self.db, &environment.id).keys().await?;
        let loaded = Arc::new(self.load(&stored, now)?);
        self.cache.insert(environment.id.clone(), loaded.clone());
        Ok(loaded)
    }

    /// Drops `environment`'s keys after a change here, and tells the other nodes.
    pub(super) async fn forget(&self, environment: &EnvironmentId) {
        self.forget_here(environment);
        changes::announce(&self.db, Change::Keys(environment.clone())).await;
    }

    pub(super) fn forget_here(&self, environment: &EnvironmentId) {
        self.cache.invalidate(environment);
    }

    pub(super) fn forget_all_here(&self) {
        self.cache.invalidate_all();
    }

    /// New key pairs, sealed under the KEK, one per `(alg, schedule)`. Key generation (RSA
    /// especially) is CPU work, so it runs off the async runtime. Kids are random, so unique
    /// across the installation.
    pub(super) async fn generate(
        &self,
        wanted: Vec<(SigningAlg, KeySchedule)>,
        now: i64,
    ) -> Result<Vec<StoredKey>, Error> {
        let kek = self.kek.clone();
        tokio::task::spawn_blocking(move || {
            wanted
                .into_iter()
                .map(|(alg, schedule)| sealed_key(&kek, alg, schedule, now))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(Error::internal)?
    }

    fn load(&self, stored: &[StoredKey], now: i64) -> Result<EnvKeys, Error> {
        let mut signing = HashMap::new();
        let mut verifying = Vec::new();
        let mut published = Vec::new();
        let mut valid_until = now + self.cache_seconds.max(0);
        for key in stored {
            if let Some(at) = key.schedule.next_transition(now) {
                valid_until = valid_until.min(at);
            }
            let state = key.schedule.state_at(now);
            if !state.is_published() {
                continue;
            }
            let alg = SigningAlg::parse(&key.alg)
                .ok_or_else(|| Error::Internal(format!("unknown key alg {}", key.alg)))?;
            verifying.push(VerifyingKey::from_public_jwk(&key.public_jwk)?);
            published.push(key.public_jwk.clone());
            if state == KeyState::Active {
                let der = self
                    .kek
                    .open(&key.private_key_sealed, key.kid.as_str())
                    .map_err(Error::internal)?;
                // Keys come in activation order: the most recently activated key of each alg signs.
                let signer = SigningKey::from_der(key.kid.to_string(), alg, &der)?;
                signing.insert(alg, signer);
            }
        }
        Ok(EnvKeys {
            signing,
            verifying,
            jwks: jose::jwks_document(&published).to_string().into(),
            valid_until,
        })
    }
}

fn sealed_key(
    kek: &Kek,
    alg: SigningAlg,
    schedule: KeySchedule,
    now: i64,
) -> Result<StoredKey, Error> {
    let kid = secrets::random_id();
    let generated = jose::generate(alg, kid.clone())?;
    Ok(StoredKey {
        private_key_sealed: kek.seal(&generated.private_der, &kid),
        kid: Kid::new(kid),
        alg: alg.as_str().to_string(),
        state: schedule.state_at(now).as_str().to_string(),
        public_jwk: generated.public_jwk,
        created_at: now,
        schedule,
    })
}
