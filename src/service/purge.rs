//! The periodic purge, on every node: what no request can use any more (expired codes, sessions,
//! refresh tokens and revoked-token records, finished grants, stale sign-in failure series, lapsed
//! domain claims) and audit entries past the retention period, each pruning recorded in the chain
//! it shortens. Batches are bounded, so a purge never holds a long transaction; what is left waits
//! for the next round.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::{Airlock, Error};
use crate::store::EnvStore;

/// Rows per table and environment in one round.
const ROWS_PER_ROUND: i64 = 1_000;
/// Audit entries per environment in one round.
const AUDIT_ENTRIES_PER_ROUND: i64 = 10_000;
const DAY: i64 = 24 * 3600;

/// What one round deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub rows: u64,
    pub audit_entries: i64,
}

impl Airlock {
    /// One purge round at `now`.
    pub async fn purge(&self, now: i64) -> Result<Purged, Error> {
        let mut purged = Purged::default();
        let retention = self.config.audit_retention_days;
        for environment in self.db.list_environments().await? {
            let store = EnvStore::new(&self.db, &environment.id);
            purged.rows += store.purge_expired(now, ROWS_PER_ROUND).await?;
            if retention > 0 {
                let before = now - retention * DAY;
                purged.audit_entries += self
                    .audit
                    .prune(
                        &self.db,
                        &environment,
                        (before, AUDIT_ENTRIES_PER_ROUND),
                        now,
                    )
                    .await?;
            }
        }
        let oldest_pending = now - self.config.pending_domain_ttl;
        purged.rows += self
            .db
            .purge_lapsed_domains(oldest_pending, ROWS_PER_ROUND)
            .await?;
        Ok(purged)
    }

    /// Purges every `AIRLOCK_PURGE_INTERVAL` seconds while the context lives.
    pub fn spawn_purger(self: &Arc<Self>) {
        let airlock = Arc::downgrade(self);
        let period = Duration::from_secs(self.config.purge_interval);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            loop {
                ticks.tick().await;
                let Some(airlock) = airlock.upgrade() else {
                    break;
                };
                match airlock.purge(crate::clock::now()).await {
                    Ok(purged) if purged != Purged::default() => {
                        tracing::info!(
                            rows = purged.rows,
                            audit_entries = purged.audit_entries,
                            "purged"
                        );
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "purge failed"),
                }
            }
        });
    }
}
