//! Resource servers (APIs) of one environment, and the scopes of each granted to clients.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::sql::Params;
use super::{EnvStore, StoreError};
use crate::model::{Api, ApiGrant, ApiId, ClientId, GrantedApi, SigningAlg};

const API_COLUMNS: &str =
    "a.env_id, a.api_id, a.identifier, a.scopes, a.access_token_ttl, a.signing_alg, a.created_at";

fn string_list(row: &AnyRow, column: &str) -> Result<Vec<String>, StoreError> {
    let raw: String = row.try_get(column)?;
    serde_json::from_str(&raw).map_err(|_| StoreError::Corrupt(column.into()))
}

fn json_list(values: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(values).map_err(|e| StoreError::Other(e.to_string()))
}

/// Stores a new API, unless its identifier is taken in the environment.
pub(super) const INSERT_API: &str = "INSERT INTO apis (env_id, api_id, identifier, scopes, \
     access_token_ttl, signing_alg, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (env_id, identifier) DO NOTHING";

pub(super) const UPDATE_API: &str = "UPDATE apis SET scopes = $3, access_token_ttl = $4, \
     signing_alg = $5 WHERE env_id = $1 AND api_id = $2";

pub(super) const SET_API_GRANT: &str = "INSERT INTO client_api_grants (env_id, client_id, api_id, \
     scopes, created_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (env_id, client_id, api_id) DO UPDATE SET scopes = excluded.scopes";

pub(super) const REMOVE_API_GRANT: &str =
    "DELETE FROM client_api_grants WHERE env_id = $1 AND client_id = $2 AND api_id = $3";

/// The values of `INSERT_API` after the environment id.
pub(super) fn insert_values(api: &Api) -> Result<impl Params<'_>, StoreError> {
    Ok((
        api.api_id.as_str(),
        &api.identifier,
        json_list(&api.scopes)?,
        api.access_token_ttl,
        api.signing_alg.as_str(),
        api.created_at,
    ))
}

/// The values of `UPDATE_API` after the environment id.
pub(super) fn update_values(api: &Api) -> Result<impl Params<'_>, StoreError> {
    Ok((
        api.api_id.as_str(),
        json_list(&api.scopes)?,
        api.access_token_ttl,
        api.signing_alg.as_str(),
    ))
}

/// The values of `SET_API_GRANT` after the environment id.
pub(super) fn grant_values<'q>(
    (client_id, api_id): (&'q ClientId, &'q ApiId),
    scopes: &[String],
    now: i64,
) -> Result<impl Params<'q> + use<'q>, StoreError> {
    Ok((client_id.as_str(), api_id.as_str(), json_list(scopes)?, now))
}

fn api_from_row(row: &AnyRow) -> Result<Api, StoreError> {
    let alg: String = row.try_get("signing_alg")?;
    Ok(Api {
        env_id: super::text(row, "env_id")?,
        api_id: super::text(row, "api_id")?,
        identifier: row.try_get("identifier")?,
        scopes: string_list(row, "scopes")?,
        access_token_ttl: row.try_get("access_token_ttl")?,
        signing_alg: SigningAlg::parse(&alg)
            .ok_or_else(|| StoreError::Corrupt(format!("alg {alg}")))?,
        created_at: row.try_get("created_at")?,
    })
}

impl EnvStore<'_> {
    /// Stores a new API; false when its identifier is taken in this environment.
    pub async fn insert_api(&self, api: &Api) -> Result<bool, StoreError> {
        Ok(self.execute(INSERT_API, insert_values(api)?).await? == 1)
    }

    pub async fn list_apis(&self) -> Result<Vec<Api>, StoreError> {
        let sql = format!(
            "SELECT {API_COLUMNS} FROM apis a WHERE a.env_id = $1 ORDER BY a.created_at, a.api_id"
        );
        let rows = self.fetch_all(&sql, ()).await?;
        rows.iter().map(api_from_row).collect()
    }

    /// An API by its id or by its identifier.
    pub async fn find_api(&self, id_or_identifier: &str) -> Result<Option<Api>, StoreError> {
        let sql = format!(
            "SELECT {API_COLUMNS} FROM apis a WHERE a.env_id = $1 \
             AND (a.api_id = $2 OR a.identifier = $2)"
        );
        let row = self.fetch_optional(&sql, (id_or_identifier,)).await?;
        row.as_ref().map(api_from_row).transpose()
    }

    /// Rewrites an API's scopes, lifetime and algorithm; false if there is no such API.
    pub async fn update_api(&self, api: &Api) -> Result<bool, StoreError> {
        Ok(self.execute(UPDATE_API, update_values(api)?).await? == 1)
    }

    /// Deletes an API and every client's grant of it; false if there is no such API.
    pub async fn delete_api(&self, api_id: &ApiId) -> Result<bool, StoreError> {
        let key = ("api_id", api_id.as_str());
        super::delete_with_dependents(self, "apis", key, &["client_api_grants"]).await
    }

    /// The API `identifier` names, with the scopes granted to `client_id`; `None` when there is no
    /// such API in this environment or the client has no grant of it. One query: it runs on every
    /// token request that names a resource.
    pub async fn find_granted_api(
        &self,
        identifier: &str,
        client_id: &ClientId,
    ) -> Result<Option<GrantedApi>, StoreError> {
        let sql = format!(
            "SELECT {API_COLUMNS}, g.scopes AS granted FROM apis a \
             JOIN client_api_grants g ON g.env_id = a.env_id AND g.api_id = a.api_id \
             WHERE a.env_id = $1 AND a.identifier = $2 AND g.client_id = $3"
        );
        let row = self
            .fetch_optional(&sql, (identifier, client_id.as_str()))
            .await?;
        row.as_ref()
            .map(|row| {
                Ok(GrantedApi {
                    api: api_from_row(row)?,
                    granted: string_list(row, "granted")?,
                })
            })
            .transpose()
    }

    /// Sets the scopes of `api_id` granted to `client_id` (an empty list removes the grant).
    pub async fn set_api_grant(
        &self,
        client_id: &ClientId,
        api_id: &ApiId,
        scopes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        if scopes.is_empty() {
            let values = (client_id.as_str(), api_id.as_str());
            self.execute(REMOVE_API_GRANT, values).await?;
            return Ok(());
        }
        let values = grant_values((client_id, api_id), scopes, now)?;
        self.execute(SET_API_GRANT, values).await?;
        Ok(())
    }

    /// The APIs granted to a client, with their scopes.
    pub async fn api_grants_of_client(
        &self,
        client_id: &ClientId,
    ) -> Result<Vec<ApiGrant>, StoreError> {
        let sql = "SELECT g.client_id, g.api_id, a.identifier, g.scopes FROM client_api_grants g \
             JOIN apis a ON a.env_id = g.env_id AND a.api_id = g.api_id \
             WHERE g.env_id = $1 AND g.client_id = $2 ORDER BY a.identifier";
        let rows = self.fetch_all(sql, (client_id.as_str(),)).await?;
        rows.iter()
            .map(|row| {
                Ok(ApiGrant {
                    client_id: super::text(row, "client_id")?,
                    api_id: super::text(row, "api_id")?,
                    identifier: row.try_get("identifier")?,
                    scopes: string_list(row, "scopes")?,
                })
            })
            .collect()
    }
}
