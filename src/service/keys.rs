//! Signing keys per environment: generated and sealed at creation, decrypted once per node and cached
//! with a bounded lifetime (never per request).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Airlock, Error};
use crate::crypto::jose::{self, SigningKey, VerifyingKey};
use crate::crypto::kek::Kek;
use crate::crypto::secrets;
use crate::model::{Environment, SigningAlg};
use crate::store::StoredKey;

const TTL_SECONDS: i64 = 60;

/// Key states; issue #3's rotation adds `staged` and `retired`.
pub const ACTIVE: &str = "active";

/// One environment's keys, ready to use.
#[derive(Debug)]
pub struct EnvKeys {
    signing: HashMap<SigningAlg, SigningKey>,
    pub verifying: Vec<VerifyingKey>,
    /// The JWKS document, serialised once.
    pub jwks: String,
}

impl EnvKeys {
    pub fn signer(&self, alg: SigningAlg) -> Result<&SigningKey, Error> {
        self.signing
            .get(&alg)
            .ok_or_else(|| Error::Internal(format!("no active {} key", alg.as_str())))
    }
}

#[derive(Debug, Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, (Arc<EnvKeys>, i64)>>,
}

/// A new key pair for `alg`, sealed under the KEK. Kids are random, so unique across the installation.
pub fn new_stored_key(kek: &Kek, alg: SigningAlg, now: i64) -> Result<StoredKey, Error> {
    let kid = secrets::random_id();
    let generated = jose::generate(alg, kid.clone())?;
    Ok(StoredKey {
        private_key_sealed: kek.seal(&generated.private_der, &kid),
        kid,
        alg: alg.as_str().to_string(),
        state: ACTIVE.to_string(),
        public_jwk: generated.public_jwk,
        created_at: now,
    })
}

fn load(kek: &Kek, stored: &[StoredKey]) -> Result<EnvKeys, Error> {
    let mut signing = HashMap::new();
    let mut verifying = Vec::new();
    let mut published = Vec::new();
    for key in stored {
        let alg = SigningAlg::parse(&key.alg)
            .ok_or_else(|| Error::Internal(format!("unknown key alg {}", key.alg)))?;
        verifying.push(VerifyingKey::from_public_jwk(&key.public_jwk)?);
        published.push(key.public_jwk.clone());
        if key.state == ACTIVE {
            let der = kek
                .open(&key.private_key_sealed, &key.kid)
                .map_err(|e| Error::Internal(e.to_string()))?;
            // Later rows win: the newest active key of each algorithm signs.
            signing.insert(alg, SigningKey::from_der(key.kid.clone(), alg, &der)?);
        }
    }
    Ok(EnvKeys {
        signing,
        verifying,
        jwks: jose::jwks_document(&published).to_string(),
    })
}

impl Airlock {
    pub fn new_stored_key(&self, alg: SigningAlg, now: i64) -> Result<StoredKey, Error> {
        new_stored_key(&self.kek, alg, now)
    }

    /// The environment's keys, from the node cache when fresh.
    pub async fn keys(&self, environment: &Environment, now: i64) -> Result<Arc<EnvKeys>, Error> {
        if let Ok(entries) = self.keys.entries.lock()
            && let Some((keys, fetched_at)) = entries.get(&environment.id)
            && now - fetched_at < TTL_SECONDS
        {
            return Ok(keys.clone());
        }
        let stored = self.env_store(environment).keys().await?;
        let loaded = Arc::new(load(&self.kek, &stored)?);
        if let Ok(mut entries) = self.keys.entries.lock() {
            entries.insert(environment.id.clone(), (loaded.clone(), now));
        }
        Ok(loaded)
    }
}
