//! Reading an environment's audit log and checking its chain.

use serde::Serialize;
use serde_json::Value;

use crate::audit::chain::{self, ChainBase, ChainBreak, ChainKey};
use crate::model::audit::{AuditDraft, AuditEntry};
use crate::model::{EnvKind, Environment};
use crate::service::Error;
use crate::store::{AuditQuery, Db, EnvStore, StoredChain};

/// An environment's names and kind, as every admin view labels them: `SANDBOX` for `test`
/// environments, `LIVE` otherwise, so a sandbox entry is never mistaken for a live one.
#[derive(Debug, Clone, Serialize)]
pub struct ZoneLabel {
    pub project: String,
    pub environment: String,
    pub kind: EnvKind,
    pub label: &'static str,
}

impl ZoneLabel {
    pub fn of(environment: &Environment) -> Self {
        ZoneLabel {
            project: environment.project.clone(),
            environment: environment.name.clone(),
            kind: environment.kind,
            label: zone_label(environment.kind),
        }
    }
}

pub fn zone_label(kind: EnvKind) -> &'static str {
    match kind {
        EnvKind::Test => "SANDBOX",
        EnvKind::Live => "LIVE",
    }
}

/// An entry as shown to admins, labelled with its environment.
#[derive(Debug, Clone, Serialize)]
pub struct AuditView {
    pub seq: i64,
    #[serde(flatten)]
    pub zone: ZoneLabel,
    #[serde(flatten)]
    pub entry: AuditDraft,
    pub details: Value,
    pub hash: String,
}

impl AuditView {
    fn of(environment: &Environment, entry: AuditEntry) -> Self {
        let details = serde_json::from_str(&entry.draft.details).unwrap_or(Value::Null);
        AuditView {
            seq: entry.seq,
            zone: ZoneLabel::of(environment),
            entry: entry.draft,
            details,
            hash: entry.hash,
        }
    }
}

/// The result of checking one environment's chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    #[serde(flatten)]
    pub zone: ZoneLabel,
    pub entries: usize,
    pub intact: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_seq: Option<i64>,
    /// The recorded head (sequence number and hash): kept elsewhere, it shows a later rollback.
    pub head_seq: Option<i64>,
    pub head_hash: Option<String>,
}

/// Filters of a listing, as admins give them.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub since: Option<i64>,
    /// Entries at or before this time.
    pub until: Option<i64>,
    pub event: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
    pub client_id: Option<String>,
    /// Who acted: a user id, an admin token id, `cli`.
    pub actor: Option<String>,
    pub limit: Option<i64>,
}

pub struct AuditTrail<'a> {
    pub(in crate::service) db: &'a Db,
    pub(in crate::service) chain_key: &'a ChainKey,
}

impl AuditTrail<'_> {
    pub async fn list(
        &self,
        environment: &Environment,
        filter: AuditFilter,
    ) -> Result<Vec<AuditView>, Error> {
        let query = AuditQuery {
            since: filter.since,
            until: filter.until,
            event: filter.event,
            outcome: filter.outcome,
            client_id: filter.client_id,
            actor: filter.actor,
            limit: filter.limit.unwrap_or(1000).clamp(1, 10_000),
        };
        let entries = EnvStore::new(self.db, &environment.id)
            .audit_entries(&query)
            .await?;
        Ok(entries
            .into_iter()
            .map(|entry| AuditView::of(environment, entry))
            .collect())
    }

    pub async fn verify(&self, environment: &Environment) -> Result<ChainReport, Error> {
        let StoredChain {
            entries,
            head,
            base,
        } = EnvStore::new(self.db, &environment.id)
            .audit_chain()
            .await?;
        let (head_seq, head_hash) = (
            head.as_ref().map(|h| h.0),
            head.as_ref().map(|h| h.1.clone()),
        );
        let head = head.as_ref().map(|(seq, hash)| (*seq, hash.as_str()));
        let base = base
            .as_ref()
            .map_or(ChainBase::GENESIS, |(seq, hash)| ChainBase {
                seq: *seq,
                hash,
            });
        let keyed = |seq: i64, draft: &AuditDraft, prev: &str| {
            chain::entry_hash(self.chain_key, seq, draft, prev)
        };
        let result = chain::verify_chain(&entries, (base, head), keyed);
        let (intact, problem, at_seq) = match &result {
            Ok(_) => (true, None, None),
            Err(problem) => (false, Some(problem.to_string()), Some(break_seq(problem))),
        };
        Ok(ChainReport {
            zone: ZoneLabel::of(environment),
            entries: entries.len(),
            intact,
            problem,
            at_seq,
            head_seq,
            head_hash,
        })
    }
}

fn break_seq(problem: &ChainBreak) -> i64 {
    match problem {
        ChainBreak::Edited { seq } | ChainBreak::Unlinked { seq, .. } => *seq,
        ChainBreak::Truncated { last_seq, .. } => last_seq + 1,
        ChainBreak::HeadMismatch { head_seq } => *head_seq,
        ChainBreak::UnrecordedPrune { base_seq } => *base_seq,
    }
}
