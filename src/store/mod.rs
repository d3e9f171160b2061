//! Storage through sqlx: the only module that contains SQL. Per-environment data is reachable only
//! through `EnvStore`, a database handle bound to one environment id.

mod accounts;
mod apis;
mod audit;
mod changes;
mod clients;
mod console;
mod db;
mod deliveries;
mod domains;
mod error;
mod events;
mod grants;
mod installation;
mod keys;
mod mail;
mod operators;
mod purge;
mod registration;
mod releases;
mod sessions;
mod signin;
mod sql;
mod usage;
mod users;
mod webhooks;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::model::{EnvironmentId, Event};

pub use accounts::NewLink;
pub use audit::{AuditQuery, ChainLink, StoredChain};
pub use changes::ChangeListener;
pub use console::NewConsoleSession;
pub use db::{Backend, Db, PoolSettings};
pub use deliveries::DeliveryLease;
pub use domains::ClaimRefused;
pub use error::StoreError;
pub use events::EventQuery;
pub use grants::NewCode;
pub use installation::{AdminTokenRecord, Deletion};
pub use keys::{DueKey, StoredKey};
pub use mail::ClaimedMail;
pub use releases::{Release, ReleaseRefused, ReleaseWrite};
pub use usage::UsageTotals;

/// The door to one environment's data: every query it runs is keyed by `env_id`.
#[derive(Debug, Clone, Copy)]
pub struct EnvStore<'a> {
    db: &'a Db,
    env_id: &'a str,
    /// Events its next change reports, written in that change's transaction.
    outbox: &'a [Event],
}

impl<'a> EnvStore<'a> {
    pub fn new(db: &'a Db, env_id: &'a EnvironmentId) -> Self {
        EnvStore {
            db,
            env_id: env_id.as_str(),
            outbox: &[],
        }
    }

    /// This store, writing `events` (with a delivery to each endpoint subscribed) in the
    /// transaction of the change it makes next: a transactional outbox, so a change is never
    /// without its events nor an event without its change. A write that changes no row writes no
    /// event.
    pub fn emitting<'b>(self, events: &'b [Event]) -> EnvStore<'b>
    where
        'a: 'b,
    {
        EnvStore {
            outbox: events,
            ..self
        }
    }
}

/// A text column as one of the model's identifier types.
fn text<T: From<String>>(row: &AnyRow, column: &str) -> Result<T, sqlx::Error> {
    row.try_get::<String, _>(column).map(T::from)
}

fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// Deletes the row of `table` whose `key` column has `key` value in this environment, after its
/// dependent rows in `dependents` (same key column), in one transaction. False when there is no such
/// row.
async fn delete_with_dependents(
    store: &EnvStore<'_>,
    table: &str,
    key: (&str, &str),
    dependents: &[&str],
) -> Result<bool, StoreError> {
    let mut tx = store.db.begin_write().await?;
    if !delete_with_dependents_in(&mut tx, store, table, key, dependents).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    store.commit(tx).await?;
    Ok(true)
}

/// `delete_with_dependents` inside the transaction `tx`, which the caller commits or rolls back.
async fn delete_with_dependents_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    store: &EnvStore<'_>,
    table: &str,
    (key_column, key): (&str, &str),
    dependents: &[&str],
) -> Result<bool, StoreError> {
    for dependent in dependents {
        let sql = format!("DELETE FROM {dependent} WHERE env_id = $1 AND {key_column} = $2");
        store.query(&sql, (key,)).execute(&mut **tx).await?;
    }
    let sql = format!("DELETE FROM {table} WHERE env_id = $1 AND {key_column} = $2");
    let deleted = store.query(&sql, (key,)).execute(&mut **tx).await?;
    Ok(deleted.rows_affected() == 1)
}
