//! Rows no request can use any more, deleted in bounded batches: expired codes, sessions, refresh
//! tokens and revoked-token records, finished grants, stale sign-in failure series, lapsed domain
//! claims. Each statement deletes at most `limit` rows of one environment, so a purge never holds a
//! long transaction.

use super::{Db, EnvStore, StoreError};

/// `(table, key column, condition on $2 = now)`.
const EXPIRED: [(&str, &str, &str); 8] = [
    ("authorization_codes", "code_digest", "expires_at < $2"),
    ("sessions", "session_digest", "expires_at < $2"),
    ("refresh_tokens", "token_digest", "expires_at < $2"),
    ("revoked_access_tokens", "jti", "expires_at < $2"),
    // A grant goes once revoked, or a day (the longest access token lifetime) after its refresh
    // family ended, and only after its last refresh token: its access tokens die with it.
    (
        "grants",
        "grant_id",
        "(revoked_at IS NOT NULL OR expires_at < $2 - 86400) AND NOT EXISTS \
         (SELECT 1 FROM refresh_tokens r WHERE r.env_id = grants.env_id AND r.grant_id = grants.grant_id)",
    ),
    ("account_links", "link_digest", "expires_at < $2"),
    // Keyed by client and jti together (client ids hold no space): another client's jti of the
    // same value is another row.
    (
        "client_assertions",
        "client_id || ' ' || jti",
        "expires_at < $2",
    ),
    (
        "signin_failures",
        "account_digest",
        "last_failure_at < $2 - 86400 AND locked_until < $2",
    ),
];

impl EnvStore<'_> {
    /// Deletes up to `limit` expired rows per table; how many went, and whether some table gave
    /// a full batch (so more may be left).
    pub async fn purge_expired(&self, now: i64, limit: i64) -> Result<(u64, bool), StoreError> {
        let (mut purged, mut full) = (0, false);
        for (table, key, condition) in EXPIRED {
            let sql = format!(
                "DELETE FROM {table} WHERE env_id = $1 AND {key} IN \
                 (SELECT {key} FROM {table} WHERE env_id = $1 AND {condition} LIMIT $3)"
            );
            let deleted = self.execute(&sql, (now, limit)).await?;
            full |= deleted >= u64::try_from(limit).unwrap_or(0);
            purged += deleted;
        }
        Ok((purged, full))
    }
}

impl EnvStore<'_> {
    /// Forgets which subjects were active on days before `before_day` (the counts stay); how many
    /// rows went.
    pub async fn prune_active_subjects(&self, before_day: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM usage_subjects WHERE env_id = $1 AND day < $2";
        self.execute(sql, (before_day,)).await
    }

    /// Deletes up to `limit` messages created before `before` that are no longer queued; how many
    /// went.
    pub async fn prune_mail(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM mail_messages WHERE env_id = $1 AND message_id IN \
             (SELECT message_id FROM mail_messages WHERE env_id = $1 AND created_at < $2 \
             AND state <> 'pending' LIMIT $3)";
        self.execute(sql, (before, limit)).await
    }
}

impl Db {
    /// Deletes up to `limit` pending domain claims made before `oldest_pending`.
    pub async fn purge_lapsed_domains(
        &self,
        oldest_pending: i64,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let sql = "DELETE FROM domains WHERE (host, env_id) IN (SELECT host, env_id FROM domains \
             WHERE state = 'pending' AND created_at < $1 LIMIT $2)";
        let done = self
            .query(sql, (oldest_pending, limit))
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
