//! Audit entries as data: what a writer appends and what a reader gets back. The vocabulary and the
//! hash chain live in `crate::audit`.

use serde::Serialize;

use super::EnvironmentId;

/// Who caused an event and from where, as seen at the edge.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// An entry before it takes its place in the chain. Serialised, what an entry shows beside its
/// environment's names (the details are shown parsed, by the reader).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditDraft {
    #[serde(skip)]
    pub env_id: EnvironmentId,
    pub at: i64,
    pub event: String,
    pub outcome: String,
    pub actor: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// A JSON object, serialised.
    #[serde(skip)]
    pub details: String,
}

/// An entry as stored: its place in the chain and the hashes that link it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub draft: AuditDraft,
    pub prev_hash: String,
    pub hash: String,
}
