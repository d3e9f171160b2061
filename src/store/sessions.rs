//! Browser sessions and remembered consents.

use sqlx::Row;

use super::{EnvStore, StoreError};
use crate::model::{ClientId, Session, UserId};

impl EnvStore<'_> {
    pub async fn insert_session(&self, digest: &str, session: &Session) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (env_id, session_digest, user_id, auth_time, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(self.env_id)
        .bind(digest)
        .bind(session.user_id.as_str())
        .bind(session.auth_time)
        .bind(session.expires_at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// The unexpired session with this digest.
    pub async fn find_session(
        &self,
        digest: &str,
        now: i64,
    ) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, auth_time, expires_at FROM sessions \
             WHERE env_id = $1 AND session_digest = $2 AND expires_at > $3",
        )
        .bind(self.env_id)
        .bind(digest)
        .bind(now)
        .fetch_optional(&mut *self.db.read_connection().await?)
        .await?;
        row.map(|row| {
            Ok(Session {
                user_id: super::text(&row, "user_id")?,
                auth_time: row.try_get("auth_time")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    pub async fn delete_session(&self, digest: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE env_id = $1 AND session_digest = $2")
            .bind(self.env_id)
            .bind(digest)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    pub async fn find_consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT scope FROM consents WHERE env_id = $1 AND user_id = $2 AND client_id = $3",
        )
        .bind(self.env_id)
        .bind(user_id.as_str())
        .bind(client_id.as_str())
        .fetch_optional(&mut *self.db.read_connection().await?)
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
        sqlx::query(
            "INSERT INTO consents (env_id, user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (env_id, user_id, client_id) DO UPDATE SET scope = excluded.scope, \
             granted_at = excluded.granted_at",
        )
        .bind(self.env_id)
        .bind(user_id.as_str())
        .bind(client_id.as_str())
        .bind(scope)
        .bind(now)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}
