//! Signing keys of one environment. Private keys are stored sealed under the KEK; a key's state is
//! decided by its schedule (see `model::KeySchedule`), the `state` column records the last transition
//! that was audited.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Db, EnvStore, StoreError};
use crate::model::{EnvironmentId, KeySchedule, Kid, Rotation};

#[derive(Debug, Clone)]
pub struct StoredKey {
    pub kid: Kid,
    pub alg: String,
    pub state: String,
    pub public_jwk: String,
    pub private_key_sealed: String,
    pub created_at: i64,
    pub schedule: KeySchedule,
}

fn key_from_row(row: &AnyRow) -> Result<StoredKey, StoreError> {
    Ok(StoredKey {
        kid: super::text(row, "kid")?,
        alg: row.try_get("alg")?,
        state: row.try_get("state")?,
        public_jwk: row.try_get("public_jwk")?,
        private_key_sealed: row.try_get("private_key_sealed")?,
        created_at: row.try_get("created_at")?,
        schedule: KeySchedule {
            activates_at: row.try_get("activates_at")?,
            retires_at: row.try_get("retires_at")?,
            unpublish_at: row.try_get("unpublish_at")?,
        },
    })
}

const KEY_COLUMNS: &str = "kid, alg, state, public_jwk, private_key_sealed, created_at, \
     activates_at, retires_at, unpublish_at";

/// The keys of algorithm `$2` a rotation retiring them at `$3` replaces.
const REPLACED: &str = "env_id = $1 AND alg = $2 AND (retires_at IS NULL OR retires_at > $3)";

impl EnvStore<'_> {
    pub(super) async fn insert_key(
        &self,
        tx: &mut Transaction<'_, Any>,
        key: &StoredKey,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO signing_keys (env_id, {KEY_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        let values = (
            key.kid.as_str(),
            &key.alg,
            &key.state,
            &key.public_jwk,
            &key.private_key_sealed,
            key.created_at,
            key.schedule.activates_at,
            key.schedule.retires_at,
            key.schedule.unpublish_at,
        );
        self.query(&sql, values).execute(&mut **tx).await?;
        Ok(())
    }

    /// Every key of the environment still on record, oldest first.
    pub async fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE env_id = $1 \
             ORDER BY activates_at, created_at, kid"
        );
        let rows = self.fetch_all(&sql, ()).await?;
        rows.iter().map(key_from_row).collect()
    }

    /// The kids of `alg`'s keys a rotation retiring them at `retire_at` would replace: those not
    /// already retiring sooner.
    pub async fn keys_to_replace(
        &self,
        alg: &str,
        retire_at: i64,
    ) -> Result<Vec<String>, StoreError> {
        let sql = format!("SELECT kid FROM signing_keys WHERE {REPLACED} ORDER BY kid");
        self.fetch_all(&sql, (alg, retire_at))
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>("kid").map_err(StoreError::from))
            .collect()
    }

    /// Stores `new_key` and schedules the retirement of every key of its algorithm not already
    /// retiring sooner, in one transaction.
    pub async fn rotate_key(
        &self,
        new_key: &StoredKey,
        rotation: &Rotation,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin_write().await?;
        let retire =
            format!("UPDATE signing_keys SET retires_at = $3, unpublish_at = $4 WHERE {REPLACED}");
        let schedule = (
            &new_key.alg,
            rotation.retire_replaced_at,
            rotation.unpublish_replaced_at,
        );
        self.query(&retire, schedule).execute(&mut *tx).await?;
        self.insert_key(&mut tx, new_key).await?;
        self.commit(tx).await
    }

    /// Records a state transition once: false when another node recorded it first.
    pub async fn record_key_state(
        &self,
        kid: &Kid,
        from: &str,
        to: &str,
    ) -> Result<bool, StoreError> {
        let sql =
            "UPDATE signing_keys SET state = $4 WHERE env_id = $1 AND kid = $2 AND state = $3";
        Ok(self.execute(sql, (kid.as_str(), from, to)).await? == 1)
    }
}

/// A key whose recorded state lags behind its schedule.
#[derive(Debug, Clone)]
pub struct DueKey {
    pub env_id: EnvironmentId,
    pub key: StoredKey,
}

impl Db {
    /// Every environment's key schedules, for the key-state gauges.
    pub async fn key_schedules(&self) -> Result<Vec<(EnvironmentId, KeySchedule)>, StoreError> {
        let sql = "SELECT env_id, activates_at, retires_at, unpublish_at FROM signing_keys";
        let rows = self.query(sql, ()).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    super::text(row, "env_id")?,
                    KeySchedule {
                        activates_at: row.try_get("activates_at")?,
                        retires_at: row.try_get("retires_at")?,
                        unpublish_at: row.try_get("unpublish_at")?,
                    },
                ))
            })
            .collect()
    }

    /// Keys of any environment whose schedule has passed a transition the `state` column has not
    /// recorded yet.
    pub async fn keys_due_for_transition(&self, now: i64) -> Result<Vec<DueKey>, StoreError> {
        let sql = format!(
            "SELECT env_id, {KEY_COLUMNS} FROM signing_keys \
             WHERE (state = 'staged' AND activates_at <= $1) \
             OR (state IN ('staged', 'active') AND retires_at <= $1) \
             OR (state <> 'removed' AND unpublish_at <= $1) \
             ORDER BY env_id, activates_at"
        );
        let rows = self.query(&sql, (now,)).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(DueKey {
                    env_id: super::text(row, "env_id")?,
                    key: key_from_row(row)?,
                })
            })
            .collect()
    }
}
