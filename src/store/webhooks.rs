//! Webhook endpoints of one environment, their deliveries and the delivery log; and, across
//! environments, the due deliveries the workers of every node claim by lease.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, EnvStore, StoreError, flag};
use crate::model::{
    AttemptOutcome, ClaimedDelivery, Delivery, DeliveryAttempt, DeliveryQuery, DeliveryState,
    EndpointHealth, EnvKind, EnvironmentId, WebhookEndpoint,
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

impl EnvStore<'_> {
    pub async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        let sql = "INSERT INTO webhook_endpoints (env_id, endpoint_id, url, description, events, \
             enabled, secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        let values = (
            &endpoint.endpoint_id,
            &endpoint.url,
            &endpoint.description,
            stored_events(&endpoint.events),
            flag(endpoint.enabled),
            &endpoint.secret_sealed,
            endpoint.created_at,
            endpoint.updated_at,
        );
        self.execute(sql, values).await?;
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

    /// Saves an endpoint's settings and secrets (not its health); false if it is gone.
    pub async fn update_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<bool, StoreError> {
        let sql = "UPDATE webhook_endpoints SET url = $3, description = $4, events = $5, \
             enabled = $6, disabled_reason = $7, secret = $8, previous_secret = $9, \
             previous_secret_until = $10, updated_at = $11 WHERE env_id = $1 AND endpoint_id = $2";
        let values = (
            &endpoint.endpoint_id,
            &endpoint.url,
            &endpoint.description,
            stored_events(&endpoint.events),
            flag(endpoint.enabled),
            &endpoint.disabled_reason,
            &endpoint.secret_sealed,
            &endpoint.previous_secret_sealed,
            endpoint.previous_secret_until,
            endpoint.updated_at,
        );
        Ok(self.execute(sql, values).await? == 1)
    }

    /// Deletes an endpoint with its deliveries and their attempts (the events stay); false if
    /// there is no such endpoint.
    pub async fn delete_endpoint(&self, endpoint_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let attempts = "DELETE FROM webhook_attempts WHERE env_id = $1 AND delivery_id IN \
             (SELECT delivery_id FROM webhook_deliveries WHERE env_id = $1 AND endpoint_id = $2)";
        self.query(attempts, (endpoint_id,))
            .execute(&mut *tx)
            .await?;
        let deliveries = "DELETE FROM webhook_deliveries WHERE env_id = $1 AND endpoint_id = $2";
        self.query(deliveries, (endpoint_id,))
            .execute(&mut *tx)
            .await?;
        let endpoint = "DELETE FROM webhook_endpoints WHERE env_id = $1 AND endpoint_id = $2";
        let done = self
            .query(endpoint, (endpoint_id,))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        self.commit(tx).await?;
        Ok(true)
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

fn claimed_from_row(row: &AnyRow, lease_until: i64) -> Result<ClaimedDelivery, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(ClaimedDelivery {
        env_id: super::text(row, "env_id")?,
        env_kind: EnvKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("environment kind {kind}")))?,
        delivery_id: row.try_get("delivery_id")?,
        endpoint_id: row.try_get("endpoint_id")?,
        event_id: row.try_get("event_id")?,
        attempts: row.try_get("attempts")?,
        lease_until,
        payload: row.try_get("payload")?,
        url: row.try_get("url")?,
        secret_sealed: row.try_get("secret")?,
        previous_secret_sealed: row.try_get("previous_secret")?,
        previous_secret_until: row.try_get("previous_secret_until")?,
    })
}

/// A worker's hold on a delivery: who holds it, and until when.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryLease<'a> {
    pub owner: &'a str,
    pub until: i64,
}

impl Db {
    /// Due deliveries of enabled endpoints that no live lease holds, at most `per_environment`
    /// of each environment, the environments taking turns (each one's first, then each one's
    /// second…), so a flood in one zone does not push the others back.
    pub async fn due_deliveries(
        &self,
        now: i64,
        per_environment: i64,
        limit: i64,
    ) -> Result<Vec<(EnvironmentId, String)>, StoreError> {
        let sql = "SELECT env_id, delivery_id FROM (SELECT d.env_id, d.delivery_id, \
             ROW_NUMBER() OVER (PARTITION BY d.env_id ORDER BY d.next_attempt_at, d.delivery_id) \
             AS place FROM webhook_deliveries d JOIN webhook_endpoints w \
             ON w.env_id = d.env_id AND w.endpoint_id = d.endpoint_id \
             WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND d.lease_until <= $1 \
             AND w.enabled = 1) due WHERE place <= $2 ORDER BY place, env_id LIMIT $3";
        let rows = self
            .query(sql, (now, per_environment, limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| Ok((super::text(row, "env_id")?, row.try_get("delivery_id")?)))
            .collect()
    }

    /// Takes the leases of due deliveries, in one transaction (one commit for a round); those it
    /// got, with what is needed to send them. A delivery another worker holds, or no longer due,
    /// is left out: the conditional update is the claim, and of two workers one changes the row.
    pub async fn claim_deliveries(
        &self,
        due: &[(EnvironmentId, String)],
        lease: DeliveryLease<'_>,
        now: i64,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let claim = "UPDATE webhook_deliveries SET lease_owner = $3, lease_until = $4 \
             WHERE env_id = $1 AND delivery_id = $2 AND state = 'pending' \
             AND next_attempt_at <= $5 AND lease_until <= $5";
        let load = "SELECT d.env_id, v.kind, d.delivery_id, d.endpoint_id, d.event_id, d.attempts, \
             e.payload, w.url, w.secret, w.previous_secret, w.previous_secret_until \
             FROM webhook_deliveries d \
             JOIN events e ON e.env_id = d.env_id AND e.event_id = d.event_id \
             JOIN webhook_endpoints w ON w.env_id = d.env_id AND w.endpoint_id = d.endpoint_id \
             JOIN environments v ON v.id = d.env_id \
             WHERE d.env_id = $1 AND d.delivery_id = $2";
        let mut tx = self.begin_write().await?;
        let mut claimed = Vec::with_capacity(due.len());
        for (env_id, delivery_id) in due {
            let key = (env_id.as_str(), delivery_id.as_str());
            let values = (key.0, key.1, lease.owner, lease.until, now);
            if self
                .query(claim, values)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                != 1
            {
                continue;
            }
            if let Some(row) = self.query(load, key).fetch_optional(&mut *tx).await? {
                claimed.push(claimed_from_row(&row, lease.until)?);
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records an attempt with the delivery's next state and the endpoint's health, in one
    /// transaction, if `lease` still holds the delivery: false (nothing recorded) when the lease
    /// ran out and another worker took over, so one attempt is never recorded twice.
    pub async fn record_attempt(
        &self,
        claimed: &ClaimedDelivery,
        lease: DeliveryLease<'_>,
        outcome: &AttemptOutcome,
    ) -> Result<bool, StoreError> {
        let env_id = claimed.env_id.as_str();
        let attempt = &outcome.attempt;
        let finished = (outcome.next != DeliveryState::Pending).then_some(attempt.at);
        let mut tx = self.begin_write().await?;
        let update = "UPDATE webhook_deliveries SET state = $5, attempts = attempts + 1, \
             next_attempt_at = $6, lease_owner = NULL, lease_until = 0, finished_at = $7 \
             WHERE env_id = $1 AND delivery_id = $2 AND lease_owner = $3 AND lease_until = $4 \
             AND state = 'pending'";
        let values = (
            env_id,
            &claimed.delivery_id,
            lease.owner,
            lease.until,
            outcome.next.as_str(),
            outcome.next_attempt_at,
            finished,
        );
        if self
            .query(update, values)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            != 1
        {
            tx.rollback().await?;
            return Ok(false);
        }
        let insert = "INSERT INTO webhook_attempts (env_id, delivery_id, attempt, at, status_code, \
             latency_ms, error, response, succeeded) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        let values = (
            env_id,
            &claimed.delivery_id,
            claimed.attempts + 1,
            attempt.at,
            attempt.status_code,
            attempt.latency_ms,
            &attempt.error,
            &attempt.response,
            flag(attempt.succeeded),
        );
        self.query(insert, values).execute(&mut *tx).await?;
        let health = if attempt.succeeded {
            "UPDATE webhook_endpoints SET last_success_at = $3, consecutive_failures = 0 \
             WHERE env_id = $1 AND endpoint_id = $2"
        } else {
            "UPDATE webhook_endpoints SET last_failure_at = $3, \
             consecutive_failures = consecutive_failures + 1 WHERE env_id = $1 AND endpoint_id = $2"
        };
        self.query(health, (env_id, &claimed.endpoint_id, attempt.at))
            .execute(&mut *tx)
            .await?;
        if outcome.endpoint_gone {
            let disable = "UPDATE webhook_endpoints SET enabled = 0, \
                 disabled_reason = 'the receiver answered 410 Gone', updated_at = $3 \
                 WHERE env_id = $1 AND endpoint_id = $2";
            self.query(disable, (env_id, &claimed.endpoint_id, attempt.at))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
