//! Across environments, the due deliveries the workers of every node claim by lease, and the
//! attempts they record while their lease holds.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, StoreError, flag};
use crate::model::{AttemptOutcome, ClaimedDelivery, DeliveryState, EnvKind, EnvironmentId};

fn claimed_from_row(row: &AnyRow, lease_until: i64) -> Result<ClaimedDelivery, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(ClaimedDelivery {
        env_id: super::text(row, "env_id")?,
        env_kind: EnvKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("environment kind {kind}")))?,
        project: row.try_get("project_name")?,
        environment: row.try_get("env_name")?,
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
    /// Per environment with deliveries waiting, when the oldest of them was created.
    pub async fn oldest_pending_deliveries(&self) -> Result<Vec<(EnvironmentId, i64)>, StoreError> {
        let sql = "SELECT env_id, MIN(created_at) AS oldest FROM webhook_deliveries \
             WHERE state = 'pending' GROUP BY env_id";
        let rows = self.query(sql, ()).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| Ok((super::text(row, "env_id")?, row.try_get("oldest")?)))
            .collect()
    }

    /// Due deliveries of enabled endpoints that no live lease holds, at most `per_environment`
    /// of each environment and none of the `busy` ones (this node sends as many of theirs as it
    /// may already), the environments taking turns: each one's first, then each one's second…, the
    /// environment waiting longest first. So a flood in one zone does not push the others back.
    pub async fn due_deliveries(
        &self,
        now: i64,
        (per_environment, limit): (i64, i64),
        busy: &[EnvironmentId],
    ) -> Result<Vec<(EnvironmentId, String)>, StoreError> {
        let placeholders: Vec<String> = (0..busy.len()).map(|i| format!("${}", i + 4)).collect();
        let not_busy = if busy.is_empty() {
            String::new()
        } else {
            format!("AND d.env_id NOT IN ({})", placeholders.join(", "))
        };
        let sql = format!(
            "SELECT env_id, delivery_id FROM (SELECT d.env_id, d.delivery_id, \
             ROW_NUMBER() OVER (PARTITION BY d.env_id ORDER BY d.next_attempt_at, d.delivery_id) \
             AS place, MIN(d.next_attempt_at) OVER (PARTITION BY d.env_id) AS waiting_since \
             FROM webhook_deliveries d JOIN webhook_endpoints w \
             ON w.env_id = d.env_id AND w.endpoint_id = d.endpoint_id \
             WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND d.lease_until <= $1 \
             AND w.enabled = 1 {not_busy}) due WHERE place <= $2 \
             ORDER BY place, waiting_since, env_id LIMIT $3"
        );
        let mut query = self.query(&sql, (now, per_environment, limit));
        for env_id in busy {
            query = query.bind(env_id.as_str());
        }
        let rows = query.fetch_all(self.pool()).await?;
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
        let load = "SELECT d.env_id, v.kind, v.name AS env_name, p.name AS project_name, d.delivery_id, d.endpoint_id, d.event_id, d.attempts, \
             e.payload, w.url, w.secret, w.previous_secret, w.previous_secret_until \
             FROM webhook_deliveries d \
             JOIN events e ON e.env_id = d.env_id AND e.event_id = d.event_id \
             JOIN webhook_endpoints w ON w.env_id = d.env_id AND w.endpoint_id = d.endpoint_id \
             JOIN environments v ON v.id = d.env_id JOIN projects p ON p.id = v.project_id \
             WHERE d.env_id = $1 AND d.delivery_id = $2";
        // Always in the same order, so two nodes' claims never wait on each other in a circle.
        let mut due: Vec<&(EnvironmentId, String)> = due.iter().collect();
        due.sort();
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
