//! Publishing events: the outbox rows a change writes beside itself, built from the same typed
//! event its audit entry records.

use std::sync::Arc;

use moka::sync::Cache;
use tokio::sync::Notify;

use super::changes::{self, Change};
use super::{Error, cache};
use crate::audit::{EventType, Recorded};
use crate::crypto::secrets;
use crate::events::catalog::{self, Publication};
use crate::events::filter::EventFilter;
use crate::events::payload::{self, EventContext};
use crate::model::audit::Origin;
use crate::model::{Environment, EnvironmentId, Event};
use crate::store::{Db, EnvStore};

#[derive(Debug)]
pub struct EventPublisher {
    db: Db,
    /// Per environment, the filters of its enabled endpoints: whether anyone subscribes to a type
    /// that is written only on demand, without a query on the token path.
    subscriptions: Cache<EnvironmentId, Arc<Vec<EventFilter>>>,
    /// Wakes this node's delivery worker when events are about to be written here.
    written: Arc<Notify>,
}

impl EventPublisher {
    pub(super) fn new(db: Db, cache_seconds: i64) -> Self {
        EventPublisher {
            db,
            subscriptions: cache::expiring(cache_seconds),
            written: Arc::default(),
        }
    }

    /// Notified when this node builds events to write: its delivery worker looks for them a
    /// moment later, rather than at its next poll.
    pub(super) fn written(&self) -> Arc<Notify> {
        self.written.clone()
    }

    /// The events `recorded` publishes, to be written with the change it reports: none for
    /// internal bookkeeping, nor for an on-demand type no enabled endpoint subscribes to.
    pub async fn outbox(
        &self,
        environment: &Environment,
        origin: &Origin,
        recorded: &Recorded,
        now: i64,
    ) -> Result<Vec<Event>, Error> {
        let kind = recorded.event.event_type();
        match catalog::publication(kind) {
            Publication::Always => {}
            Publication::WhenSubscribed if self.subscribed(environment, kind).await? => {}
            _ => return Ok(Vec::new()),
        }
        self.written.notify_one();
        Ok(vec![event(environment, origin, recorded, now)])
    }

    async fn subscribed(&self, environment: &Environment, kind: EventType) -> Result<bool, Error> {
        let filters = match self.subscriptions.get(&environment.id) {
            Some(filters) => filters,
            None => {
                let endpoints = EnvStore::new(&self.db, &environment.id)
                    .list_endpoints()
                    .await?;
                let filters: Vec<EventFilter> = endpoints
                    .into_iter()
                    .filter(|endpoint| endpoint.enabled)
                    .map(|endpoint| EventFilter::from_stored(endpoint.events))
                    .collect();
                let filters = Arc::new(filters);
                self.subscriptions
                    .insert(environment.id.clone(), filters.clone());
                filters
            }
        };
        Ok(filters.iter().any(|filter| filter.matches(kind.as_str())))
    }

    /// Forgets what this node knew of `env_id`'s subscriptions (its endpoints changed), and
    /// tells the other nodes.
    pub(super) async fn forget(&self, env_id: &EnvironmentId) {
        self.forget_here(env_id);
        changes::announce(&self.db, Change::Subscriptions(env_id.clone())).await;
    }

    pub(super) fn forget_here(&self, env_id: &EnvironmentId) {
        self.subscriptions.invalidate(env_id);
    }

    pub(super) fn forget_all_here(&self) {
        self.subscriptions.invalidate_all();
    }
}

/// A new event reporting `recorded`, with its id and payload.
pub(super) fn event(
    environment: &Environment,
    origin: &Origin,
    recorded: &Recorded,
    now: i64,
) -> Event {
    let event_id = format!("evt_{}", secrets::random_id());
    let context = EventContext {
        environment,
        request_id: origin.request_id.as_deref(),
        now,
    };
    Event {
        payload: payload::render(&event_id, context, recorded),
        event_type: recorded.event.event_type().as_str().to_string(),
        created_at: now,
        event_id,
    }
}
