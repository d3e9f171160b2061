//! Operator authorities: admin-token records held by a user of the operators zone instead of by a
//! bearer token. The record carries what the operator may reach and do, and revoking it ends their
//! console sessions at once, as revoking a token does.

use sqlx::Row;

use super::installation::{ADMIN_TOKEN_COLUMNS, AdminTokenRecord, admin_token_from_row};
use super::{Db, StoreError};

impl Db {
    /// Stores `record` as the authority of the operator `sub`; `Conflict` when they already hold
    /// one in force. `digest` opens nothing: it is the digest of a token nobody was given.
    pub async fn insert_operator(
        &self,
        record: &AdminTokenRecord,
        digest: &str,
        sub: &str,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO admin_tokens (token_id, token_digest, env_id, name, created_at, \
             access, expires_at, operator_sub) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let access = if record.read_only { "read" } else { "write" };
        let values = (
            &record.token_id,
            digest,
            record.env_id.as_ref().map(|id| id.as_str()),
            &record.name,
            record.created_at,
            access,
            record.expires_at,
            sub,
        );
        self.query(sql, values).execute(self.pool()).await?;
        Ok(())
    }

    /// The authority in force of the operator `sub`, if they hold one at `now`.
    pub async fn find_operator(
        &self,
        sub: &str,
        now: i64,
    ) -> Result<Option<AdminTokenRecord>, StoreError> {
        let sql = format!(
            "SELECT {ADMIN_TOKEN_COLUMNS} FROM admin_tokens WHERE operator_sub = $1 \
             AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"
        );
        let row = self
            .query(&sql, (sub, now))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(admin_token_from_row).transpose()
    }

    /// Every operator authority, revoked ones included, with the operator's subject.
    pub async fn list_operators(&self) -> Result<Vec<(AdminTokenRecord, String)>, StoreError> {
        let sql = format!(
            "SELECT {ADMIN_TOKEN_COLUMNS}, operator_sub FROM admin_tokens \
             WHERE operator_sub IS NOT NULL ORDER BY created_at, token_id"
        );
        let rows = self.query(&sql, ()).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| Ok((admin_token_from_row(row)?, row.try_get("operator_sub")?)))
            .collect()
    }
}
