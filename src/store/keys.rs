//! Signing keys of one environment. Private keys are stored sealed under the KEK.

use sqlx::{Any, Row, Transaction};

use super::{EnvStore, StoreError};

#[derive(Debug, Clone)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub state: String,
    pub public_jwk: String,
    pub private_key_sealed: String,
    pub created_at: i64,
}

pub(super) async fn insert_key(
    tx: &mut Transaction<'_, Any>,
    env_id: &str,
    key: &StoredKey,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, env_id, alg, state, public_jwk, private_key_sealed, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&key.kid)
    .bind(env_id)
    .bind(&key.alg)
    .bind(&key.state)
    .bind(&key.public_jwk)
    .bind(&key.private_key_sealed)
    .bind(key.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl EnvStore<'_> {
    pub async fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, alg, state, public_jwk, private_key_sealed, created_at FROM signing_keys \
             WHERE env_id = $1 ORDER BY created_at, kid",
        )
        .bind(self.env_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredKey {
                    kid: row.try_get("kid")?,
                    alg: row.try_get("alg")?,
                    state: row.try_get("state")?,
                    public_jwk: row.try_get("public_jwk")?,
                    private_key_sealed: row.try_get("private_key_sealed")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}
