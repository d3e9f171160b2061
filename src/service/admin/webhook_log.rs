//! The delivery log of one environment's webhooks, replays, test events, and the event inspector.
//! Another environment's deliveries and events are the same 404 as missing ones.

use serde::Serialize;
use serde_json::Value;

use super::webhooks::WebhookAdmin;
use crate::audit::{AuditEvent, Recorded};
use crate::crypto::secrets;
use crate::model::{Delivery, DeliveryAttempt, DeliveryQuery, Environment, Event};
use crate::service::events;
use crate::service::{Caller, Error};
use crate::store::EventQuery;

/// The longest listing.
const MAX_LIMIT: i64 = 1000;

/// A delivery with its attempts.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryLog {
    #[serde(flatten)]
    pub delivery: Delivery,
    pub attempts: Vec<DeliveryAttempt>,
}

/// An event as the inspector shows it: the exact body sent (or to be sent), parsed for reading.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: i64,
    pub payload: Value,
    /// The body byte for byte, as receivers get it (and as its signatures cover it).
    #[serde(skip)]
    pub body: String,
}

impl From<Event> for EventView {
    fn from(event: Event) -> Self {
        EventView {
            payload: serde_json::from_str(&event.payload).unwrap_or(Value::Null),
            event_id: event.event_id,
            event_type: event.event_type,
            created_at: event.created_at,
            body: event.payload,
        }
    }
}

impl WebhookAdmin<'_> {
    /// The delivery log, newest first.
    pub async fn deliveries(
        &self,
        environment: &Environment,
        mut query: DeliveryQuery,
    ) -> Result<Vec<Delivery>, Error> {
        query.limit = checked_limit(query.limit);
        Ok(self.store(environment).list_deliveries(&query).await?)
    }

    pub async fn delivery(
        &self,
        environment: &Environment,
        delivery_id: &str,
    ) -> Result<DeliveryLog, Error> {
        let store = self.store(environment);
        let delivery = store
            .find_delivery(delivery_id)
            .await?
            .ok_or(Error::NotFound)?;
        let attempts = store.delivery_attempts(delivery_id).await?;
        Ok(DeliveryLog { delivery, attempts })
    }

    /// Sends a delivery's event again to its endpoint, with the same `webhook-id`, as a new
    /// delivery marked as a replay of the first.
    pub async fn replay(
        &self,
        environment: &Environment,
        delivery_id: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<Delivery, Error> {
        let store = self.store(environment);
        let original = store
            .find_delivery(delivery_id)
            .await?
            .ok_or(Error::NotFound)?;
        self.require_enabled(environment, &original.endpoint_id)
            .await?;
        let replay_id = format!("dlv_{}", secrets::random_id());
        store.insert_replay(&original, &replay_id, now).await?;
        let event = AuditEvent::WebhookReplayed {
            delivery_id: delivery_id.to_string(),
            replayed_as: replay_id.clone(),
            event_id: original.event_id.clone(),
        };
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        store
            .find_delivery(&replay_id)
            .await?
            .ok_or_else(|| Error::Internal("the replay was not stored".into()))
    }

    /// Sends a `webhook.test` event to one endpoint, whatever it subscribes to.
    pub async fn test(
        &self,
        environment: &Environment,
        endpoint_id: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<Delivery, Error> {
        self.require_enabled(environment, endpoint_id).await?;
        let mut recorded: Recorded = AuditEvent::WebhookTest {
            endpoint_id: endpoint_id.to_string(),
        }
        .into();
        recorded.actor = recorded.actor.or_else(|| caller.actor.clone());
        let event = events::event(environment, &caller.origin, &recorded, now);
        let store = self.store(environment);
        let delivery_id = store
            .write_addressed_event(&event, endpoint_id)
            .await?
            .ok_or(Error::NotFound)?;
        self.audit
            .record_by(environment, caller, recorded, now)
            .await?;
        store
            .find_delivery(&delivery_id)
            .await?
            .ok_or_else(|| Error::Internal("the test delivery was not stored".into()))
    }

    /// Events, newest first, optionally of one type.
    pub async fn events(
        &self,
        environment: &Environment,
        event_type: Option<String>,
        limit: i64,
    ) -> Result<Vec<EventView>, Error> {
        let query = EventQuery {
            event_type,
            limit: checked_limit(limit),
        };
        let events = self.store(environment).list_events(&query).await?;
        Ok(events.into_iter().map(EventView::from).collect())
    }

    pub async fn event(
        &self,
        environment: &Environment,
        event_id: &str,
    ) -> Result<EventView, Error> {
        let event = self
            .store(environment)
            .find_event(event_id)
            .await?
            .ok_or(Error::NotFound)?;
        Ok(event.into())
    }
}

fn checked_limit(limit: i64) -> i64 {
    if limit <= 0 {
        100
    } else {
        limit.min(MAX_LIMIT)
    }
}
