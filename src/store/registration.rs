//! Initial access tokens of dynamic client registration (RFC 7591 §3), per environment.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{EnvStore, StoreError};
use crate::model::RegistrationToken;

fn token_from_row(row: &AnyRow) -> Result<RegistrationToken, StoreError> {
    Ok(RegistrationToken {
        token_id: row.try_get("token_id")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        max_uses: row.try_get("max_uses")?,
        uses: row.try_get("uses")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl EnvStore<'_> {
    pub async fn insert_registration_token(
        &self,
        token: &RegistrationToken,
        digest: &str,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO registration_tokens (env_id, token_id, token_digest, created_at, \
             expires_at, max_uses) VALUES ($1, $2, $3, $4, $5, $6)";
        let values = (
            &token.token_id,
            digest,
            token.created_at,
            token.expires_at,
            token.max_uses,
        );
        self.execute(sql, values).await?;
        Ok(())
    }

    pub async fn list_registration_tokens(&self) -> Result<Vec<RegistrationToken>, StoreError> {
        let sql = "SELECT token_id, created_at, expires_at, max_uses, uses, revoked_at \
             FROM registration_tokens WHERE env_id = $1 ORDER BY created_at, token_id";
        let rows = self.fetch_all(sql, ()).await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token; false if there is no such token in force.
    pub async fn revoke_registration_token(
        &self,
        token_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE registration_tokens SET revoked_at = $3 \
             WHERE env_id = $1 AND token_id = $2 AND revoked_at IS NULL";
        Ok(self.execute(sql, (token_id, now)).await? == 1)
    }

    /// Spends one use of the token with this digest, if it is in force (not revoked, not
    /// expired, uses left): one conditional update, so two registrations can never both spend
    /// its last use. Its id, or `None`.
    pub async fn spend_registration_token(
        &self,
        digest: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let sql = "UPDATE registration_tokens SET uses = uses + 1 \
             WHERE env_id = $1 AND token_digest = $2 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $3) AND (max_uses IS NULL OR uses < max_uses) \
             RETURNING token_id";
        let row = self
            .query(sql, (digest, now))
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.map(|row| row.try_get("token_id")).transpose()?)
    }
}
