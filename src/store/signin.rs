//! Failed sign-ins per account name, shared by every node so a lockout holds across the cluster.

use sqlx::Row;

use super::{EnvStore, StoreError};

/// What counting a sign-in attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigninAttempt {
    /// The account name is locked until then; the attempt was not counted.
    Locked { until: i64 },
    /// The attempt was counted in advance as a failure: this many in the series now.
    Counted { failures: i64 },
}

impl EnvStore<'_> {
    /// Counts an attempt as a failure before its password is checked, and sets the lock that count
    /// earns (`lock_after(failures)`), in one write transaction: parallel guesses queue on it, and
    /// each sees the locks the ones before it set. A success clears the count again. A locked
    /// account name is not counted. A series older than `stale_before` starts over.
    pub async fn begin_signin_attempt(
        &self,
        account_digest: &str,
        now: i64,
        stale_before: i64,
        lock_after: impl Fn(i64) -> Option<i64>,
    ) -> Result<SigninAttempt, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let counted = sqlx::query(
            "INSERT INTO signin_failures (env_id, account_digest, failures, last_failure_at, locked_until) \
             VALUES ($1, $2, 1, $3, 0) ON CONFLICT (env_id, account_digest) DO UPDATE SET \
             failures = CASE WHEN signin_failures.last_failure_at < $4 THEN 1 \
             ELSE signin_failures.failures + 1 END, last_failure_at = $3 \
             WHERE signin_failures.locked_until <= $3 RETURNING failures",
        )
        .bind(self.env_id)
        .bind(account_digest)
        .bind(now)
        .bind(stale_before)
        .fetch_optional(&mut *tx)
        .await?;
        let attempt = match counted {
            Some(row) => {
                let failures: i64 = row.try_get("failures")?;
                if let Some(until) = lock_after(failures) {
                    sqlx::query(
                        "UPDATE signin_failures SET locked_until = $3 \
                         WHERE env_id = $1 AND account_digest = $2",
                    )
                    .bind(self.env_id)
                    .bind(account_digest)
                    .bind(until)
                    .execute(&mut *tx)
                    .await?;
                }
                SigninAttempt::Counted { failures }
            }
            None => {
                let until: Option<i64> = sqlx::query_scalar(
                    "SELECT locked_until FROM signin_failures \
                     WHERE env_id = $1 AND account_digest = $2",
                )
                .bind(self.env_id)
                .bind(account_digest)
                .fetch_optional(&mut *tx)
                .await?;
                SigninAttempt::Locked {
                    until: until.unwrap_or(now),
                }
            }
        };
        tx.commit().await?;
        Ok(attempt)
    }

    pub async fn clear_signin_failures(&self, account_digest: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM signin_failures WHERE env_id = $1 AND account_digest = $2")
            .bind(self.env_id)
            .bind(account_digest)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}
