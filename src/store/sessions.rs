//! Browser sessions and remembered consents.

use sqlx::Row;

use super::{EnvStore, StoreError};
use crate::model::{ClientId, Session, UserId};

impl EnvStore<'_> {
    pub async fn insert_session(&self, digest: &str, session: &Session) -> Result<(), StoreError> {
        let sql = "INSERT INTO sessions (env_id, session_digest, user_id, auth_time, expires_at) \
             VALUES ($1, $2, $3, $4, $5)";
        let values = (
            digest,
            session.user_id.as_str(),
            session.auth_time,
            session.expires_at,
        );
        self.execute(sql, values).await?;
        Ok(())
    }

    /// The unexpired session with this digest.
    pub async fn find_session(
        &self,
        digest: &str,
        now: i64,
    ) -> Result<Option<Session>, StoreError> {
        let sql = "SELECT user_id, auth_time, expires_at FROM sessions \
             WHERE env_id = $1 AND session_digest = $2 AND expires_at > $3";
        let Some(row) = self.fetch_optional(sql, (digest, now)).await? else {
            return Ok(None);
        };
        Ok(Some(Session {
            user_id: super::text(&row, "user_id")?,
            auth_time: row.try_get("auth_time")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    /// Ends a session; false if there was none.
    pub async fn delete_session(&self, digest: &str) -> Result<bool, StoreError> {
        let sql = "DELETE FROM sessions WHERE env_id = $1 AND session_digest = $2";
        Ok(self.execute(sql, (digest,)).await? == 1)
    }

    /// Ends every session of `user_id`.
    pub async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError> {
        let sql = "DELETE FROM sessions WHERE env_id = $1 AND user_id = $2";
        self.execute(sql, (user_id,)).await
    }

    /// The scope `user_id` granted `client_id`, if any.
    pub async fn find_consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
    ) -> Result<Option<String>, StoreError> {
        let sql =
            "SELECT scope FROM consents WHERE env_id = $1 AND user_id = $2 AND client_id = $3";
        let row = self
            .fetch_optional(sql, (user_id.as_str(), client_id.as_str()))
            .await?;
        Ok(row.map(|row| row.try_get("scope")).transpose()?)
    }

    pub async fn upsert_consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
        scope: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO consents (env_id, user_id, client_id, scope, granted_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (env_id, user_id, client_id) \
             DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at";
        let values = (user_id.as_str(), client_id.as_str(), scope, now);
        self.execute(sql, values).await?;
        Ok(())
    }
}
