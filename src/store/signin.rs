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

    /// Reserves one sign-in attempt for an account name before its password is checked, counting
    /// it as a failure until it proves otherwise; atomic across nodes. While the name is locked
    /// nothing is counted; a series older than `stale_before` starts over. Returns the count with
    /// this attempt and the lock as it stands.
    pub async fn reserve_signin_attempt(
        &self,
        account_digest: &str,
        now: i64,
        stale_before: i64,
    ) -> Result<SigninFailures, StoreError> {
        let sql = "INSERT INTO signin_failures (env_id, account_digest, failures, last_failure_at, \
             locked_until) VALUES ($1, $2, 1, $3, 0) ON CONFLICT (env_id, account_digest) DO UPDATE \
             SET failures = CASE WHEN signin_failures.locked_until > $3 THEN signin_failures.failures \
             WHEN signin_failures.last_failure_at < $4 THEN 1 \
             ELSE signin_failures.failures + 1 END, \
             last_failure_at = CASE WHEN signin_failures.locked_until > $3 \
             THEN signin_failures.last_failure_at ELSE $3 END \
             RETURNING failures, last_failure_at, locked_until";
        let row = self
            .query(sql, (account_digest, now, stale_before))
            .fetch_one(self.db.pool())
            .await?;
        Ok(SigninFailures {
            failures: row.try_get("failures")?,
            last_failure_at: row.try_get("last_failure_at")?,
            locked_until: row.try_get("locked_until")?,
        })
    }

    /// Gives back a reservation that was not used (its attempt was not checked).
    pub async fn release_signin_attempt(&self, account_digest: &str) -> Result<(), StoreError> {
        let sql = "UPDATE signin_failures SET failures = failures - 1 \
             WHERE env_id = $1 AND account_digest = $2 AND failures > 0";
        self.execute(sql, (account_digest,)).await?;
        Ok(())
    }

    /// Locks the account name until `until` unless a lock is already in force at `now`. True for
    /// the one attempt (on whichever node) that set it: that attempt alone is checked.
    pub async fn claim_lock(
        &self,
        account_digest: &str,
        until: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE signin_failures SET locked_until = $3 \
             WHERE env_id = $1 AND account_digest = $2 AND locked_until <= $4";
        Ok(self.execute(sql, (account_digest, until, now)).await? == 1)
    }

    /// Locks the account name until `until` after `failures` failures (a fixture's state).
    pub async fn lock_account_name(
        &self,
        account_digest: &str,
        (failures, until): (i64, i64),
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO signin_failures (env_id, account_digest, failures, last_failure_at, \
             locked_until) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (env_id, account_digest) \
             DO UPDATE SET failures = $3, last_failure_at = $4, locked_until = $5";
        self.execute(sql, (account_digest, failures, now, until))
            .await?;
        Ok(())
    }

    pub async fn clear_signin_failures(&self, account_digest: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM signin_failures WHERE env_id = $1 AND account_digest = $2";
        self.execute(sql, (account_digest,)).await?;
        Ok(())
    }
}
