//! The event outbox: events written in the transaction of the change they report, each with a
//! delivery to every enabled endpoint of its environment subscribed to its type.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{EnvStore, StoreError};
use crate::model::Event;

const EVENT_COLUMNS: &str = "event_id, event_type, created_at, payload";

fn event_from_row(row: &AnyRow) -> Result<Event, StoreError> {
    Ok(Event {
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        created_at: row.try_get("created_at")?,
        payload: row.try_get("payload")?,
    })
}

/// The id of the delivery of `event_id` to `endpoint_id`, as SQL over `$event_id_param` and the
/// row's `endpoint_id`: derived from both, so the fan-out is one statement.
fn fanned_delivery_id(event_id_param: &str) -> String {
    format!("'dlv_' || substr({event_id_param}, 5) || '_' || substr(endpoint_id, 4)")
}

/// Writes `events` of environment `env_id` in `tx`, with their deliveries to the subscribed
/// endpoints (an endpoint's `events` column reads `,user.*,signin.succeeded,` or `,*,`).
pub(super) async fn write_outbox(
    tx: &mut Transaction<'static, Any>,
    env_id: &str,
    events: &[Event],
) -> Result<(), StoreError> {
    let insert =
        format!("INSERT INTO events (env_id, {EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5)");
    let fan_out = format!(
        "INSERT INTO webhook_deliveries (env_id, delivery_id, endpoint_id, event_id, state, \
         next_attempt_at, created_at) SELECT env_id, {}, endpoint_id, $2, 'pending', $3, $3 \
         FROM webhook_endpoints WHERE env_id = $1 AND enabled = 1 \
         AND (events LIKE '%,*,%' OR events LIKE $4 OR events LIKE $5)",
        fanned_delivery_id("$2")
    );
    for event in events {
        sqlx::query(&insert)
            .bind(env_id)
            .bind(&event.event_id)
            .bind(&event.event_type)
            .bind(event.created_at)
            .bind(&event.payload)
            .execute(&mut **tx)
            .await?;
        let family = match event.event_type.split_once('.') {
            Some((family, _)) => format!("%,{family}.*,%"),
            None => "%,-,%".to_string(),
        };
        sqlx::query(&fan_out)
            .bind(env_id)
            .bind(&event.event_id)
            .bind(event.created_at)
            .bind(format!("%,{},%", event.event_type))
            .bind(family)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Filters of an event listing.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub event_type: Option<String>,
    pub limit: i64,
}

impl EnvStore<'_> {
    /// Commits a write transaction of this environment, with the outbox's events.
    pub(super) async fn commit(&self, mut tx: Transaction<'static, Any>) -> Result<(), StoreError> {
        if !self.outbox.is_empty() {
            write_outbox(&mut tx, self.env_id, self.outbox).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Writes the outbox's events on their own: for events that report no stored change (a
    /// refused sign-in, an issued token).
    pub async fn write_events(&self) -> Result<(), StoreError> {
        if self.outbox.is_empty() {
            return Ok(());
        }
        let tx = self.db.begin_write().await?;
        self.commit(tx).await
    }

    /// Writes `event` with one delivery, to `endpoint_id` only (a test event); the delivery's id,
    /// or `None` when there is no such endpoint.
    pub async fn write_addressed_event(
        &self,
        event: &Event,
        endpoint_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let insert =
            format!("INSERT INTO events (env_id, {EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5)");
        let values = (
            &event.event_id,
            &event.event_type,
            event.created_at,
            &event.payload,
        );
        self.query(&insert, values).execute(&mut *tx).await?;
        let delivery = format!(
            "INSERT INTO webhook_deliveries (env_id, delivery_id, endpoint_id, event_id, state, \
             next_attempt_at, created_at) SELECT env_id, {}, endpoint_id, $2, 'pending', $3, $3 \
             FROM webhook_endpoints WHERE env_id = $1 AND endpoint_id = $4 RETURNING delivery_id",
            fanned_delivery_id("$2")
        );
        let values = (&event.event_id, event.created_at, endpoint_id);
        let row = self
            .query(&delivery, values)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let delivery_id: String = row.try_get("delivery_id")?;
        tx.commit().await?;
        Ok(Some(delivery_id))
    }

    pub async fn find_event(&self, event_id: &str) -> Result<Option<Event>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE env_id = $1 AND event_id = $2");
        let row = self.fetch_optional(&sql, (event_id,)).await?;
        row.as_ref().map(event_from_row).transpose()
    }

    /// Events, newest first.
    pub async fn list_events(&self, query: &EventQuery) -> Result<Vec<Event>, StoreError> {
        let rows = match &query.event_type {
            Some(event_type) => {
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE env_id = $1 AND event_type = $2 \
                     ORDER BY created_at DESC, event_id DESC LIMIT $3"
                );
                self.fetch_all(&sql, (event_type, query.limit)).await?
            }
            None => {
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE env_id = $1 \
                     ORDER BY created_at DESC, event_id DESC LIMIT $2"
                );
                self.fetch_all(&sql, (query.limit,)).await?
            }
        };
        rows.iter().map(event_from_row).collect()
    }

    /// Deletes up to `max` events created before `before`, with their deliveries and those
    /// deliveries' attempts; an event still on its way to an enabled endpoint stays. How many went.
    pub async fn prune_events(&self, before: i64, max: i64) -> Result<i64, StoreError> {
        let sql = "DELETE FROM events WHERE env_id = $1 AND event_id IN (SELECT e.event_id \
             FROM events e WHERE e.env_id = $1 AND e.created_at < $2 AND NOT EXISTS \
             (SELECT 1 FROM webhook_deliveries d JOIN webhook_endpoints w \
             ON w.env_id = d.env_id AND w.endpoint_id = d.endpoint_id \
             WHERE d.env_id = e.env_id AND d.event_id = e.event_id AND d.state = 'pending' \
             AND w.enabled = 1) ORDER BY e.created_at LIMIT $3)";
        let deleted = self.execute(sql, (before, max)).await?;
        Ok(i64::try_from(deleted).unwrap_or(i64::MAX))
    }
}
