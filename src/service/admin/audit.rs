//! Reading an environment's audit log and checking its chain.

use serde::Serialize;
use serde_json::Value;

use crate::audit::chain::{self, ChainBreak};
use crate::model::audit::AuditEntry;
use crate::model::{EnvKind, Environment};
use crate::service::Error;
use crate::store::{AuditQuery, Db, EnvStore};

/// `SANDBOX` for `test` environments, `LIVE` otherwise: every output of an entry carries it.
pub fn zone_label(kind: EnvKind) -> &'static str {
    match kind {
        EnvKind::Test => "SANDBOX",
        EnvKind::Live => "LIVE",
    }
}

/// An entry as shown to admins: with its environment's names and kind, so a sandbox entry is always
/// labelled as such.
#[derive(Debug, Clone, Serialize)]
pub struct AuditView {
    pub seq: i64,
    pub at: i64,
    pub project: String,
    pub environment: String,
    pub kind: EnvKind,
    pub label: &'static str,
    pub event: String,
    pub outcome: String,
    pub actor: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub details: Value,
    pub hash: String,
}

impl AuditView {
    fn of(environment: &Environment, entry: AuditEntry) -> Self {
        let details = serde_json::from_str(&entry.draft.details).unwrap_or(Value::Null);
        AuditView {
            seq: entry.seq,
            at: entry.draft.at,
            project: environment.project.clone(),
            environment: environment.name.clone(),
            kind: environment.kind,
            label: zone_label(environment.kind),
            event: entry.draft.event,
            outcome: entry.draft.outcome,
            actor: entry.draft.actor,
            client_id: entry.draft.client_id,
            ip: entry.draft.ip,
            user_agent: entry.draft.user_agent,
            request_id: entry.draft.request_id,
            details,
            hash: entry.hash,
        }
    }
}

/// The result of checking one environment's chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub project: String,
    pub environment: String,
    pub kind: EnvKind,
    pub label: &'static str,
    pub entries: usize,
    pub intact: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_seq: Option<i64>,
}

/// Filters of a listing, as admins give them.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub since: Option<i64>,
    pub event: Option<String>,
    pub limit: Option<i64>,
}

pub struct AuditTrail<'a> {
    pub(in crate::service) db: &'a Db,
}

impl AuditTrail<'_> {
    pub async fn list(
        &self,
        environment: &Environment,
        filter: AuditFilter,
    ) -> Result<Vec<AuditView>, Error> {
        let query = AuditQuery {
            since: filter.since,
            event: filter.event,
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
        let (entries, head) = EnvStore::new(self.db, &environment.id)
            .audit_chain()
            .await?;
        let result = chain::verify_chain(&entries, head.as_ref().map(|(s, h)| (*s, h.as_str())));
        let (intact, problem, at_seq) = match &result {
            Ok(_) => (true, None, None),
            Err(problem) => (false, Some(problem.to_string()), Some(break_seq(problem))),
        };
        Ok(ChainReport {
            project: environment.project.clone(),
            environment: environment.name.clone(),
            kind: environment.kind,
            label: zone_label(environment.kind),
            entries: entries.len(),
            intact,
            problem,
            at_seq,
        })
    }
}

fn break_seq(problem: &ChainBreak) -> i64 {
    match problem {
        ChainBreak::Edited { seq } | ChainBreak::Unlinked { seq, .. } => *seq,
        ChainBreak::Truncated { last_seq, .. } => last_seq + 1,
        ChainBreak::HeadMismatch { head_seq } => *head_seq,
    }
}
