//! Authorization codes, grants and refresh-token families. Single use is enforced by conditional
//! updates (`… WHERE consumed_at IS NULL`), so two nodes can never both redeem the same code or rotate
//! the same refresh token.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{EnvStore, StoreError};
use crate::model::{AuthorizationCode, GrantId, RefreshToken};

/// SQL condition, the one statement of what keeps an access token alive: the token `$2` of
/// environment `$1` was not revoked, and its grant `$3` ('' for tokens of no grant) is in force.
pub(super) const ACCESS_TOKEN_LIVE: &str = "NOT EXISTS (SELECT 1 FROM revoked_access_tokens r \
     WHERE r.env_id = $1 AND r.jti = $2) AND ($3 = '' OR EXISTS (SELECT 1 FROM grants g \
     WHERE g.env_id = $1 AND g.grant_id = $3 AND g.revoked_at IS NULL))";

/// A code about to be stored: only its digest is kept.
#[derive(Debug, Clone)]
pub struct NewCode {
    pub digest: String,
    pub code: AuthorizationCode,
}

/// Whether a nullable timestamp column is set.
fn is_set(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<Option<i64>, _>(column)?.is_some())
}

fn code_from_row(row: &AnyRow) -> Result<AuthorizationCode, StoreError> {
    Ok(AuthorizationCode {
        grant_id: super::text(row, "grant_id")?,
        client_id: super::text(row, "client_id")?,
        user_id: super::text(row, "user_id")?,
        redirect_uri: row.try_get("redirect_uri")?,
        scope: row.try_get("scope")?,
        nonce: row.try_get("nonce")?,
        code_challenge: row.try_get("code_challenge")?,
        auth_time: row.try_get("auth_time")?,
        expires_at: row.try_get("expires_at")?,
        consumed: is_set(row, "consumed_at")?,
        issuer: row.try_get("issuer")?,
        resource: row.try_get("resource")?,
    })
}

fn refresh_from_row(row: &AnyRow) -> Result<RefreshToken, StoreError> {
    Ok(RefreshToken {
        grant_id: super::text(row, "grant_id")?,
        client_id: super::text(row, "client_id")?,
        user_id: super::text(row, "user_id")?,
        scope: row.try_get("scope")?,
        auth_time: row.try_get("auth_time")?,
        expires_at: row.try_get("expires_at")?,
        rotated: is_set(row, "rotated_at")?,
        grant_revoked: is_set(row, "revoked_at")?,
        issuer: row.try_get("issuer")?,
        family_expires_at: row.try_get("family_expires_at")?,
        resource: row.try_get("resource")?,
    })
}

impl EnvStore<'_> {
    pub async fn insert_code(&self, new: &NewCode) -> Result<(), StoreError> {
        let code = &new.code;
        let sql = "INSERT INTO authorization_codes (env_id, code_digest, grant_id, client_id, user_id, \
             redirect_uri, scope, nonce, code_challenge, auth_time, expires_at, issuer, resource) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
        let values = (
            &new.digest,
            code.grant_id.as_str(),
            code.client_id.as_str(),
            code.user_id.as_str(),
            &code.redirect_uri,
            &code.scope,
            &code.nonce,
            &code.code_challenge,
            code.auth_time,
            code.expires_at,
            &code.issuer,
            &code.resource,
        );
        self.execute(sql, values).await?;
        Ok(())
    }

    pub async fn find_code(&self, digest: &str) -> Result<Option<AuthorizationCode>, StoreError> {
        let sql = "SELECT grant_id, client_id, user_id, redirect_uri, scope, nonce, code_challenge, \
             auth_time, expires_at, consumed_at, issuer, resource FROM authorization_codes \
             WHERE env_id = $1 AND code_digest = $2";
        let row = self.fetch_optional(sql, (digest,)).await?;
        row.as_ref().map(code_from_row).transpose()
    }

    /// Consumes the code and opens its grant (under the code's issuer, its refresh family ending at
    /// `family_expires_at`, with the first refresh token if any) in one transaction. Returns false
    /// when the code was already consumed: the caller lost a race or replayed it.
    pub async fn redeem_code(
        &self,
        digest: &str,
        code: &AuthorizationCode,
        (refresh, family_expires_at): (Option<(&str, &RefreshToken)>, i64),
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let consume = "UPDATE authorization_codes SET consumed_at = $3 \
             WHERE env_id = $1 AND code_digest = $2 AND consumed_at IS NULL";
        let consumed = self.query(consume, (digest, now)).execute(&mut *tx).await?;
        if consumed.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let open = "INSERT INTO grants (env_id, grant_id, client_id, user_id, created_at, issuer, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let grant = (
            code.grant_id.as_str(),
            code.client_id.as_str(),
            code.user_id.as_str(),
            now,
            &code.issuer,
            family_expires_at,
        );
        self.query(open, grant).execute(&mut *tx).await?;
        if let Some((refresh_digest, token)) = refresh {
            self.insert_refresh(&mut tx, refresh_digest, token).await?;
        }
        self.commit(tx).await?;
        Ok(true)
    }

    /// Revokes a grant: its access tokens stop working at userinfo and its refresh family dies.
    pub async fn revoke_grant(&self, grant_id: &GrantId, now: i64) -> Result<(), StoreError> {
        let sql = "UPDATE grants SET revoked_at = $3 \
             WHERE env_id = $1 AND grant_id = $2 AND revoked_at IS NULL";
        self.execute(sql, (grant_id.as_str(), now)).await?;
        Ok(())
    }

    /// Revokes one JWT access token by its `jti` until it would have expired anyway.
    pub async fn revoke_access_token(
        &self,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO revoked_access_tokens (env_id, jti, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (env_id, jti) DO NOTHING";
        self.execute(sql, (jti, expires_at, now)).await?;
        Ok(())
    }

    /// Whether an access token is still in force: not revoked itself, and its grant (if any) alive.
    /// One round trip, as this runs on every introspection call.
    pub async fn access_token_is_live(
        &self,
        jti: &str,
        grant_id: Option<&GrantId>,
    ) -> Result<bool, StoreError> {
        let sql = format!("SELECT 1 AS live WHERE {ACCESS_TOKEN_LIVE}");
        let grant = grant_id.map_or("", GrantId::as_str);
        Ok(self.fetch_optional(&sql, (jti, grant)).await?.is_some())
    }

    pub async fn find_refresh(&self, digest: &str) -> Result<Option<RefreshToken>, StoreError> {
        let sql = "SELECT r.grant_id, r.client_id, r.user_id, r.scope, r.auth_time, r.expires_at, \
             r.rotated_at, g.revoked_at, g.issuer, g.expires_at AS family_expires_at, r.resource \
             FROM refresh_tokens r \
             JOIN grants g ON g.env_id = r.env_id AND g.grant_id = r.grant_id \
             WHERE r.env_id = $1 AND r.token_digest = $2";
        let row = self.fetch_optional(sql, (digest,)).await?;
        row.as_ref().map(refresh_from_row).transpose()
    }

    /// Marks `old_digest` rotated and stores its successor, atomically. False when another request
    /// rotated it first or the grant was revoked meanwhile.
    pub async fn rotate_refresh(
        &self,
        old_digest: &str,
        new_digest: &str,
        successor: &RefreshToken,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let rotate = "UPDATE refresh_tokens SET rotated_at = $3 \
             WHERE env_id = $1 AND token_digest = $2 AND rotated_at IS NULL \
             AND grant_id IN (SELECT grant_id FROM grants WHERE env_id = $1 AND revoked_at IS NULL)";
        let rotated = self
            .query(rotate, (old_digest, now))
            .execute(&mut *tx)
            .await?;
        if rotated.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        self.insert_refresh(&mut tx, new_digest, successor).await?;
        self.commit(tx).await?;
        Ok(true)
    }

    async fn insert_refresh(
        &self,
        tx: &mut Transaction<'_, Any>,
        digest: &str,
        token: &RefreshToken,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO refresh_tokens (env_id, token_digest, grant_id, client_id, user_id, \
             scope, auth_time, expires_at, resource) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        let values = (
            digest,
            token.grant_id.as_str(),
            token.client_id.as_str(),
            token.user_id.as_str(),
            &token.scope,
            token.auth_time,
            token.expires_at,
            &token.resource,
        );
        self.query(sql, values).execute(&mut **tx).await?;
        Ok(())
    }
}
