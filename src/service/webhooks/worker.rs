//! The delivery worker of one node. Every poll it takes the due deliveries, environments taking
//! turns, claims each by lease (a conditional update: of two nodes, one wins), sends it and
//! records the attempt only while its lease holds. It also wakes when its own node writes events
//! (so a delivery usually leaves within milliseconds of its commit; other nodes' events wait at
//! most one poll) and when a delivery ends (so a backlog drains without waiting for polls). A node
//! that dies mid-delivery leaves leases that run out, and the delivery is sent again (at least
//! once, with the same `webhook-id`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};

use super::sender::{SealedSecrets, Sender};
use crate::audit::AuditEvent;
use crate::crypto::secrets;
use crate::events::retry::{NextStep, RetrySchedule};
use crate::model::audit::Origin;
use crate::model::{AttemptOutcome, ClaimedDelivery, DeliveryState, EnvironmentId};
use crate::service::Error;
use crate::service::audit_log::AuditLog;
use crate::store::{Db, DeliveryLease};

/// Seconds a lease outlives the receiver's timeout.
const LEASE_MARGIN: i64 = 5;

/// What one node's worker needs.
#[derive(Debug, Clone)]
pub struct DeliveryWorker {
    pub(in crate::service) db: Db,
    pub(in crate::service) audit: AuditLog,
    pub(in crate::service) sender: Sender,
    pub(in crate::service) schedule: RetrySchedule,
    pub(in crate::service) timeout: i64,
    pub(in crate::service) concurrency: usize,
    pub(in crate::service) per_environment: usize,
    pub(in crate::service) poll: Duration,
    /// Notified when this node is about to write events.
    pub(in crate::service) written: Arc<Notify>,
    /// Counts successful deliveries for usage metering.
    pub(in crate::service) usage: Arc<crate::service::usage::UsageMeter>,
}

/// How long the worker waits, once woken by events being written on its node, for their
/// transaction to commit.
const COMMIT_WAIT: Duration = Duration::from_millis(5);

/// Deliveries this node is sending, per environment.
type InFlight = Arc<Mutex<HashMap<EnvironmentId, usize>>>;

fn counts(in_flight: &InFlight) -> std::sync::MutexGuard<'_, HashMap<EnvironmentId, usize>> {
    // The counts stay right whatever panicked while holding the lock: each change is one step.
    in_flight
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The environments of which this node sends as many deliveries as it may.
fn busy_environments(in_flight: &InFlight, per_environment: usize) -> Vec<EnvironmentId> {
    counts(in_flight)
        .iter()
        .filter(|(_, count)| **count >= per_environment)
        .map(|(env_id, _)| env_id.clone())
        .collect()
}

/// A place among an environment's deliveries in flight on this node, given back when dropped
/// (however the delivery ends).
struct Place {
    in_flight: InFlight,
    env_id: EnvironmentId,
}

impl Place {
    fn take(in_flight: &InFlight, env_id: &EnvironmentId, per_environment: usize) -> Option<Place> {
        let mut counts = counts(in_flight);
        let count = counts.entry(env_id.clone()).or_default();
        if *count >= per_environment {
            return None;
        }
        *count += 1;
        Some(Place {
            in_flight: in_flight.clone(),
            env_id: env_id.clone(),
        })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut counts = counts(&self.in_flight);
        if let Some(count) = counts.get_mut(&self.env_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.env_id);
            }
        }
    }
}

impl DeliveryWorker {
    /// Runs until `alive` is dropped (the service context goes away).
    pub fn spawn<T: Send + Sync + 'static>(self, alive: Weak<T>) {
        let owner = format!("node_{}", secrets::random_id());
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let in_flight: InFlight = Arc::default();
        let worker = Arc::new(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(worker.poll);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = worker.written.notified() => tokio::time::sleep(COMMIT_WAIT).await,
                }
                if alive.upgrade().is_none() {
                    break;
                }
                if let Err(error) = worker.round(&owner, &slots, &in_flight).await {
                    tracing::warn!(%error, "webhook delivery round failed");
                }
            }
        });
    }

    /// Claims what is due, as far as free slots allow, and starts sending it.
    async fn round(
        self: &Arc<Self>,
        owner: &str,
        slots: &Arc<Semaphore>,
        in_flight: &InFlight,
    ) -> Result<(), Error> {
        let free = slots.available_permits();
        if free == 0 {
            return Ok(());
        }
        let now = crate::clock::now();
        let share = self.per_environment as i64;
        let busy = busy_environments(in_flight, self.per_environment);
        let due = self
            .db
            .due_deliveries(now, (share, free as i64), &busy)
            .await?;
        // Within this node's share per environment and its free slots.
        let mut chosen = Vec::new();
        let mut held = Vec::new();
        for (env_id, delivery_id) in due {
            let Some(place) = Place::take(in_flight, &env_id, self.per_environment) else {
                continue;
            };
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                break;
            };
            chosen.push((env_id, delivery_id.clone()));
            held.push((delivery_id, place, permit));
        }
        if chosen.is_empty() {
            return Ok(());
        }
        let lease = DeliveryLease {
            owner,
            until: now + self.timeout + LEASE_MARGIN,
        };
        let claimed = self.db.claim_deliveries(&chosen, lease, now).await?;
        for claimed in claimed {
            // The place and slot taken for it (those of deliveries claimed elsewhere first are
            // given back as `held` drops).
            let Some(at) = held.iter().position(|(id, ..)| *id == claimed.delivery_id) else {
                continue;
            };
            let (_, place, permit) = held.swap_remove(at);
            let (worker, owner) = (self.clone(), owner.to_string());
            let until = lease.until;
            tokio::spawn(async move {
                let lease = DeliveryLease {
                    owner: &owner,
                    until,
                };
                if let Err(error) = worker.deliver(&claimed, lease).await {
                    tracing::warn!(%error, delivery = %claimed.delivery_id, "webhook attempt not recorded");
                }
                drop((place, permit));
                // A slot is free: more may be due.
                worker.written.notify_one();
            });
        }
        Ok(())
    }

    /// One attempt: send, decide what follows, record it if the lease still holds.
    async fn deliver(
        &self,
        claimed: &ClaimedDelivery,
        lease: DeliveryLease<'_>,
    ) -> Result<(), Error> {
        let at = crate::clock::now();
        let secrets = SealedSecrets {
            current: &claimed.secret_sealed,
            previous: claimed
                .previous_secret_sealed
                .as_deref()
                .zip(claimed.previous_secret_until),
        };
        let mut attempt = self
            .sender
            .send(
                (claimed.env_kind, &claimed.url),
                (&claimed.endpoint_id, secrets),
                (&claimed.event_id, &claimed.payload),
                at,
            )
            .await;
        let attempts_made = claimed.attempts + 1;
        attempt.attempt = attempts_made;
        let status = attempt
            .status_code
            .and_then(|code| u16::try_from(code).ok());
        let step = self
            .schedule
            .next_step(attempts_made, status, rand::random::<f64>());
        let (next, next_attempt_at) = match step {
            NextStep::Delivered => (DeliveryState::Succeeded, at),
            NextStep::Gone | NextStep::GiveUp => (DeliveryState::Failed, at),
            NextStep::RetryIn(delay) => (DeliveryState::Pending, at + delay as i64),
        };
        let outcome = AttemptOutcome {
            attempt,
            next,
            next_attempt_at,
            endpoint_gone: step == NextStep::Gone,
        };
        if !self.db.record_attempt(claimed, lease, &outcome).await? {
            tracing::info!(delivery = %claimed.delivery_id, "lease lost; the attempt is another worker's now");
            return Ok(());
        }
        if step == NextStep::Delivered {
            self.usage.count(&claimed.env_id, at, "webhook_deliveries");
        }
        Self::count_attempt(claimed, step);
        if outcome.endpoint_gone {
            self.audit_gone(claimed, at).await?;
        }
        Ok(())
    }

    /// Counts a recorded attempt in the metrics.
    fn count_attempt(claimed: &ClaimedDelivery, step: NextStep) {
        let result = match step {
            NextStep::Delivered => "succeeded",
            NextStep::Gone => "gone",
            NextStep::RetryIn(_) => "retry",
            NextStep::GiveUp => "failed",
        };
        let zone = (
            claimed.project.as_str(),
            claimed.environment.as_str(),
            claimed.env_kind.as_str(),
        );
        crate::telemetry::count_in(
            "airlock_webhook_attempts_total",
            zone,
            &[("outcome", result)],
        );
    }

    async fn audit_gone(&self, claimed: &ClaimedDelivery, now: i64) -> Result<(), Error> {
        let Some(environment) = self.db.find_environment_by_id(&claimed.env_id).await? else {
            return Ok(());
        };
        let event = AuditEvent::WebhookDisabled {
            endpoint_id: claimed.endpoint_id.clone(),
            reason: "the receiver answered 410 Gone".into(),
        };
        self.audit
            .record(
                &environment,
                &Origin::default(),
                event.actor("airlock"),
                now,
            )
            .await
    }
}
