//! Custom domains. A host may be claimed (pending) by several environments but is active in at most
//! one in the whole installation; lookups of active hosts are how a request finds its environment.
//! A pending claim expires: past it, it counts for nothing and is replaced by a new claim.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, EnvStore, StoreError};
use crate::model::{Domain, DomainState, EnvironmentId, Event};

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

/// A claim that still counts: active, or pending and younger than its expiry (`$N` is the oldest
/// `created_at` a pending claim may have).
fn live(oldest_pending: &str) -> String {
    format!("(state = 'active' OR created_at >= {oldest_pending})")
}

/// Why a claim was not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefused {
    /// The host is active in another environment, or already claimed by this one.
    Taken,
    /// This environment has `max_pending` live pending claims already.
    TooManyPending,
}

impl Db {
    /// Records a pending claim of `domain.host` by its environment, in one transaction: refused when
    /// the host is active anywhere or live in this environment, or when this environment already has
    /// `max_pending` live pending claims. Expired claims of this environment's are replaced.
    pub async fn claim_domain(
        &self,
        domain: &Domain,
        (oldest_pending, max_pending): (i64, i64),
        events: &[Event],
    ) -> Result<Result<(), ClaimRefused>, StoreError> {
        let env_id = domain.env_id.as_str();
        let mut tx = self.begin_write().await?;
        let taken = format!(
            "SELECT 1 AS taken FROM domains WHERE host = $1 AND (state = 'active' OR (env_id = $2 \
             AND {}))",
            live("$3")
        );
        let values = (&domain.host, env_id, oldest_pending);
        if self
            .query(&taken, values)
            .fetch_optional(&mut *tx)
            .await?
            .is_some()
        {
            tx.rollback().await?;
            return Ok(Err(ClaimRefused::Taken));
        }
        let pending = "SELECT COUNT(*) AS pending FROM domains \
             WHERE env_id = $1 AND state = 'pending' AND created_at >= $2";
        let row = self
            .query(pending, (env_id, oldest_pending))
            .fetch_one(&mut *tx)
            .await?;
        if row.try_get::<i64, _>("pending")? >= max_pending {
            tx.rollback().await?;
            return Ok(Err(ClaimRefused::TooManyPending));
        }
        let expired = "DELETE FROM domains WHERE host = $1 AND env_id = $2";
        self.query(expired, (&domain.host, env_id))
            .execute(&mut *tx)
            .await?;
        let sql = "INSERT INTO domains (host, env_id, challenge, state, tls_cert_file, tls_key_file, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let values = (
            &domain.host,
            env_id,
            &domain.challenge,
            domain.state.as_str(),
            &domain.tls_cert_file,
            &domain.tls_key_file,
            domain.created_at,
        );
        self.query(sql, values).execute(&mut *tx).await?;
        super::events::write_outbox(&mut tx, env_id, events).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// The environment a host is active in, if any: how a request finds its zone.
    pub async fn find_active_domain(&self, host: &str) -> Result<Option<Domain>, StoreError> {
        let sql = domains_where("host = $1 AND state = 'active'");
        let row = self
            .query(&sql, (host,))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(domain_from_row).transpose()
    }

    /// The live claims of `host`, in every environment.
    pub async fn domain_claims(
        &self,
        host: &str,
        oldest_pending: i64,
    ) -> Result<Vec<Domain>, StoreError> {
        let sql = domains_where(&format!("host = $1 AND {}", live("$2")));
        let rows = self
            .query(&sql, (host, oldest_pending))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(domain_from_row).collect()
    }

    /// Live claims of one environment, or of all when `env_id` is `None`.
    pub async fn list_domains(
        &self,
        env_id: Option<&EnvironmentId>,
        oldest_pending: i64,
    ) -> Result<Vec<Domain>, StoreError> {
        let sql = domains_where(&format!("($1 = '' OR env_id = $1) AND {}", live("$2")));
        let env_id = env_id.map_or("", EnvironmentId::as_str);
        let rows = self
            .query(&sql, (env_id, oldest_pending))
            .fetch_all(self.pool())
            .await?;
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
}

impl EnvStore<'_> {
    /// Marks this environment's live pending claim of `host` active; false if there is none.
    /// `Conflict` when the host became active elsewhere first.
    pub async fn activate_domain(
        &self,
        host: &str,
        (verified_by, oldest_pending): (&str, i64),
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE domains SET state = 'active', verified_by = $3, verified_at = $4 \
             WHERE env_id = $1 AND host = $2 AND state = 'pending' AND created_at >= $5";
        let values = (host, verified_by, now, oldest_pending);
        Ok(self.execute(sql, values).await? == 1)
    }

    pub async fn delete_domain(&self, host: &str) -> Result<bool, StoreError> {
        let sql = "DELETE FROM domains WHERE env_id = $1 AND host = $2";
        Ok(self.execute(sql, (host,)).await? == 1)
    }
}
