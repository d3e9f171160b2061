//! Signing keys per environment: generated and sealed at creation or rotation, decrypted once per node
//! and cached until the sooner of a bounded lifetime and the next scheduled key transition (never
//! per request).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::{Airlock, Caller, Error, Event};
use crate::crypto::jose::{self, SigningKey, VerifyingKey};
use crate::crypto::kek::Kek;
use crate::crypto::secrets;
use crate::model::audit::Origin;
use crate::model::{Environment, KeySchedule, KeyState, SigningAlg};
use crate::store::StoredKey;

/// How often each node looks for key transitions to record.
const SWEEP_SECONDS: u64 = 5;

/// One environment's keys, ready to use.
#[derive(Debug)]
pub struct EnvKeys {
    signing: HashMap<SigningAlg, SigningKey>,
    pub verifying: Vec<VerifyingKey>,
    /// The JWKS document, serialised once.
    pub jwks: bytes::Bytes,
    /// When this view must be re-read.
    valid_until: i64,
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
    entries: Mutex<HashMap<String, Arc<EnvKeys>>>,
}

/// A key as admins see it.
#[derive(Debug, Clone, Serialize)]
pub struct KeyView {
    pub kid: String,
    pub alg: String,
    pub state: KeyState,
    pub created_at: i64,
    #[serde(flatten)]
    pub schedule: KeySchedule,
}

/// A new key pair for `alg`, sealed under the KEK. Kids are random, so unique across the installation.
pub fn new_stored_key(
    kek: &Kek,
    alg: SigningAlg,
    schedule: KeySchedule,
    now: i64,
) -> Result<StoredKey, Error> {
    let kid = secrets::random_id();
    let generated = jose::generate(alg, kid.clone())?;
    Ok(StoredKey {
        private_key_sealed: kek.seal(&generated.private_der, &kid),
        kid,
        alg: alg.as_str().to_string(),
        state: schedule.state_at(now).as_str().to_string(),
        public_jwk: generated.public_jwk,
        created_at: now,
        schedule,
    })
}

/// A key that signs from `now` on.
pub fn immediate(now: i64) -> KeySchedule {
    KeySchedule {
        activates_at: now,
        retires_at: None,
        unpublish_at: None,
    }
}

/// `cache_seconds` bounds how long the view may be served (another node's rotation is seen within it).
fn load(kek: &Kek, stored: &[StoredKey], now: i64, cache_seconds: i64) -> Result<EnvKeys, Error> {
    let mut signing = HashMap::new();
    let mut verifying = Vec::new();
    let mut published = Vec::new();
    let mut valid_until = now + cache_seconds.max(0);
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
            let der = kek
                .open(&key.private_key_sealed, &key.kid)
                .map_err(|e| Error::Internal(e.to_string()))?;
            // Keys come in activation order: the most recently activated key of each algorithm signs.
            signing.insert(alg, SigningKey::from_der(key.kid.clone(), alg, &der)?);
        }
    }
    Ok(EnvKeys {
        signing,
        verifying,
        jwks: jose::jwks_document(&published).to_string().into(),
        valid_until,
    })
}

impl Airlock {
    /// The environment's keys, from the node cache when fresh.
    pub async fn keys(&self, environment: &Environment, now: i64) -> Result<Arc<EnvKeys>, Error> {
        if let Ok(entries) = self.keys.entries.lock()
            && let Some(keys) = entries.get(&environment.id)
            && now < keys.valid_until
        {
            return Ok(keys.clone());
        }
        let stored = self.env_store(environment).keys().await?;
        let loaded = Arc::new(load(&self.kek, &stored, now, self.config.cache_seconds)?);
        if let Ok(mut entries) = self.keys.entries.lock() {
            entries.insert(environment.id.clone(), loaded.clone());
        }
        Ok(loaded)
    }

    fn forget_keys(&self, environment: &Environment) {
        if let Ok(mut entries) = self.keys.entries.lock() {
            entries.remove(&environment.id);
        }
    }

    pub async fn list_keys(
        &self,
        environment: &Environment,
        now: i64,
    ) -> Result<Vec<KeyView>, Error> {
        let stored = self.env_store(environment).keys().await?;
        Ok(stored
            .into_iter()
            .map(|key| KeyView {
                state: key.schedule.state_at(now),
                kid: key.kid,
                alg: key.alg,
                created_at: key.created_at,
                schedule: key.schedule,
            })
            .collect())
    }

    /// Stages a new key of `alg`: published now, signing after `publish_delay` seconds (the configured
    /// default when `None`); the keys it replaces stay published until their tokens have expired.
    pub async fn rotate_key(
        &self,
        environment: &Environment,
        alg: SigningAlg,
        publish_delay: Option<i64>,
        caller: &Caller,
        now: i64,
    ) -> Result<KeyView, Error> {
        let delay = publish_delay.unwrap_or(self.config.key_publish_delay);
        if !(0..=30 * 24 * 3600).contains(&delay) {
            return Err(Error::Invalid(
                "the publish delay is 0 to 2592000 seconds".into(),
            ));
        }
        let policy = environment.policy;
        let max_token_ttl = policy.access_token_ttl.max(policy.id_token_ttl);
        let rotation = crate::model::rotation(now, delay, max_token_ttl, self.config.cache_seconds);
        let kek = self.kek.clone();
        let mut new_key =
            tokio::task::spawn_blocking(move || new_stored_key(&kek, alg, rotation.new_key, now))
                .await
                .map_err(|e| Error::Internal(e.to_string()))??;
        // Recorded as staged even with no delay, so its activation is audited like any other.
        new_key.state = KeyState::Staged.as_str().to_string();
        let replaced = self
            .env_store(environment)
            .rotate_key(&new_key, &rotation)
            .await?;
        self.forget_keys(environment);
        let event = Event::success("key.staged")
            .detail("kid", new_key.kid.clone())
            .detail("alg", alg.as_str())
            .detail("activates_at", rotation.new_key.activates_at)
            .detail("replaces", replaced)
            .detail("replaced_keys_unpublish_at", rotation.unpublish_replaced_at);
        self.record_by(environment, caller, event, now).await?;
        if delay == 0 {
            self.sweep_key_states(now).await?;
        }
        Ok(KeyView {
            state: new_key.schedule.state_at(now),
            kid: new_key.kid,
            alg: new_key.alg,
            created_at: new_key.created_at,
            schedule: new_key.schedule,
        })
    }

    /// Starts this node's background upkeep: key transitions are audited within `SWEEP_SECONDS`.
    pub fn spawn_key_sweeper(self: &Arc<Self>) {
        let airlock = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(std::time::Duration::from_secs(SWEEP_SECONDS));
            loop {
                ticks.tick().await;
                let Some(airlock) = airlock.upgrade() else {
                    break;
                };
                if let Err(error) = airlock.sweep_key_states(crate::clock::now()).await {
                    tracing::warn!(%error, "key state sweep failed");
                }
            }
        });
    }

    /// Writes each key transition that its schedule has reached (activated, retired, removed) to the
    /// key's environment audit log, exactly once across all nodes.
    pub async fn sweep_key_states(&self, now: i64) -> Result<(), Error> {
        for due in self.db.keys_due_for_transition(now).await? {
            let Some(environment) = self.db.find_environment_by_id(&due.env_id).await? else {
                continue;
            };
            let store = self.env_store(&environment);
            let target = due.key.schedule.state_at(now);
            if !store
                .record_key_state(&due.key.kid, &due.key.state, target.as_str())
                .await?
            {
                continue;
            }
            self.forget_keys(&environment);
            let name = match target {
                KeyState::Staged => continue,
                KeyState::Active => "key.activated",
                KeyState::Retired => "key.retired",
                KeyState::Removed => "key.removed",
            };
            let event = Event::success(name)
                .actor("airlock")
                .detail("kid", due.key.kid.clone())
                .detail("alg", due.key.alg.clone())
                .detail("from", due.key.state.clone());
            self.record(&environment, &Origin::default(), event, now)
                .await?;
        }
        Ok(())
    }
}
