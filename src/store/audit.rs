//! The per-environment audit log. Appends take the chain head with a conditional update, so nodes
//! writing to the same environment at once serialise on it and the chain stays linear.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Db, EnvStore, StoreError};
use crate::model::audit::{self, AuditDraft, AuditEntry};

/// Rows per multi-row INSERT (13 parameters each, well under both backends' limits).
const ROWS_PER_INSERT: usize = 50;

/// How often a batch is retried after losing the chain head to another node.
const APPEND_ATTEMPTS: usize = 20;

const ENTRY_COLUMNS: &str = "env_id, seq, at, event, outcome, actor, client_id, ip, user_agent, request_id, \
     details, prev_hash, hash";

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        draft: AuditDraft {
            env_id: row.try_get("env_id")?,
            at: row.try_get("at")?,
            event: row.try_get("event")?,
            outcome: row.try_get("outcome")?,
            actor: row.try_get("actor")?,
            client_id: row.try_get("client_id")?,
            ip: row.try_get("ip")?,
            user_agent: row.try_get("user_agent")?,
            request_id: row.try_get("request_id")?,
            details: row.try_get("details")?,
        },
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// Filters of an audit listing.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub since: Option<i64>,
    pub event: Option<String>,
    pub limit: i64,
}

impl Db {
    /// Appends a batch (any environments) in one transaction: one commit for many entries.
    pub async fn append_audit(&self, batch: &[AuditDraft]) -> Result<(), StoreError> {
        let mut by_env: BTreeMap<&str, Vec<&AuditDraft>> = BTreeMap::new();
        for draft in batch {
            by_env.entry(draft.env_id.as_str()).or_default().push(draft);
        }
        let mut last_error = StoreError::Conflict;
        for _ in 0..APPEND_ATTEMPTS {
            let mut tx = self.begin_write().await?;
            match append_in(&mut tx, &by_env).await {
                Ok(true) => {
                    tx.commit().await?;
                    return Ok(());
                }
                Ok(false) => tx.rollback().await?,
                Err(StoreError::Conflict) => tx.rollback().await?,
                Err(other) => {
                    last_error = other;
                    break;
                }
            }
        }
        Err(last_error)
    }
}

/// False when another writer moved a chain head meanwhile: the caller retries from scratch.
async fn append_in(
    tx: &mut Transaction<'_, Any>,
    by_env: &BTreeMap<&str, Vec<&AuditDraft>>,
) -> Result<bool, StoreError> {
    for (env_id, drafts) in by_env {
        let head = sqlx::query("SELECT seq, hash FROM audit_heads WHERE env_id = $1")
            .bind(*env_id)
            .fetch_optional(&mut **tx)
            .await?;
        let (head_seq, mut prev_hash) = match &head {
            Some(row) => (
                row.try_get::<i64, _>("seq")?,
                row.try_get::<String, _>("hash")?,
            ),
            None => (0, audit::GENESIS.to_string()),
        };
        // Chain the whole batch first, then write it with multi-row INSERTs: a few statements per
        // batch rather than one per entry.
        let mut chained = Vec::with_capacity(drafts.len());
        let mut seq = head_seq;
        for draft in drafts {
            seq += 1;
            let hash = audit::entry_hash(seq, draft, &prev_hash);
            chained.push((
                seq,
                *draft,
                std::mem::replace(&mut prev_hash, hash.clone()),
                hash,
            ));
        }
        for chunk in chained.chunks(ROWS_PER_INSERT) {
            let placeholders: Vec<String> = (0..chunk.len())
                .map(|row| {
                    let first = row * 13;
                    let columns: Vec<String> =
                        (1..=13).map(|i| format!("${}", first + i)).collect();
                    format!("({})", columns.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO audit_log ({ENTRY_COLUMNS}) VALUES {}",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for (seq, draft, prev, hash) in chunk {
                query = query
                    .bind(*env_id)
                    .bind(*seq)
                    .bind(draft.at)
                    .bind(&draft.event)
                    .bind(&draft.outcome)
                    .bind(&draft.actor)
                    .bind(&draft.client_id)
                    .bind(&draft.ip)
                    .bind(&draft.user_agent)
                    .bind(&draft.request_id)
                    .bind(&draft.details)
                    .bind(prev)
                    .bind(hash);
            }
            query.execute(&mut **tx).await?;
        }
        let moved = if head.is_some() {
            sqlx::query("UPDATE audit_heads SET seq = $2, hash = $3 WHERE env_id = $1 AND seq = $4")
                .bind(*env_id)
                .bind(seq)
                .bind(&prev_hash)
                .bind(head_seq)
                .execute(&mut **tx)
                .await?
                .rows_affected()
        } else {
            sqlx::query(
                "INSERT INTO audit_heads (env_id, seq, hash) VALUES ($1, $2, $3) ON CONFLICT (env_id) DO NOTHING",
            )
            .bind(*env_id)
            .bind(seq)
            .bind(&prev_hash)
            .execute(&mut **tx)
            .await?
            .rows_affected()
        };
        if moved != 1 {
            return Ok(false);
        }
    }
    Ok(true)
}

impl EnvStore<'_> {
    /// Entries of this environment, newest last, filtered.
    pub async fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE env_id = $1 AND at >= $2 \
             AND ($3 = '' OR event = $3) ORDER BY seq DESC LIMIT $4"
        );
        let mut entries = sqlx::query(&sql)
            .bind(self.env_id)
            .bind(query.since.unwrap_or(i64::MIN))
            .bind(query.event.as_deref().unwrap_or(""))
            .bind(query.limit)
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        entries.reverse();
        Ok(entries)
    }

    /// The whole chain in order, and the recorded head, for verification.
    pub async fn audit_chain(
        &self,
    ) -> Result<(Vec<AuditEntry>, Option<(i64, String)>), StoreError> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE env_id = $1 ORDER BY seq");
        let entries = sqlx::query(&sql)
            .bind(self.env_id)
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let head = sqlx::query("SELECT seq, hash FROM audit_heads WHERE env_id = $1")
            .bind(self.env_id)
            .fetch_optional(self.db.pool())
            .await?
            .map(|row| Ok::<_, StoreError>((row.try_get("seq")?, row.try_get("hash")?)))
            .transpose()?;
        Ok((entries, head))
    }
}
