//! The per-environment audit log. Appends take the chain head with a conditional update, so nodes
//! writing to the same environment at once serialise on it and the chain stays linear.

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Db, EnvStore, StoreError};
use crate::model::audit::{AuditDraft, AuditEntry};

/// Rows per multi-row statement: a fixed size, so the statements are prepared once and cached.
const ROWS_PER_INSERT: usize = 64;

/// How often a batch is retried after losing the chain head to another node.
const APPEND_ATTEMPTS: usize = 20;

const ENTRY_COLUMNS: &str = "env_id, seq, at, event, outcome, actor, client_id, ip, user_agent, request_id, \
     details, prev_hash, hash";

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        draft: AuditDraft {
            env_id: super::text(row, "env_id")?,
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

/// How entries are linked: the hash of an entry from its sequence number, its fields and the previous
/// entry's hash, and the `prev_hash` of an environment's first entry. The store links what it is
/// given and never decides how.
#[derive(Clone, Copy)]
pub struct ChainLink<'a> {
    pub hash: &'a (dyn Fn(i64, &AuditDraft, &str) -> String + Send + Sync),
    pub genesis: &'static str,
}

/// A chain as stored: its entries in order, its head (last seq and hash) and its base (the last
/// pruned entry's seq and hash), the latter two `None` before anything was written.
#[derive(Debug, Clone)]
pub struct StoredChain {
    pub entries: Vec<AuditEntry>,
    pub head: Option<(i64, String)>,
    pub base: Option<(i64, String)>,
}

/// Filters of an audit listing.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub event: Option<String>,
    pub outcome: Option<String>,
    pub client_id: Option<String>,
    pub actor: Option<String>,
    pub limit: i64,
}

impl Db {
    /// Appends a batch (any environments) in one transaction: one commit for many entries.
    pub async fn append_audit(
        &self,
        batch: &[AuditDraft],
        link: ChainLink<'_>,
    ) -> Result<(), StoreError> {
        let mut by_env: BTreeMap<&str, Vec<&AuditDraft>> = BTreeMap::new();
        for draft in batch {
            by_env.entry(draft.env_id.as_str()).or_default().push(draft);
        }
        let mut last_error = StoreError::Conflict;
        for attempt in 0..APPEND_ATTEMPTS {
            let mut tx = self.begin_write().await?;
            match append_in(self, &mut tx, &by_env, link).await {
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
            // Another node moved a head: give it room before trying again, longer each time, so
            // nodes racing for the same chains do not retry in lockstep.
            let jitter = u64::from(rand::random::<u8>() % 4);
            tokio::time::sleep(Duration::from_millis(attempt as u64 + jitter)).await;
        }
        Err(last_error)
    }
}

/// Where one environment's chain stands before the batch, and where it will stand after it.
struct HeadMove<'a> {
    env_id: &'a str,
    existed: bool,
    old_seq: i64,
    new_seq: i64,
    new_hash: String,
}

/// False when another writer moved a chain head meanwhile: the caller retries from scratch. A fixed
/// number of statements per batch, however many environments it spans: one read of the heads,
/// multi-row inserts, one conditional update and one insert of heads.
async fn append_in(
    db: &Db,
    tx: &mut Transaction<'_, Any>,
    by_env: &BTreeMap<&str, Vec<&AuditDraft>>,
    link: ChainLink<'_>,
) -> Result<bool, StoreError> {
    // Entries of an environment deleted meanwhile went with it: the rest of the batch still
    // commits (a deletion racing this batch makes it retry, and the retry leaves them out).
    let mut existing = std::collections::BTreeSet::new();
    let all_ids: Vec<&str> = by_env.keys().copied().collect();
    for chunk in all_ids.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "SELECT id FROM environments WHERE (id) IN ({})",
            db.value_rows(chunk.len(), 1)
        );
        let mut query = sqlx::query(&sql);
        for env_id in chunk {
            query = query.bind(*env_id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            existing.insert(row.try_get::<String, _>("id")?);
        }
    }
    let kept: BTreeMap<&str, Vec<&AuditDraft>> = by_env
        .iter()
        .filter(|(env_id, _)| existing.contains(**env_id))
        .map(|(env_id, drafts)| (*env_id, drafts.clone()))
        .collect();
    if kept.is_empty() {
        return Ok(true);
    }
    let by_env = &kept;
    let env_ids: Vec<&str> = by_env.keys().copied().collect();
    let mut heads: BTreeMap<String, (i64, String)> = BTreeMap::new();
    for chunk in env_ids.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "SELECT env_id, seq, hash FROM audit_heads WHERE (env_id) IN ({})",
            db.value_rows(chunk.len(), 1)
        );
        let mut query = sqlx::query(&sql);
        for env_id in chunk {
            query = query.bind(*env_id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            heads.insert(
                row.try_get("env_id")?,
                (row.try_get("seq")?, row.try_get("hash")?),
            );
        }
    }
    let mut chained = Vec::new();
    let mut moves = Vec::with_capacity(by_env.len());
    for (env_id, drafts) in by_env {
        let (old_seq, mut prev_hash) = heads
            .get(*env_id)
            .cloned()
            .unwrap_or_else(|| (0, link.genesis.to_string()));
        let mut seq = old_seq;
        for draft in drafts {
            seq += 1;
            let hash = (link.hash)(seq, draft, &prev_hash);
            chained.push((
                seq,
                *draft,
                std::mem::replace(&mut prev_hash, hash.clone()),
                hash,
            ));
        }
        moves.push(HeadMove {
            env_id,
            existed: heads.contains_key(*env_id),
            old_seq,
            new_seq: seq,
            new_hash: prev_hash,
        });
    }
    for chunk in chained.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO audit_log ({ENTRY_COLUMNS}) VALUES {}",
            db.value_rows(chunk.len(), 13)
        );
        let mut query = sqlx::query(&sql);
        for (seq, draft, prev, hash) in chunk {
            query = query
                .bind(draft.env_id.as_str())
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
    let (existing, new): (Vec<&HeadMove>, Vec<&HeadMove>) = moves.iter().partition(|m| m.existed);
    for chunk in existing.chunks(ROWS_PER_INSERT) {
        // VALUES columns are column1… on both backends.
        let sql = format!(
            "UPDATE audit_heads SET seq = v.column3, hash = v.column4 FROM (VALUES {}) AS v \
             WHERE audit_heads.env_id = v.column1 AND audit_heads.seq = v.column2",
            db.value_rows(chunk.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for head in chunk {
            query = query
                .bind(head.env_id)
                .bind(head.old_seq)
                .bind(head.new_seq)
                .bind(&head.new_hash);
        }
        if query.execute(&mut **tx).await?.rows_affected() != chunk.len() as u64 {
            return Ok(false);
        }
    }
    for chunk in new.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO audit_heads (env_id, seq, hash, keyed) VALUES {} ON CONFLICT (env_id) DO NOTHING",
            db.value_rows(chunk.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for head in chunk {
            query = query
                .bind(head.env_id)
                .bind(head.new_seq)
                .bind(&head.new_hash)
                .bind(1_i64);
        }
        if query.execute(&mut **tx).await?.rows_affected() != chunk.len() as u64 {
            return Ok(false);
        }
    }
    Ok(true)
}

impl Db {
    /// Environments whose chain was written before chains were keyed.
    pub async fn unkeyed_chains(&self) -> Result<Vec<String>, StoreError> {
        let sql = "SELECT env_id FROM audit_heads WHERE keyed = 0 ORDER BY env_id";
        let rows = self.query(sql, ()).fetch_all(self.pool()).await?;
        Ok(rows
            .iter()
            .map(|row| row.try_get("env_id"))
            .collect::<Result<_, _>>()?)
    }
}

impl EnvStore<'_> {
    /// Relinks this environment's unkeyed chain, whose head is at `head_seq`, with the hashes in
    /// `relinked` (seq, prev_hash, hash, in order), and marks it keyed: one transaction, and only
    /// if the chain is still unkeyed and unmoved (another node may be doing the same).
    pub async fn rekey_chain(
        &self,
        head_seq: i64,
        relinked: &[(i64, String, String)],
    ) -> Result<bool, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let head_hash = relinked
            .last()
            .map(|(_, _, hash)| hash.as_str())
            .unwrap_or("");
        let claim = "UPDATE audit_heads SET hash = $3, keyed = 1 \
             WHERE env_id = $1 AND seq = $2 AND keyed = 0";
        let claimed = self
            .query(claim, (head_seq, head_hash))
            .execute(&mut *tx)
            .await?;
        if claimed.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let relink =
            "UPDATE audit_log SET prev_hash = $3, hash = $4 WHERE env_id = $1 AND seq = $2";
        for (seq, prev_hash, hash) in relinked {
            self.query(relink, (*seq, prev_hash, hash))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Entries of this environment, newest last, filtered.
    pub async fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE env_id = $1 AND at >= $2 AND at <= $3 \
             AND ($4 = '' OR event = $4) AND ($5 = '' OR outcome = $5) \
             AND ($6 = '' OR client_id = $6) AND ($7 = '' OR actor = $7) \
             ORDER BY seq DESC LIMIT $8"
        );
        let filter = (
            query.since.unwrap_or(i64::MIN),
            query.until.unwrap_or(i64::MAX),
            query.event.as_deref().unwrap_or(""),
            query.outcome.as_deref().unwrap_or(""),
            query.client_id.as_deref().unwrap_or(""),
            query.actor.as_deref().unwrap_or(""),
            query.limit,
        );
        let rows = self.fetch_all(&sql, filter).await?;
        let mut entries = rows
            .iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        entries.reverse();
        Ok(entries)
    }

    /// The whole chain in order, with its recorded head and base, for verification. Entries and
    /// head are read in one snapshot: a batch committed between two plain reads would show a head
    /// ahead of the entries, which looks exactly like entries removed at the end.
    pub async fn audit_chain(&self) -> Result<StoredChain, StoreError> {
        let mut tx = self.db.begin_snapshot().await?;
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE env_id = $1 ORDER BY seq");
        let rows = self.query(&sql, ()).fetch_all(&mut *tx).await?;
        let entries = rows
            .iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let head_sql = "SELECT seq, hash, base_seq, base_hash FROM audit_heads WHERE env_id = $1";
        let head_rows = self.query(head_sql, ()).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let (head, base) = match head_rows.first() {
            Some(row) => (
                Some((row.try_get("seq")?, row.try_get("hash")?)),
                Some((row.try_get("base_seq")?, row.try_get("base_hash")?)),
            ),
            None => (None, None),
        };
        Ok(StoredChain {
            entries,
            head,
            base,
        })
    }

    /// Deletes this environment's entries older than `before`, at most `max` of them, from the
    /// start of the chain; moves the chain's base to the last one deleted; and appends the entry
    /// `record(through_seq, through_hash, deleted)` makes, linked by `link`: one transaction. None
    /// when there was nothing to prune, or another writer moved the chain meanwhile.
    pub async fn prune_audit(
        &self,
        (before, max): (i64, i64),
        record: impl FnOnce(i64, &str, i64) -> AuditDraft,
        link: ChainLink<'_>,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let head_sql = "SELECT base_seq FROM audit_heads WHERE env_id = $1";
        let Some(head) = self.query(head_sql, ()).fetch_optional(&mut *tx).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        let base_seq: i64 = head.try_get("base_seq")?;
        let through_sql = "SELECT seq, hash FROM audit_log WHERE env_id = $1 AND at < $2 \
             AND seq <= $3 ORDER BY seq DESC LIMIT 1";
        let through = self
            .query(through_sql, (before, base_seq + max))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(through) = through else {
            tx.rollback().await?;
            return Ok(None);
        };
        let (through_seq, through_hash): (i64, String) =
            (through.try_get("seq")?, through.try_get("hash")?);
        let delete = "DELETE FROM audit_log WHERE env_id = $1 AND seq <= $2";
        let deleted = self
            .query(delete, (through_seq,))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let rebase = "UPDATE audit_heads SET base_seq = $2, base_hash = $3 \
             WHERE env_id = $1 AND base_seq = $4";
        let moved = self
            .query(rebase, (through_seq, &through_hash, base_seq))
            .execute(&mut *tx)
            .await?;
        let deleted = i64::try_from(deleted).unwrap_or(i64::MAX);
        let draft = record(through_seq, &through_hash, deleted);
        let by_env = BTreeMap::from([(draft.env_id.as_str(), vec![&draft])]);
        if moved.rows_affected() != 1 || !append_in(self.db, &mut tx, &by_env, link).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(deleted))
    }
}
