//! Releases of one environment: a whole configuration written in one transaction, numbered, with
//! the configuration it left kept for a rollback.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{EnvStore, StoreError};
use crate::model::{
    AccountPolicy, Api, ApiId, Client, ClientId, EnvPolicy, RateLimits, WebhookEndpoint,
};

/// A release as listed: who made it, when, from what, and what it changed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Release {
    pub number: i64,
    pub created_at: i64,
    pub actor: String,
    pub source: String,
    /// The changes (JSON, the plan applied).
    pub changes: serde_json::Value,
}

/// Everything one release writes. Items are written in an order that keeps references whole:
/// deletions and updates first, then creations, then grants.
#[derive(Debug, Default)]
pub struct ReleaseWrite {
    /// The release: the one after the release the plan was made against.
    pub number: i64,
    pub created_at: i64,
    pub actor: String,
    pub source: String,
    pub changes: String,
    pub config: String,
    pub settings: Option<(EnvPolicy, AccountPolicy, RateLimits)>,
    pub new_apis: Vec<Api>,
    pub changed_apis: Vec<Api>,
    pub deleted_apis: Vec<ApiId>,
    pub new_clients: Vec<Client>,
    pub changed_clients: Vec<Client>,
    pub deleted_clients: Vec<ClientId>,
    /// Grants as they are to be: scopes of an API per client (all of a client's grants that change).
    pub grants: Vec<(ClientId, ApiId, Vec<String>)>,
    pub removed_grants: Vec<(ClientId, ApiId)>,
    pub new_endpoints: Vec<WebhookEndpoint>,
    pub changed_endpoints: Vec<WebhookEndpoint>,
    pub deleted_endpoints: Vec<String>,
}

impl ReleaseWrite {
    /// Whether it writes nothing but the release itself.
    pub fn changes_nothing(&self) -> bool {
        self.settings.is_none()
            && self.new_apis.is_empty()
            && self.changed_apis.is_empty()
            && self.deleted_apis.is_empty()
            && self.new_clients.is_empty()
            && self.changed_clients.is_empty()
            && self.deleted_clients.is_empty()
            && self.grants.is_empty()
            && self.removed_grants.is_empty()
            && self.new_endpoints.is_empty()
            && self.changed_endpoints.is_empty()
            && self.deleted_endpoints.is_empty()
    }
}

/// Why a release was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseRefused {
    /// Another release took its number first, or an item the plan counted on changed meanwhile:
    /// the plan was made against an older configuration.
    Superseded,
    /// An API identifier the release creates is taken (created meanwhile).
    ApiTaken(String),
}

fn release_from_row(row: &AnyRow) -> Result<Release, StoreError> {
    let changes: String = row.try_get("changes")?;
    Ok(Release {
        number: row.try_get("number")?,
        created_at: row.try_get("created_at")?,
        actor: row.try_get("actor")?,
        source: row.try_get("source")?,
        changes: serde_json::from_str(&changes)
            .map_err(|_| StoreError::Corrupt("release changes".into()))?,
    })
}

impl EnvStore<'_> {
    /// The number of the latest release; 0 before the first.
    pub async fn latest_release(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COALESCE(MAX(number), 0) AS number FROM releases WHERE env_id = $1";
        let row = self.fetch_optional(sql, ()).await?;
        Ok(match row {
            Some(row) => row.try_get("number")?,
            None => 0,
        })
    }

    /// Releases, newest first.
    pub async fn list_releases(&self) -> Result<Vec<Release>, StoreError> {
        let sql = "SELECT number, created_at, actor, source, changes FROM releases \
             WHERE env_id = $1 ORDER BY number DESC";
        let rows = self.fetch_all(sql, ()).await?;
        rows.iter().map(release_from_row).collect()
    }

    /// The configuration release `number` left (JSON).
    pub async fn release_config(&self, number: i64) -> Result<Option<String>, StoreError> {
        let sql = "SELECT config FROM releases WHERE env_id = $1 AND number = $2";
        let row = self.fetch_optional(sql, (number,)).await?;
        Ok(row.map(|row| row.try_get("config")).transpose()?)
    }

    /// Writes `release` whole, with the outbox's events, or nothing.
    pub async fn write_release(
        &self,
        release: &ReleaseWrite,
    ) -> Result<Result<(), ReleaseRefused>, StoreError> {
        let mut tx = self.db.begin_write().await?;
        // The number first: a concurrent release planned against the same one waits here for
        // this transaction, then finds its number taken.
        let sql = "INSERT INTO releases (env_id, number, created_at, actor, source, changes, config) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (env_id, number) DO NOTHING";
        let values = (
            release.number,
            release.created_at,
            &release.actor,
            &release.source,
            &release.changes,
            &release.config,
        );
        if self
            .query(sql, values)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            != 1
        {
            tx.rollback().await?;
            return Ok(Err(ReleaseRefused::Superseded));
        }
        if let Some((policy, accounts, limits)) = &release.settings {
            let values = super::installation::policy_values((policy, accounts));
            self.query(super::installation::UPDATE_POLICY, values)
                .execute(&mut *tx)
                .await?;
            let values = super::installation::limits_values(limits);
            self.query(super::installation::UPDATE_LIMITS, values)
                .execute(&mut *tx)
                .await?;
        }
        if !self.write_items(&mut tx, release).await? {
            tx.rollback().await?;
            return Ok(Err(ReleaseRefused::Superseded));
        }
        for api in &release.new_apis {
            let values = super::apis::insert_values(api)?;
            let done = self
                .query(super::apis::INSERT_API, values)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Ok(Err(ReleaseRefused::ApiTaken(api.identifier.clone())));
            }
        }
        for client in &release.new_clients {
            let values = super::clients::insert_values(client, None)?;
            self.query(super::clients::INSERT_CLIENT, values)
                .execute(&mut *tx)
                .await?;
        }
        for endpoint in &release.new_endpoints {
            let values = super::webhooks::insert_values(endpoint);
            self.query(super::webhooks::INSERT_ENDPOINT, values)
                .execute(&mut *tx)
                .await?;
        }
        // Grants last: they name the clients and APIs written above.
        for (client_id, api_id) in &release.removed_grants {
            let values = (client_id.as_str(), api_id.as_str());
            self.query(super::apis::REMOVE_API_GRANT, values)
                .execute(&mut *tx)
                .await?;
        }
        for (client_id, api_id, scopes) in &release.grants {
            let exists = "SELECT 1 AS found FROM clients WHERE env_id = $1 AND client_id = $2";
            let found = self
                .query(exists, (client_id.as_str(),))
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                tx.rollback().await?;
                return Ok(Err(ReleaseRefused::Superseded));
            }
            let values =
                super::apis::grant_values((client_id, api_id), scopes, release.created_at)?;
            self.query(super::apis::SET_API_GRANT, values)
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx).await?;
        Ok(Ok(()))
    }
}

impl EnvStore<'_> {
    /// The deletions and updates of `release` in `tx`; false when one of them found its row gone
    /// (changed by someone else since the plan).
    async fn write_items(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        release: &ReleaseWrite,
    ) -> Result<bool, StoreError> {
        for api_id in &release.deleted_apis {
            let key = ("api_id", api_id.as_str());
            if !super::delete_with_dependents_in(tx, self, "apis", key, &["client_api_grants"])
                .await?
            {
                return Ok(false);
            }
        }
        for client_id in &release.deleted_clients {
            let key = ("client_id", client_id.as_str());
            let dependents = &super::clients::CLIENT_DEPENDENTS;
            if !super::delete_with_dependents_in(tx, self, "clients", key, dependents).await? {
                return Ok(false);
            }
        }
        for endpoint_id in &release.deleted_endpoints {
            let done = self
                .query(super::webhooks::DELETE_ENDPOINT, (endpoint_id,))
                .execute(&mut **tx)
                .await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
        }
        for api in &release.changed_apis {
            let values = super::apis::update_values(api)?;
            let done = self
                .query(super::apis::UPDATE_API, values)
                .execute(&mut **tx)
                .await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
        }
        for client in &release.changed_clients {
            let values = super::clients::update_values(client)?;
            let done = self
                .query(super::clients::UPDATE_CLIENT, values)
                .execute(&mut **tx)
                .await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
        }
        for endpoint in &release.changed_endpoints {
            let values = super::webhooks::settings_values(endpoint);
            let done = self
                .query(super::webhooks::UPDATE_ENDPOINT_SETTINGS, values)
                .execute(&mut **tx)
                .await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
