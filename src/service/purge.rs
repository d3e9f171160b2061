//! The periodic purge, on every node: what no request can use any more (expired codes, sessions,
//! refresh tokens and revoked-token records, finished grants, stale sign-in failure series, lapsed
//! domain claims), events past their retention (each pruning audited), and audit entries past the
//! retention period, each pruning recorded in the chain it shortens. Batches are bounded, so a purge never holds a long transaction; a round repeats
//! them while they come back full, for up to `ROUND_SECONDS`, and what is left waits for the next.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Airlock, Error};
use crate::audit::AuditEvent;
use crate::model::Environment;
use crate::model::audit::Origin;
use crate::store::EnvStore;

/// Rows per table and environment in one round.
const ROWS_PER_ROUND: i64 = 1_000;
/// Audit entries per environment in one round.
const AUDIT_ENTRIES_PER_ROUND: i64 = 10_000;
const DAY: i64 = 24 * 3600;
/// Days the active subjects of a day are kept.
const ACTIVE_SUBJECT_DAYS: i64 = 400;
/// How long one round may go on.
const ROUND_SECONDS: u64 = 30;

/// What one round deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub rows: u64,
    pub audit_entries: i64,
    /// Events past their retention, with their delivery log.
    pub events: i64,
}

impl Airlock {
    /// One purge round at `now`. An environment that fails is logged and passed over; the others
    /// are purged all the same.
    pub async fn purge(&self, now: i64) -> Result<Purged, Error> {
        let deadline = Instant::now() + Duration::from_secs(ROUND_SECONDS);
        let mut purged = Purged::default();
        for environment in self.db.list_environments().await? {
            match self.purge_environment(&environment, now, deadline).await {
                Ok(done) => {
                    purged.rows += done.rows;
                    purged.audit_entries += done.audit_entries;
                    purged.events += done.events;
                }
                Err(error) => {
                    tracing::warn!(%error, environment = %environment.slug(), "purge failed");
                }
            }
        }
        let oldest_pending = now - self.config.pending_domain_ttl;
        loop {
            let rows = self
                .db
                .purge_lapsed_domains(oldest_pending, ROWS_PER_ROUND)
                .await?;
            purged.rows += rows;
            if rows < ROWS_PER_ROUND as u64 || Instant::now() >= deadline {
                break;
            }
        }
        Ok(purged)
    }

    async fn purge_environment(
        &self,
        environment: &Environment,
        now: i64,
        deadline: Instant,
    ) -> Result<Purged, Error> {
        let mut purged = Purged::default();
        let store = EnvStore::new(&self.db, &environment.id);
        loop {
            let (rows, full) = store.purge_expired(now, ROWS_PER_ROUND).await?;
            purged.rows += rows;
            if !full || Instant::now() >= deadline {
                break;
            }
        }
        // Who was active is kept for thirteen months (a year's monthly figures); the counts stay.
        purged.rows += store
            .prune_active_subjects(now.div_euclid(DAY) - ACTIVE_SUBJECT_DAYS)
            .await?;
        let mail_retention = self.config.mail_retention_days;
        if mail_retention > 0 {
            let before = now - mail_retention * DAY;
            loop {
                let rows = store.prune_mail(before, ROWS_PER_ROUND).await?;
                purged.rows += rows;
                if rows < ROWS_PER_ROUND as u64 || Instant::now() >= deadline {
                    break;
                }
            }
        }
        let event_retention = self.config.event_retention_days;
        if event_retention > 0 {
            let before = now - event_retention * DAY;
            loop {
                let pruned = store.prune_events(before, ROWS_PER_ROUND).await?;
                purged.events += pruned;
                if pruned < ROWS_PER_ROUND || Instant::now() >= deadline {
                    break;
                }
            }
            if purged.events > 0 {
                let event = AuditEvent::EventsPruned {
                    events: purged.events,
                    before,
                };
                let origin = Origin::default();
                let recorded = event.actor("airlock");
                self.audit
                    .record(environment, &origin, recorded, now)
                    .await?;
            }
        }
        let retention = self.config.audit_retention_days;
        if retention > 0 {
            let before = now - retention * DAY;
            let batch = (before, AUDIT_ENTRIES_PER_ROUND);
            loop {
                let pruned = self.audit.prune(&self.db, environment, batch, now).await?;
                purged.audit_entries += pruned;
                if pruned < AUDIT_ENTRIES_PER_ROUND || Instant::now() >= deadline {
                    break;
                }
            }
        }
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
                            events = purged.events,
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
