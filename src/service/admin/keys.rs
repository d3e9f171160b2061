//! Key rotation and the audit of scheduled key transitions.

use serde::Serialize;

use crate::audit::{AuditEvent, KeyTransition};
use crate::model::audit::Origin;
use crate::model::{Environment, KeySchedule, KeyState, SigningAlg, rotation};
use crate::service::audit_log::AuditLog;
use crate::service::keyring::KeyRing;
use crate::service::{Caller, Error};
use crate::store::{Db, EnvStore, StoredKey};

/// The longest publish delay an admin may ask for: 30 days.
const MAX_PUBLISH_DELAY: i64 = 30 * 24 * 3600;

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

impl KeyView {
    fn of(key: StoredKey, now: i64) -> Self {
        KeyView {
            state: key.schedule.state_at(now),
            kid: key.kid.to_string(),
            alg: key.alg,
            created_at: key.created_at,
            schedule: key.schedule,
        }
    }
}

pub struct KeyAdmin<'a> {
    pub(in crate::service) db: &'a Db,
    pub(in crate::service) keys: &'a KeyRing,
    pub(in crate::service) audit: &'a AuditLog,
    /// The publish delay when a rotation names none.
    pub(in crate::service) default_publish_delay: i64,
    pub(in crate::service) cache_seconds: i64,
}

impl KeyAdmin<'_> {
    pub async fn list(&self, environment: &Environment, now: i64) -> Result<Vec<KeyView>, Error> {
        let stored = EnvStore::new(self.db, &environment.id).keys().await?;
        Ok(stored
            .into_iter()
            .map(|key| KeyView::of(key, now))
            .collect())
    }

    /// Stages a new key of `alg`: published now, signing after `publish_delay` seconds (the configured
    /// default when `None`); the keys it replaces stay published until their tokens have expired.
    pub async fn rotate(
        &self,
        environment: &Environment,
        alg: SigningAlg,
        publish_delay: Option<i64>,
        caller: &Caller,
        now: i64,
    ) -> Result<KeyView, Error> {
        let delay = publish_delay.unwrap_or(self.default_publish_delay);
        if !(0..=MAX_PUBLISH_DELAY).contains(&delay) {
            return Err(Error::Invalid(format!(
                "the publish delay is 0 to {MAX_PUBLISH_DELAY} seconds"
            )));
        }
        let policy = environment.policy;
        let max_token_ttl = policy.access_token_ttl.max(policy.id_token_ttl);
        let rotation = rotation(now, delay, max_token_ttl, self.cache_seconds);
        let mut generated = self
            .keys
            .generate(vec![(alg, rotation.new_key)], now)
            .await?;
        let Some(mut new_key) = generated.pop() else {
            return Err(Error::Internal("no key was generated".into()));
        };
        // Recorded as staged even with no delay, so its activation is audited like any other.
        new_key.state = KeyState::Staged.as_str().to_string();
        let store = EnvStore::new(self.db, &environment.id);
        // The keys the rotation retires, read first for the event written with it.
        let replaced = store
            .keys_to_replace(alg.as_str(), rotation.retire_replaced_at)
            .await?;
        let event = AuditEvent::KeyStaged {
            kid: new_key.kid.to_string(),
            alg: alg.as_str(),
            activates_at: rotation.new_key.activates_at,
            replaces: replaced,
            replaced_keys_unpublish_at: rotation.unpublish_replaced_at,
        };
        let (event, events) = self
            .audit
            .outbox_by(environment, caller, event, now)
            .await?;
        store
            .emitting(&events)
            .rotate_key(&new_key, &rotation)
            .await?;
        self.keys.forget(&environment.id).await;
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        if delay == 0 {
            self.sweep(now).await?;
        }
        Ok(KeyView::of(new_key, now))
    }

    /// Writes each key transition that its schedule has reached (activated, retired, removed) to the
    /// key's environment audit log, exactly once across all nodes.
    pub async fn sweep(&self, now: i64) -> Result<(), Error> {
        for due in self.db.keys_due_for_transition(now).await? {
            let Some(environment) = self.db.find_environment_by_id(&due.env_id).await? else {
                continue;
            };
            let target = due.key.schedule.state_at(now);
            let to = match target {
                KeyState::Staged => continue,
                KeyState::Active => KeyTransition::Activated,
                KeyState::Retired => KeyTransition::Retired,
                KeyState::Removed => KeyTransition::Removed,
            };
            let event = AuditEvent::KeyTransition {
                to,
                kid: due.key.kid.to_string(),
                alg: due.key.alg.clone(),
                from: due.key.state.clone(),
            }
            .actor("airlock");
            let origin = Origin::default();
            let events = self
                .audit
                .events()
                .outbox(&environment, &origin, &event, now)
                .await?;
            if !EnvStore::new(self.db, &environment.id)
                .emitting(&events)
                .record_key_state(&due.key.kid, &due.key.state, target.as_str())
                .await?
            {
                continue;
            }
            self.keys.forget(&environment.id).await;
            self.audit.record(&environment, &origin, event, now).await?;
        }
        Ok(())
    }
}
