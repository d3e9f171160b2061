//! Webhook endpoints of one environment, their deliveries and the delivery log (what workers
//! claim and record is in `deliveries`).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::sql::Params;
use super::{EnvStore, StoreError, flag};
use crate::model::{
    Delivery, DeliveryAttempt, DeliveryQuery, DeliveryState, EndpointHealth, WebhookEndpoint,
};

const ENDPOINT_COLUMNS: &str = "env_id, endpoint_id, url, description, events, enabled, \
     disabled_reason, secret, previous_secret, previous_secret_until, created_at, updated_at, \
     last_success_at, last_failure_at, consecutive_failures";

/// `,a,b,`: the stored form the outbox's fan-out matches with `LIKE`.
fn stored_events(patterns: &[String]) -> String {
    format!(",{},", patterns.join(","))
}

fn endpoint_from_row(row: &AnyRow) -> Result<WebhookEndpoint, StoreError> {
    let events: String = row.try_get("events")?;
    Ok(WebhookEndpoint {
        env_id: super::text(row, "env_id")?,
        endpoint_id: row.try_get("endpoint_id")?,
        url: row.try_get("url")?,
        description: row.try_get("description")?,
        events: events
            .split(',')
            .filter(|pattern| !pattern.is_empty())
            .map(str::to_string)
            .collect(),
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        disabled_reason: row.try_get("disabled_reason")?,
        secret_sealed: row.try_get("secret")?,
        previous_secret_sealed: row.try_get("previous_secret")?,
        previous_secret_until: row.try_get("previous_secret_until")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        health: EndpointHealth {
            last_success_at: row.try_get("last_success_at")?,
            last_failure_at: row.try_get("last_failure_at")?,
            consecutive_failures: row.try_get("consecutive_failures")?,
        },
    })
}

const DELIVERY_COLUMNS: &str = "d.delivery_id, d.endpoint_id, d.event_id, e.event_type, \
     d.replay_of, d.state, d.attempts, d.next_attempt_at, d.created_at, d.finished_at";
const DELIVERY_FROM: &str = "webhook_deliveries d JOIN events e \
     ON e.env_id = d.env_id AND e.event_id = d.event_id";

fn delivery_from_row(row: &AnyRow) -> Result<Delivery, StoreError> {
    let state: String = row.try_get("state")?;
    let state = DeliveryState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("delivery state {state}")))?;
    Ok(Delivery {
        delivery_id: row.try_get("delivery_id")?,
        endpoint_id: row.try_get("endpoint_id")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        replay_of: row.try_get("replay_of")?,
        state,
        attempts: row.try_get("attempts")?,
        next_attempt_at: (state == DeliveryState::Pending)
            .then(|| row.try_get("next_attempt_at"))
            .transpose()?,
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

fn attempt_from_row(row: &AnyRow) -> Result<DeliveryAttempt, StoreError> {
    Ok(DeliveryAttempt {
        attempt: row.try_get("attempt")?,
        at: row.try_get("at")?,
        status_code: row.try_get("status_code")?,
        latency_ms: row.try_get("latency_ms")?,
        error: row.try_get("error")?,
        response: row.try_get("response")?,
        succeeded: row.try_get::<i64, _>("succeeded")? != 0,
    })
}

pub(super) const INSERT_ENDPOINT: &str = "INSERT INTO webhook_endpoints (env_id, endpoint_id, url, \
     description, events, enabled, secret, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

pub(super) const UPDATE_ENDPOINT_SETTINGS: &str = "UPDATE webhook_endpoints SET url = $3, \
     description = $4, events = $5, updated_at = $6 WHERE env_id = $1 AND endpoint_id = $2";

pub(super) const DELETE_ENDPOINT: &str =
    "DELETE FROM webhook_endpoints WHERE env_id = $1 AND endpoint_id = $2";

/// The values of `INSERT_ENDPOINT` after the environment id.
pub(super) fn insert_values(endpoint: &WebhookEndpoint) -> impl Params<'_> {
    (
        &endpoint.endpoint_id,
        &endpoint.url,
        &endpoint.description,
        stored_events(&endpoint.events),
        flag(endpoint.enabled),
        &endpoint.secret_sealed,
        endpoint.created_at,
        endpoint.updated_at,
    )
}

/// The values of `UPDATE_ENDPOINT_SETTINGS` after the environment id.
pub(super) fn settings_values(endpoint: &WebhookEndpoint) -> impl Params<'_> {
    (
        &endpoint.endpoint_id,
        &endpoint.url,
        &endpoint.description,
        stored_events(&endpoint.events),
        endpoint.updated_at,
    )
}

impl EnvStore<'_> {
    pub async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        self.execute(INSERT_ENDPOINT, insert_values(endpoint))
            .await?;
        Ok(())
    }

    pub async fn find_endpoint(
        &self,
        endpoint_id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE env_id = $1 AND endpoint_id = $2"
        );
        let row = self.fetch_optional(&sql, (endpoint_id,)).await?;
        row.as_ref().map(endpoint_from_row).transpose()
    }

    pub async fn list_endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE env_id = $1 \
             ORDER BY created_at, endpoint_id"
        );
        let rows = self.fetch_all(&sql, ()).await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    /// Saves an endpoint's URL, description and events; false if it is gone. Each kind of change
    /// writes its own columns, so concurrent ones (an admin's edit, a `410` disabling it, a secret
    /// rotation) never undo each other.
    pub async fn update_endpoint_settings(
        &self,
        endpoint: &WebhookEndpoint,
    ) -> Result<bool, StoreError> {
        let values = settings_values(endpoint);
        Ok(self.execute(UPDATE_ENDPOINT_SETTINGS, values).await? == 1)
    }

    /// Turns deliveries to an endpoint on or off; false if it is gone.
    pub async fn set_endpoint_enabled(
        &self,
        endpoint_id: &str,
        disabled_reason: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE webhook_endpoints SET enabled = $3, disabled_reason = $4, updated_at = $5 \
             WHERE env_id = $1 AND endpoint_id = $2";
        let enabled = flag(disabled_reason.is_none());
        let values = (endpoint_id, enabled, disabled_reason, now);
        Ok(self.execute(sql, values).await? == 1)
    }

    /// Makes `sealed` the endpoint's secret, the current one signing beside it until
    /// `previous_until`; false if the endpoint is gone.
    pub async fn rotate_endpoint_secret(
        &self,
        endpoint_id: &str,
        sealed: &str,
        previous_until: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE webhook_endpoints SET previous_secret = secret, secret = $3, \
             previous_secret_until = $4, updated_at = $5 WHERE env_id = $1 AND endpoint_id = $2";
        let values = (endpoint_id, sealed, previous_until, now);
        Ok(self.execute(sql, values).await? == 1)
    }

    /// Deletes an endpoint with its deliveries and their attempts (the events stay); false if
    /// there is no such endpoint.
    pub async fn delete_endpoint(&self, endpoint_id: &str) -> Result<bool, StoreError> {
        Ok(self.execute(DELETE_ENDPOINT, (endpoint_id,)).await? == 1)
    }

    /// Deliveries, newest first.
    pub async fn list_deliveries(
        &self,
        query: &DeliveryQuery,
    ) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_FROM} WHERE d.env_id = $1 \
             AND ($2 = '' OR d.endpoint_id = $2) AND ($3 = '' OR d.state = $3) \
             ORDER BY d.created_at DESC, d.delivery_id DESC LIMIT $4"
        );
        let endpoint = query.endpoint_id.clone().unwrap_or_default();
        let state = query.state.map(DeliveryState::as_str).unwrap_or_default();
        let rows = self.fetch_all(&sql, (endpoint, state, query.limit)).await?;
        rows.iter().map(delivery_from_row).collect()
    }

    pub async fn find_delivery(&self, delivery_id: &str) -> Result<Option<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_FROM} WHERE d.env_id = $1 AND d.delivery_id = $2"
        );
        let row = self.fetch_optional(&sql, (delivery_id,)).await?;
        row.as_ref().map(delivery_from_row).transpose()
    }

    /// A delivery's attempts, in order.
    pub async fn delivery_attempts(
        &self,
        delivery_id: &str,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        let sql = "SELECT attempt, at, status_code, latency_ms, error, response, succeeded \
             FROM webhook_attempts WHERE env_id = $1 AND delivery_id = $2 ORDER BY attempt";
        let rows = self.fetch_all(sql, (delivery_id,)).await?;
        rows.iter().map(attempt_from_row).collect()
    }

    /// Queues `of`'s event again for its endpoint, as delivery `replay_id`.
    pub async fn insert_replay(
        &self,
        of: &Delivery,
        replay_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO webhook_deliveries (env_id, delivery_id, endpoint_id, event_id, \
             replay_of, state, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)";
        let values = (
            replay_id,
            &of.endpoint_id,
            &of.event_id,
            &of.delivery_id,
            now,
        );
        self.execute(sql, values).await?;
        Ok(())
    }
}
