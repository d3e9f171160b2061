//! Webhook endpoints of one environment (their delivery log, replays, test events and the event
//! inspector are in `webhook_log`). Another environment's endpoints are the same 404 as missing ones.

use serde::Serialize;

use crate::audit::AuditEvent;
use crate::crypto::secrets;
use crate::events::filter::EventFilter;
use crate::model::{EndpointHealth, Environment, Secret, WebhookEndpoint, is_clean_text};
use crate::service::audit_log::AuditLog;
use crate::service::webhooks::Sender;
use crate::service::{Caller, Error};
use crate::store::{Db, EnvStore};

/// Endpoints per environment.
pub(super) const MAX_ENDPOINTS: usize = 50;
/// How long a rotated-out secret keeps signing beside its successor.
const PREVIOUS_SECRET_SECONDS: i64 = 24 * 3600;

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

pub struct WebhookAdmin<'a> {
    pub(in crate::service) db: &'a Db,
    pub(in crate::service) audit: &'a AuditLog,
    pub(in crate::service) sender: &'a Sender,
}

impl WebhookAdmin<'_> {
    pub(super) fn store<'s>(&'s self, environment: &'s Environment) -> EnvStore<'s> {
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
        self.audit.events().forget(&environment.id).await;
        let event = AuditEvent::WebhookCreated {
            endpoint_id: endpoint.endpoint_id.clone(),
            url: without_query(&endpoint.url),
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
        endpoint.updated_at = now;
        if !self
            .store(environment)
            .update_endpoint_settings(&endpoint)
            .await?
        {
            return Err(Error::NotFound);
        }
        self.changed(environment, &endpoint.endpoint_id, changed, caller, now)
            .await?;
        Ok(EndpointView::of(endpoint, now))
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
        let reason = (!enabled).then_some("disabled by an admin");
        let store = self.store(environment);
        if !store.set_endpoint_enabled(endpoint_id, reason, now).await? {
            return Err(Error::NotFound);
        }
        self.changed(environment, endpoint_id, vec!["enabled"], caller, now)
            .await?;
        self.show(environment, endpoint_id, now).await
    }

    /// Records a change of an endpoint's (and forgets the subscriptions this node knew).
    async fn changed(
        &self,
        environment: &Environment,
        endpoint_id: &str,
        changed: Vec<&'static str>,
        caller: &Caller,
        now: i64,
    ) -> Result<(), Error> {
        self.audit.events().forget(&environment.id).await;
        let event = AuditEvent::WebhookUpdated {
            endpoint_id: endpoint_id.to_string(),
            changed,
        };
        self.audit.record_by(environment, caller, event, now).await
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
        self.audit.events().forget(&environment.id).await;
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
        let secret = secrets::webhook_secret();
        let sealed = self.sender.seal_secret(&secret, endpoint_id);
        let until = now + PREVIOUS_SECRET_SECONDS;
        let store = self.store(environment);
        if !store
            .rotate_endpoint_secret(endpoint_id, &sealed, until, now)
            .await?
        {
            return Err(Error::NotFound);
        }
        let endpoint = self.find(environment, endpoint_id).await?;
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

    /// A disabled endpoint would never get what is queued for it now.
    pub(super) async fn require_enabled(
        &self,
        environment: &Environment,
        endpoint_id: &str,
    ) -> Result<(), Error> {
        if self.find(environment, endpoint_id).await?.enabled {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "endpoint {endpoint_id} is disabled; enable it first"
            )))
        }
    }

    pub(super) fn checked_url(
        &self,
        environment: &Environment,
        url: &str,
    ) -> Result<String, Error> {
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

/// A URL for the audit log: a query may carry a receiver's token.
fn without_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_string()
}

pub(super) fn checked_events(spec: Option<&str>) -> Result<Vec<String>, Error> {
    let filter = match spec {
        None => EventFilter::all(),
        Some(spec) => {
            EventFilter::parse(spec).map_err(|why| Error::Invalid(format!("events: {why}")))?
        }
    };
    Ok(filter.into_patterns())
}

pub(super) fn checked_description(description: Option<String>) -> Result<String, Error> {
    let description = description.unwrap_or_default().trim().to_string();
    if description.len() > 500 || !is_clean_text(&description) {
        return Err(Error::Invalid(
            "description: at most 500 characters, without control characters".into(),
        ));
    }
    Ok(description)
}
