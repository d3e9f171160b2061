//! Failed sign-ins per account name, shared by every node so a lockout holds across the cluster.

use sqlx::Row;

use super::{EnvStore, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigninFailures {
    pub failures: i64,
    pub last_failure_at: i64,
    pub locked_until: i64,
}

impl EnvStore<'_> {
    pub async fn signin_failures(
        &self,
        account_digest: &str,
    ) -> Result<Option<SigninFailures>, StoreError> {
        let sql = "SELECT failures, last_failure_at, locked_until FROM signin_failures \
             WHERE env_id = $1 AND account_digest = $2";
        let Some(row) = self.fetch_optional(sql, (account_digest,)).await? else {
            return Ok(None);
        };
        Ok(Some(SigninFailures {
            failures: row.try_get("failures")?,
            last_failure_at: row.try_get("last_failure_at")?,
            locked_until: row.try_get("locked_until")?,
        }))
    }

    /// Counts one more failure atomically (across nodes) and returns the new count; a series older
    /// than `stale_before` starts over.
    pub async fn count_signin_failure(
        &self,
        account_digest: &str,
        now: i64,
        stale_before: i64,
    ) -> Result<i64, StoreError> {
        let sql = "INSERT INTO signin_failures (env_id, account_digest, failures, last_failure_at, \
             locked_until) VALUES ($1, $2, 1, $3, 0) ON CONFLICT (env_id, account_digest) DO UPDATE \
             SET failures = CASE WHEN signin_failures.last_failure_at < $4 THEN 1 \
             ELSE signin_failures.failures + 1 END, last_failure_at = $3 RETURNING failures";
        let row = self
            .query(sql, (account_digest, now, stale_before))
            .fetch_one(self.db.pool())
            .await?;
        Ok(row.try_get("failures")?)
    }

    /// Locks the account name until `until`, never shortening a lock a parallel attempt set.
    pub async fn lock_account(&self, account_digest: &str, until: i64) -> Result<(), StoreError> {
        let sql = "UPDATE signin_failures SET locked_until = CASE WHEN locked_until < $3 THEN $3 \
             ELSE locked_until END WHERE env_id = $1 AND account_digest = $2";
        self.execute(sql, (account_digest, until)).await?;
        Ok(())
    }

    pub async fn clear_signin_failures(&self, account_digest: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM signin_failures WHERE env_id = $1 AND account_digest = $2";
        self.execute(sql, (account_digest,)).await?;
        Ok(())
    }
}
