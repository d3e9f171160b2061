//! Custom domains. A host is the primary key, so it is bound to at most one environment in the whole
//! installation; lookups by host are how a request finds its environment.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, StoreError};
use crate::model::{Domain, DomainState, EnvironmentId};

const DOMAIN_COLUMNS: &str = "host, env_id, challenge, state, verified_by, tls_cert_file, tls_key_file, created_at, verified_at";

fn domain_from_row(row: &AnyRow) -> Result<Domain, StoreError> {
    let state: String = row.try_get("state")?;
    Ok(Domain {
        host: row.try_get("host")?,
        env_id: super::text(row, "env_id")?,
        challenge: row.try_get("challenge")?,
        state: DomainState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("domain state {state}")))?,
        verified_by: row.try_get("verified_by")?,
        tls_cert_file: row.try_get("tls_cert_file")?,
        tls_key_file: row.try_get("tls_key_file")?,
        created_at: row.try_get("created_at")?,
        verified_at: row.try_get("verified_at")?,
    })
}

impl Db {
    /// Binds a host; `Conflict` when it is bound anywhere already.
    pub async fn insert_domain(&self, domain: &Domain) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO domains (host, env_id, challenge, state, tls_cert_file, tls_key_file, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&domain.host)
        .bind(domain.env_id.as_str())
        .bind(&domain.challenge)
        .bind(domain.state.as_str())
        .bind(&domain.tls_cert_file)
        .bind(&domain.tls_key_file)
        .bind(domain.created_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn find_domain(&self, host: &str) -> Result<Option<Domain>, StoreError> {
        let sql = format!("SELECT {DOMAIN_COLUMNS} FROM domains WHERE host = $1");
        let row = sqlx::query(&sql)
            .bind(host)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(domain_from_row).transpose()
    }

    /// Domains of one environment, or of all when `env_id` is `None`.
    pub async fn list_domains(
        &self,
        env_id: Option<&EnvironmentId>,
    ) -> Result<Vec<Domain>, StoreError> {
        let sql = format!(
            "SELECT {DOMAIN_COLUMNS} FROM domains WHERE ($1 = '' OR env_id = $1) ORDER BY host"
        );
        let rows = sqlx::query(&sql)
            .bind(env_id.map_or("", EnvironmentId::as_str))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(domain_from_row).collect()
    }

    /// Every active domain that has certificate files, for the TLS listener.
    pub async fn domains_with_tls(&self) -> Result<Vec<Domain>, StoreError> {
        let sql = format!(
            "SELECT {DOMAIN_COLUMNS} FROM domains WHERE state = 'active' \
             AND tls_cert_file IS NOT NULL AND tls_key_file IS NOT NULL ORDER BY host"
        );
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        rows.iter().map(domain_from_row).collect()
    }

    /// Marks a pending domain of `env_id` active; false if it is not pending there.
    pub async fn activate_domain(
        &self,
        host: &str,
        env_id: &EnvironmentId,
        verified_by: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE domains SET state = 'active', verified_by = $3, verified_at = $4 \
             WHERE host = $1 AND env_id = $2 AND state = 'pending'",
        )
        .bind(host)
        .bind(env_id.as_str())
        .bind(verified_by)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn delete_domain(
        &self,
        host: &str,
        env_id: &EnvironmentId,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM domains WHERE host = $1 AND env_id = $2")
            .bind(host)
            .bind(env_id.as_str())
            .execute(self.pool())
            .await?;
        Ok(result.rows_affected() == 1)
    }
}
