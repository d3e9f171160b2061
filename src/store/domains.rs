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

/// Domains matching `condition`, by host.
fn domains_where(condition: &str) -> String {
    format!("SELECT {DOMAIN_COLUMNS} FROM domains WHERE {condition} ORDER BY host")
}

impl Db {
    /// Binds a host; `Conflict` when it is bound anywhere already.
    pub async fn insert_domain(&self, domain: &Domain) -> Result<(), StoreError> {
        let sql = "INSERT INTO domains (host, env_id, challenge, state, tls_cert_file, tls_key_file, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let values = (
            &domain.host,
            domain.env_id.as_str(),
            &domain.challenge,
            domain.state.as_str(),
            &domain.tls_cert_file,
            &domain.tls_key_file,
            domain.created_at,
        );
        self.query(sql, values).execute(self.pool()).await?;
        Ok(())
    }

    pub async fn find_domain(&self, host: &str) -> Result<Option<Domain>, StoreError> {
        let sql = domains_where("host = $1");
        let row = self
            .query(&sql, (host,))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(domain_from_row).transpose()
    }

    /// Domains of one environment, or of all when `env_id` is `None`.
    pub async fn list_domains(
        &self,
        env_id: Option<&EnvironmentId>,
    ) -> Result<Vec<Domain>, StoreError> {
        let sql = domains_where("($1 = '' OR env_id = $1)");
        let env_id = env_id.map_or("", EnvironmentId::as_str);
        let rows = self.query(&sql, (env_id,)).fetch_all(self.pool()).await?;
        rows.iter().map(domain_from_row).collect()
    }

    /// Every active domain that has certificate files, for the TLS listener.
    pub async fn domains_with_tls(&self) -> Result<Vec<Domain>, StoreError> {
        let sql = domains_where(
            "state = 'active' AND tls_cert_file IS NOT NULL AND tls_key_file IS NOT NULL",
        );
        let rows = self.query(&sql, ()).fetch_all(self.pool()).await?;
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
        let sql = "UPDATE domains SET state = 'active', verified_by = $3, verified_at = $4 \
             WHERE host = $1 AND env_id = $2 AND state = 'pending'";
        let values = (host, env_id.as_str(), verified_by, now);
        let done = self.query(sql, values).execute(self.pool()).await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_domain(
        &self,
        host: &str,
        env_id: &EnvironmentId,
    ) -> Result<bool, StoreError> {
        let sql = "DELETE FROM domains WHERE host = $1 AND env_id = $2";
        let values = (host, env_id.as_str());
        let done = self.query(sql, values).execute(self.pool()).await?;
        Ok(done.rows_affected() == 1)
    }
}
