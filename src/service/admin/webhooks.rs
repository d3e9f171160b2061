//! Webhook endpoints of one environment, their delivery log, replays and test events, and the
//! event inspector. Endpoints, deliveries and events of another environment are the same 404 as
//! missing ones.

use serde::Serialize;
use serde_json::Value;

use crate::audit::{AuditEvent, Recorded};
use crate::crypto::secrets;
use crate::events::filter::EventFilter;
use crate::model::{
    Delivery, DeliveryAttempt, DeliveryQuery, EndpointHealth, Environment, Event, Secret,
    WebhookEndpoint, is_clean_text,
};
use crate::service::audit_log::AuditLog;
use crate::service::events;
use crate::service::webhooks::Sender;
use crate::service::{Caller, Error};
use crate::store::{Db, EnvStore, EventQuery};

/// Endpoints per environment.
const MAX_ENDPOINTS: usize = 50;
/// How long a rotated-out secret keeps signing beside its successor.
const PREVIOUS_SECRET_SECONDS: i64 = 24 * 3600;
/// The longest listing.
const MAX_LIMIT: i64 = 1000;

/// An endpoint as admins see it (never its secrets).
#[derive(Debug, Clone, Serialize)]
pub struct EndpointView {
    pub endpoint_id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Until when the secret before the last rotation still signs.
    pub previous_secret_signs_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub health: EndpointHealth,
}

impl EndpointView {
    fn of(endpoint: WebhookEndpoint, now: i64) -> Self {
        EndpointView {
            endpoint_id: endpoint.endpoint_id,
            url: endpoint.url,
            description: endpoint.description,
            events: endpoint.events,
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason,
            previous_secret_signs_until: endpoint
                .previous_secret_until
                .filter(|until| *until > now),
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
            health: endpoint.health,
        }
    }
}

/// A new endpoint with its signing secret, shown this once.
#[derive(Debug)]
pub struct CreatedEndpoint {
    pub endpoint: EndpointView,
    pub secret: Secret,
}

/// An endpoint as an admin describes it; `events` defaults to every published type.
#[derive(Debug, Clone, Default)]
pub struct EndpointSettings {
    pub url: Option<String>,
    pub events: Option<String>,
    pub description: Option<String>,
}

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

pub struct WebhookAdmin<'a> {
    pub(in crate::service) db: &'a Db,
    pub(in crate::service) audit: &'a AuditLog,
    pub(in crate::service) sender: &'a Sender,
}

impl WebhookAdmin<'_> {
    fn store<'s>(&'s self, environment: &'s Environment) -> EnvStore<'s> {
        EnvStore::new(self.db, &environment.id)
    }

    pub async fn add(
        &self,
        environment: &Environment,
        settings: EndpointSettings,
        caller: &Caller,
        now: i64,
    ) -> Result<CreatedEndpoint, Error> {
        let Some(url) = settings.url else {
            return Err(Error::Invalid("url is required".into()));
        };
        let store = self.store(environment);
        if store.list_endpoints().await?.len() >= MAX_ENDPOINTS {
            return Err(Error::Invalid(format!(
                "an environment has at most {MAX_ENDPOINTS} webhook endpoints"
            )));
        }
        let endpoint_id = format!("we_{}", secrets::random_id());
        let secret = secrets::webhook_secret();
        let endpoint = WebhookEndpoint {
            env_id: environment.id.clone(),
            url: self.checked_url(environment, &url)?,
            description: checked_description(settings.description)?,
            events: checked_events(settings.events.as_deref())?,
            enabled: true,
            disabled_reason: None,
            secret_sealed: self.sender.seal_secret(&secret, &endpoint_id),
            previous_secret_sealed: None,
            previous_secret_until: None,
            created_at: now,
            updated_at: now,
            health: EndpointHealth::default(),
            endpoint_id,
        };
        store.insert_endpoint(&endpoint).await?;
        self.audit.events().forget(&environment.id);
        let event = AuditEvent::WebhookCreated {
            endpoint_id: endpoint.endpoint_id.clone(),
            url: endpoint.url.clone(),
            events: endpoint.events.clone(),
        };
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(CreatedEndpoint {
            endpoint: EndpointView::of(endpoint, now),
            secret: Secret::new(secret),
        })
    }

    pub async fn list(
        &self,
        environment: &Environment,
        now: i64,
    ) -> Result<Vec<EndpointView>, Error> {
        let endpoints = self.store(environment).list_endpoints().await?;
        Ok(endpoints
            .into_iter()
            .map(|endpoint| EndpointView::of(endpoint, now))
            .collect())
    }

    async fn find(
        &self,
        environment: &Environment,
        endpoint_id: &str,
    ) -> Result<WebhookEndpoint, Error> {
        self.store(environment)
            .find_endpoint(endpoint_id)
            .await?
            .ok_or(Error::NotFound)
    }

    pub async fn show(
        &self,
        environment: &Environment,
        endpoint_id: &str,
        now: i64,
    ) -> Result<EndpointView, Error> {
        Ok(EndpointView::of(
            self.find(environment, endpoint_id).await?,
            now,
        ))
    }

    /// Changes an endpoint's URL, events or description.
    pub async fn update(
        &self,
        environment: &Environment,
        endpoint_id: &str,
        settings: EndpointSettings,
        caller: &Caller,
        now: i64,
    ) -> Result<EndpointView, Error> {
        let mut endpoint = self.find(environment, endpoint_id).await?;
        let mut changed = Vec::new();
        if let Some(url) = settings.url {
            endpoint.url = self.checked_url(environment, &url)?;
            changed.push("url");
        }
        if let Some(events) = settings.events {
            endpoint.events = checked_events(Some(&events))?;
            changed.push("events");
        }
        if settings.description.is_some() {
            endpoint.description = checked_description(settings.description)?;
            changed.push("description");
        }
        self.save(environment, endpoint, changed, caller, now).await
    }

    /// Turns deliveries to an endpoint on or off. Off, it gets no new deliveries and its pending
    /// ones wait; back on, they go out.
    pub async fn set_enabled(
        &self,
        environment: &Environment,
        endpoint_id: &str,
        enabled: bool,
        caller: &Caller,
        now: i64,
    ) -> Result<EndpointView, Error> {
        let mut endpoint = self.find(environment, endpoint_id).await?;
        endpoint.enabled = enabled;
        endpoint.disabled_reason = (!enabled).then(|| "disabled by an admin".to_string());
        self.save(environment, endpoint, vec!["enabled"], caller, now)
            .await
    }

    async fn save(
        &self,
        environment: &Environment,
        mut endpoint: WebhookEndpoint,
        changed: Vec<&'static str>,
        caller: &Caller,
        now: i64,
    ) -> Result<EndpointView, Error> {
        endpoint.updated_at = now;
        if !self.store(environment).update_endpoint(&endpoint).await? {
            return Err(Error::NotFound);
        }
        self.audit.events().forget(&environment.id);
        let event = AuditEvent::WebhookUpdated {
            endpoint_id: endpoint.endpoint_id.clone(),
            changed,
        };
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(EndpointView::of(endpoint, now))
    }

    /// Removes an endpoint with its deliveries (the events stay inspectable).
    pub async fn remove(
        &self,
        environment: &Environment,
        endpoint_id: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<(), Error> {
        if !self.store(environment).delete_endpoint(endpoint_id).await? {
            return Err(Error::NotFound);
        }
        self.audit.events().forget(&environment.id);
        let event = AuditEvent::WebhookRemoved {
            endpoint_id: endpoint_id.to_string(),
        };
        self.audit.record_by(environment, caller, event, now).await
    }

    /// A new signing secret, shown once; the previous one keeps signing beside it for 24 hours,
    /// so receivers can switch without missing a delivery.
    pub async fn rotate_secret(
        &self,
        environment: &Environment,
        endpoint_id: &str,
        caller: &Caller,
        now: i64,
    ) -> Result<CreatedEndpoint, Error> {
        let mut endpoint = self.find(environment, endpoint_id).await?;
        let secret = secrets::webhook_secret();
        let sealed = self.sender.seal_secret(&secret, endpoint_id);
        let previous = std::mem::replace(&mut endpoint.secret_sealed, sealed);
        let until = now + PREVIOUS_SECRET_SECONDS;
        endpoint.previous_secret_sealed = Some(previous);
        endpoint.previous_secret_until = Some(until);
        endpoint.updated_at = now;
        if !self.store(environment).update_endpoint(&endpoint).await? {
            return Err(Error::NotFound);
        }
        let event = AuditEvent::WebhookSecretRotated {
            endpoint_id: endpoint_id.to_string(),
            previous_signs_until: until,
        };
        self.audit
            .record_by(environment, caller, event, now)
            .await?;
        Ok(CreatedEndpoint {
            endpoint: EndpointView::of(endpoint, now),
            secret: Secret::new(secret),
        })
    }

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

    fn checked_url(&self, environment: &Environment, url: &str) -> Result<String, Error> {
        let url = url.trim();
        if !is_clean_text(url) {
            return Err(Error::Invalid(
                "url: control characters are not allowed".into(),
            ));
        }
        self.sender
            .rules(environment.kind)
            .check_url(url)
            .map(|parsed| parsed.to_string())
            .map_err(|why| Error::Invalid(format!("url: {why}")))
    }
}

fn checked_events(spec: Option<&str>) -> Result<Vec<String>, Error> {
    let filter = match spec {
        None => EventFilter::all(),
        Some(spec) => {
            EventFilter::parse(spec).map_err(|why| Error::Invalid(format!("events: {why}")))?
        }
    };
    Ok(filter.into_patterns())
}

fn checked_description(description: Option<String>) -> Result<String, Error> {
    let description = description.unwrap_or_default().trim().to_string();
    if description.len() > 500 || !is_clean_text(&description) {
        return Err(Error::Invalid(
            "description: at most 500 characters, without control characters".into(),
        ));
    }
    Ok(description)
}

fn checked_limit(limit: i64) -> i64 {
    if limit <= 0 {
        100
    } else {
        limit.min(MAX_LIMIT)
    }
}
